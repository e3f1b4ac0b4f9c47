import type { Check } from './validators';

/*
 * Sync window schedules as Argo CD reads them. Argo CD v3 parses `schedule` with robfig/cron v3,
 * `cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)` (SyncWindow.Validate
 * and SyncWindows.active in pkg/apis/application/v1alpha1/types.go): five fields, no seconds and no
 * descriptors. Hand-written because no JS cron library accepts exactly what that Go parser does
 * (they take seconds, `L`, `W`, `#`, `7` for Sunday or descriptors, which Argo CD refuses).
 */

interface Field {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  readonly example: string;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

const FIELDS: readonly Field[] = [
  { name: 'minute', min: 0, max: 59, example: '0' },
  { name: 'hour', min: 0, max: 23, example: '22' },
  { name: 'day of month', min: 1, max: 31, example: '*' },
  { name: 'month', min: 1, max: 12, names: MONTHS, example: '*' },
  { name: 'day of week', min: 0, max: 6, names: DAYS, example: '5' },
];

/** Go's unicode.IsSpace, which strings.Fields splits on (JS's \s differs: it has U+FEFF, lacks U+0085). */
const GO_SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;
const GO_SPACE_EDGES = new RegExp(`^${GO_SPACE.source}|${GO_SPACE.source}$`, 'g');

const EXAMPLE = '"0 22 * * 5" (Fridays at 22:00)';
/** Longest month for each month number; February has a 29th in leap years, within robfig's 5-year search. */
const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The values a field selects, and whether it was written as `*` or `?` (robfig's star bit). */
interface Parsed {
  readonly values: ReadonlySet<number>;
  readonly star: boolean;
}

class FieldError extends Error {}

/** robfig's strconv.Atoi and its negative check: an optional '+', then decimal digits. */
function parseInt10(text: string, field: Field): number {
  if (!/^\+?[0-9]+$/.test(text)) {
    throw new FieldError(
      field.names
        ? `"${text}" is neither a number nor one of ${field.names.join(', ')}`
        : `"${text}" is not a number`,
    );
  }
  return Number(text);
}

function parseIntOrName(text: string, field: Field): number {
  const i = field.names?.indexOf(text.toLowerCase()) ?? -1;
  if (i >= 0) return field.name === 'month' ? i + 1 : i;
  return parseInt10(text, field);
}

/** One comma-separated part: `*`, `?`, `n`, `a-b`, each optionally with `/step`, as robfig's getRange. */
function parseRange(expr: string, field: Field, into: Set<number>): boolean {
  const rangeAndStep = expr.split('/');
  const lowAndHigh = rangeAndStep[0].split('-');
  let star = false;
  let start: number;
  let end: number;
  if (lowAndHigh[0] === '*' || lowAndHigh[0] === '?') {
    [start, end, star] = [field.min, field.max, true];
    // robfig ignores anything after "*-"; Argo CD would too, but nobody means it.
    if (lowAndHigh.length > 1) throw new FieldError(`"${expr}" is not a range; write "a-b" or "*"`);
  } else {
    start = parseIntOrName(lowAndHigh[0], field);
    if (lowAndHigh.length > 2) throw new FieldError(`"${expr}" has too many '-'`);
    end = lowAndHigh.length === 2 ? parseIntOrName(lowAndHigh[1], field) : start;
  }
  let step = 1;
  if (rangeAndStep.length > 2) throw new FieldError(`"${expr}" has too many '/'`);
  if (rangeAndStep.length === 2) {
    step = parseInt10(rangeAndStep[1], field);
    // robfig: "n/step" means "n-max/step".
    if (lowAndHigh.length === 1) end = field.max;
    if (step > 1) star = false;
  }
  if (start < field.min || end > field.max) {
    throw new FieldError(`${start < field.min ? start : end} is out of range`);
  }
  if (start > end) throw new FieldError(`"${expr}" starts after it ends`);
  if (step === 0) throw new FieldError(`"${expr}" has a step of 0; a step must be 1 or more`);
  for (let v = start; v <= end; v += step) into.add(v);
  return star;
}

function parseField(text: string, field: Field): Parsed {
  const values = new Set<number>();
  let star = false;
  for (const part of text.split(',')) star = parseRange(part, field, values) || star;
  return { values, star };
}

function range(field: Field): string {
  const names = field.names ? ` or ${field.names[0].toUpperCase()}-${field.names.at(-1)!.toUpperCase()}` : '';
  return `${field.min}-${field.max}${names}`;
}

/**
 * A schedule Argo CD accepts, and one that ever starts: robfig's Next gives up on a schedule with no
 * time in five years (e.g. 30 February), and Argo CD then treats the window as always active.
 */
export const isSyncWindowSchedule: Check<string> = (value) => {
  if (typeof value !== 'string') return `it must be a cron schedule, e.g. ${EXAMPLE}`;
  const spec = value.replace(GO_SPACE_EDGES, '');
  if (/^(CRON_)?TZ=/.test(spec)) {
    return `Argo CD already shifts the schedule by the window's timeZone; drop the ${spec.split('=')[0]}= prefix and set timeZone instead`;
  }
  if (spec.startsWith('@')) {
    return `Argo CD parses sync windows without descriptors (@daily, @every, ...); write five fields instead, e.g. "0 0 * * *" for @daily`;
  }
  const fields = spec.split(GO_SPACE).filter((f) => f !== '');
  if (fields.length !== 5) {
    return `it must be a cron schedule with five fields (minute hour day-of-month month day-of-week, no seconds), as Argo CD parses it; it has ${fields.length}; write e.g. ${EXAMPLE}`;
  }
  const parsed: Parsed[] = [];
  for (const [i, field] of FIELDS.entries()) {
    try {
      parsed.push(parseField(fields[i], field));
    } catch (err) {
      if (!(err instanceof FieldError)) throw err;
      return `its ${field.name} field "${fields[i]}" is invalid: ${err.message}; the ${field.name} is ${range(field)}, written as a value, a list (a,b), a range (a-b), a step (*/n or a-b/n) or *, e.g. ${EXAMPLE}`;
    }
  }
  const [, , dom, month, dow] = parsed;
  // robfig matches day-of-month AND day-of-week when either is a star, OR when neither is.
  if (!dom.star && dow.star) {
    const fits = [...month.values].some((m) => [...dom.values].some((d) => d <= MONTH_DAYS[m - 1]));
    if (!fits) {
      return `no month it names has day ${[...dom.values].join(',')}, so the window never starts and Argo CD treats it as always active; pick a day that exists, e.g. "0 0 28 2 *"`;
    }
  }
  return undefined;
};
