import { KubeConfig } from '@kubernetes/client-node';
import { DRIFT_RECORD } from '../../model/constants';
import {
  DesiredObject,
  groupOf,
  KubeObject,
  objectKey,
  SERVICE_KINDS,
  servedVersion,
} from '../../model/objects';
import { AuditLog, DRIFT_RECORD_API_VERSION, StoredRecord } from '../audit';
import { KubeClient } from '../kube/client';
import { KindInformer } from '../kube/informer';
import { KindRef, uniqueKinds } from '../kube/live-state';
import { DriftMetrics } from '../metrics';
import { Remediator } from '../remediate';
import { referencedSecrets, restorableCopy } from '../engine/references';
import { IndexedAuditTrail } from './audit-trail';
import { WorkQueue } from './queue';
import { DesiredIndex, DesiredSnapshot, Faults, NoticeSender, Reconciler, Tombstone } from './reconciler';

/*
 * The drift controller's wiring (Flux's `SetupWithManager`): informers for every managed kind and
 * for the audit records, a work queue with per-key backoff, a resync that re-renders the desired
 * state, and start and stop. What to do about a key is the Reconciler's alone.
 */

export interface ControllerOptions {
  readonly client: KubeClient;
  readonly kc: KubeConfig;
  /** Loads (and reloads) the desired state. */
  readonly loadDesired: () => Promise<DesiredSnapshot>;
  readonly audit: AuditLog;
  readonly notifier: NoticeSender;
  readonly metrics: DriftMetrics;
  /** How often the desired state is re-rendered and everything re-checked. @default 60 s */
  readonly resyncMs?: number;
  /** Largest number of object keys waiting to be checked; more are dropped and caught by the next resync. */
  readonly maxQueue?: number;
  /** Keys checked at once. @default 2 */
  readonly workers?: number;
  /**
   * Watch only these namespaces (namespaced kinds only, one watch per kind and namespace). The
   * in-cluster controller's RBAC grants nothing wider. @default every namespace, cluster-scoped kinds too
   */
  readonly namespaces?: readonly string[];
  readonly log?: (line: string) => void;
  /** Failures a test injects. @default none */
  readonly faults?: Faults;
  /** Runs after the first check and each resync, with every record known (the DORA collector). @default none */
  readonly onResync?: (records: readonly StoredRecord[]) => Promise<void>;
}

export class DriftController {
  private desired!: DesiredIndex;
  private readonly informers = new Map<string, KindInformer[]>();
  private readonly tombstones = new Map<string, Tombstone>();
  private readonly trail: IndexedAuditTrail;
  private readonly queue: WorkQueue;
  private readonly reconciler: Reconciler;
  private records?: KindInformer;
  private resyncTimer?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly o: ControllerOptions) {
    this.trail = new IndexedAuditTrail(o.audit);
    this.queue = new WorkQueue({ workers: o.workers, maxLength: o.maxQueue });
    this.reconciler = new Reconciler({
      desired: () => this.desired,
      live: { get: (key) => this.liveObject(key), tombstone: (key) => this.tombstones.get(key) },
      audit: this.trail,
      healer: new Remediator(o.client),
      notifier: o.notifier,
      metrics: o.metrics,
      log: o.log,
      faults: o.faults,
    });
    o.metrics.track({
      pendingApprovals: () => this.trail.counts().pending,
      activeDrifts: () => this.trail.counts().active,
      queueLength: () => this.queue.length,
      oldestPendingApprovalSeconds: () => {
        const since = this.trail.oldestPendingSince();
        return since === undefined ? 0 : Math.max(0, Date.now() - since) / 1000;
      },
    });
  }

  /** Loads the desired state and the audit trail, starts every watch, and checks everything once. */
  public async start(): Promise<void> {
    await this.reloadDesired();
    await this.watchRecords();
    const kinds = uniqueKinds(
      this.desired.objects.map((d) => d.object),
      SERVICE_KINDS.map((gk) => ({ apiVersion: servedVersion(gk.group), kind: gk.kind })),
    );
    await Promise.all(kinds.map((k) => this.watchKind(k)));
    this.queue.run((key) => this.process(key));
    this.enqueueAll();
    this.resyncTimer = setInterval(() => void this.resync(), this.o.resyncMs ?? 60_000);
    this.resyncTimer.unref();
    await this.queue.idle();
    await this.afterResync();
  }

  private async afterResync(): Promise<void> {
    try {
      await this.o.onResync?.(this.trail.all());
    } catch (err) {
      this.o.log?.(`after resync: ${(err as Error).message}`);
    }
  }

  public async stop(): Promise<void> {
    this.stopped = true;
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    const informers = [...this.informers.values()].flat();
    await Promise.all([...informers, ...(this.records ? [this.records] : [])].map((i) => i.stop()));
    await this.queue.shutDown();
  }

  /** Every audit record the controller knows, as its trail holds them (for the approvals page). */
  public auditRecords(): readonly StoredRecord[] {
    return this.trail.all();
  }

  /** Resolves when everything queued so far has been checked. */
  public idle(): Promise<void> {
    return this.queue.idle();
  }

  private async process(key: string): Promise<void> {
    try {
      const result = await this.reconciler.reconcile(key);
      // A check that completed: the "controller not reconciling" alert watches this stay fresh.
      this.o.metrics.lastReconcile.set(Date.now() / 1000);
      this.queue.forget(key);
      if (result.requeueAfter !== undefined) this.queue.addAfter(key, result.requeueAfter);
    } catch (err) {
      this.o.log?.(`checking ${key} failed: ${(err as Error).message}; retrying`);
      if (!this.stopped) this.queue.addRateLimited(key);
    }
  }

  private async reloadDesired(): Promise<void> {
    const snapshot = await this.o.loadDesired();
    const scope = this.o.namespaces && new Set(this.o.namespaces);
    const objects = scope
      ? snapshot.objects.filter((d) => scope.has(d.object.metadata.namespace ?? ''))
      : snapshot.objects;
    this.desired = {
      ...snapshot,
      objects,
      byKey: new Map<string, DesiredObject>(objects.map((d) => [objectKey(d.object), d])),
      referenced: referencedSecrets(objects),
    };
  }

  private async resync(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.reloadDesired();
      this.enqueueAll();
    } catch (err) {
      this.o.log?.(`resync failed: ${(err as Error).message}`);
    }
    await this.afterResync();
  }

  /** Every key there is something to say about: desired, live, or with a drift in progress. */
  private enqueueAll(): void {
    const live = [...this.informers.values()].flat().flatMap((i) => i.list().map(objectKey));
    const referenced = this.desired.referenced?.keys() ?? [];
    for (const key of new Set([
      ...this.desired.byKey.keys(),
      ...referenced,
      ...live,
      ...this.trail.openKeys(),
    ]))
      this.queue.add(key);
  }

  private liveObject(key: string): KubeObject | undefined {
    const [group, kind, namespace, ...name] = key.split('/');
    for (const informer of this.informers.get(`${group}/${kind}`) ?? []) {
      if (informer.namespace !== undefined && informer.namespace !== namespace) continue;
      const obj = informer.get(namespace || undefined, name.join('/'));
      if (obj) return obj;
    }
    return undefined;
  }

  private async watchKind(kind: KindRef): Promise<void> {
    const resource = await this.o.client.resource(kind.apiVersion, kind.kind);
    if (!resource) return;
    const scopes = this.o.namespaces ? (resource.namespaced ? this.o.namespaces : []) : [undefined];
    const started = scopes.map((ns) => {
      const informer = new KindInformer(this.o.client, this.o.kc, kind, ns, { log: this.o.log });
      informer.on((event, obj) => this.onLive(event, obj));
      return informer;
    });
    this.informers.set(`${groupOf(kind.apiVersion)}/${kind.kind}`, started);
    await Promise.all(started.map((i) => i.start()));
  }

  private onLive(event: 'add' | 'update' | 'delete', obj: KubeObject): void {
    const key = objectKey(obj);
    if (event === 'delete') {
      // Only desired and referenced objects can drift by deletion, so only they keep a tombstone.
      const referenced = this.desired.referenced?.has(key);
      if (this.desired.byKey.has(key) || referenced)
        this.tombstones.set(key, {
          resourceVersion: (obj.metadata.resourceVersion as string | undefined) ?? '',
          at: new Date().toISOString(),
          ...(referenced ? { copy: restorableCopy(obj) } : {}),
        });
    } else {
      this.tombstones.delete(key);
    }
    this.queue.add(key);
  }

  /** Approvals and rejections arrive as records written by `converge approve|reject`. */
  private async watchRecords(): Promise<void> {
    const kind = { apiVersion: DRIFT_RECORD_API_VERSION, kind: DRIFT_RECORD.kind };
    this.records = new KindInformer(this.o.client, this.o.kc, kind, this.trail.namespace, {
      log: this.o.log,
    });
    this.records.on((event, obj) => {
      if (event === 'delete') return;
      const rec = { ...(obj.spec as Omit<StoredRecord, 'name'>), name: obj.metadata.name };
      if (this.trail.add(rec) && (rec.event === 'approved' || rec.event === 'rejected'))
        this.queue.add(objectKey(rec.object));
    });
    await this.records.start();
    const open = this.trail.openKeys().length;
    if (open) this.o.log?.(`resuming ${open} unfinished drift(s) from the audit trail`);
  }
}
