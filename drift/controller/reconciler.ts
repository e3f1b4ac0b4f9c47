import { DriftEvent, DriftPolicySpec } from '../../model/drift-policy';
import { describeRef, DesiredObject, KubeObject, SERVICE_KINDS } from '../../model/objects';
import { durationSeconds } from '../../model/validators';
import { AuditRecord, recordFromFinding } from '../audit';
import { DriftFinding, findDrift } from '../engine/find-drift';
import { ReferencedSecret } from '../engine/references';
import { DriftMetrics } from '../metrics';
import { Delivery, DriftNotice } from '../notify/messages';
import {
  accepted,
  alertedSince,
  AuditTrail,
  driftsOf,
  DriftState,
  healTimes,
  openDrift,
} from './audit-trail';

/*
 * One object's drift, reconciled (controller-runtime's `Reconcile`): level based, it reads the
 * desired state, the live object and the object's audit records each time, instead of trusting
 * the event that woke it, and takes the next step the policy asks for: detect, hold, page, leave
 * to Argo CD, heal (with backoff when the drift keeps coming back), or close. The answer says
 * when to look again; an error means "retry with backoff".
 */

/** The desired state the controller checks against, and what it needs to judge a drift. */
export interface DesiredSnapshot {
  readonly environment: string;
  readonly objects: readonly DesiredObject[];
  readonly policy: DriftPolicySpec;
  /** Namespaces whose unexpected objects count as added drift. */
  readonly managedNamespaces: ReadonlySet<string>;
  /** Applications Argo CD self-heals: drift of their objects is left to Argo CD and only recorded. */
  readonly selfHealingApplications: ReadonlySet<string>;
}

/** A snapshot with its objects by key. */
export interface DesiredIndex extends DesiredSnapshot {
  readonly byKey: ReadonlyMap<string, DesiredObject>;
  /** Secrets desired workloads need that Git does not hold, by key. @default none */
  readonly referenced?: ReadonlyMap<string, ReferencedSecret>;
}

/** A desired object the watch saw deleted: the API server keeps no deletion time of its own. */
export interface Tombstone {
  readonly resourceVersion: string;
  /** When the watch saw the deletion (RFC 3339). */
  readonly at: string;
  /** A referenced Secret's last copy, to restore it (Git has none). In memory only. */
  readonly copy?: KubeObject;
}

export interface LiveView {
  get(key: string): KubeObject | undefined;
  tombstone(key: string): Tombstone | undefined;
}

export interface Healer {
  heal(finding: DriftFinding, desired: KubeObject | undefined): Promise<void>;
}

export interface NoticeSender {
  notify(notice: DriftNotice): Promise<Delivery[]>;
}

/** Failures a test injects; production passes none. */
export interface Faults {
  /** Stop (forever) right after recording this event, as a crash there would. */
  readonly pauseAfter?: DriftEvent;
}

export interface ReconcilerDeps {
  readonly desired: () => DesiredIndex;
  readonly live: LiveView;
  readonly audit: AuditTrail;
  readonly healer: Healer;
  readonly notifier: NoticeSender;
  readonly metrics: Pick<
    DriftMetrics,
    'detected' | 'timeToDetect' | 'timeToRestore' | 'onsetUnknown' | 'heals'
  >;
  readonly now?: () => Date;
  readonly log?: (line: string) => void;
  readonly faults?: Faults;
}

export interface ReconcileResult {
  /** Look at the key again after this many milliseconds. */
  readonly requeueAfter?: number;
}

const ADDED_KINDS = new Set(SERVICE_KINDS.map((gk) => gk.kind));
const ms = (duration: string) => durationSeconds(duration) * 1000;

export class Reconciler {
  constructor(private readonly d: ReconcilerDeps) {}

  private now(): number {
    return (this.d.now?.() ?? new Date()).getTime();
  }

  public async reconcile(key: string): Promise<ReconcileResult> {
    const desired = this.d.desired();
    const finding = this.findingFor(key, desired);
    const records = this.d.audit.recordsOf(key);
    const open = openDrift(records);
    if (!finding) {
      if (open) await this.restored(open, desired);
      return {};
    }
    // Rejected by a person, or ignored by the policy: the live change stands.
    if (accepted(records, finding.id)) return {};
    // A deletion still unhealed after a restart is the same drift, though its tombstone was lost.
    const same =
      open && (open.id === finding.id || (open.finding.change === 'deleted' && finding.change === 'deleted'));
    let drift = same ? open : undefined;
    if (open && !same) {
      // The drift changed shape (more fields, other values): the old one ends here, a new one starts.
      await this.write(open, 'restored', 'converge', desired, {
        outcome: 'superseded by a new drift of the same object',
      });
    }
    drift ??= await this.detect(key, finding, desired);
    return this.act(key, drift, desired);
  }

  private findingFor(key: string, desired: DesiredIndex): DriftFinding | undefined {
    const want = desired.byKey.get(key);
    const live = this.d.live.get(key);
    const tombstone = this.d.live.tombstone(key);
    return findDrift(want ? [want] : [], new Map(live ? [[key, live]] : []), desired.policy, {
      managedNamespaces: desired.managedNamespaces,
      addedKinds: ADDED_KINDS,
      tombstones: new Map(tombstone ? [[key, tombstone.resourceVersion]] : []),
      referenced: new Map(desired.referenced?.has(key) ? [[key, desired.referenced.get(key)!]] : []),
    })[0];
  }

  /** The state of one drift, from its records as they are now. */
  private state(key: string, id: string): DriftState {
    const drift = driftsOf(this.d.audit.recordsOf(key).filter((r) => r.driftId === id)).pop();
    if (!drift) throw new Error(`drift ${id} of ${key} has no detected record`);
    return drift;
  }

  private async detect(key: string, finding: DriftFinding, desired: DesiredIndex): Promise<DriftState> {
    // A deletion has no managedFields to date it: the watch's DELETED event is its onset.
    const onset =
      finding.onset ?? (finding.change === 'deleted' ? this.d.live.tombstone(key)?.at : undefined);
    const f = onset && !finding.onset ? { ...finding, onset } : finding;
    const created = await this.record(f, 'detected', 'converge', desired);
    if (created) {
      this.d.metrics.detected.inc({ severity: f.severity, kind: f.object.kind });
      const seconds = secondsSince(onset, this.now());
      if (seconds === undefined)
        this.d.metrics.onsetUnknown.inc({ severity: f.severity, kind: f.object.kind });
      else this.d.metrics.timeToDetect.observe({ severity: f.severity }, seconds);
      this.d.log?.(`detected ${f.id} ${f.severity} ${f.change} ${describeRef(f.object)} -> ${f.action}`);
    }
    return this.state(key, f.id);
  }

  private async act(key: string, drift: DriftState, desired: DesiredIndex): Promise<ReconcileResult> {
    const f = drift.finding;
    if (f.action === 'ignore') {
      await this.write(drift, 'ignored', 'converge', desired, { outcome: 'the policy ignores this change' });
      return {};
    }
    // Only a DriftRecord decides: the API server checks who wrote it (see approval-policy.ts).
    const approved = drift.has('approved');
    if (f.action === 'hold-for-approval' && !approved) {
      if (!drift.has('held')) {
        await this.write(drift, 'held', 'converge', desired, {
          outcome: `waiting for: converge approve ${f.id} (or converge reject ${f.id})`,
        });
        await this.d.notifier.notify({ kind: 'drift', environment: desired.environment, finding: f });
      }
      return {};
    }
    if (f.action === 'heal-and-page' && !drift.has('paged')) {
      const deliveries = await this.d.notifier.notify({
        kind: 'drift',
        environment: desired.environment,
        finding: f,
      });
      await this.write(drift, 'paged', 'converge', desired, {
        outcome:
          deliveries.map((d) => `${d.target}: ${d.ok ? 'sent' : `failed (${d.detail})`}`).join('; ') ||
          'no targets routed',
      });
    }
    const app = desired.byKey.get(key)?.application;
    if (app && desired.selfHealingApplications.has(app) && f.change !== 'added' && !approved) {
      if (!drift.has('delegated'))
        await this.write(drift, 'delegated', 'argocd', desired, { outcome: `Argo CD self-heals ${app}` });
      return {};
    }
    return this.heal(key, drift, desired);
  }

  /** Heals, but waits longer each time the same object drifts again soon, and alerts once. */
  private async heal(key: string, drift: DriftState, desired: DesiredIndex): Promise<ReconcileResult> {
    const backoff = desired.policy.backoff;
    const window = ms(backoff.max) * 2;
    const nowMs = this.now();
    const records = this.d.audit.recordsOf(key);
    const heals = healTimes(records, nowMs - window);
    const waitMs = heals.length ? heals[heals.length - 1] + healDelay(heals.length, backoff) - nowMs : 0;
    if (waitMs > 0) return { requeueAfter: waitMs };
    const target = desired.byKey.get(key)?.object ?? this.d.live.tombstone(key)?.copy;
    if (!target && desired.referenced?.has(key)) {
      // Git holds no copy, and this controller saw none before the deletion: only a person can.
      await this.write(drift, 'heal-failed', 'converge', desired, {
        outcome: `cannot restore: the Secret is not in Git and no copy was seen since the controller started; recreate it from its source (needed by ${desired.referenced.get(key)!.referencedBy})`,
      });
      return {};
    }
    const attempt = drift.heals + 1;
    // Intent first: a crash between the patch and its "healed" record still leaves the heal on record.
    await this.write(drift, 'healing', 'converge', desired, {
      attempt,
      outcome: 'applying the desired fields',
    });
    const object = drift.finding.object;
    const healed = (outcome: 'restored' | 'failed') =>
      this.d.metrics.heals.inc({
        kind: object.kind,
        namespace: object.namespace ?? '',
        name: object.name,
        outcome,
      });
    try {
      await this.d.healer.heal(drift.finding, target);
      healed('restored');
    } catch (err) {
      healed('failed');
      await this.write(drift, 'heal-failed', 'converge', desired, {
        attempt,
        outcome: (err as Error).message,
      });
      throw err;
    }
    await this.write(drift, 'healed', 'converge', desired, { attempt, outcome: 'desired fields applied' });
    this.d.log?.(`healed ${drift.id} ${describeRef(drift.finding.object)} (attempt ${attempt})`);
    const count = heals.length + 1;
    if (count >= backoff.alertAfter && !alertedSince(records, nowMs - window)) {
      // Something keeps undoing the heals: say so once, rather than healing in a hot loop.
      const detail = `healed ${count} times in ${Math.round(window / 1000)} s; next heals wait ${healDelay(count, backoff) / 1000} s and up to ${backoff.max}`;
      await this.write(drift, 'recurring', 'converge', desired, { outcome: detail });
      await this.d.notifier.notify({
        kind: 'recurring',
        environment: desired.environment,
        finding: { ...drift.finding, severity: 'high' },
        detail,
      });
    }
    return {};
  }

  private async restored(drift: DriftState, desired: DesiredIndex): Promise<void> {
    // With no trustworthy onset there is no time to restore: the record says so, and no histogram gets a guess.
    const seconds = secondsSince(drift.finding.onset, this.now());
    const sinceDetection = Math.max(0, this.now() - Date.parse(drift.detectedAt)) / 1000;
    const created = await this.write(
      drift,
      'restored',
      drift.has('delegated') ? 'argocd' : 'converge',
      desired,
      {
        outcome:
          seconds !== undefined
            ? `back in its Git state after ${seconds.toFixed(1)} s`
            : `back in its Git state ${sinceDetection.toFixed(1)} s after its detection (onset unknown)`,
      },
    );
    if (!created) return;
    if (seconds !== undefined)
      this.d.metrics.timeToRestore.observe({ severity: drift.finding.severity }, seconds);
    if (drift.finding.severity !== 'low' || drift.has('paged')) {
      await this.d.notifier.notify({
        kind: 'recovered',
        environment: desired.environment,
        finding: drift.finding,
        // No onset, no time to restore: the message says it is back, not after how long.
        timeToRestoreSeconds: seconds,
      });
    }
    this.d.log?.(
      `restored ${drift.id} ${describeRef(drift.finding.object)} after ${seconds === undefined ? `${sinceDetection.toFixed(1)} s from detection (onset unknown)` : `${seconds.toFixed(1)} s`}`,
    );
  }

  /** Records an event of a drift unless it is on record already; true when this call recorded it. */
  private async write(
    drift: DriftState,
    event: DriftEvent,
    actor: string,
    desired: DesiredIndex,
    extra: Partial<AuditRecord> = {},
  ): Promise<boolean> {
    if (drift.has(`${event}${extra.attempt ? `-${extra.attempt}` : ''}`)) return false;
    return this.record(drift.finding, event, actor, desired, extra);
  }

  private async record(
    finding: DriftFinding,
    event: DriftEvent,
    actor: string,
    desired: DesiredIndex,
    extra: Partial<AuditRecord> = {},
  ): Promise<boolean> {
    const created = await this.d.audit.record(
      recordFromFinding(finding, event, desired.environment, new Date(this.now()), actor, extra),
    );
    if (this.d.faults?.pauseAfter === event) {
      this.d.log?.(`paused after recording ${event} (fault injected)`);
      await new Promise<never>(() => undefined);
    }
    return created;
  }
}

/**
 * Seconds from an onset to a moment, or undefined when there is no trustworthy onset: none known
 * (a write through /scale: the API server keeps that manager's older time, or none), unparsable,
 * or later than the moment by more than managedFields' one-second resolution (clock skew).
 * managedFields times are whole seconds, so a time from them reads up to 1 s long.
 */
export function secondsSince(onset: string | undefined, nowMs: number): number | undefined {
  const at = onset === undefined ? NaN : Date.parse(onset);
  if (Number.isNaN(at) || at > nowMs + 1000) return undefined;
  return Math.max(0, nowMs - at) / 1000;
}

/** Wait after the n-th heal within the window: none after the first, then doubling up to the cap. */
function healDelay(n: number, backoff: DriftPolicySpec['backoff']): number {
  return n <= 1 ? 0 : Math.min(ms(backoff.max), ms(backoff.initial) * 2 ** (n - 2));
}
