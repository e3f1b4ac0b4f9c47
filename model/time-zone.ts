import type { Check } from './validators';

/*
 * Time zones as Argo CD loads them: Go's time.LoadLocation reads the IANA database by exact,
 * case-sensitive name, and a sync window whose zone fails to load silently runs in UTC. Intl knows
 * the same database; its canonical names (plus UTC and the Etc/ zones) load in Go too.
 */

let canonical: ReadonlySet<string> | undefined;

function canonicalZones(): ReadonlySet<string> {
  canonical ??= new Set(Intl.supportedValuesOf('timeZone'));
  return canonical;
}

/** The zone Intl resolves `name` to, or undefined when it knows no such zone. */
function resolve(name: string): string | undefined {
  try {
    return new Intl.DateTimeFormat('en', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/** Each part of an IANA name starts with a capital ("America/Port-au-Prince", "Etc/GMT+5", "EST5EDT"). */
const IANA_CASE = /^[A-Z][A-Za-z0-9_+-]*(\/[A-Z][A-Za-z0-9_+-]*)*$/;

export const isTimeZone: Check<string> = (value) => {
  // Offsets such as "+01:00" are no zone Go loads, though newer Intl takes them.
  const resolved = typeof value === 'string' && /^[A-Za-z]/.test(value) ? resolve(value) : undefined;
  if (resolved !== undefined) {
    if (value === 'UTC' || canonicalZones().has(value)) return undefined;
    // Go knows what Intl calls an alias (Asia/Kolkata, US/Eastern) under that name too, case and all.
    if (resolved.toLowerCase() !== value.toLowerCase() && IANA_CASE.test(value)) return undefined;
    if (resolved === value) return undefined;
    return `Argo CD looks zones up by their exact IANA name; write "${resolved}"`;
  }
  return 'it must be an IANA time zone such as "Europe/Berlin", "America/New_York" or "UTC"; Argo CD runs a window with an unknown zone in UTC';
};
