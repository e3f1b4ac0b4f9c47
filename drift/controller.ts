import { KubeConfig, Watch } from '@kubernetes/client-node';
import { SERVICE_KINDS, KubeObject, DesiredObject, objectKey, ObjectRef } from '../model/objects';
import { DriftEvent, DriftPolicySpec } from '../model/drift-policy';
import { durationSeconds } from '../model/validators';
import { APPROVE_ANNOTATION } from '../model/constants';
import { AuditLog, AuditRecord, recordFromFinding } from './audit';
import { escapePointer, ownerOf } from './compare';
import { DriftFinding, findDrift } from './engine';
import { KubeClient } from './kube-client';
import { KindRef, uniqueKinds } from './live-state';
import { DriftMetrics } from './metrics';
import { Notifier } from './notify';
import { Remediator } from './remediate';

/*
 * The drift controller: watches every object the platform manages (one watch per kind), compares
 * each change with the desired state, classifies it by the policy and acts: heal, hold for a
 * human, heal and page, or ignore. Every drift and action is written to the audit trail, which is
 * also its memory across restarts: what was detected but never finished is finished on start.
 */

export interface DesiredSnapshot {
  readonly environment: string;
  readonly objects: readonly DesiredObject[];
  readonly policy: DriftPolicySpec;
  /** Namespaces whose unexpected objects count as added drift. */
  readonly managedNamespaces: ReadonlySet<string>;
  /** Applications Argo CD self-heals: drift of their objects is left to Argo CD and only recorded. */
  readonly selfHealingApplications: ReadonlySet<string>;
}

export interface ControllerOptions {
  readonly client: KubeClient;
  readonly kc: KubeConfig;
  /** Loads (and reloads) the desired state. */
  readonly loadDesired: () => Promise<DesiredSnapshot>;
  readonly audit: AuditLog;
  readonly notifier: Notifier;
  readonly metrics: DriftMetrics;
  /** How often the desired state is re-rendered and everything re-checked. @default 60 s */
  readonly resyncMs?: number;
  /** Largest number of object keys waiting to be checked; more are dropped and caught by the next resync. */
  readonly maxQueue?: number;
  /**
   * Watch only these namespaces (namespaced kinds only, one watch per kind and namespace). The
   * in-cluster controller's RBAC grants nothing wider. @default every namespace, cluster-scoped kinds too
   */
  readonly namespaces?: readonly string[];
  readonly log?: (line: string) => void;
  readonly now?: () => Date;
}

interface ActiveDrift {
  finding: DriftFinding;
  detectedAt: number;
  events: Set<string>;
  heals: number;
  held: boolean;
  delegated: boolean;
}

interface KeyHistory {
  heals: number[];
  alerted: boolean;
  nextHealAt: number;
}

const TERMINAL: readonly DriftEvent[] = ['restored', 'rejected', 'ignored'];

export class DriftController {
  private desired!: DesiredSnapshot;
  private desiredByKey = new Map<string, DesiredObject>();
  private readonly live = new Map<string, KubeObject>();
  private readonly tombstones = new Map<string, string>();
  /** When the watch saw each desired object deleted: the API server keeps no deletion time. */
  private readonly deletedAt = new Map<string, string>();
  private readonly active = new Map<string, ActiveDrift>();
  private readonly accepted = new Map<string, string>();
  private readonly history = new Map<string, KeyHistory>();
  private readonly queue = new Set<string>();
  private readonly watches: { abort(): void }[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private draining?: Promise<void>;
  private stopped = false;
  /** Counters for tests and logs. */
  public readonly stats = { events: 0, checks: 0, dropped: 0, heals: 0 };

  constructor(private readonly o: ControllerOptions) {}

  private get now(): Date {
    return this.o.now?.() ?? new Date();
  }

  private log(line: string): void {
    this.o.log?.(line);
  }

  public async start(): Promise<void> {
    await this.reloadDesired();
    await this.restoreFromAudit();
    const kinds = uniqueKinds(
      this.desired.objects.map((d) => d.object),
      SERVICE_KINDS.map((gk) => ({
        apiVersion: gk.group ? `${gk.group}/${gk.group === 'autoscaling' ? 'v2' : 'v1'}` : 'v1',
        kind: gk.kind,
      })),
    );
    const scope = this.o.namespaces;
    await Promise.all(
      kinds.map(async (k) => {
        if (!scope) return this.watchKind(k);
        const resource = await this.o.client.resource(k.apiVersion, k.kind);
        if (resource?.namespaced) await Promise.all(scope.map((ns) => this.watchKind(k, ns)));
      }),
    );
    await this.watchDecisions();
    for (const key of new Set([
      ...this.desiredByKey.keys(),
      ...this.live.keys(),
      ...[...this.active.values()].map((a) => objectKey(a.finding.object)),
    ])) {
      this.enqueue(key);
    }
    const resync = setInterval(() => void this.resync(), this.o.resyncMs ?? 60_000);
    resync.unref();
    this.timers.push(resync);
    await this.idle();
  }

  public async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.watches) w.abort();
    for (const t of this.timers) clearInterval(t);
    await this.draining;
  }

  /** Resolves when everything queued so far has been checked. */
  public async idle(): Promise<void> {
    while (!this.stopped && this.draining) await this.draining;
  }

  public pendingApprovals(): DriftFinding[] {
    return [...this.active.values()].filter((a) => a.held).map((a) => a.finding);
  }

  private async reloadDesired(): Promise<void> {
    const desired = await this.o.loadDesired();
    const scope = this.o.namespaces && new Set(this.o.namespaces);
    this.desired = scope
      ? { ...desired, objects: desired.objects.filter((d) => scope.has(d.object.metadata.namespace ?? '')) }
      : desired;
    this.desiredByKey = new Map(this.desired.objects.map((d) => [objectKey(d.object), d]));
  }

  private async resync(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.reloadDesired();
      for (const key of new Set([...this.desiredByKey.keys(), ...this.live.keys()])) this.enqueue(key);
      await this.idle();
    } catch (err) {
      this.log(`resync failed: ${(err as Error).message}`);
    }
  }

  /** Rebuilds what is in flight from the audit trail: drifts detected but not finished. */
  private async restoreFromAudit(): Promise<void> {
    const byId = new Map<string, (AuditRecord & { name: string })[]>();
    for (const rec of await this.o.audit.list())
      byId.set(rec.driftId, [...(byId.get(rec.driftId) ?? []), rec]);
    for (const [id, records] of byId) {
      const events = new Set(records.map((r) => r.name.slice(id.length + 1)));
      const first = records.find((r) => r.event === 'detected');
      if (records.some((r) => r.event === 'rejected')) this.accepted.set(objectKey(records[0].object), id);
      if (!first || records.some((r) => TERMINAL.includes(r.event))) continue;
      const finding: DriftFinding = {
        id,
        object: first.object,
        application: first.application,
        change: first.change ?? 'modified',
        fields: first.fields ?? [],
        severity: first.severity ?? 'low',
        action: first.action ?? 'heal',
        rule: first.rule ?? 'fallback',
        who: first.who ?? 'unknown',
        onset: first.onset,
      };
      const approved = records.some((r) => r.event === 'approved');
      this.active.set(objectKey(first.object), {
        finding,
        detectedAt: Date.parse(first.at),
        events,
        heals: records.filter((r) => r.event === 'healed').length,
        held: records.some((r) => r.event === 'held') && !approved,
        delegated: records.some((r) => r.event === 'delegated'),
      });
    }
    this.o.metrics.pendingApprovals.set(this.pendingApprovals().length);
    if (this.active.size) this.log(`resumed ${this.active.size} unfinished drift(s) from the audit trail`);
  }

  private async watchKind(kind: KindRef, namespace?: string): Promise<void> {
    if (!(await this.o.client.resource(kind.apiVersion, kind.kind))) return;
    const { items, resourceVersion } = await this.o.client.list<KubeObject>(
      kind.apiVersion,
      kind.kind,
      '',
      namespace,
    );
    const listed = new Set<string>();
    for (const item of items) {
      const obj = { ...item, apiVersion: kind.apiVersion, kind: kind.kind };
      const key = objectKey(obj);
      listed.add(key);
      this.live.set(key, obj);
    }
    // A relist (the watch expired) must also see what was deleted while no watch ran.
    for (const [key, obj] of this.live) {
      if (obj.apiVersion !== kind.apiVersion || obj.kind !== kind.kind || listed.has(key)) continue;
      if (namespace !== undefined && obj.metadata.namespace !== namespace) continue;
      this.forget(key, obj.metadata.resourceVersion as string | undefined);
    }
    const path = (await this.o.client.path(kind.apiVersion, kind.kind, namespace)).replace(
      /^https?:\/\/[^/]+/,
      '',
    );
    const start = async (rv?: string): Promise<void> => {
      if (this.stopped) return;
      const w = await new Watch(this.o.kc).watch(
        path,
        { allowWatchBookmarks: true, ...(rv ? { resourceVersion: rv } : {}) },
        (type: string, obj: KubeObject & { metadata: { resourceVersion?: string } }) => {
          if (type === 'BOOKMARK') {
            rv = obj.metadata.resourceVersion;
            return;
          }
          rv = obj.metadata.resourceVersion ?? rv;
          const full = { ...obj, apiVersion: kind.apiVersion, kind: kind.kind };
          const key = objectKey(full);
          if (type === 'DELETED') {
            this.forget(key, obj.metadata.resourceVersion);
          } else {
            this.live.set(key, full);
            this.tombstones.delete(key);
            this.deletedAt.delete(key);
            this.enqueue(key);
          }
          this.stats.events++;
        },
        (err?: unknown) => {
          if (this.stopped) return;
          // Watches end (timeouts, compaction): resume from the last version seen, or relist.
          const expired = err && /410|expired|too old/i.test(String((err as Error).message ?? err));
          setTimeout(() => void (expired ? this.watchKind(kind, namespace) : start(rv)), 500).unref();
        },
      );
      this.watches.push(w);
    };
    await start(resourceVersion);
  }

  /** An object is gone: only desired objects can drift by deletion, so only they keep a tombstone. */
  private forget(key: string, resourceVersion: string | undefined): void {
    this.live.delete(key);
    if (this.desiredByKey.has(key)) {
      this.tombstones.set(key, resourceVersion ?? '');
      this.deletedAt.set(key, this.now.toISOString());
    }
    this.enqueue(key);
  }

  /** Approvals and rejections arrive as audit records written by `converge approve|reject`. */
  private async watchDecisions(): Promise<void> {
    const path = await this.o.audit.path();
    const w = await new Watch(this.o.kc).watch(
      path,
      {},
      (type: string, obj: { spec: AuditRecord }) => {
        if (type !== 'ADDED' || !['approved', 'rejected'].includes(obj.spec.event)) return;
        const key = objectKey(obj.spec.object);
        const active = this.active.get(key);
        if (!active || active.finding.id !== obj.spec.driftId) return;
        active.events.add(obj.spec.event);
        if (obj.spec.event === 'rejected') this.accepted.set(key, obj.spec.driftId);
        this.enqueue(key);
      },
      () => {
        if (!this.stopped) setTimeout(() => void this.watchDecisions(), 1000).unref();
      },
    );
    this.watches.push(w);
  }

  private enqueue(key: string): void {
    if (this.queue.size >= (this.o.maxQueue ?? 10_000) && !this.queue.has(key)) {
      this.stats.dropped++;
      return;
    }
    this.queue.add(key);
    this.kick();
  }

  /** Starts the one loop that checks queued keys, unless it runs: two loops could act on one key at once. */
  private kick(): void {
    if (this.draining || this.stopped) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      if (this.queue.size) this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.size && !this.stopped) {
      const key = this.queue.values().next().value as string;
      this.queue.delete(key);
      try {
        await this.check(key);
      } catch (err) {
        this.log(`checking ${key} failed: ${(err as Error).message}`);
      }
      this.o.metrics.activeDrifts.set(this.active.size);
      this.o.metrics.queueLength.set(this.queue.size);
    }
  }

  private findingFor(key: string): DriftFinding | undefined {
    const desired = this.desiredByKey.get(key);
    const live = this.live.get(key);
    const liveMap = new Map(live ? [[key, live]] : []);
    return findDrift(desired ? [desired] : [], liveMap, this.desired.policy, {
      managedNamespaces: this.desired.managedNamespaces,
      addedKinds: new Set(SERVICE_KINDS.map((gk) => gk.kind)),
      tombstones: this.tombstones,
    })[0];
  }

  private async write(
    active: ActiveDrift,
    event: DriftEvent,
    actor: string,
    extra: Partial<AuditRecord> = {},
  ): Promise<void> {
    const name = `${event}${extra.attempt ? `-${extra.attempt}` : ''}`;
    if (active.events.has(name)) return;
    await this.o.audit.record(
      recordFromFinding(active.finding, event, this.desired.environment, this.now, actor, extra),
    );
    active.events.add(name);
    if (process.env.CONVERGE_FAULT_PAUSE_AFTER === event) {
      // Fault injection for the restart tests: freeze right after this record, until killed.
      this.log(`paused after recording ${event} (CONVERGE_FAULT_PAUSE_AFTER)`);
      await new Promise<never>(() => undefined);
    }
  }

  private async check(key: string): Promise<void> {
    this.stats.checks++;
    const finding = this.findingFor(key);
    const active = this.active.get(key);
    const nowMs = this.now.getTime();

    if (!finding || (this.accepted.get(key) === finding.id && finding.action !== 'ignore')) {
      if (active && !finding) await this.restored(key, active, nowMs);
      else if (active && active.finding.id === finding?.id && active.events.has('rejected')) {
        // Rejected: the live change is the decision; the drift is closed, never healed or "recovered".
        this.active.delete(key);
        this.o.metrics.pendingApprovals.set(this.pendingApprovals().length);
      }
      return;
    }
    // A deletion still unhealed after a restart is the same drift, though its tombstone was lost.
    const sameDrift =
      active &&
      (active.finding.id === finding.id ||
        (active.finding.change === 'deleted' && finding.change === 'deleted'));
    if (active && !sameDrift) {
      // The drift changed shape (more fields, other values): the old one ends here, a new one starts.
      await this.write(active, 'restored', 'converge', {
        outcome: 'superseded by a new drift of the same object',
      });
      this.active.delete(key);
    }
    let current = this.active.get(key);
    if (!current) {
      current = { finding, detectedAt: nowMs, events: new Set(), heals: 0, held: false, delegated: false };
      this.active.set(key, current);
      // A deletion has no managedFields to date it: the watch's DELETED event is its onset.
      const onsetIso = finding.onset ?? (finding.change === 'deleted' ? this.deletedAt.get(key) : undefined);
      if (!finding.onset && onsetIso) current.finding = { ...finding, onset: onsetIso };
      const onset = onsetIso ? Date.parse(onsetIso) : nowMs;
      this.o.metrics.detected.inc({ severity: finding.severity, kind: finding.object.kind });
      this.o.metrics.timeToDetect.observe(Math.max(0, nowMs - onset) / 1000);
      await this.write(current, 'detected', 'converge');
      this.log(
        `detected ${finding.id} ${finding.severity} ${finding.change} ${describe(finding.object)} -> ${finding.action}`,
      );
    }
    await this.act(key, current, nowMs);
  }

  private async act(key: string, active: ActiveDrift, nowMs: number): Promise<void> {
    const f = active.finding;
    if (f.action === 'ignore') {
      await this.write(active, 'ignored', 'converge', { outcome: 'the policy ignores this change' });
      this.accepted.set(key, f.id);
      this.active.delete(key);
      return;
    }
    if (active.events.has('rejected')) {
      this.active.delete(key);
      this.o.metrics.pendingApprovals.set(this.pendingApprovals().length);
      return;
    }
    const approved = active.events.has('approved') || this.annotationApproval(key, f.id);
    if (f.action === 'hold-for-approval' && !approved) {
      if (!active.held) {
        active.held = true;
        await this.write(active, 'held', 'converge', {
          outcome: `waiting for: converge approve ${f.id} (or converge reject ${f.id})`,
        });
        await this.o.notifier.notify({ kind: 'drift', environment: this.desired.environment, finding: f });
        this.o.metrics.pendingApprovals.set(this.pendingApprovals().length);
      }
      return;
    }
    if (active.held) {
      active.held = false;
      if (!active.events.has('approved')) {
        // Approved by annotating the object: the approver is whoever wrote the annotation.
        const live = this.live.get(key);
        const by =
          live && ownerOf(live, `/metadata/annotations/${escapePointer(APPROVE_ANNOTATION)}`)?.manager;
        await this.write(active, 'approved', by ?? 'unknown', { detail: `annotation ${APPROVE_ANNOTATION}` });
      }
      this.o.metrics.pendingApprovals.set(this.pendingApprovals().length);
    }
    if (f.action === 'heal-and-page' && !active.events.has('paged')) {
      const deliveries = await this.o.notifier.notify({
        kind: 'drift',
        environment: this.desired.environment,
        finding: f,
      });
      await this.write(active, 'paged', 'converge', {
        outcome:
          deliveries.map((d) => `${d.target}: ${d.ok ? 'sent' : `failed (${d.detail})`}`).join('; ') ||
          'no targets routed',
      });
    }
    const app = this.desiredByKey.get(key)?.application;
    if (app && this.desired.selfHealingApplications.has(app) && f.change !== 'added' && !approved) {
      if (!active.delegated) {
        active.delegated = true;
        await this.write(active, 'delegated', 'argocd', { outcome: `Argo CD self-heals ${app}` });
      }
      return;
    }
    await this.healWithBackoff(key, active, nowMs);
  }

  private annotationApproval(key: string, id: string): boolean {
    return this.live.get(key)?.metadata.annotations?.[APPROVE_ANNOTATION] === id;
  }

  /** Heals, but waits longer each time the same object drifts again soon, and alerts once. */
  private async healWithBackoff(key: string, active: ActiveDrift, nowMs: number): Promise<void> {
    const policy = this.desired.policy.backoff;
    const h = this.history.get(key) ?? { heals: [], alerted: false, nextHealAt: 0 };
    this.history.set(key, h);
    const window = durationMs(policy.max) * 2;
    h.heals = h.heals.filter((t) => nowMs - t < window);
    if (nowMs < h.nextHealAt) {
      const wait = h.nextHealAt - nowMs;
      setTimeout(() => this.enqueue(key), wait).unref();
      return;
    }
    const attempt = active.heals + 1;
    try {
      // Intent first: a crash between the patch and its "healed" record still leaves the heal on record.
      await this.write(active, 'healing', 'converge', { attempt, outcome: 'applying the desired fields' });
      await new Remediator(this.o.client).heal(active.finding, this.desiredByKey.get(key)?.object);
      active.heals = attempt;
      this.stats.heals++;
      h.heals.push(nowMs);
      const delay =
        h.heals.length <= 1
          ? 0
          : Math.min(durationMs(policy.max), durationMs(policy.initial) * 2 ** (h.heals.length - 2));
      h.nextHealAt = nowMs + delay;
      await this.write(active, 'healed', 'converge', { attempt, outcome: 'desired fields applied' });
      this.log(`healed ${active.finding.id} ${describe(active.finding.object)} (attempt ${attempt})`);
      if (h.heals.length >= policy.alertAfter && !h.alerted) {
        // Something keeps undoing the heals: say so once, rather than healing in a hot loop.
        h.alerted = true;
        const detail = `healed ${h.heals.length} times in ${Math.round(window / 1000)} s; next heals wait ${delay / 1000} s and up to ${policy.max}`;
        await this.write(active, 'recurring', 'converge', { outcome: detail });
        await this.o.notifier.notify({
          kind: 'recurring',
          environment: this.desired.environment,
          finding: { ...active.finding, severity: 'high' },
          detail,
        });
      }
    } catch (err) {
      await this.write(active, 'heal-failed', 'converge', { attempt, outcome: (err as Error).message });
      setTimeout(() => this.enqueue(key), durationMs(policy.initial)).unref();
    }
  }

  private async restored(key: string, active: ActiveDrift, nowMs: number): Promise<void> {
    const onset = active.finding.onset ? Date.parse(active.finding.onset) : active.detectedAt;
    const seconds = Math.max(0, nowMs - onset) / 1000;
    await this.write(active, 'restored', active.delegated ? 'argocd' : 'converge', {
      outcome: `back in its Git state after ${seconds.toFixed(1)} s`,
    });
    this.o.metrics.timeToRestore.observe(seconds);
    this.active.delete(key);
    this.o.metrics.pendingApprovals.set(this.pendingApprovals().length);
    if (active.finding.severity !== 'low' || active.events.has('paged')) {
      await this.o.notifier.notify({
        kind: 'recovered',
        environment: this.desired.environment,
        finding: active.finding,
        timeToRestoreSeconds: seconds,
      });
    }
    const h = this.history.get(key);
    if (h && h.heals.length === 0) this.history.delete(key);
    this.log(
      `restored ${active.finding.id} ${describe(active.finding.object)} after ${seconds.toFixed(1)} s`,
    );
  }
}

const describe = (o: ObjectRef) => `${o.kind}/${o.namespace ? `${o.namespace}/` : ''}${o.name}`;
const durationMs = (d: string) => durationSeconds(d) * 1000;
