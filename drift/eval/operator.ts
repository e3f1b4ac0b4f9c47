import { UsageError } from '../../model/errors';

/*
 * The manual arm's operator: how long a person takes to notice a drift and start fixing it. It is
 * modelled, never slept: each term is drawn from a seeded generator, and the trial adds the draw
 * to the measured time of the real fix (`helm upgrade`). A spec is terms joined by `+`:
 *
 *   every:<d>            a `converge drift` cron every d: the wait until its next run, uniform on [0, d)
 *   lognormal:<m>,<s>    a reaction time, log-normal with median m and log-scale sigma s
 *   uniform:<a>,<b>      uniform on [a, b)
 *   fixed:<d>            always d
 *
 * Durations are whole or decimal numbers with s, m or h (`90s`, `2.5m`, `1h`).
 */

export const DEFAULT_REACTION = 'every:5m+lognormal:5m,1';

export type OperatorTerm =
  | { readonly kind: 'every'; readonly seconds: number }
  | { readonly kind: 'lognormal'; readonly median: number; readonly sigma: number }
  | { readonly kind: 'uniform'; readonly low: number; readonly high: number }
  | { readonly kind: 'fixed'; readonly seconds: number };

/** What each term means, for the trial records. */
export function describeTerm(t: OperatorTerm): string {
  switch (t.kind) {
    case 'every':
      return `wait for the next \`converge drift\` run (every ${t.seconds} s)`;
    case 'lognormal':
      return `reaction time (log-normal, median ${t.median} s, sigma ${t.sigma})`;
    case 'uniform':
      return `reaction time (uniform ${t.low}-${t.high} s)`;
    case 'fixed':
      return `reaction time (fixed ${t.seconds} s)`;
  }
}

const ALLOWED =
  'use terms joined by +: every:<duration>, lognormal:<median>,<sigma>, uniform:<min>,<max>, fixed:<duration>, with durations such as 90s, 5m, 1h (e.g. every:5m+lognormal:5m,1)';

function duration(text: string, spec: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)(s|m|h)$/.exec(text);
  if (!m)
    throw new UsageError(
      `--reaction is ${JSON.stringify(spec)}; ${JSON.stringify(text)} is not a duration; ${ALLOWED}`,
    );
  return Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] as 's' | 'm' | 'h'];
}

/** Parses a `--reaction` spec; a bad one is a UsageError naming the flag, the value and the form. */
export function parseReaction(spec: string): OperatorTerm[] {
  if (spec.trim() === '') throw new UsageError(`--reaction is ""; ${ALLOWED}`);
  return spec.split('+').map((term) => {
    const [kind, args = '', ...extra] = term.trim().split(':');
    const parts = args.split(',');
    const need = (count: number) => {
      if (extra.length || parts.length !== count || parts.some((p) => p === ''))
        throw new UsageError(
          `--reaction is ${JSON.stringify(spec)}; ${JSON.stringify(term)} takes ${count} value${count > 1 ? 's' : ''}; ${ALLOWED}`,
        );
    };
    switch (kind) {
      case 'every':
      case 'fixed': {
        need(1);
        const seconds = duration(parts[0], spec);
        if (kind === 'every' && seconds <= 0)
          throw new UsageError(
            `--reaction is ${JSON.stringify(spec)}; every: needs a period above 0; ${ALLOWED}`,
          );
        return { kind, seconds };
      }
      case 'lognormal': {
        need(2);
        const median = duration(parts[0], spec);
        const sigma = /^[0-9]+(\.[0-9]+)?$/.test(parts[1]) ? Number(parts[1]) : NaN;
        if (!(median > 0) || !(sigma >= 0 && sigma <= 5))
          throw new UsageError(
            `--reaction is ${JSON.stringify(spec)}; lognormal needs a median above 0 and a sigma from 0 to 5 (a plain number); ${ALLOWED}`,
          );
        return { kind, median, sigma };
      }
      case 'uniform': {
        need(2);
        const [low, high] = parts.map((p) => duration(p, spec));
        if (!(high > low))
          throw new UsageError(
            `--reaction is ${JSON.stringify(spec)}; uniform needs its max above its min; ${ALLOWED}`,
          );
        return { kind, low, high };
      }
      default:
        throw new UsageError(
          `--reaction is ${JSON.stringify(spec)}; ${JSON.stringify(kind)} is not a term; ${ALLOWED}`,
        );
    }
  });
}

/** mulberry32: a small seeded generator; Math.random cannot be seeded. Returns [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One draw of each term, in seconds, from the generator. */
export function drawOperator(terms: readonly OperatorTerm[], random: () => number): number[] {
  return terms.map((t) => {
    switch (t.kind) {
      case 'every':
        return random() * t.seconds;
      case 'fixed':
        return t.seconds;
      case 'uniform':
        return t.low + random() * (t.high - t.low);
      case 'lognormal': {
        // Box-Muller: one standard normal deviate from two uniforms (1 - u keeps log() finite).
        const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
        return t.median * Math.exp(t.sigma * z);
      }
    }
  });
}
