import { StoredRecord } from '../../drift/audit';
import { Commit, CommitSource } from '../../drift/dora/deployments';
import { ArgoApplication, HistoryEntry, OperationState } from '../../model/argo-application';

/*
 * Fixtures for the DORA figures: a linear Git history as Argo CD's repo server would see it, and
 * Applications as the API server returns them (history, last operation, sync and health).
 */

export const T = (minutes: number) =>
  new Date(Date.parse('2026-12-01T10:00:00Z') + minutes * 60_000).toISOString();
export const sha = (n: number) => n.toString(16).padStart(40, 'a');

/** Commits in order, oldest first: `between(a, b)` is every commit after a up to b on that line. */
export class LinearGit implements CommitSource {
  constructor(public readonly commits: Commit[]) {}

  public commit(s: string): Commit | undefined {
    return this.commits.find((c) => c.sha === s);
  }

  public between(from: string, to: string): readonly Commit[] {
    const i = this.commits.findIndex((c) => c.sha === from);
    const j = this.commits.findIndex((c) => c.sha === to);
    if (i < 0 || j < 0 || j <= i) return [];
    return this.commits.slice(i + 1, j + 1).reverse();
  }
}

export const commit = (n: number, minutes: number, reverts?: number): Commit => ({
  sha: sha(n),
  committedAt: T(minutes),
  reverts: reverts === undefined ? undefined : sha(reverts),
});

export const entry = (id: number, n: number, minutes: number): HistoryEntry => ({
  id,
  revision: sha(n),
  deployedAt: T(minutes),
  deployStartedAt: T(minutes - 0.1),
});

export function app(
  name: string,
  history: HistoryEntry[],
  now: {
    sync?: string;
    health?: string;
    revision?: string;
    healthSince?: string;
    operation?: OperationState;
  } = {},
): ArgoApplication {
  const last = history[history.length - 1];
  return {
    metadata: { name },
    status: {
      sync: { status: now.sync ?? 'Synced', revision: now.revision ?? last?.revision },
      health: { status: now.health ?? 'Healthy', lastTransitionTime: now.healthSince },
      history,
      operationState: now.operation,
    },
  };
}

let n = 0;
/** A DriftRecord as the controller stores it. */
export function rec(
  driftId: string,
  event: string,
  at: string,
  extra: Partial<StoredRecord> = {},
): StoredRecord {
  return {
    name: `${driftId}-${event}-${n++}`,
    driftId,
    event: event as StoredRecord['event'],
    environment: 'staging',
    object: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'staging-web', name: 'app-service' },
    severity: 'low',
    actor: 'converge',
    at,
    ...extra,
  };
}
