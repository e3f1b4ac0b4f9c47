// `npm run bench:pulumi`: `pulumi up --stack dev` on the local control plane, from an
// empty stack and as a no-op, whole CLI runs (CPU of the CLI and every plugin it waits for).
// Figures only. BENCH_RUNS no-op runs; BENCH_STACK_FILE picks another stack file to deploy;
// BENCH_KEEP=1 keeps the workspace.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { median } from '../model/statistics';
import { PulumiWorkspace, ROOT } from '../tools/cluster/harness';
import { pulumiHome } from '../tools/pulumi-home';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);

interface Run {
  wallS: number;
  cpuS: number;
}

/** One `pulumi up`, timed by /usr/bin/time: wall and user+sys of the CLI and its children. */
function up(ws: PulumiWorkspace, args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const r = spawnSync(
    '/usr/bin/time',
    [
      '-f',
      'TIME %e %U %S',
      'pulumi',
      'up',
      '--yes',
      '--skip-preview',
      '--stack',
      ws.stack,
      '--non-interactive',
      ...args,
    ],
    { cwd: ws.dir, env: { ...ws.env, ...env }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  const m = /TIME ([\d.]+) ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr);
  if (r.status !== 0 || !m)
    throw new Error(
      `pulumi up ${args.join(' ')} exited ${r.status}:\n${r.stdout.slice(-3000)}${r.stderr.slice(-3000)}`,
    );
  return { wallS: Number(m[1]), cpuS: Number(m[2]) + Number(m[3]) };
}

const show = (label: string, runs: Run[]) =>
  console.log(
    `  ${label}: wall median ${median(runs.map((r) => r.wallS)).toFixed(1)} s, CPU median ${median(runs.map((r) => r.cpuS)).toFixed(1)} s (${runs.map((r) => r.wallS.toFixed(1)).join(', ')})`,
  );

async function main() {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  await require(join(ROOT, 'test', 'cluster', 'global-setup.js'))();
  const ws = new PulumiWorkspace('dev');
  try {
    ws.writeConfig(
      readFileSync(process.env.BENCH_STACK_FILE ?? join(ROOT, 'stacks', 'Pulumi.dev.yaml'), 'utf8'),
    );
    await ws.init();
    console.log(`\npulumi up --stack dev (${ROOT}/dist/stacks/index.js):`);
    // Objects an earlier stack left are taken over (its field manager would otherwise conflict).
    show('from an empty stack', [up(ws, [], { PULUMI_K8S_ENABLE_PATCH_FORCE: 'true' })]);
    // Paired: Pulumi's always-on debug log (tools/pulumi-home.js turns it off for these runs) on, then off.
    const logs = join(ws.env.PULUMI_HOME!, 'logs');
    const withLog: Run[] = [];
    const noop: Run[] = [];
    for (let i = 0; i < RUNS; i++) {
      rmSync(logs, { recursive: true, force: true });
      withLog.push(up(ws, ['--expect-no-changes']));
      rmSync(logs, { recursive: true, force: true });
      pulumiHome(ws.env.PULUMI_HOME!);
      noop.push(up(ws, ['--expect-no-changes']));
    }
    show('no-op', noop);
    show("no-op with the CLI's automatic debug log (Pulumi's default)", withLog);
    console.log(
      `  ratio, median of pairs: ${median(noop.map((r, i) => r.wallS / withLog[i].wallS)).toFixed(2)}× wall, ${median(noop.map((r, i) => r.cpuS / withLog[i].cpuS)).toFixed(2)}× CPU`,
    );
    // Where a no-op's time goes: the same run without the intermediate state saves.
    show('no-op, PULUMI_SKIP_CHECKPOINTS=true', [
      up(ws, ['--expect-no-changes'], { PULUMI_SKIP_CHECKPOINTS: 'true' }),
    ]);
    console.log('Targets (2 cores): no-op <= 15 s; from empty <= 60 s.');
  } finally {
    // BENCH_KEEP=1 keeps the workspace (its stack and state) for a closer look, e.g. `--tracing`.
    if (process.env.BENCH_KEEP) console.log(`  workspace kept: ${ws.dir}`);
    else ws.remove();
  }
}

main().catch((err) => {
  console.error(`bench:pulumi: ${(err as Error).message}`);
  process.exitCode = 1;
});
