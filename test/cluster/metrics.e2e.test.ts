import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LABELS } from '../../model/constants';
import { records } from './drift-harness';
import {
  application,
  ARGOCD_NS,
  BARE_REPO,
  KUBECONFIG,
  RESULTS_DIR,
  ROOT,
  waitFor,
} from '../../tools/cluster/harness';
import { release, revert } from '../../tools/cluster/releases';
import {
  converge,
  exposeService,
  merge,
  NS,
  replicas,
  s,
  scale,
  serviceType,
  since,
  useStagingDrift,
  waitRecord,
  Workload,
} from './staging-drift';

/*
 * The controller's metrics on the real control plane, fed by real events only: drifts made here
 * against staging with `converge watch` running, and real commits that Argo CD syncs. Each test
 * measures its own bounds with its own clock (onset <= detection <= restore) and checks the
 * scraped histograms lie within them; nothing sets a value. Then `converge report` is checked
 * against the Applications' history and the DriftRecords, read here independently.
 */

useStagingDrift();

type Sample = { name: string; labels: Record<string, string>; value: number };

/** The exposition text as samples. Hand-written: three regular expressions, and prom-client parses none. */
function parse(text: string): Sample[] {
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(l)!;
      const labels = Object.fromEntries(
        [...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]),
      );
      return { name: m[1], labels, value: Number(m[3]) };
    });
}

const scrape = async () => parse(await s.controller.metrics());
/** The sum of the samples of a name whose labels include these; 0 when there are none. */
const sum = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples
    .filter((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v))
    .reduce((a, x) => a + x.value, 0);
const TTD = 'converge_drift_time_to_detect_seconds';
const TTR = 'converge_drift_time_to_restore_seconds';
/** The smallest bucket bound of a histogram at or above a value. */
const bucketAbove = (samples: Sample[], name: string, v: number) =>
  Math.min(
    ...samples
      .filter((x) => x.name === `${name}_bucket`)
      .map((x) => Number(x.labels.le))
      .filter((le) => le >= v),
  );

describe('drift metrics from real drifts', () => {
  it("observes a patched Deployment's times to detect and restore within the bounds the test measured", async () => {
    const before = await scrape();
    const from = since();
    // GIVEN the test's own clock around a real change: managedFields dates it in whole seconds
    const t0 = Math.floor(Date.now() / 1000) * 1000;
    await s.c.apps.patchNamespacedDeployment(
      { name: 'app-service', namespace: NS, body: { spec: { replicas: 4 } } },
      merge,
    );
    const patched = Date.now();
    const detected = await waitRecord('Deployment', 'app-service', 'detected', from);
    const detectedSeen = Date.now();
    await waitFor('replicas back to 2', async () => (await replicas()) === 2, { intervalMs: 20 });
    await waitRecord('Deployment', 'app-service', 'restored', from);
    const restoredSeen = Date.now();
    // THEN the drift has a real onset, inside the window of the patch
    expect(detected.onset).toBeDefined();
    expect(Date.parse(detected.onset!)).toBeGreaterThanOrEqual(t0);
    expect(Date.parse(detected.onset!)).toBeLessThanOrEqual(patched);
    // and each histogram got exactly one low sample, within what the test saw
    const { value: after } = await waitFor(
      'time to restore observed',
      async () => {
        const now = await scrape();
        return sum(now, `${TTR}_count`, { severity: 'low' }) >
          sum(before, `${TTR}_count`, { severity: 'low' })
          ? now
          : undefined;
      },
      { timeoutMs: 30_000 },
    );
    const delta = (name: string, labels: Record<string, string> = { severity: 'low' }) =>
      sum(after, name, labels) - sum(before, name, labels);
    expect(delta(`${TTD}_count`)).toBe(1);
    expect(delta(`${TTR}_count`)).toBe(1);
    const ttd = delta(`${TTD}_sum`);
    const ttr = delta(`${TTR}_sum`);
    expect(ttd).toBeGreaterThanOrEqual(0);
    expect(ttd).toBeLessThanOrEqual((detectedSeen - t0) / 1000);
    expect(ttr).toBeGreaterThanOrEqual(ttd);
    expect(ttr).toBeLessThanOrEqual((restoredSeen - t0) / 1000);
    // the sample sits in the bucket the bounds say
    const le = bucketAbove(after, TTD, (detectedSeen - t0) / 1000);
    expect(delta(`${TTD}_bucket`, { severity: 'low', le: String(le) })).toBe(1);
    expect(delta('converge_drift_onset_unknown_total')).toBe(0);
    expect(
      delta('converge_drift_heals_total', {
        kind: 'Deployment',
        namespace: NS,
        name: 'app-service',
        outcome: 'restored',
      }),
    ).toBe(1);
    // and the controller says when it last finished a check: during this test
    const last = sum(after, 'converge_drift_last_reconcile_timestamp_seconds');
    expect(last * 1000).toBeGreaterThanOrEqual(t0);
    expect(last * 1000).toBeLessThanOrEqual(Date.now());
    s.timings.metricsPatch = { ttdSeconds: ttd, ttrSeconds: ttr, boundMs: restoredSeen - t0 };
  });

  it('counts a scale through /scale as onset unknown, and observes no made-up time for it', async () => {
    const w: Workload = { name: 'model-service', namespace: 'staging-ml', replicas: 2 };
    const before = await scrape();
    const from = since();
    await scale(5, w);
    await waitFor('replicas back to 2', async () => (await replicas(w)) === 2, { intervalMs: 20 });
    const detected = await waitRecord('Deployment', w.name, 'detected', from);
    const restored = await waitRecord('Deployment', w.name, 'restored', from);
    // The API server keeps no time for a write through /scale: there is no onset to trust
    expect(detected.onset).toBeUndefined();
    expect(restored.outcome).toMatch(
      /^back in its Git state [0-9.]+ s after its detection \(onset unknown\)$/,
    );
    const { value: after } = await waitFor(
      'onset unknown counted',
      async () => {
        const now = await scrape();
        return sum(now, 'converge_drift_onset_unknown_total') >
          sum(before, 'converge_drift_onset_unknown_total')
          ? now
          : undefined;
      },
      { timeoutMs: 30_000 },
    );
    const delta = (name: string, labels: Record<string, string> = {}) =>
      sum(after, name, labels) - sum(before, name, labels);
    expect(delta('converge_drift_onset_unknown_total', { severity: 'low', kind: 'Deployment' })).toBe(1);
    expect(delta(`${TTD}_count`)).toBe(0);
    expect(delta(`${TTR}_count`)).toBe(0);
    expect(delta('converge_drift_detected_total', { severity: 'low', kind: 'Deployment' })).toBe(1);
  });

  it('reports the age of the oldest held drift while it waits, and 0 once it is decided', async () => {
    const from = since();
    await exposeService();
    const held = await waitRecord('Service', 'app-service', 'held', from);
    await new Promise((r) => setTimeout(r, 2000));
    const age = sum(await scrape(), 'converge_drift_oldest_pending_approval_seconds');
    expect(age).toBeGreaterThanOrEqual(2);
    expect(age).toBeLessThanOrEqual((Date.now() - Date.parse(held.at)) / 1000);
    expect(converge('approve', held.driftId, '--reason', 'metrics test')).toContain(
      `${held.driftId} approved`,
    );
    await waitFor('Service back to ClusterIP', async () => (await serviceType()) === 'ClusterIP');
    await waitRecord('Service', 'app-service', 'restored', from);
    expect(sum(await scrape(), 'converge_drift_oldest_pending_approval_seconds')).toBe(0);
  });
});

/** Every staging Application, whole, as the API server returns them. */
async function stagingApps() {
  const { items } = (await s.c.custom.listNamespacedCustomObject({
    group: 'argoproj.io',
    version: 'v1alpha1',
    namespace: ARGOCD_NS,
    plural: 'applications',
    labelSelector: `${LABELS.environment}=staging`,
  })) as {
    items: {
      metadata: { name: string };
      status?: {
        history?: { id: number; revision?: string; deployedAt?: string }[];
        operationState?: { phase?: string; finishedAt?: string };
      };
    }[];
  };
  return items;
}

/** The part of app-service that holds its Deployment (and Service): an image tag change deploys it. */
const GUARDED = 'staging-app-service-guarded';
const atRevision = (commit: string) =>
  waitFor(
    `${GUARDED} Synced and Healthy at ${commit.slice(0, 7)}`,
    async () => {
      const st = (await application(s.c, GUARDED)).status;
      return (
        // Synced to the commit by an operation (a history entry), not only compared at it
        (st as { history?: { revision?: string }[] } | undefined)?.history?.some(
          (h) => h.revision === commit,
        ) &&
        st?.sync?.status === 'Synced' &&
        st.sync.revision === commit &&
        st.health?.status === 'Healthy' &&
        st.operationState?.phase !== 'Running'
      );
    },
    { timeoutMs: 300_000, intervalMs: 200 },
  );
const committedAt = (commit: string) =>
  Date.parse(
    execFileSync('git', ['--git-dir', BARE_REPO, 'show', '-s', '--format=%cI', commit], {
      encoding: 'utf8',
    }).trim(),
  );

describe('DORA metrics from real commits', () => {
  const series = (outcome: string) => ({ environment: 'staging', application: GUARDED, outcome });

  it('counts a release and its revert as deployments, with lead times from their commits', async () => {
    const before = await scrape();
    // WHEN a release is committed, Argo CD syncs it, and the controller resyncs (every 30 s here)
    const c1 = release(
      'staging',
      { 'services.app-service.image.tag': '1.5.1' },
      'staging: app-service 1.5.1',
    );
    await atRevision(c1);
    const { value: after } = await waitFor(
      'the release counted',
      async () => {
        const now = await scrape();
        return sum(now, 'converge_dora_deployments_total', series('succeeded')) >
          sum(before, 'converge_dora_deployments_total', series('succeeded'))
          ? now
          : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 1000 },
    );
    const observed = Date.now();
    // THEN one deployment of the stable Application, and lead times no longer than the test saw
    const delta = (name: string, labels: Record<string, string>) =>
      sum(after, name, labels) - sum(before, name, labels);
    expect(delta('converge_dora_deployments_total', series('succeeded'))).toBe(1);
    const n = delta('converge_dora_lead_time_seconds_count', { environment: 'staging' });
    expect(n).toBeGreaterThanOrEqual(1);
    const lead = delta('converge_dora_lead_time_seconds_sum', { environment: 'staging' });
    expect(lead).toBeGreaterThanOrEqual(0);
    // each from the commit to at most when the test saw it counted; commit times are whole seconds
    expect(lead).toBeLessThanOrEqual(n * ((observed - committedAt(c1)) / 1000 + 1));

    // WHEN the release is reverted
    const r1 = revert(c1);
    await atRevision(r1);
    const { value: reverted } = await waitFor(
      'the revert counted as a rollback',
      async () => {
        const now = await scrape();
        return sum(now, 'converge_dora_deployments_total', series('rolled_back')) >
          sum(before, 'converge_dora_deployments_total', series('rolled_back'))
          ? now
          : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 1000 },
    );
    // THEN the change failure rate counts it
    expect(sum(reverted, 'converge_dora_change_failure_rate', { environment: 'staging' })).toBeGreaterThan(0);
    expect(sum(reverted, 'converge_dora_deployments_total', series('succeeded'))).toBe(
      sum(after, 'converge_dora_deployments_total', series('succeeded')),
    );
    s.timings.dora = { leadTimeSecondsMean: lead / n, leadTimes: n };
  });

  it("prints figures in `converge report` that agree with the Applications' history and the DriftRecords", async () => {
    const r = spawnSync(
      'node',
      [
        join(ROOT, 'dist', 'cli', 'main.js'),
        'report',
        '--env',
        'staging',
        '--since',
        '3h',
        '--output',
        'json',
        '--stacks-dir',
        s.ws.dir,
        '--kubeconfig',
        KUBECONFIG,
      ],
      { encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    const from = report.window.from as string;
    // Deployments, counted here from the history: an entry at another revision than the one before
    let deployments = 0;
    for (const app of await stagingApps()) {
      const history = [...(app.status?.history ?? [])].sort((a, b) => a.id - b.id);
      history.forEach((h, i) => {
        if (h.revision !== history[i - 1]?.revision && h.deployedAt && h.deployedAt >= from) deployments++;
      });
      const op = app.status?.operationState;
      if (['Failed', 'Error'].includes(op?.phase ?? '') && op?.finishedAt && op.finishedAt >= from)
        deployments++;
    }
    expect(report.dora.deployments).toBe(deployments);
    expect(report.dora.byOutcome.rolled_back).toBeGreaterThanOrEqual(1);
    expect(report.dora.leadTime.count).toBeGreaterThanOrEqual(2);
    // Drifts, counted here from the records
    const mine = (await records(s.audit)).filter((x) => x.environment === 'staging' && x.at >= from);
    const detected = mine.filter((x) => x.event === 'detected');
    for (const severity of ['low', 'medium', 'high'])
      expect(report.drift.detected[severity]).toBe(detected.filter((x) => x.severity === severity).length);
    const ttd = detected
      .filter((x) => x.onset)
      .map((x) => (Date.parse(x.at) - Date.parse(x.onset!)) / 1000)
      .sort((a, b) => a - b);
    expect(report.drift.timeToDetect.count).toBe(ttd.length);
    expect(report.drift.timeToDetect.onsetUnknown).toBe(detected.length - ttd.length);
    expect(ttd.length).toBeGreaterThan(0);
    const mid = (ttd.length - 1) / 2;
    expect(report.drift.timeToDetect.median).toBeCloseTo((ttd[Math.floor(mid)] + ttd[Math.ceil(mid)]) / 2, 6);
    const healed = mine.filter(
      (x) => x.event === 'restored' && x.onset && !(x.outcome ?? '').startsWith('superseded'),
    );
    expect(report.drift.timeToRestore.count).toBe(healed.length);
    // The table too, kept with the results for the README
    const table = spawnSync(
      'node',
      [
        join(ROOT, 'dist', 'cli', 'main.js'),
        'report',
        '--env',
        'staging',
        '--since',
        '3h',
        '--stacks-dir',
        s.ws.dir,
        '--kubeconfig',
        KUBECONFIG,
      ],
      { encoding: 'utf8' },
    );
    expect(table.status).toBe(0);
    expect(table.stdout).toMatch(/^deployment frequency\s+\d+ in 0\.13 d/m);
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(join(RESULTS_DIR, 'report-staging.txt'), table.stdout);
    s.timings.report = {
      deployments: report.dora.deployments,
      leadTimeMedianSeconds: report.dora.leadTime.median,
      driftTtdMedianSeconds: report.drift.timeToDetect.median,
      driftTtrMedianSeconds: report.drift.timeToRestore.median,
    };
  });
});
