import { DRIFT_APPROVERS_ROLE } from '../model/constants';
import { UsageError } from '../model/errors';
import { AuditLog, AuditRecord } from './audit';
import { KubeApiError, KubeClient } from './kube/client';

/*
 * A person's decision on a held drift, shared by `converge approve|reject` and the approvals page:
 * the checks, the record and their words live here once. The AuditLog passed in acts with the
 * decider's own credentials, so the API server's RBAC and DriftApprovalPolicy judge the real requester.
 */

export type Decision = 'approved' | 'rejected';

/** Who the API server says someone is (a SelfSubjectReview or a TokenReview). */
export interface Identity {
  readonly username: string;
  readonly groups: readonly string[];
}

/** Why a decision was refused; the page answers each with its own HTTP status. */
export type DecisionProblem = 'malformed' | 'unknown' | 'decided' | 'not-held' | 'conflict' | 'forbidden';

/** A refused decision: bad input for the CLI (exit 2), a 4xx for the page. */
export class DecisionError extends UsageError {
  constructor(
    public readonly problem: DecisionProblem,
    message: string,
  ) {
    super(message);
  }
}

export interface DecisionRequest {
  readonly env: string;
  readonly id: string;
  readonly decision: Decision;
  readonly identity: Identity;
  readonly reason?: string;
}

export const DRIFT_ID = /^d-[0-9a-f]{12}$/;

/** The one line a malformed id gets, before any request. */
export function checkDriftId(id: string): void {
  if (!DRIFT_ID.test(id))
    throw new DecisionError(
      'malformed',
      `drift id ${JSON.stringify(id)} is malformed; ids look like "d-1a2b3c4d5e6f" (see \`converge drift\` or the held notification)`,
    );
}

/** What a refusal by RBAC says: who may decide, and where that is declared. */
export function mayNotDecide(user: string, namespace: string, env: string, why: string): string {
  return `${user} may not decide on drifts in ${namespace} (${why}); approvers are the groups and users under drift.approvers in Pulumi.${env}.yaml, bound to the Role ${DRIFT_APPROVERS_ROLE}-${env}`;
}

/** The caller's identity from a SelfSubjectReview: no RBAC needed, nothing stored. */
export async function whoAmI(client: KubeClient): Promise<Identity> {
  const review = await client.request<{ status?: { userInfo?: { username?: string; groups?: string[] } } }>(
    'POST',
    '/apis/authentication.k8s.io/v1/selfsubjectreviews',
    { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
  );
  const user = review?.status?.userInfo;
  if (!user?.username)
    throw new UsageError(
      'the cluster answered the SelfSubjectReview without a username, so the decision could not name who made it; check --kubeconfig and --context',
    );
  return { username: user.username, groups: user.groups ?? [] };
}

/**
 * Checks the drift is held and undecided, then writes the decision as `identity`; returns the
 * record. `audit` must carry the decider's credentials: its 403s become the approvers' line.
 */
export async function recordDecision(
  audit: Pick<AuditLog, 'namespace' | 'list' | 'record'>,
  request: DecisionRequest,
  now: () => Date = () => new Date(),
): Promise<AuditRecord> {
  checkDriftId(request.id);
  const { id, env, identity } = request;
  const namespace = audit.namespace;
  const allowed = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 403)
        throw new DecisionError('forbidden', mayNotDecide(identity.username, namespace, env, err.message));
      throw err;
    }
  };
  const records = (await allowed(() => audit.list())).filter((r) => r.driftId === id);
  const detected = records.find((r) => r.event === 'detected');
  if (!detected)
    throw new DecisionError(
      'unknown',
      `drift ${id} has no record in ${namespace}; list held drifts with \`converge drift --env ${env}\``,
    );
  const done = records.find((r) => ['approved', 'rejected', 'restored'].includes(r.event));
  if (done)
    throw new DecisionError(
      'decided',
      `drift ${id} is already ${done.event} (by ${done.actor} at ${done.at}); nothing to decide`,
    );
  if (!records.some((r) => r.event === 'held'))
    throw new DecisionError(
      'not-held',
      `drift ${id} is not held for approval (its policy action is ${detected.action}); nothing to decide`,
    );
  // The detected record's name goes too: storedForm names the decision's own.
  const record: AuditRecord = {
    ...detected,
    event: request.decision,
    at: now().toISOString(),
    actor: identity.username,
    groups: identity.groups,
    outcome:
      request.decision === 'approved' ? 'heal approved' : 'live change accepted; it will not be healed',
    detail: request.reason,
  };
  // The record's name is the drift's and the event's: one that exists is someone else's decision.
  if (!(await allowed(() => audit.record(record))))
    throw new DecisionError(
      'conflict',
      `drift ${id} was ${request.decision} by someone else just now (the record ${id}-${request.decision} exists); see it with \`kubectl get drift -n ${namespace} ${id}-${request.decision}\``,
    );
  return record;
}
