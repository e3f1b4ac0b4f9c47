import { secondsSince } from '../../drift/controller/reconciler';
import { IndexedAuditTrail } from '../../drift/controller/audit-trail';
import { DriftMetrics } from '../../drift/metrics';
import { objectKey } from '../../model/objects';
import { changed, deployment, harness, NS, secret, service, T0 } from './reconciler-fakes';

/*
 * What each drift metric is fed from: the reconciler's real detections, heals and restores over
 * fakes, read back the way Prometheus would (the registry's exposition text), never set by the test.
 */

const REPLICAS = { 'f:spec': { 'f:replicas': {} } };
const TYPE = { 'f:spec': { 'f:type': {} } };
const APP = 'staging-app-service-guarded';

/** One sample of the exposition text, by metric name and labels; NaN when absent. */
async function sample(metrics: DriftMetrics, name: string, labels: Record<string, string> = {}) {
  const text = await metrics.registry.metrics();
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text
    .split('\n')
    .find((l) => (l.startsWith(`${name} `) || l.startsWith(`${name}{`)) && want.every((w) => l.includes(w)));
  return line ? Number(line.split(' ').pop()) : NaN;
}

/** A scale through /scale: the API server records the manager with no time of its own. */
const scaledViaSubresource = (replicas: number) => {
  const obj = deployment(replicas);
  return {
    ...obj,
    metadata: {
      ...obj.metadata,
      generation: 3,
      managedFields: [{ manager: 'kubectl', operation: 'Update', subresource: 'scale', fieldsV1: REPLICAS }],
    },
  };
};

describe('drift metrics, as the reconciler feeds them', () => {
  it('observes time to detect and restore by severity, from the managedFields onset', async () => {
    // GIVEN a Deployment scaled by a patch 3 s before the controller looks
    const h = harness([{ object: deployment(2), application: APP }]);
    const key = h.cluster.put(changed(deployment(5), 'kubectl-patch', T0 - 3000, REPLICAS));
    h.clock.now = T0;
    // WHEN it is detected and healed, and 2 s later seen restored
    await h.reconciler().reconcile(key);
    h.clock.now = T0 + 2000;
    await h.reconciler().reconcile(key);
    // THEN each histogram has one low sample: 3 s to detect, 5 s from the onset to the restore
    const m = h.metrics;
    expect(await sample(m, 'converge_drift_time_to_detect_seconds_count', { severity: 'low' })).toBe(1);
    expect(await sample(m, 'converge_drift_time_to_detect_seconds_sum', { severity: 'low' })).toBe(3);
    expect(await sample(m, 'converge_drift_time_to_restore_seconds_sum', { severity: 'low' })).toBe(5);
    expect(
      await sample(m, 'converge_drift_time_to_restore_seconds_bucket', { severity: 'low', le: '5' }),
    ).toBe(1);
    expect(await sample(m, 'converge_drift_onset_unknown_total', { severity: 'low' })).toBeNaN();
    expect(
      await sample(m, 'converge_drift_heals_total', {
        kind: 'Deployment',
        namespace: NS,
        name: 'app-service',
        outcome: 'restored',
      }),
    ).toBe(1);
  });

  it('counts a /scale drift as onset unknown instead of observing a made-up 0 s', async () => {
    // GIVEN a Deployment scaled through the /scale subresource (its managedFields entry has no time)
    const h = harness([{ object: deployment(2), application: APP }]);
    const key = h.cluster.put(scaledViaSubresource(5));
    h.clock.now = T0;
    // WHEN it is detected, healed and restored
    await h.reconciler().reconcile(key);
    h.clock.now = T0 + 1500;
    await h.reconciler().reconcile(key);
    // THEN neither histogram has a sample (each series stays at 0), the unknown onset is counted, and the record says so
    const m = h.metrics;
    expect(
      await sample(m, 'converge_drift_onset_unknown_total', { severity: 'low', kind: 'Deployment' }),
    ).toBe(1);
    expect(await sample(m, 'converge_drift_time_to_detect_seconds_count', { severity: 'low' })).toBe(0);
    expect(await sample(m, 'converge_drift_time_to_restore_seconds_count', { severity: 'low' })).toBe(0);
    expect(await sample(m, 'converge_drift_detected_total', { severity: 'low' })).toBe(1);
    const restored = h.trail.recordsOf(key).find((r) => r.event === 'restored');
    expect(restored?.outcome).toBe('back in its Git state 1.5 s after its detection (onset unknown)');
  });

  it('dates a deletion by the watch, and counts one whose deletion no watch saw as onset unknown', async () => {
    const h = harness([{ object: secret() }]);
    const key = objectKey(secret());
    h.cluster.remove(secret(), T0 - 400);
    h.clock.now = T0;
    await h.reconciler().reconcile(key);
    expect(await sample(h.metrics, 'converge_drift_time_to_detect_seconds_sum', { severity: 'high' })).toBe(
      0.4,
    );

    const lost = harness([{ object: secret() }]);
    lost.cluster.objects.delete(key); // gone, no tombstone: the controller was down when it went
    await lost.reconciler().reconcile(key);
    expect(await sample(lost.metrics, 'converge_drift_onset_unknown_total', { severity: 'high' })).toBe(1);
    expect(
      await sample(lost.metrics, 'converge_drift_time_to_detect_seconds_count', { severity: 'high' }),
    ).toBe(0);
    // healed and seen back: recovered, with no time to restore made up for it
    await lost.reconciler().reconcile(key);
    const recovered = lost.notifier.notices.find((n) => n.kind === 'recovered');
    expect(recovered).toBeDefined();
    expect(recovered!.timeToRestoreSeconds).toBeUndefined();
    expect(
      await sample(lost.metrics, 'converge_drift_time_to_restore_seconds_count', { severity: 'high' }),
    ).toBe(0);
  });

  it('counts a heal the API server refuses as failed, and the retry that works as restored', async () => {
    const h = harness([{ object: deployment(2), application: APP }]);
    const key = h.cluster.put(changed(deployment(5), 'kubectl-patch', T0, REPLICAS));
    h.healer.failWith = 'HTTP 409: conflict';
    await expect(h.reconciler().reconcile(key)).rejects.toThrow('HTTP 409');
    h.healer.failWith = undefined;
    await h.reconciler().reconcile(key);
    const heals = (outcome: string) =>
      sample(h.metrics, 'converge_drift_heals_total', { name: 'app-service', outcome });
    expect(await heals('failed')).toBe(1);
    expect(await heals('restored')).toBe(1);
  });

  it('reports the age of the oldest held drift, and 0 once it is decided', async () => {
    // GIVEN two Services held for approval at different times
    const h = harness([{ object: service('ClusterIP'), application: APP }]);
    const key = h.cluster.put(changed(service('NodePort'), 'kubectl-patch', T0, TYPE));
    h.clock.now = T0;
    await h.reconciler().reconcile(key);
    const other = service('ClusterIP', { name: 'other' });
    h.desired = {
      ...h.desired,
      objects: [...h.desired.objects, { object: other, application: APP }],
      byKey: new Map([...h.desired.byKey, [objectKey(other), { object: other, application: APP }]]),
    };
    const otherKey = h.cluster.put(
      changed(service('NodePort', { name: 'other' }), 'kubectl-patch', T0, TYPE),
    );
    h.clock.now = T0 + 60_000;
    await h.reconciler().reconcile(otherKey);
    // THEN the oldest is the first one, held at T0
    expect(h.trail.oldestPendingSince()).toBe(T0);
    // WHEN the first is approved and healed, the oldest is the second
    await h.decide(key, 'approved', 'carol');
    await h.reconciler().reconcile(key);
    expect(h.trail.oldestPendingSince()).toBe(T0 + 60_000);
    await h.decide(otherKey, 'rejected', 'carol');
    expect(h.trail.oldestPendingSince()).toBeUndefined();
  });

  it('serves the oldest pending approval as a gauge read at each scrape', async () => {
    const metrics = new DriftMetrics();
    let age = 42;
    metrics.track({
      pendingApprovals: () => 1,
      activeDrifts: () => 1,
      queueLength: () => 0,
      oldestPendingApprovalSeconds: () => age,
    });
    expect(await sample(metrics, 'converge_drift_oldest_pending_approval_seconds')).toBe(42);
    age = 0;
    expect(await sample(metrics, 'converge_drift_oldest_pending_approval_seconds')).toBe(0);
  });

  it('lists every record of the trail in time order', async () => {
    const stored: unknown[] = [];
    const trail = new IndexedAuditTrail({
      namespace: 'converge-system',
      record: async (r) => (stored.push(r), true),
    });
    const base = { environment: 'staging', actor: 'converge', driftId: 'd-1' };
    trail.add({
      ...base,
      name: 'b',
      event: 'held',
      object: { apiVersion: 'v1', kind: 'Service', name: 'b' },
      at: '2026-12-01T10:00:02Z',
    });
    trail.add({
      ...base,
      name: 'a',
      event: 'detected',
      object: { apiVersion: 'v1', kind: 'Service', name: 'a' },
      at: '2026-12-01T10:00:01Z',
    });
    expect(trail.all().map((r) => r.name)).toEqual(['a', 'b']);
  });
});

describe('secondsSince', () => {
  it.each([
    ['2026-12-01T10:00:00Z', T0 + 2500, 2.5],
    ['2026-12-01T10:00:00.250Z', T0 + 250, 0],
    // Whole-second managedFields time in the same second as now: read from the second's start.
    ['2026-12-01T10:00:00Z', T0 + 999, 0.999],
    // The API server's clock a little ahead (under managedFields' resolution): none of it counts.
    ['2026-12-01T10:00:01Z', T0 + 500, 0],
  ])('from %s to %d is %d s', (onset, now, seconds) => {
    expect(secondsSince(onset, now)).toBeCloseTo(seconds, 6);
  });

  it.each([
    ['no onset', undefined],
    ['an unparsable one', 'yesterday'],
    ['one far in the future (clock skew)', '2026-12-01T10:00:05Z'],
  ])('is undefined for %s', (_, onset) => {
    expect(secondsSince(onset, T0)).toBeUndefined();
  });
});
