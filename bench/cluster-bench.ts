// `npm run bench:cluster`: the dev stack on the local control plane. Prints `pulumi up` times and
// self-heal times (detect, restore) under the platform's settings and under Argo CD's defaults,
// side by side. Figures only: nothing here passes or fails on time.
import { join } from 'node:path';
import { formatTable } from '../cli/table';
import {
  application,
  clients,
  Clients,
  fileOnServer,
  patchApplication,
  PulumiWorkspace,
  restartArgoCdController,
  ROOT,
} from '../test/cluster/harness';
import { devScenarios, DriftScenario, measure, percentile, settled } from '../test/cluster/self-heal';

const TRIALS = Number(process.env.BENCH_TRIALS ?? 10);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 6);
const median = (xs: number[]) => percentile(xs, 50);
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
  detect: number[];
  restore: number[];
}

async function isolatedTrials(c: Clients, scenarios: DriftScenario[]): Promise<Map<string, Row>> {
  const rows = new Map<string, Row>();
  for (const scenario of scenarios) {
    const row: Row = { detect: [], restore: [] };
    for (let i = 0; i < TRIALS; i++) {
      await resetBackoff(c, scenario.application);
      const t = await measure(c, scenario, 600_000);
      row.detect.push(t.detectMs);
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

async function main() {
  // The suite's global setup starts (or reuses) the control plane, installs Istio's CRDs and syncs Git.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  await require(join(ROOT, 'test', 'cluster', 'global-setup.js'))();
  const c = clients();
  const ws = new PulumiWorkspace('dev');
  try {
    ws.writeConfig(fileOnServer('stacks/Pulumi.dev.yaml'));
    await ws.init();
    const up = await ws.run(['up', '--yes', '--skip-preview']);
    if (up.code !== 0)
      throw new Error(`pulumi up failed:\n${up.stdout.slice(-3000)}${up.stderr.slice(-3000)}`);
    const noop: number[] = [];
    for (let i = 0; i < 3; i++)
      noop.push((await ws.run(['up', '--yes', '--skip-preview', '--expect-no-changes'])).ms);
    for (const app of ['dev-app-service', 'dev-model-service']) await settled(c, app, 600_000);

    const git = { namespace: 'dev-web', image: 'ghcr.io/example-org/app-service:1.5.0-dev.3', replicas: 1 };
    const scenarios = devScenarios(git);
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
      `\npulumi up --stack dev from empty: ${s(up.ms)} s; no-op pulumi up: median ${s(median(noop))} s over ${noop.length} runs`,
    );
    console.log(
      `\nSelf-heal, ${TRIALS} isolated trials per scenario (seconds; each trial starts with Argo CD's backoff reset):`,
    );
    const fmt = (xs: number[]) => `${s(median(xs))} / ${s(percentile(xs, 95))}`;
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
          return [sc.name, fmt(p.detect), fmt(p.restore), fmt(d.detect), fmt(d.restore)];
        }),
      ),
    );
    console.log(
      `\nThe same drift ${REPEATS} times in a row (${scenarios[0].name}), restore times in seconds:`,
    );
    console.log(`  platform: ${results.platform.repeated.map(s).join('  ')}`);
    console.log(`  defaults: ${results.defaults.repeated.map(s).join('  ')}`);
    console.log(
      '\nGoals: p95 restore <= 5 s for every scenario; pulumi up from empty <= 60 s; no-op <= 15 s.',
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
