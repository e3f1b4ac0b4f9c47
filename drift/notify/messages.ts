import { describeRef } from '../../model/objects';
import { DriftFinding } from '../engine/find-drift';
import { describeField } from '../report';

/* What a drift notification says, whatever the channel. */

export type NoticeKind = 'drift' | 'recovered' | 'recurring' | 'sync-failed';

/** A sync that failed (hooks.syncFail), and what the controller did about it. */
export interface SyncFailure {
  readonly application: string;
  readonly service: string;
  /** The commit the sync was applying. */
  readonly revision: string;
  /** Argo CD's phase: `Failed` or `Error`. */
  readonly phase: string;
  /** The hook or resource that failed, when Argo CD names one. */
  readonly failed?: string;
  readonly message: string;
  /** The action taken: the rollback commit, or why there was none. */
  readonly action: string;
}

export interface DriftNotice {
  readonly kind: NoticeKind;
  readonly environment: string;
  readonly finding: DriftFinding;
  /** Seconds from onset to restore, for "recovered". */
  readonly timeToRestoreSeconds?: number;
  readonly detail?: string;
  /** For "sync-failed". */
  readonly syncFailure?: SyncFailure;
}

/** Where a notice went, and whether it arrived. */
export interface Delivery {
  readonly target: string;
  readonly ok: boolean;
  readonly detail: string;
}

export function headline(n: DriftNotice): string {
  const f = n.finding;
  const what = `${describeRef(f.object)} in ${n.environment}`;
  switch (n.kind) {
    case 'recovered':
      return `[recovered] ${what} is back in its Git state${n.timeToRestoreSeconds !== undefined ? ` after ${n.timeToRestoreSeconds.toFixed(1)} s` : ''}`;
    case 'sync-failed': {
      const s = n.syncFailure;
      if (!s) return `[${f.severity}] ${what}: a sync failed`;
      return `[${f.severity}] sync of ${s.application} in ${n.environment} to ${s.revision.slice(0, 12)} ${s.phase.toLowerCase()}${s.failed ? ` at ${s.failed}` : ''}: ${s.message}; ${s.action}`;
    }
    case 'recurring':
      return `[${f.severity}] ${what} keeps drifting: something is fighting Git (${n.detail ?? 'repeated heals'})`;
    default:
      return `[${f.severity}] ${what} drifted from Git (${f.change}); policy: ${f.action} (rule ${f.rule}); by ${f.who}`;
  }
}

/** The line after the headline: how to act on a drift, or on a failed sync. */
export const nextStep = (n: DriftNotice): string =>
  n.kind === 'sync-failed'
    ? `Failed sync ${n.finding.id}. See: argocd app get ${n.syncFailure?.application ?? n.finding.object.name}`
    : `Drift ${n.finding.id}. Approve with: converge approve ${n.finding.id}`;

/** One bullet per changed field, Git → live. */
export const fieldLines = (f: DriftFinding): string =>
  f.fields.map((x) => `• ${describeField(x)}`).join('\n');
