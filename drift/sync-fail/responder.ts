import { ArgoApplication } from '../../model/argo-application';
import { DriftEvent } from '../../model/drift-policy';
import { AuditRecord, StoredRecord } from '../audit';
import { NoticeSender } from '../controller/reconciler';
import {
  applicationRef,
  describeRollback,
  failedSync,
  FailedSync,
  lastHealthyRevision,
  RollbackOutcome,
  syncFailNotice,
} from './failed-sync';
import { RollbackCommitter } from './git-rollback';

/*
 * What a failed sync sets off (services.<name>.hooks.syncFail): a rollback of the image by a Git
 * commit, bounded by the last revision Argo CD synced healthy, then one notice to the high targets
 * saying what failed and what was done. Level based and once per operation: each step is a
 * DriftRecord named after the operation, so a restarted controller finishes what is missing and
 * repeats nothing it recorded.
 */

/** What a service's stack file says to do about a failed sync. */
export interface SyncFailPolicy {
  readonly notify: boolean;
  readonly rollback: boolean;
  /** The image write-back file, from the repo's root (charts/<service>/images/<env>.yaml). */
  readonly writeBackFile: string;
}

/** The records of one response: created once by name, read back by the operation's id. */
export interface ResponseRecords {
  record(rec: AuditRecord): Promise<boolean>;
  recordsOf(driftId: string): Promise<readonly StoredRecord[]>;
}

export interface SyncFailDeps {
  readonly environment: string;
  /** The service's policy; undefined when its stack file declares no hooks.syncFail. */
  readonly policy: (service: string) => SyncFailPolicy | undefined;
  readonly records: ResponseRecords;
  readonly notifier: NoticeSender;
  readonly rollback: RollbackCommitter;
  readonly now?: () => Date;
  readonly log?: (line: string) => void;
}

const ROLLBACK_EVENTS: readonly DriftEvent[] = ['rolled-back', 'rollback-skipped', 'rollback-failed'];

export class SyncFailResponder {
  /** Operations fully answered by this process: no need to read their records again. */
  private readonly done = new Set<string>();
  private readonly running = new Map<string, Promise<void>>();

  constructor(private readonly d: SyncFailDeps) {}

  /** Answers the Application's last operation if it failed and was not answered yet. */
  public respond(app: ArgoApplication): Promise<void> {
    const failure = failedSync(app);
    if (!failure || failure.environment !== this.d.environment) return Promise.resolve();
    const policy = this.d.policy(failure.service);
    if (!policy || (!policy.notify && !policy.rollback) || this.done.has(failure.id))
      return Promise.resolve();
    // Watch events come in bursts: one response per operation at a time.
    const running = this.running.get(failure.id);
    if (running) return running;
    const step = this.answer(failure, app, policy).finally(() => this.running.delete(failure.id));
    this.running.set(failure.id, step);
    return step;
  }

  private async answer(f: FailedSync, app: ArgoApplication, policy: SyncFailPolicy): Promise<void> {
    const records = await this.d.records.recordsOf(f.id);
    const find = (events: readonly string[]) => records.find((r) => events.includes(r.event));
    const what = `${f.application} at ${f.revision.slice(0, 12)}`;
    if (!find(['sync-failed'])) {
      await this.record(f, 'sync-failed', `${f.phase}${f.failed ? ` at ${f.failed}` : ''}: ${f.message}`);
      this.d.log?.(
        `sync of ${what} ${f.phase.toLowerCase()}${f.failed ? ` at ${f.failed}` : ''}: ${f.message}`,
      );
    }
    let action: string;
    const prior = find(ROLLBACK_EVENTS);
    if (!policy.rollback) action = describeRollback({ kind: 'off' });
    else if (prior) action = prior.outcome ?? prior.event;
    else {
      const outcome = await this.rollBack(f, app, policy);
      action = describeRollback(outcome);
      await this.record(f, outcome.kind, action);
      this.d.log?.(`failed sync of ${what}: ${action}`);
    }
    if (policy.notify && !find(['paged'])) {
      const deliveries = await this.d.notifier.notify(syncFailNotice(f, action));
      const failed = deliveries.filter((d) => !d.ok);
      await this.record(
        f,
        'paged',
        deliveries.map((d) => `${d.target}: ${d.ok ? 'sent' : `failed (${d.detail})`}`).join('; ') ||
          'no targets routed',
      );
      if (failed.length)
        this.d.log?.(
          `failed sync of ${what}: notice not delivered to ${failed.map((d) => `${d.target} (${d.detail})`).join(', ')}`,
        );
    }
    this.done.add(f.id);
  }

  /**
   * Back to what the last healthy revision ran, never further: when the write-back file holds that
   * already (the sync after a rollback failed too), the image is not what fails, and only a notice goes.
   */
  private async rollBack(
    f: FailedSync,
    app: ArgoApplication,
    policy: SyncFailPolicy,
  ): Promise<Exclude<RollbackOutcome, { kind: 'off' }>> {
    const healthy = lastHealthyRevision(app);
    if (!healthy)
      return {
        kind: 'rollback-skipped',
        reason: `Argo CD has no healthy revision of ${f.application} on record to go back to`,
      };
    if (healthy === f.revision)
      return {
        kind: 'rollback-skipped',
        reason: `${f.revision.slice(0, 12)} is the revision that last synced healthy; the image is not what changed`,
      };
    try {
      const r = await this.d.rollback.rollBack({
        file: policy.writeBackFile,
        environment: f.environment,
        service: f.service,
        options: { healthy, failed: f.revision },
      });
      if (!r.pushed) return { kind: 'rollback-skipped', reason: r.reason };
      return { kind: 'rolled-back', commit: r.commit, from: r.plan.from, to: r.plan.to };
    } catch (err) {
      return { kind: 'rollback-failed', reason: (err as Error).message };
    }
  }

  private record(f: FailedSync, event: DriftEvent, outcome: string): Promise<boolean> {
    return this.d.records.record({
      driftId: f.id,
      event,
      environment: f.environment,
      object: applicationRef(f),
      application: f.application,
      severity: 'high',
      rule: 'hooks.syncFail',
      at: (this.d.now?.() ?? new Date()).toISOString(),
      actor: 'converge',
      outcome,
      detail: `revision ${f.revision}`,
    });
  }
}
