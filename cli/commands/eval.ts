import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEFAULT_REACTION, parseReaction } from '../../drift/eval/operator';
import { resultFiles } from '../../drift/eval/report';
import { runEval } from '../../drift/eval/run';
import { ScenarioName, SCENARIOS } from '../../drift/eval/scenarios';
import { summarize, summaryTable } from '../../drift/eval/summary';
import { Arm, ARMS } from '../../drift/eval/trial';
import { isSystemError, UsageError } from '../../model/errors';
import { clusterAccess } from './cluster-access';

export interface EvalCommandOptions {
  readonly env: string;
  readonly trials?: string;
  readonly scenarios?: string;
  readonly arms?: string;
  readonly out?: string;
  readonly seed?: string;
  readonly reaction?: string;
  readonly timeout?: string;
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly stacksDir?: string;
}

function wholeNumber(flag: string, value: string, min: number, max: number): number {
  const n = /^[0-9]{1,10}$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`${flag} is ${JSON.stringify(value)}; use a whole number from ${min} to ${max}`);
  return n;
}

function names<T extends string>(flag: string, value: string, allowed: readonly T[]): T[] {
  const list = value.split(',').map((s) => s.trim());
  for (const name of list)
    if (!allowed.includes(name as T))
      throw new UsageError(
        `${flag} names ${JSON.stringify(name)}; allowed: ${allowed.join(', ')} (comma-separated, e.g. ${flag} ${allowed.slice(0, 2).join(',')})`,
      );
  return [...new Set(list)] as T[];
}

/** The results folder, created and proved writable before any trial runs. */
function outFolder(value: string): string {
  const dir = resolve(value);
  try {
    mkdirSync(dir, { recursive: true });
    const probe = join(dir, `.converge-eval-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (err) {
    const code = isSystemError(err) ? err.code : (err as Error).message;
    throw new UsageError(
      `--out is ${JSON.stringify(value)}; cannot write there (${code}); pass a folder you can write`,
    );
  }
  return dir;
}

/** `converge eval`: the manual-vs-GitOps experiment on a cluster; writes trials, summary and report. */
export async function evalCommand(
  options: EvalCommandOptions,
  convergeCommand: readonly string[],
): Promise<number> {
  const trials = wholeNumber('--trials', options.trials ?? '20', 1, 1000);
  const seed = wholeNumber('--seed', options.seed ?? '1', 0, 4294967295);
  const timeoutSeconds = wholeNumber('--timeout', options.timeout ?? '300', 1, 86400);
  const scenarios: ScenarioName[] = options.scenarios
    ? names('--scenarios', options.scenarios, SCENARIOS)
    : [...SCENARIOS];
  const arms: Arm[] = options.arms ? names('--arms', options.arms, ARMS) : [...ARMS];
  const reactionSpec = options.reaction ?? DEFAULT_REACTION;
  const reaction = parseReaction(reactionSpec);
  const out = outFolder(options.out ?? join('converge-eval', options.env));
  const kc = clusterAccess(options);
  const run = await runEval(kc, {
    env: options.env,
    stacksDir: options.stacksDir,
    kubeconfig: options.kubeconfig,
    context: options.context,
    trials,
    scenarios,
    scenariosNamed: options.scenarios !== undefined,
    arms,
    seed,
    reaction,
    reactionSpec,
    timeoutSeconds,
    convergeCommand,
    log: (line) => console.error(`converge eval: ${line}`),
  });
  const summaries = summarize(run.trials);
  for (const [name, text] of Object.entries(resultFiles(run, summaries)))
    writeFileSync(join(out, name), text);
  console.log(summaryTable(summaries));
  for (const s of run.skipped) console.log(`${s.scenario}: not run, ${s.why}`);
  console.log(`\nwrote ${join(out, 'trials.json')}, summary.json and report.html`);
  return 0;
}
