/*
 * Deployments, as Argo CD's own records tell them: an Application's `status.history` (one entry per
 * successful sync: revision, deployedAt) and its last `status.operationState` (a failed sync is only
 * there), with the commits of the desired-state repo. Pure: the caller brings the Application and
 * a way to read commits, so every rule is tested with fixtures.
 */

import { ArgoApplication } from '../../model/argo-application';

/** A commit of the desired-state repo. */
export interface Commit {
  readonly sha: string;
  /** Committer date (RFC 3339, whole seconds): when the change entered the branch. */
  readonly committedAt: string;
  /** The commit this one reverts, from git's "This reverts commit <sha>." line. */
  readonly reverts?: string;
}

/** How the figures read Git: one commit, and the commits a deployment brought (`from..to`). */
export interface CommitSource {
  commit(sha: string): Commit | undefined;
  /** Commits reachable from `to` and not from `from`, newest first; empty when either is unknown. */
  between(from: string, to: string): readonly Commit[];
}

/** succeeded, failed (the sync failed), or rolled_back (back to an earlier revision, or a revert). */
export const DEPLOYMENT_OUTCOMES = ['succeeded', 'failed', 'rolled_back'] as const;
export type DeploymentOutcome = (typeof DEPLOYMENT_OUTCOMES)[number];

export interface Deployment {
  /** Stable across reads and restarts: the Application and its history id, or the failed operation's start. */
  readonly id: string;
  readonly application: string;
  readonly revision: string;
  /** When the sync ended (history's deployedAt, or the failed operation's finishedAt). */
  readonly at: string;
  readonly outcome: DeploymentOutcome;
  /**
   * When the Application was Synced and Healthy at this revision: for the revision it is at now,
   * the later of deployedAt and the health's last transition, once Argo CD says Synced and Healthy;
   * for a revision since replaced, its deployedAt (no health of the past is kept). Never for a failure.
   */
  readonly healthyAt?: string;
  /** The deployed revision's commit, when Git has it. */
  readonly commit?: Commit;
  /** For a rollback or revert: the deployment it undid (the one just before). */
  readonly undid?: string;
}

/** A failed sync: Argo CD keeps only its last operation, so the collector remembers the failures it saw. */
export interface FailedSync {
  readonly id: string;
  readonly application: string;
  readonly revision: string;
  readonly at: string;
}

/** A revert commit's message names what it reverts; `git revert` writes exactly this line. */
export const REVERTS = /^This reverts commit ([0-9a-f]{7,40})\b/m;

/** The revision of an Application's source in `repoURL` (its first source there), else its only one. */
function revisionIn(
  app: ArgoApplication,
  entry: { revision?: string; revisions?: readonly string[] },
  repoURL?: string,
) {
  if (entry.revisions?.length) {
    const sources = app.spec?.sources ?? [];
    const i = repoURL ? sources.findIndex((s) => s.repoURL === repoURL) : 0;
    return entry.revisions[i < 0 ? 0 : i];
  }
  return entry.revision;
}

/** The Application's last operation, when it is a sync that failed. */
export function failedSyncOf(app: ArgoApplication, repoURL?: string): FailedSync | undefined {
  const op = app.status?.operationState;
  if (!op || !['Failed', 'Error'].includes(op.phase ?? '') || !op.finishedAt) return undefined;
  const revision =
    revisionIn(app, op.syncResult ?? {}, repoURL) ?? revisionIn(app, op.operation?.sync ?? {}, repoURL);
  if (!revision) return undefined;
  return {
    id: `${app.metadata.name}@${op.startedAt ?? op.finishedAt}`,
    application: app.metadata.name,
    revision,
    at: op.finishedAt,
  };
}

/**
 * The Application's deployments, oldest first: each history entry at a revision other than the
 * entry before it (a self-heal or a re-sync of the same revision deploys nothing new), plus the
 * failed syncs given (its last operation's, and any the caller remembers).
 */
export function deploymentsOf(
  app: ArgoApplication,
  commits: CommitSource,
  options: { readonly repoURL?: string; readonly failed?: readonly FailedSync[] } = {},
): Deployment[] {
  const name = app.metadata.name;
  const history = [...(app.status?.history ?? [])]
    .filter((h) => h.deployedAt && revisionIn(app, h, options.repoURL))
    .sort((a, b) => (a.id ?? 0) - (b.id ?? 0) || a.deployedAt!.localeCompare(b.deployedAt!));
  const now = app.status;
  const current =
    now?.sync?.status === 'Synced' && now.health?.status === 'Healthy'
      ? revisionIn(app, now.sync, options.repoURL)
      : undefined;
  const out: Deployment[] = [];
  const seen = new Set<string>();
  let prev: Deployment | undefined;
  history.forEach((h, i) => {
    const revision = revisionIn(app, h, options.repoURL)!;
    if (prev && revision === prev.revision) return;
    const last = history.slice(i + 1).every((later) => revisionIn(app, later, options.repoURL) === revision);
    const brought = prev ? commits.between(prev.revision, revision) : [];
    const rollback = prev !== undefined && (seen.has(revision) || brought.some((c) => c.reverts));
    const healthyAt = !last
      ? h.deployedAt
      : current === revision
        ? latest(h.deployedAt!, now?.health?.lastTransitionTime)
        : undefined;
    const d: Deployment = {
      id: `${name}#${h.id ?? h.deployedAt}`,
      application: name,
      revision,
      at: h.deployedAt!,
      outcome: rollback ? 'rolled_back' : 'succeeded',
      healthyAt,
      commit: commits.commit(revision),
      undid: rollback ? prev!.id : undefined,
    };
    out.push(d);
    seen.add(revision);
    prev = d;
  });
  const failed = new Map<string, FailedSync>();
  const last = failedSyncOf(app, options.repoURL);
  for (const f of [...(options.failed ?? []), ...(last ? [last] : [])])
    if (f.application === name) failed.set(f.id, f);
  for (const f of failed.values())
    out.push({ id: f.id, application: name, revision: f.revision, at: f.at, outcome: 'failed' });
  return out.sort((a, b) => a.at.localeCompare(b.at) || a.id.localeCompare(b.id));
}

function latest(a: string, b?: string): string {
  return b && Date.parse(b) > Date.parse(a) ? b : a;
}

/** Seconds from a commit to its deployment being Synced and Healthy; undefined when unknown or skewed. */
export function leadTimeSeconds(d: Deployment): number | undefined {
  if (d.outcome === 'failed' || !d.healthyAt || !d.commit) return undefined;
  const s = (Date.parse(d.healthyAt) - Date.parse(d.commit.committedAt)) / 1000;
  // A commit dated after its own deployment: the committer's clock is off; no lead time to trust.
  return Number.isFinite(s) && s >= 0 ? s : undefined;
}

/** True when the commit is dated after the deployment was healthy: a clock skew, reported apart. */
export function isSkewed(d: Deployment): boolean {
  return (
    d.outcome !== 'failed' &&
    !!d.healthyAt &&
    !!d.commit &&
    Date.parse(d.commit.committedAt) > Date.parse(d.healthyAt)
  );
}

/** A failure and when it was over: a failed sync until the next healthy deployment, a rolled-back one until its rollback was healthy. */
export interface Restore {
  readonly id: string;
  readonly application: string;
  readonly from: string;
  readonly to: string;
  readonly seconds: number;
}

/** Restores from failed deployments, in the order they ended. */
export function deploymentRestores(deployments: readonly Deployment[]): Restore[] {
  const out: Restore[] = [];
  const byId = new Map(deployments.map((d) => [d.id, d]));
  const ok = deployments.filter((d) => d.outcome !== 'failed' && d.healthyAt);
  for (const d of deployments) {
    if (d.outcome === 'failed') {
      const next = ok.find((o) => o.at > d.at);
      if (next) out.push(restore(`${d.id}`, d.application, d.at, next.healthyAt!));
    } else if (d.outcome === 'rolled_back' && d.healthyAt && d.undid) {
      const bad = byId.get(d.undid);
      if (bad) out.push(restore(bad.id, d.application, bad.at, d.healthyAt));
    }
  }
  return out.sort((a, b) => a.to.localeCompare(b.to) || a.id.localeCompare(b.id));
}

const restore = (id: string, application: string, from: string, to: string): Restore => ({
  id,
  application,
  from,
  to,
  seconds: Math.max(0, Date.parse(to) - Date.parse(from)) / 1000,
});
