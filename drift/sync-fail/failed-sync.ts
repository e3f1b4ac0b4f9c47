import { createHash } from 'node:crypto';
import { ArgoApplication } from '../../model/argo-application';
import { ARGOCD_NAMESPACE, LABELS } from '../../model/constants';
import { redactCredentials } from '../../model/urls';
import { DriftFinding } from '../engine/find-drift';
import { DriftNotice } from '../notify/messages';

/*
 * A failed sync as Argo CD reports it on an Application (status.operationState), and the revision
 * it last synced healthy (status.history). Pure: the responder's rules are tested without a cluster.
 */

/** One failed sync operation of one Application. */
export interface FailedSync {
  /** Stable per operation: the same failure seen again (or after a restart) has the same id. */
  readonly id: string;
  readonly application: string;
  readonly environment: string;
  readonly service: string;
  /** The commit the sync was applying. */
  readonly revision: string;
  /** `Failed` or `Error`. */
  readonly phase: string;
  /** The hook or resource that failed, e.g. `PostSync hook Job/app-service-post-sync`. */
  readonly failed?: string;
  /** Argo CD's message, credentials taken out, on one line. */
  readonly message: string;
  readonly finishedAt?: string;
}

const FAILED_PHASES = new Set(['Failed', 'Error']);
const MESSAGE_MAX = 300;

const firstRevision = (r?: { revision?: string; revisions?: readonly string[] }): string | undefined =>
  r?.revision || r?.revisions?.[0] || undefined;

const oneLine = (text: string): string => {
  const line = redactCredentials(text).replace(/\s+/g, ' ').trim();
  return line.length <= MESSAGE_MAX ? line : `${line.slice(0, MESSAGE_MAX - 3)}...`;
};

/** The Application's last operation, when it ended Failed or Error; undefined otherwise. */
export function failedSync(app: ArgoApplication): FailedSync | undefined {
  const op = app.status?.operationState;
  if (!op?.phase || !FAILED_PHASES.has(op.phase)) return undefined;
  const labels = app.metadata.labels ?? {};
  const service = labels[LABELS.service];
  const environment = labels[LABELS.environment];
  const revision = firstRevision(op.syncResult) ?? firstRevision(op.operation?.sync);
  if (!service || !environment || !revision) return undefined;
  // A failed hook names what failed best; a resource Argo CD could not apply is next.
  const resources = op.syncResult?.resources ?? [];
  const culprit =
    resources.find((r) => r.hookType && FAILED_PHASES.has(r.hookPhase ?? '')) ??
    resources.find((r) => r.status === 'SyncFailed');
  const failed = culprit
    ? `${culprit.hookType ? `${culprit.hookType} hook ` : ''}${culprit.kind}/${culprit.name}`
    : undefined;
  const message = oneLine(
    [culprit?.message, op.message].filter((m): m is string => !!m?.trim()).join('; ') || op.phase,
  );
  const id = `syncfail-${createHash('sha256')
    .update([app.metadata.name, op.startedAt ?? '', revision].join('\n'))
    .digest('hex')
    .slice(0, 16)}`;
  return {
    id,
    application: app.metadata.name,
    environment,
    service,
    revision,
    phase: op.phase,
    failed,
    message,
    finishedAt: op.finishedAt,
  };
}

/**
 * The revision Argo CD last synced to success: history holds successful syncs only, and a PostSync
 * smoke test runs once everything is healthy, so it is the last revision known healthy.
 */
export function lastHealthyRevision(app: ArgoApplication): string | undefined {
  const history = app.status?.history ?? [];
  for (let i = history.length - 1; i >= 0; i--) {
    const revision = firstRevision(history[i]);
    if (revision) return revision;
  }
  return undefined;
}

/** What the response did about the rollback, as the notice and the record say it. */
export type RollbackOutcome =
  | { readonly kind: 'off' }
  | { readonly kind: 'rolled-back'; readonly commit: string; readonly from: string; readonly to?: string }
  | { readonly kind: 'rollback-skipped'; readonly reason: string }
  | { readonly kind: 'rollback-failed'; readonly reason: string };

export function describeRollback(o: RollbackOutcome): string {
  switch (o.kind) {
    case 'off':
      return 'no rollback (hooks.syncFail.rollback is off)';
    case 'rolled-back':
      return `rolled back from ${o.from} to ${o.to ?? 'the pinned tag'} (commit ${o.commit.slice(0, 12)})`;
    case 'rollback-skipped':
      return `no rollback: ${o.reason}`;
    case 'rollback-failed':
      return `rollback failed: ${o.reason}`;
  }
}

/** The Application as a finding: the notifiers route and show findings. */
function asFinding(f: FailedSync): DriftFinding {
  return {
    id: f.id,
    object: {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      namespace: ARGOCD_NAMESPACE,
      name: f.application,
    },
    application: f.application,
    change: 'modified',
    fields: [],
    // A failed release goes to the high targets, as the stack file's hooks.syncFail.notify says.
    severity: 'high',
    action: 'heal-and-page',
    rule: 'hooks.syncFail',
    who: 'argocd',
  };
}

/** The one message a failed sync sends: what failed, at which revision, why, and what was done. */
export function syncFailNotice(f: FailedSync, action: string): DriftNotice {
  return {
    kind: 'sync-failed',
    environment: f.environment,
    finding: asFinding(f),
    detail: action,
    syncFailure: {
      application: f.application,
      service: f.service,
      revision: f.revision,
      phase: f.phase,
      failed: f.failed,
      message: f.message,
      action,
    },
  };
}

/** The Application as a record's object. */
export const applicationRef = (f: FailedSync) => asFinding(f).object;
