import { loadStackConfig } from '../../config/stack-file';
import { AuditLog, AuditRecord } from '../../drift/audit';
import { KubeApiError, KubeClient } from '../../drift/kube/client';
import { clusterAccess } from './cluster-access';
import { UsageError } from '../../model/errors';
import { DRIFT_APPROVERS_ROLE } from '../../model/constants';

export interface DecideOptions {
  readonly env: string;
  readonly id: string;
  readonly decision: 'approved' | 'rejected';
  /** Removed: the record names the caller's Kubernetes identity. Given, the command fails. */
  readonly by?: string;
  readonly reason?: string;
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly stacksDir?: string;
}

/** Who the API server says the caller is (a SelfSubjectReview: no RBAC needed, nothing stored). */
export interface Identity {
  readonly username: string;
  readonly groups: readonly string[];
}

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
 * `converge approve|reject <id>`: records a human's decision on a held drift. The controller
 * heals an approved drift; a rejected one is accepted as it is and never healed behind anyone's back.
 * The record names the caller as the API server authenticates them, and the API server refuses a
 * decision that names anyone else (DriftApprovalPolicy).
 */
export async function decide(options: DecideOptions): Promise<number> {
  if (!/^d-[0-9a-f]{12}$/.test(options.id)) {
    throw new UsageError(
      `drift id ${JSON.stringify(options.id)} is malformed; ids look like "d-1a2b3c4d5e6f" (see \`converge drift\` or the held notification)`,
    );
  }
  const { config } = loadStackConfig(options.env, { dir: options.stacksDir });
  const kc = clusterAccess(options);
  const client = new KubeClient(kc);
  const me = await whoAmI(client);
  if (options.by !== undefined)
    throw new UsageError(
      `--by is gone: the approval records your Kubernetes identity (${me.username}), as the API server authenticates it; drop --by ${JSON.stringify(options.by)}, and to decide as someone else use their kubeconfig (--kubeconfig or --context)`,
    );
  const namespace = config.drift.controller.namespace;
  const audit = new AuditLog(client, namespace);
  // Refused by RBAC (reading or recording): say who may decide, and where that is declared.
  const allowed = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 403)
        throw new UsageError(
          `${me.username} may not decide on drifts in ${namespace} (${err.message}); approvers are the groups and users under drift.approvers in Pulumi.${options.env}.yaml, bound to the Role ${DRIFT_APPROVERS_ROLE}-${options.env}`,
        );
      throw err;
    }
  };
  const records = (await allowed(() => audit.list())).filter((r) => r.driftId === options.id);
  const detected = records.find((r) => r.event === 'detected');
  if (!detected)
    throw new UsageError(
      `drift ${options.id} has no record in ${namespace}; list held drifts with \`converge drift --env ${options.env}\``,
    );
  const done = records.find((r) => ['approved', 'rejected', 'restored'].includes(r.event));
  if (done)
    throw new UsageError(
      `drift ${options.id} is already ${done.event} (by ${done.actor} at ${done.at}); nothing to decide`,
    );
  if (!records.some((r) => r.event === 'held'))
    throw new UsageError(
      `drift ${options.id} is not held for approval (its policy action is ${detected.action}); nothing to decide`,
    );
  const record: AuditRecord = {
    ...detected,
    event: options.decision,
    at: new Date().toISOString(),
    actor: me.username,
    groups: me.groups,
    outcome:
      options.decision === 'approved' ? 'heal approved' : 'live change accepted; it will not be healed',
    detail: options.reason,
  };
  // The record's name is the drift's and the event's: one that exists is someone else's decision.
  if (!(await allowed(() => audit.record(record))))
    throw new UsageError(
      `drift ${options.id} was ${options.decision} by someone else just now (the record ${options.id}-${options.decision} exists); see it with \`kubectl get drift -n ${namespace} ${options.id}-${options.decision}\``,
    );
  console.log(`${options.id} ${options.decision} by ${me.username}: ${record.outcome}`);
  return 0;
}
