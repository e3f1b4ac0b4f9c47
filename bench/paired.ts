// Paired runs: a command and its yardsticks take turns, A B A B ..., so a drift in the machine's
// speed moves both sides of a pair alike; the figure is the median of the per-pair ratios.
import { spawnSync, SpawnSyncOptions } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { median } from '../model/statistics';

/**
 * Runs each of `runs` in turn, `rounds` times, after one unrecorded warm-up round; each returns
 * its own time. Returns the times by run, in round order.
 */
export function alternate(rounds: number, runs: readonly (() => number)[]): number[][] {
  for (const run of runs) run();
  const times = runs.map((): number[] => []);
  for (let i = 0; i < rounds; i++) runs.forEach((run, j) => times[j].push(run()));
  return times;
}

/** Wall milliseconds of one whole process; throws with its stderr when it fails. */
export function timeProcess(
  command: string,
  args: readonly string[],
  options: SpawnSyncOptions = {},
): number {
  const t = performance.now();
  const r = spawnSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'], ...options });
  const ms = performance.now() - t;
  if (r.status !== 0)
    throw new Error(`${command} ${args.join(' ')} exited ${r.status}: ${String(r.stderr).trim()}`);
  return ms;
}

/** One line: both medians and the median of the per-pair ratios a[i] / b[i]. */
export function pairedLine(
  what: string,
  a: readonly number[],
  yardstick: string,
  b: readonly number[],
  format: (v: number) => string,
): string {
  const r = a.map((t, i) => t / b[i]);
  return (
    `  ${what} ${format(median(a))} vs ${yardstick} ${format(median(b))}: ` +
    `ratio ${median(r).toFixed(2)}x (median of ${r.length} pairs; min ${Math.min(...r).toFixed(2)}, max ${Math.max(...r).toFixed(2)})`
  );
}
