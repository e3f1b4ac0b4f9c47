import { DoraCollector } from '../../drift/dora/collector';
import {
  deploymentRestores,
  deploymentsOf,
  failedSyncOf,
  leadTimeSeconds,
} from '../../drift/dora/deployments';
import { distribution, doraFigures, driftFigures, quantile, report } from '../../drift/dora/figures';
import { DriftMetrics } from '../../drift/metrics';
import { app, commit, entry, LinearGit, rec, sha, T } from './dora-fixtures';

/*
 * The DORA figures from Argo CD's history and operations, Git's commits and the DriftRecords,
 * over fixtures; and the collector that feeds them to the controller's metrics exactly once.
 */

const git = new LinearGit([commit(1, 0), commit(2, 10), commit(3, 20), commit(4, 30, 3), commit(5, 40)]);
/** The same without the revert, for failures fixed by a later commit. */
const plain = new LinearGit([commit(1, 0), commit(2, 10), commit(3, 20), commit(5, 40)]);
const day = { from: new Date(T(-60)), to: new Date(T(24 * 60 - 60)) };

describe('deploymentsOf', () => {
  it('has none for an Application that never synced', () => {
    expect(deploymentsOf(app('a', []), git)).toEqual([]);
    expect(doraFigures([], [], day)).toMatchObject({
      deployments: 0,
      deploymentsPerDay: 0,
      changeFailureRate: undefined,
      leadTime: { count: 0, median: undefined, p95: undefined, unknown: 0, skewed: 0 },
      timeToRestore: { drift: { count: 0 }, failedDeployment: { count: 0 } },
    });
  });

  it('takes each sync to a new revision as a deployment, and self-heals of the same revision as none', () => {
    // GIVEN commit 1 deployed, self-healed twice, then commit 2 deployed and Healthy since 2 minutes later
    const a = app('web', [entry(0, 1, 5), entry(1, 1, 7), entry(2, 1, 8), entry(3, 2, 15)], {
      healthSince: T(17),
    });
    const ds = deploymentsOf(a, git);
    expect(ds.map((d) => [d.id, d.outcome, d.healthyAt])).toEqual([
      ['web#0', 'succeeded', T(5)],
      ['web#3', 'succeeded', T(17)],
    ]);
    // THEN the lead time runs from each commit to its revision being Synced and Healthy
    expect(ds.map(leadTimeSeconds)).toEqual([300, 420]);
  });

  it('has no lead time yet for a revision not Synced and Healthy', () => {
    const a = app('web', [entry(0, 1, 5), entry(1, 2, 15)], { health: 'Progressing' });
    const ds = deploymentsOf(a, git);
    expect(ds[1].healthyAt).toBeUndefined();
    expect(leadTimeSeconds(ds[1])).toBeUndefined();
    expect(doraFigures(ds, [], day).leadTime).toMatchObject({ count: 1, unknown: 1 });
  });

  it('calls a sync back to a revision deployed before a rollback, and restores the change it undid', () => {
    // GIVEN 1, then 2, then Argo CD rolled back to 1
    const a = app('web', [entry(0, 1, 5), entry(1, 2, 15), entry(2, 1, 25)]);
    const ds = deploymentsOf(a, git);
    expect(ds.map((d) => d.outcome)).toEqual(['succeeded', 'succeeded', 'rolled_back']);
    expect(ds[2].undid).toBe('web#1');
    // THEN the change failed: 1 of 3, and it was restored 10 minutes after it was deployed
    const f = doraFigures(ds, [], day);
    expect(f.changeFailureRate).toBeCloseTo(1 / 3, 10);
    expect(f.byOutcome).toEqual({ succeeded: 2, failed: 0, rolled_back: 1 });
    expect(deploymentRestores(ds)).toEqual([
      { id: 'web#1', application: 'web', from: T(15), to: T(25), seconds: 600 },
    ]);
  });

  it('calls a deployment that brings a revert commit a rollback', () => {
    // commit 4 reverts commit 3
    const a = app('web', [entry(0, 2, 12), entry(1, 3, 22), entry(2, 4, 32)]);
    expect(deploymentsOf(a, git).map((d) => d.outcome)).toEqual(['succeeded', 'succeeded', 'rolled_back']);
    // and one that brings it among others too (4 and 5 at once)
    const b = app('web', [entry(0, 3, 22), entry(1, 5, 42)]);
    expect(deploymentsOf(b, git).map((d) => d.outcome)).toEqual(['succeeded', 'rolled_back']);
  });

  it('counts a failed last sync as a failed deployment, and its restore once a later one is healthy', () => {
    // GIVEN commit 3's sync failed at minute 23
    const failedOp = {
      phase: 'Failed',
      startedAt: T(22),
      finishedAt: T(23),
      message: 'one or more objects failed to apply',
      operation: { sync: { revision: sha(3) } },
    };
    const broken = app('web', [entry(0, 2, 12)], { sync: 'OutOfSync', operation: failedOp });
    const failed = failedSyncOf(broken)!;
    expect(failed).toEqual({ id: `web@${T(22)}`, application: 'web', revision: sha(3), at: T(23) });
    const ds = deploymentsOf(broken, git);
    expect(ds.map((d) => d.outcome)).toEqual(['succeeded', 'failed']);
    expect(doraFigures(ds, [], day).changeFailureRate).toBe(0.5);
    // WHEN commit 5 fixes it, synced at minute 41 (the failed operation is no longer the last one)
    const fixed = app('web', [entry(0, 2, 12), entry(1, 5, 41)], {
      operation: { phase: 'Succeeded', startedAt: T(40), finishedAt: T(41) },
    });
    // THEN with the failure remembered, it was restored 18 minutes after it failed
    const after = deploymentsOf(fixed, plain, { failed: [failed] });
    expect(after.map((d) => d.outcome)).toEqual(['succeeded', 'failed', 'succeeded']);
    expect(deploymentRestores(after).map((r) => r.seconds)).toEqual([18 * 60]);
  });

  it('leaves out a lead time whose commit is dated after its deployment (clock skew), and says so', () => {
    const skewed = new LinearGit([commit(1, 0), commit(2, 30)]);
    const ds = deploymentsOf(app('web', [entry(0, 1, 5), entry(1, 2, 15)]), skewed);
    expect(leadTimeSeconds(ds[1])).toBeUndefined();
    expect(doraFigures(ds, [], day).leadTime).toMatchObject({ count: 1, median: 300, skewed: 1, unknown: 0 });
  });

  it('has no lead time for a revision Git does not have', () => {
    const ds = deploymentsOf(app('web', [entry(0, 99, 5)]), git);
    expect(ds[0].commit).toBeUndefined();
    expect(doraFigures(ds, [], day).leadTime).toMatchObject({ count: 0, unknown: 1 });
  });

  it("reads a multi-source Application's revision of the desired-state repo", () => {
    const a = {
      metadata: { name: 'addon' },
      spec: {
        sources: [{ repoURL: 'https://charts.example.org' }, { repoURL: 'https://git.example.org/repo' }],
      },
      status: {
        sync: { status: 'Synced', revisions: ['1.2.3', sha(2)] },
        health: { status: 'Healthy' },
        history: [{ id: 0, revisions: ['1.2.3', sha(2)], deployedAt: T(15) }],
      },
    };
    const [d] = deploymentsOf(a, git, { repoURL: 'https://git.example.org/repo' });
    expect(d.revision).toBe(sha(2));
    expect(leadTimeSeconds(d)).toBe(300);
  });
});

describe('the figures over a window', () => {
  it('counts only deployments in the window, per day', () => {
    const ds = deploymentsOf(app('web', [entry(0, 1, 5), entry(1, 2, 15), entry(2, 3, 3 * 24 * 60)]), git);
    const f = doraFigures(ds, [], day);
    expect(f.deployments).toBe(2);
    expect(f.deploymentsPerDay).toBe(2);
    const week = doraFigures(ds, [], { from: new Date(T(-60)), to: new Date(T(7 * 24 * 60 - 60)) });
    expect(week.deploymentsPerDay).toBeCloseTo(3 / 7, 10);
  });

  it('counts drifts by severity and times them from their onset, leaving unknown onsets out', () => {
    const records = [
      rec('d-1', 'detected', T(1), { onset: T(0.5), severity: 'low' }),
      rec('d-1', 'restored', T(2), { onset: T(0.5) }),
      // a /scale drift: no onset
      rec('d-2', 'detected', T(3), { severity: 'low' }),
      rec('d-2', 'restored', T(4)),
      rec('d-3', 'detected', T(5), { onset: T(4.5), severity: 'medium' }),
      rec('d-3', 'held', T(5)),
      rec('d-3', 'restored', T(6), {
        onset: T(4.5),
        outcome: 'superseded by a new drift of the same object',
      }),
      rec('d-4', 'detected', T(7), { onset: T(7), severity: 'high' }),
      rec('d-4', 'restored', T(8), { onset: T(7) }),
    ];
    const f = driftFigures(records, day);
    expect(f.detected).toEqual({ low: 2, medium: 1, high: 1 });
    expect(f.timeToDetect).toEqual({ count: 3, median: 30, p95: expect.closeTo(30, 6), onsetUnknown: 1 });
    // d-1 90 s, d-4 60 s; d-3 was superseded, not healed; d-2 has no onset
    expect(f.timeToRestore).toEqual({ count: 2, median: 75, p95: 88.5 });
    expect(doraFigures([], records, day).timeToRestore.drift.count).toBe(2);
  });

  it("keeps to the environment's own records", () => {
    const records = [
      rec('d-1', 'detected', T(1), { onset: T(0.5) }),
      rec('d-9', 'detected', T(1), { onset: T(0.5), environment: 'prod' }),
    ];
    expect(report('staging', [], records, day).drift.detected.low).toBe(1);
  });

  it.each([
    // numpy.quantile(x, q) (linear, the default) gives these
    [[1, 2, 3, 4], 0.5, 2.5],
    [[1, 2, 3, 4], 0.95, 3.85],
    [[7], 0.95, 7],
    [[10, 1, 5], 0.5, 5],
    [[0.2, 0.4, 0.1, 0.9, 1.3, 0.5, 0.6, 0.3, 2.1, 0.7], 0.95, 1.74],
  ])('quantile(%j, %d) is %d', (values, q, want) => {
    expect(quantile(values, q)).toBeCloseTo(want, 10);
  });

  it('has no median of nothing', () => {
    expect(distribution([])).toEqual({ count: 0, median: undefined, p95: undefined });
  });
});

/** The exposition text's value of one series; NaN when absent. */
async function value(metrics: DriftMetrics, name: string, labels: Record<string, string>) {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = (await metrics.registry.metrics())
    .split('\n')
    .find((l) => l.startsWith(name) && l.split(/[ {]/)[0] === name && want.every((w) => l.includes(w)));
  return line ? Number(line.split(' ').pop()) : NaN;
}

describe('DoraCollector', () => {
  const setup = (startedAt: string, commits = git) => {
    const metrics = new DriftMetrics();
    const clock = { now: Date.parse(startedAt) };
    let apps = [app('web', [entry(0, 1, 5)])];
    const collector = new DoraCollector(
      metrics,
      { environment: 'staging', applications: async () => apps, commits: () => commits },
      { startedAt: new Date(startedAt), now: () => new Date(clock.now) },
    );
    return { metrics, clock, collector, set: (a: typeof apps) => (apps = a) };
  };
  const deployments = (m: DriftMetrics, outcome: string) =>
    value(m, 'converge_dora_deployments_total', { environment: 'staging', application: 'web', outcome });

  it('counts each deployment once across resyncs, and none from before it started', async () => {
    // GIVEN a controller started at minute 10, after commit 1's deployment at minute 5
    const { metrics, clock, collector, set } = setup(T(10));
    await collector.collect([]);
    // Each outcome's series starts at 0, so Prometheus's increase() sees the first deployment.
    for (const outcome of ['succeeded', 'failed', 'rolled_back'])
      expect(await deployments(metrics, outcome)).toBe(0);
    // The change failure rate covers the history Argo CD still has: one good deployment
    expect(await value(metrics, 'converge_dora_change_failure_rate', { environment: 'staging' })).toBe(0);
    // WHEN commit 2 is deployed at minute 15 and Healthy, and the controller resyncs three times
    set([app('web', [entry(0, 1, 5), entry(1, 2, 15)])]);
    clock.now = Date.parse(T(16));
    for (let i = 0; i < 3; i++) await collector.collect([]);
    // THEN it is counted once, with one lead time of 5 minutes
    expect(await deployments(metrics, 'succeeded')).toBe(1);
    expect(await value(metrics, 'converge_dora_lead_time_seconds_count', { environment: 'staging' })).toBe(1);
    expect(await value(metrics, 'converge_dora_lead_time_seconds_sum', { environment: 'staging' })).toBe(300);
  });

  it('does not count again after a restart what the process before it counted', async () => {
    const before = setup(T(10));
    before.set([app('web', [entry(0, 1, 5), entry(1, 2, 15)])]);
    await before.collector.collect([]);
    expect(await deployments(before.metrics, 'succeeded')).toBe(1);
    // a new process, started at minute 20, sees the same history
    const after = setup(T(20));
    after.set([app('web', [entry(0, 1, 5), entry(1, 2, 15)])]);
    await after.collector.collect([]);
    expect(await deployments(after.metrics, 'succeeded')).toBe(0);
  });

  it('counts a failed sync, remembers it after a later sync hides it, and times its restore', async () => {
    const { metrics, clock, collector, set } = setup(T(10), plain);
    const op = {
      phase: 'Failed',
      startedAt: T(22),
      finishedAt: T(23),
      operation: { sync: { revision: sha(3) } },
    };
    set([app('web', [entry(0, 2, 12)], { sync: 'OutOfSync', operation: op })]);
    clock.now = Date.parse(T(24));
    await collector.collect([]);
    expect(await deployments(metrics, 'failed')).toBe(1);
    expect(await value(metrics, 'converge_dora_change_failure_rate', { environment: 'staging' })).toBe(0.5);
    set([
      app('web', [entry(0, 2, 12), entry(1, 5, 41)], {
        operation: { phase: 'Succeeded', startedAt: T(40), finishedAt: T(41) },
      }),
    ]);
    clock.now = Date.parse(T(42));
    await collector.collect([]);
    await collector.collect([]);
    expect(await deployments(metrics, 'failed')).toBe(1);
    expect(await deployments(metrics, 'succeeded')).toBe(2);
    const restore = { environment: 'staging', cause: 'failed_deployment' };
    expect(await value(metrics, 'converge_dora_time_to_restore_seconds_count', restore)).toBe(1);
    expect(await value(metrics, 'converge_dora_time_to_restore_seconds_sum', restore)).toBe(18 * 60);
    expect(await value(metrics, 'converge_dora_change_failure_rate', { environment: 'staging' })).toBeCloseTo(
      1 / 3,
      10,
    );
  });

  it('starts the lead-time and time-to-restore series at 0, so rate() sees the first observation', async () => {
    // A histogram series first scraped at count 1 never increases in rate(): a dashboard's quantile over it is NaN.
    const { metrics } = setup(T(10));
    for (const cause of ['drift', 'failed_deployment'])
      expect(
        await value(metrics, 'converge_dora_time_to_restore_seconds_count', {
          environment: 'staging',
          cause,
        }),
      ).toBe(0);
    expect(await value(metrics, 'converge_dora_lead_time_seconds_count', { environment: 'staging' })).toBe(0);
  });

  it("observes each healed drift's time to restore once, only its environment's, none from before it started", async () => {
    const { metrics, collector, set } = setup(T(10));
    set([]);
    const records = [
      rec('d-0', 'detected', T(8), { onset: T(7) }),
      rec('d-0', 'restored', T(9), { onset: T(7) }),
      rec('d-1', 'detected', T(11), { onset: T(10.5) }),
      rec('d-1', 'restored', T(12), { onset: T(10.5) }),
      rec('d-2', 'detected', T(11), { onset: T(10.5), environment: 'prod' }),
      rec('d-2', 'restored', T(12), { onset: T(10.5), environment: 'prod' }),
    ];
    await collector.collect(records);
    await collector.collect(records);
    const drift = { environment: 'staging', cause: 'drift' };
    expect(await value(metrics, 'converge_dora_time_to_restore_seconds_count', drift)).toBe(1);
    expect(await value(metrics, 'converge_dora_time_to_restore_seconds_sum', drift)).toBe(90);
    // No deployments: no change failure rate at all, rather than a made-up 0
    expect(await value(metrics, 'converge_dora_change_failure_rate', { environment: 'staging' })).toBeNaN();
  });
});
