/**
 * Orders strings by UTF-16 code units, as `Array#sort` does by default. Generated output sorts
 * with this, never `localeCompare`, whose order follows the machine's locale (LANG, LC_ALL).
 */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
