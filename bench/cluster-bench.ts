// `npm run bench:cluster`: the dev stack on the local control plane. Prints the bootstrap's
// `pulumi up` times, commit → cluster latency with the webhook and with polling only, and self-heal
// times (detect, restore) under the platform's settings and under Argo CD's defaults, side by side.
// Figures only: nothing here passes or fails on time.
import { join } from 'node:path';
import { formatTable } from '../model/text';
import {
  application,
  clients,
  Clients,
  devGitState,
  fileOnServer,
  GIT_URL,
  patchApplication,
  PulumiWorkspace,
  restartArgoCdController,
  ROOT,
} from '../tools/cluster/harness';
import { devScenarios, DriftScenario, measure, settled } from '../tools/cluster/self-heal';
import { median, percentile } from '../model/statistics';
import { platformOnServer, release, timedReleases } from '../tools/cluster/releases';

const TRIALS = Number(process.env.BENCH_TRIALS ?? 10);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 6);
const COMMITS = Number(process.env.BENCH_COMMITS ?? 10);
// Each polling commit costs up to the reconciliation timeout plus the repo-server's 3-minute revision cache.
const POLLING_COMMITS = Number(process.env.BENCH_POLLING_COMMITS ?? COMMITS);
const s = (ms: number) => (ms / 1000).toFixed(2);

/** Argo CD's own defaults, as the controller uses them when nothing is configured. */
const ARGOCD_DEFAULTS = {
  CONVERGE_ARGOCD_APP_RESYNC: '120s',
  CONVERGE_ARGOCD_APP_RESYNC_JITTER: '60s',
  CONVERGE_ARGOCD_SELF_HEAL_BACKOFF_TIMEOUT: '2',
  CONVERGE_ARGOCD_SELF_HEAL_BACKOFF_FACTOR: '3',
  CONVERGE_ARGOCD_SELF_HEAL_BACKOFF_CAP: '300',
};

/** A sync started by hand resets Argo CD's self-heal backoff, so each isolated trial starts fresh. */
async function resetBackoff(c: Clients, name: string): Promise<void> {
  const app = await application(c, name);
  const revision = (app.status?.sync as { revision?: string } | undefined)?.revision;
  await patchApplication(c, name, {
    operation: {
      initiatedBy: { username: 'converge-bench' },
      sync: { revision, syncStrategy: { hook: {} } },
    },
  });
  await new Promise((r) => setTimeout(r, 500));
  await settled(c, name);
}

interface Row {
  /** Trials where the watch saw Argo CD notice the drift (OutOfSync or an automated sync). */
  detect: number[];
  /** Trials where it saw neither: no detection time to report. */
  undetected: number;
  restore: number[];
}

async function isolatedTrials(c: Clients, scenarios: DriftScenario[]): Promise<Map<string, Row>> {
  const rows = new Map<string, Row>();
  for (const scenario of scenarios) {
    const row: Row = { detect: [], undetected: 0, restore: [] };
    for (let i = 0; i < TRIALS; i++) {
      await resetBackoff(c, scenario.application);
      const t = await measure(c, scenario, 600_000);
      if (t.detectMs === null) row.undetected++;
      else row.detect.push(t.detectMs);
      row.restore.push(t.restoreMs);
    }
    rows.set(scenario.name, row);
    process.stderr.write(`  ${scenario.name}: ${row.restore.map((r) => s(r)).join(' ')}\n`);
  }
  return rows;
}

/** The same drift again and again, with no reset: shows each setting's self-heal backoff. */
async function repeatedDrift(c: Clients, scenario: DriftScenario): Promise<number[]> {
  await resetBackoff(c, scenario.application);
  const restores: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    await settled(c, scenario.application, 900_000);
    restores.push((await measure(c, scenario, 900_000)).restoreMs);
  }
  return restores;
}

/** `pulumi up` or throw with its output: a failed run has no time worth reporting. */
async function upOrThrow(ws: PulumiWorkspace, args: string[]): Promise<number> {
  const r = await ws.run(['up', '--yes', '--skip-preview', ...args]);
  if (r.code !== 0)
    throw new Error(
      `pulumi up ${args.join(' ')} exited ${r.code}:\n${r.stdout.slice(-3000)}${r.stderr.slice(-3000)}`,
    );
  return r.ms;
}

async function main() {
  // The suite's global setup starts (or reuses) the control plane, installs Istio's CRDs and syncs Git.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  await require(join(ROOT, 'test', 'cluster', 'global-setup.js'))();
  const c = clients();
  const ws = new PulumiWorkspace('dev');
  try {
    // The root Application pulls dev from the Git server: commit dev pointed there, with its manifests.
    if ((platformOnServer('dev').git as { repoURL?: string } | undefined)?.repoURL !== GIT_URL)
      release('dev', { 'git.repoURL': GIT_URL }, 'dev: served by the local Git server');
    ws.writeConfig(fileOnServer('stacks/Pulumi.dev.yaml'));
    await ws.init();
    const upMs = await upOrThrow(ws, []);
    const noop: number[] = [];
    for (let i = 0; i < 3; i++) noop.push(await upOrThrow(ws, ['--expect-no-changes']));
    restartArgoCdController({});
    for (const app of ['dev-root', 'dev-app-service', 'dev-model-service']) await settled(c, app, 600_000);

    process.stderr.write(
      `\nCommit -> cluster, ${COMMITS} commits with the webhook, then ${COMMITS} polling only\n`,
    );
    const webhook = (await timedReleases(c, 'bench-webhook', COMMITS)).latencies;
    const polling = (await timedReleases(c, 'bench-polling', POLLING_COMMITS, { webhook: false })).latencies;

    const scenarios = devScenarios(devGitState());
    const results: Record<'platform' | 'defaults', { isolated: Map<string, Row>; repeated: number[] }> =
      {} as never;
    for (const [label, env] of [
      ['platform', {}],
      ['defaults', ARGOCD_DEFAULTS],
    ] as const) {
      process.stderr.write(
        `\n${label === 'platform' ? "Platform settings (dev's argocd-cm / argocd-cmd-params-cm)" : "Argo CD's defaults"}:\n`,
      );
      restartArgoCdController(env);
      await settled(c, 'dev-app-service');
      results[label] = {
        isolated: await isolatedTrials(c, scenarios),
        repeated: await repeatedDrift(c, scenarios[0]),
      };
    }
    restartArgoCdController({});

    console.log(
      `\npulumi up --stack dev (bootstrap) from empty: ${s(upMs)} s; no-op pulumi up: median ${s(median(noop))} s over ${noop.length} runs`,
    );
    console.log(
      `\nCommit -> cluster (image tag, replicas and a canary weight in Pulumi.dev.yaml, rendered, pushed; no pulumi up):`,
    );
    console.log(
      formatTable(
        ['PATH', 'COMMITS', 'p50 s', 'p95 s', 'min s', 'max s'],
        [
          ['webhook (post-receive -> argocd-server)', webhook],
          ['polling only', polling],
        ].map(([label, xs]) => {
          const v = xs as number[];
          return [
            label as string,
            String(v.length),
            s(median(v)),
            s(percentile(v, 95)),
            s(Math.min(...v)),
            s(Math.max(...v)),
          ];
        }),
      ),
    );
    console.log(
      `\nSelf-heal, ${TRIALS} isolated trials per scenario (seconds; each trial starts with Argo CD's backoff reset):`,
    );
    const fmt = (xs: number[]) => (xs.length ? `${s(median(xs))} / ${s(percentile(xs, 95))}` : '-');
    const fmtDetect = (row: Row) =>
      `${fmt(row.detect)}${row.undetected ? ` (${row.undetected} unseen)` : ''}`;
    console.log(
      formatTable(
        [
          'SCENARIO',
          'PLATFORM DETECT p50/p95',
          'PLATFORM RESTORE p50/p95',
          'DEFAULTS DETECT p50/p95',
          'DEFAULTS RESTORE p50/p95',
        ],
        scenarios.map((sc) => {
          const p = results.platform.isolated.get(sc.name)!;
          const d = results.defaults.isolated.get(sc.name)!;
          return [sc.name, fmtDetect(p), fmt(p.restore), fmtDetect(d), fmt(d.restore)];
        }),
      ),
    );
    console.log(
      `\nThe same drift ${REPEATS} times in a row (${scenarios[0].name}), restore times in seconds:`,
    );
    console.log(`  platform: ${results.platform.repeated.map(s).join('  ')}`);
    console.log(`  defaults: ${results.defaults.repeated.map(s).join('  ')}`);
    if (scenarios.some((sc) => results.platform.isolated.get(sc.name)!.undetected))
      console.log(
        '  (n unseen: trials where the watch saw no OutOfSync and no automated sync before the restore)',
      );

    // Figures against the goals, under the platform's settings; a missed goal is reported, not failed.
    const goal = (what: string, measured: string, met: boolean) =>
      console.log(`  ${what.padEnd(44)} ${measured.padEnd(32)} ${met ? 'met' : 'NOT met'}`);
    console.log('\nGoals (platform settings):');
    for (const sc of scenarios) {
      const p95 = percentile(results.platform.isolated.get(sc.name)!.restore, 95);
      goal(`p95 restore <= 5 s: ${sc.name}`, `${s(p95)} s`, p95 <= 5000);
    }
    goal('pulumi up from empty <= 60 s', `${s(upMs)} s`, upMs <= 60_000);
    const slowestNoop = Math.max(...noop);
    goal(
      'no-op pulumi up <= 15 s',
      `slowest ${s(slowestNoop)} s (median ${s(median(noop))} s)`,
      slowestNoop <= 15_000,
    );

    const destroy = await ws.run(['destroy', '--yes', '--skip-preview']);
    if (destroy.code !== 0) console.error(`pulumi destroy failed: ${destroy.stderr.slice(-2000)}`);
  } finally {
    ws.remove();
  }
}

main().catch((err) => {
  console.error(`bench:cluster: ${(err as Error).message}`);
  process.exitCode = 1;
});
