import { AuditRecord, eventOf, storedForm } from '../../drift/audit';
import { IndexedAuditTrail } from '../../drift/controller/audit-trail';
import { DesiredIndex, Faults, Reconciler, Tombstone } from '../../drift/controller/reconciler';
import { DriftFinding } from '../../drift/engine/find-drift';
import { referencedSecrets } from '../../drift/engine/references';
import { DriftMetrics } from '../../drift/metrics';
import { Delivery, DriftNotice } from '../../drift/notify/messages';
import { CONVERGE_NAMESPACE } from '../../model/constants';
import { defaultDriftPolicy, DriftPolicySpec } from '../../model/drift-policy';
import { DesiredObject, KubeObject, objectKey } from '../../model/objects';

/*
 * Fakes for the reconciler's unit tests: a cluster as a map of objects, an audit trail whose
 * writer keeps records in memory (the index in front of it is the real one), a healer that puts
 * the desired object back, a notifier that keeps what it was asked to send, and a clock.
 */

export const NS = 'staging-web';
export const T0 = Date.parse('2026-12-01T10:00:00Z');

/** An entry of `metadata.managedFields`: `manager` last wrote `fields` (fieldsV1) at `at`. */
export const wrote = (manager: string, at: number, fields: Record<string, unknown>) => ({
  manager,
  operation: 'Update',
  time: new Date(at).toISOString(),
  fieldsV1: fields,
});

export function deployment(replicas: number, extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'app-service', namespace: NS, ...extra },
    spec: {
      replicas,
      template: { spec: { containers: [{ name: 'app', image: 'ghcr.io/example-org/app-service:1.4.2' }] } },
    },
  };
}

export function service(type: string, extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'app-service', namespace: NS, ...extra },
    spec: { type, ports: [{ name: 'http', port: 8080 }] },
  };
}

export const secret = (extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'db', namespace: NS, ...extra },
  type: 'Opaque',
});

/** An object as the API server holds it after `manager` changed `fields` at `at`. */
export const changed = (
  obj: KubeObject,
  manager: string,
  at: number,
  fields: Record<string, unknown>,
  generation = 2,
) =>
  ({
    ...obj,
    metadata: { ...obj.metadata, generation, managedFields: [wrote(manager, at, fields)] },
  }) as KubeObject;

export class FakeCluster {
  public readonly objects = new Map<string, KubeObject>();
  public readonly tombstones = new Map<string, Tombstone>();

  public put(obj: KubeObject): string {
    const key = objectKey(obj);
    this.objects.set(key, obj);
    this.tombstones.delete(key);
    return key;
  }

  /** Deleted, as the watch would see it at `at`. */
  public remove(obj: KubeObject, at: number, resourceVersion = '41', copy?: KubeObject): string {
    const key = objectKey(obj);
    this.objects.delete(key);
    this.tombstones.set(key, { resourceVersion, at: new Date(at).toISOString(), ...(copy ? { copy } : {}) });
    return key;
  }

  public get(key: string): KubeObject | undefined {
    return this.objects.get(key);
  }

  public tombstone(key: string): Tombstone | undefined {
    return this.tombstones.get(key);
  }
}

/** Puts the desired object back (or deletes what Git does not declare), as a heal would. */
export class FakeHealer {
  public readonly heals: DriftFinding[] = [];
  public failWith?: string;

  constructor(private readonly cluster: FakeCluster) {}

  public async heal(finding: DriftFinding, desired: KubeObject | undefined): Promise<void> {
    if (this.failWith) throw new Error(this.failWith);
    this.heals.push(finding);
    if (finding.change === 'added') this.cluster.objects.delete(objectKey(finding.object));
    else this.cluster.put(desired!);
  }
}

export class FakeNotifier {
  public readonly notices: DriftNotice[] = [];

  public async notify(n: DriftNotice): Promise<Delivery[]> {
    this.notices.push(n);
    return [{ target: 'webhook:test', ok: true, detail: 'HTTP 200' }];
  }

  public kinds(): string[] {
    return this.notices.map((n) => `${n.kind}:${n.finding.object.kind}`);
  }
}

/** The audit log's writer, in memory: a record is created once, by name. */
export class MemoryAuditLog {
  public readonly namespace = CONVERGE_NAMESPACE;
  public readonly stored = new Map<string, AuditRecord>();

  public async record(rec: AuditRecord): Promise<boolean> {
    const { name } = storedForm(rec);
    if (this.stored.has(name)) return false;
    this.stored.set(name, rec);
    return true;
  }
}

export interface Harness {
  readonly cluster: FakeCluster;
  readonly healer: FakeHealer;
  readonly notifier: FakeNotifier;
  readonly log: MemoryAuditLog;
  readonly trail: IndexedAuditTrail;
  readonly metrics: DriftMetrics;
  readonly clock: { now: number };
  desired: DesiredIndex;
  /** A reconciler over this state; a new one is what a restarted controller builds. */
  reconciler(faults?: Faults): Reconciler;
  /** The events recorded for an object, as their record names say them (`healing-1`). */
  events(key: string): string[];
  /** A person's decision, as `converge approve|reject` records it. */
  decide(key: string, event: 'approved' | 'rejected', actor: string): Promise<void>;
}

export function harness(
  desired: DesiredObject[],
  options: { policy?: DriftPolicySpec; selfHealing?: string[] } = {},
): Harness {
  const cluster = new FakeCluster();
  for (const d of desired) cluster.put(d.object);
  const log = new MemoryAuditLog();
  const trail = new IndexedAuditTrail(log);
  const clock = { now: T0 };
  const h: Harness = {
    cluster,
    healer: new FakeHealer(cluster),
    notifier: new FakeNotifier(),
    log,
    trail,
    metrics: new DriftMetrics(),
    clock,
    desired: {
      environment: 'staging',
      objects: desired,
      byKey: new Map(desired.map((d) => [objectKey(d.object), d])),
      referenced: referencedSecrets(desired),
      policy: options.policy ?? defaultDriftPolicy(['ghcr.io/example-org/']),
      managedNamespaces: new Set([NS]),
      selfHealingApplications: new Set(options.selfHealing ?? []),
    },
    reconciler: (faults) =>
      new Reconciler({
        desired: () => h.desired,
        live: cluster,
        audit: trail,
        healer: h.healer,
        notifier: h.notifier,
        metrics: h.metrics,
        now: () => new Date(clock.now),
        faults,
      }),
    events: (key) => trail.recordsOf(key).map(eventOf),
    decide: async (key, event, actor) => {
      const open = trail.recordsOf(key).find((r) => r.event === 'held')!;
      await trail.record({ ...open, event, actor, at: new Date(clock.now).toISOString() });
    },
  };
  return h;
}

/** The count of a histogram over all its series (one per severity), as scraped. */
export async function histogramCount(metrics: DriftMetrics, name: string): Promise<number> {
  const text = await metrics.registry.getSingleMetricAsString(name);
  const counts = [...text.matchAll(/_count(?:\{[^}]*\})? (\d+)/g)].map((m) => Number(m[1]));
  return counts.length ? counts.reduce((a, b) => a + b, 0) : NaN;
}
