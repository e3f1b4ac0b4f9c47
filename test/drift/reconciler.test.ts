import { defaultDriftPolicy } from '../../model/drift-policy';
import { objectKey } from '../../model/objects';
import {
  changed,
  deployment,
  harness,
  histogramCount,
  NS,
  secret,
  service,
  T0,
  wrote,
} from './reconciler-fakes';

/*
 * The reconciler with fakes: each case sets the desired and live state and the audit trail,
 * reconciles one key, and checks what was recorded, healed and sent.
 */

const REPLICAS = { 'f:spec': { 'f:replicas': {} } };
const TYPE = { 'f:spec': { 'f:type': {} } };
const APP = 'staging-app-service-guarded';

/** app-service's Deployment, its container and pod spec given more fields (Secret references). */
function needing(container: Record<string, unknown>, pod: Record<string, unknown> = {}) {
  const d = deployment(2);
  const spec = (d.spec as { template: { spec: { containers: Record<string, unknown>[] } } }).template.spec;
  Object.assign(spec, pod);
  Object.assign(spec.containers[0], container);
  return d;
}

describe('Reconciler', () => {
  it('heals a scaled Deployment (low), then records it restored', async () => {
    // GIVEN a Deployment scaled by hand from 2 to 5
    const h = harness([{ object: deployment(2), application: APP }]);
    const key = h.cluster.put(changed(deployment(5), 'kubectl-scale', T0 - 3000, REPLICAS));
    // WHEN it is reconciled
    h.clock.now = T0;
    expect(await h.reconciler().reconcile(key)).toEqual({});
    // THEN it is detected, healed through intent-first records, and then seen restored
    expect(h.events(key)).toEqual(['detected', 'healing-1', 'healed-1']);
    expect(h.healer.heals).toHaveLength(1);
    expect(h.trail.recordsOf(key)[0]).toMatchObject({
      severity: 'low',
      rule: 'replicas-scaled',
      who: 'kubectl-scale',
      fields: [{ path: '/spec/replicas', from: 2, to: 5 }],
    });
    await h.reconciler().reconcile(key);
    expect(h.events(key)).toEqual(['detected', 'healing-1', 'healed-1', 'restored']);
    expect(await histogramCount(h.metrics, 'converge_drift_time_to_detect_seconds')).toBe(1);
    expect(await histogramCount(h.metrics, 'converge_drift_time_to_restore_seconds')).toBe(1);
    // A low drift healed without paging sends nothing.
    expect(h.notifier.notices).toEqual([]);
  });

  it('holds a Service type change (medium) once, and notifies once', async () => {
    const h = harness([{ object: service('ClusterIP'), application: APP }]);
    const key = h.cluster.put(changed(service('NodePort'), 'kubectl-patch', T0, TYPE));
    await h.reconciler().reconcile(key);
    await h.reconciler().reconcile(key);
    expect(h.events(key)).toEqual(['detected', 'held']);
    expect(h.healer.heals).toEqual([]);
    expect(h.notifier.kinds()).toEqual(['drift:Service']);
    expect(h.trail.counts()).toEqual({ active: 1, pending: 1 });
  });

  it('heals a held drift once a person approves it', async () => {
    const h = harness([{ object: service('ClusterIP'), application: APP }]);
    const key = h.cluster.put(changed(service('NodePort'), 'kubectl-patch', T0, TYPE));
    await h.reconciler().reconcile(key);
    await h.decide(key, 'approved', 'alice');
    expect(h.trail.counts()).toEqual({ active: 1, pending: 0 });
    await h.reconciler().reconcile(key);
    expect(h.cluster.get(key)).toMatchObject({ spec: { type: 'ClusterIP' } });
    await h.reconciler().reconcile(key);
    expect(h.events(key)).toEqual(['detected', 'held', 'approved', 'healing-1', 'healed-1', 'restored']);
    // Medium drift recovered: the people who were asked hear it is over.
    expect(h.notifier.kinds()).toEqual(['drift:Service', 'recovered:Service']);
    expect(h.trail.counts()).toEqual({ active: 0, pending: 0 });
  });

  it('keeps a rejected change: no heal, and no "restored" when its owner reverts it by hand', async () => {
    const h = harness([{ object: service('ClusterIP'), application: APP }]);
    const key = h.cluster.put(changed(service('NodePort'), 'kubectl-patch', T0, TYPE));
    await h.reconciler().reconcile(key);
    await h.decide(key, 'rejected', 'bob');
    await h.reconciler().reconcile(key);
    expect(h.healer.heals).toEqual([]);
    expect(h.trail.counts()).toEqual({ active: 0, pending: 0 });
    h.cluster.put(service('ClusterIP'));
    await h.reconciler().reconcile(key);
    expect(h.events(key)).toEqual(['detected', 'held', 'rejected']);
    expect(h.notifier.kinds()).toEqual(['drift:Service']);
  });

  it('pages on a deleted Secret (high), dates it by the watch, restores it and reports recovery', async () => {
    const h = harness([{ object: secret() }]);
    const key = h.cluster.remove(secret(), T0 - 2000);
    h.clock.now = T0;
    await h.reconciler().reconcile(key);
    expect(h.events(key)).toEqual(['detected', 'paged', 'healing-1', 'healed-1']);
    const [detected, paged] = h.trail.recordsOf(key);
    expect(detected).toMatchObject({
      change: 'deleted',
      severity: 'high',
      onset: new Date(T0 - 2000).toISOString(),
    });
    expect(paged.outcome).toBe('webhook:test: sent');
    expect(h.cluster.get(key)).toBeDefined();
    h.clock.now = T0 + 500;
    await h.reconciler().reconcile(key);
    expect(h.trail.recordsOf(key).at(-1)).toMatchObject({
      event: 'restored',
      outcome: 'back in its Git state after 2.5 s',
    });
    expect(h.notifier.kinds()).toEqual(['drift:Secret', 'recovered:Secret']);
  });

  it('pages at once on a deleted Secret a Deployment needs though Git holds none, and restores its last copy', async () => {
    const needs = needing({ envFrom: [{ secretRef: { name: 'db' } }] });
    const h = harness([{ object: needs, application: APP }], { selfHealing: [APP] });
    const copy = { ...secret(), data: { password: 'c2VjcmV0' } };
    h.cluster.put(copy);
    const key = h.cluster.remove(secret(), T0 - 1000, '52', copy);
    h.clock.now = T0;
    await h.reconciler().reconcile(key);
    // No Application owns the Secret, so nothing is left to Argo CD.
    expect(h.events(key)).toEqual(['detected', 'paged', 'healing-1', 'healed-1']);
    expect(h.trail.recordsOf(key)[0]).toMatchObject({
      change: 'deleted',
      severity: 'high',
      rule: 'secret-deleted',
    });
    expect(h.cluster.get(key)).toEqual(copy);
    expect(JSON.stringify(h.trail.recordsOf(key))).not.toContain('c2VjcmV0');
    expect(JSON.stringify(h.notifier.notices)).not.toContain('c2VjcmV0');
    h.clock.now = T0 + 200;
    await h.reconciler().reconcile(key);
    expect(h.events(key).at(-1)).toBe('restored');
    expect(h.notifier.kinds()).toEqual(['drift:Secret', 'recovered:Secret']);
  });

  it('pages on a needed Secret that is missing with no copy to restore, and says who must recreate it, once', async () => {
    const needs = needing({}, { volumes: [{ name: 'db', secret: { secretName: 'db' } }] });
    const h = harness([{ object: needs, application: APP }]);
    const key = objectKey(secret());
    await h.reconciler().reconcile(key);
    await h.reconciler().reconcile(key);
    expect(h.events(key)).toEqual(['detected', 'paged', 'heal-failed']);
    expect(h.trail.recordsOf(key).at(-1)!.outcome).toContain(
      'cannot restore: the Secret is not in Git and no copy was seen since the controller started; recreate it from its source (needed by Deployment/app-service)',
    );
    expect(h.healer.heals).toHaveLength(0);
  });

  it('does not hold a needed Secret made outside Git as created out of band', async () => {
    const needs = needing({
      env: [{ name: 'P', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } }],
    });
    const h = harness([{ object: needs, application: APP }]);
    const key = h.cluster.put(secret({ managedFields: [wrote('kubectl-create', T0, {})] }));
    await h.reconciler().reconcile(key);
    expect(h.events(key)).toEqual([]);
  });

  it('restores a deleted object whose deletion no watch saw', async () => {
    const h = harness([{ object: deployment(2), application: APP }]);
    const key = objectKey(deployment(2));
    h.cluster.objects.delete(key);
    await h.reconciler().reconcile(key);
    expect(h.trail.recordsOf(key)[0]).toMatchObject({ change: 'deleted', rule: 'fallback', severity: 'low' });
    expect(h.cluster.get(key)).toMatchObject({ spec: { replicas: 2 } });
  });

  it.each(['detected', 'healing', 'healed'] as const)(
    'finishes a heal after a restart right after recording "%s", with no record lost or repeated',
    async (event) => {
      const h = harness([{ object: deployment(2), application: APP }]);
      const key = h.cluster.put(changed(deployment(6), 'kubectl-scale', T0, REPLICAS));
      // A controller stopped (forever) right after the record, as a crash there would.
      void h.reconciler({ pauseAfter: event }).reconcile(key);
      await new Promise((r) => setImmediate(r));
      expect(h.events(key)).toContain(event === 'detected' ? 'detected' : `${event}-1`);
      // The next controller starts from the audit trail alone.
      await h.reconciler().reconcile(key);
      await h.reconciler().reconcile(key);
      expect(h.events(key).sort()).toEqual(['detected', 'healed-1', 'healing-1', 'restored']);
      expect(h.healer.heals).toHaveLength(1);
    },
  );

  it('backs off from a drift that keeps coming back, and alerts once', async () => {
    const h = harness([{ object: deployment(2), application: APP }]);
    const key = objectKey(deployment(2));
    const scaleAt = (t: number, replicas: number, generation: number) => {
      h.clock.now = t;
      h.cluster.put(changed(deployment(replicas), 'kubectl-scale', t, REPLICAS, generation));
      return h.reconciler().reconcile(key);
    };
    expect(await scaleAt(T0, 7, 2)).toEqual({}); // first heal at once
    expect(await scaleAt(T0 + 100, 8, 3)).toEqual({}); // second at once too
    // Third: wait the initial backoff (5 s) after the second heal.
    expect(await scaleAt(T0 + 200, 7, 4)).toEqual({ requeueAfter: 4900 });
    h.clock.now = T0 + 5100;
    expect(await h.reconciler().reconcile(key)).toEqual({});
    const records = h.trail.recordsOf(key);
    expect(records.filter((r) => r.event === 'healed')).toHaveLength(3);
    expect(records.filter((r) => r.event === 'recurring')).toHaveLength(1);
    // Fourth: twice the wait, and no second alert.
    expect(await scaleAt(T0 + 5200, 8, 5)).toEqual({ requeueAfter: 9900 });
    h.clock.now = T0 + 15_100;
    await h.reconciler().reconcile(key);
    expect(h.trail.recordsOf(key).filter((r) => r.event === 'recurring')).toHaveLength(1);
    expect(h.notifier.kinds().filter((k) => k.startsWith('recurring'))).toEqual(['recurring:Deployment']);
    // Each new change was a new drift; the earlier one ended as superseded.
    expect(records.find((r) => r.event === 'restored')?.outcome).toBe(
      'superseded by a new drift of the same object',
    );
  });

  it('holds an object created out of band, and deletes it once approved', async () => {
    const h = harness([{ object: deployment(2), application: APP }]);
    const key = h.cluster.put({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'debug', namespace: NS, managedFields: [wrote('kubectl-create', T0, {})] },
    });
    await h.reconciler().reconcile(key);
    expect(h.trail.recordsOf(key)[0]).toMatchObject({
      change: 'added',
      rule: 'created-out-of-band',
      who: 'kubectl-create',
    });
    await h.decide(key, 'approved', 'alice');
    await h.reconciler().reconcile(key);
    expect(h.cluster.get(key)).toBeUndefined();
    await h.reconciler().reconcile(key);
    expect(h.events(key)).toEqual(['detected', 'held', 'approved', 'healing-1', 'healed-1', 'restored']);
  });

  it('leaves alone the fields an ignored manager (an autoscaler) owns', async () => {
    const h = harness([{ object: deployment(2), application: APP }]);
    const key = h.cluster.put(changed(deployment(9), 'horizontal-pod-autoscaler', T0, REPLICAS));
    await h.reconciler().reconcile(key);
    expect(h.events(key)).toEqual([]);
    expect(h.healer.heals).toEqual([]);
  });

  it('leaves to Argo CD the drift of an Application that self-heals, and records who restored it', async () => {
    const h = harness([{ object: deployment(2), application: 'staging-app-service' }], {
      selfHealing: ['staging-app-service'],
    });
    const key = h.cluster.put(changed(deployment(5), 'kubectl-scale', T0, REPLICAS));
    await h.reconciler().reconcile(key);
    expect(h.events(key)).toEqual(['detected', 'delegated']);
    expect(h.healer.heals).toEqual([]);
    h.cluster.put(deployment(2)); // Argo CD's self-heal
    await h.reconciler().reconcile(key);
    expect(h.trail.recordsOf(key).at(-1)).toMatchObject({ event: 'restored', actor: 'argocd' });
  });

  it('ends a held drift that changed shape as superseded, and holds the new one', async () => {
    const h = harness([{ object: service('ClusterIP'), application: APP }]);
    const key = h.cluster.put(changed(service('NodePort'), 'kubectl-patch', T0, TYPE));
    await h.reconciler().reconcile(key);
    h.cluster.put(changed(service('LoadBalancer'), 'kubectl-patch', T0 + 1000, TYPE));
    await h.reconciler().reconcile(key);
    const ids = [...new Set(h.trail.recordsOf(key).map((r) => r.driftId))];
    expect(ids).toHaveLength(2);
    expect(h.trail.recordsOf(key).map((r) => `${r.driftId === ids[0] ? 'old' : 'new'}:${r.event}`)).toEqual([
      'old:detected',
      'old:held',
      'old:restored',
      'new:detected',
      'new:held',
    ]);
    expect(h.trail.counts()).toEqual({ active: 1, pending: 1 });
  });

  it('keeps a drift held when the object is annotated: only a DriftRecord decides', async () => {
    const h = harness([{ object: service('ClusterIP'), application: APP }]);
    const key = h.cluster.put(changed(service('NodePort'), 'kubectl-patch', T0, TYPE));
    await h.reconciler().reconcile(key);
    const id = h.trail.recordsOf(key)[0].driftId;
    const live = h.cluster.get(key)!;
    // The annotation Converge once read as an approval: whoever can annotate is no identity.
    const annotation = 'converge.dev/approve';
    h.cluster.put({
      ...live,
      metadata: {
        ...live.metadata,
        annotations: { [annotation]: id },
        managedFields: [
          ...(live.metadata.managedFields as object[]),
          wrote('kubectl-annotate', T0 + 500, {
            'f:metadata': { 'f:annotations': { [`f:${annotation}`]: {} } },
          }),
        ],
      },
    });
    await h.reconciler().reconcile(key);
    expect(h.trail.recordsOf(key).map((r) => r.event)).toEqual(['detected', 'held']);
    expect(h.healer.heals).toHaveLength(0);
  });

  it('records an ignored change once and never heals it', async () => {
    const policy = defaultDriftPolicy(['ghcr.io/example-org/']);
    const h = harness([{ object: deployment(2), application: APP }], {
      policy: {
        ...policy,
        rules: [{ name: 'replicas-free', match: { kind: 'Deployment' }, severity: 'low', action: 'ignore' }],
      },
    });
    const key = h.cluster.put(changed(deployment(4), 'kubectl-scale', T0, REPLICAS));
    await h.reconciler().reconcile(key);
    await h.reconciler().reconcile(key);
    expect(h.events(key)).toEqual(['detected', 'ignored']);
    expect(h.healer.heals).toEqual([]);
  });

  it('fails when the heal fails, after recording it, and heals with the same attempt on retry', async () => {
    const h = harness([{ object: deployment(2), application: APP }]);
    const key = h.cluster.put(changed(deployment(5), 'kubectl-scale', T0, REPLICAS));
    h.healer.failWith = 'HTTP 409: conflict';
    await expect(h.reconciler().reconcile(key)).rejects.toThrow('HTTP 409: conflict');
    expect(h.events(key)).toEqual(['detected', 'healing-1', 'heal-failed-1']);
    h.healer.failWith = undefined;
    await h.reconciler().reconcile(key);
    expect(h.events(key)).toEqual(['detected', 'healing-1', 'heal-failed-1', 'healed-1']);
  });

  it('does not detect or notify a held drift again after a restart', async () => {
    const h = harness([{ object: service('ClusterIP'), application: APP }]);
    const key = h.cluster.put(changed(service('NodePort'), 'kubectl-patch', T0, TYPE));
    await h.reconciler().reconcile(key);
    await h.reconciler().reconcile(key); // a new reconciler: memory is the trail
    expect(h.events(key)).toEqual(['detected', 'held']);
    expect(h.notifier.notices).toHaveLength(1);
    expect(await histogramCount(h.metrics, 'converge_drift_time_to_detect_seconds')).toBe(1);
  });

  it('finds nothing to do for an object as Git says', async () => {
    const h = harness([{ object: deployment(2), application: APP }]);
    expect(await h.reconciler().reconcile(objectKey(deployment(2)))).toEqual({});
    expect(h.events(objectKey(deployment(2)))).toEqual([]);
  });
});
