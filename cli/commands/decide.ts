import { loadStackConfig } from '../../config/stack-file';
import { AuditLog } from '../../drift/audit';
import { checkDriftId, Decision, recordDecision, whoAmI } from '../../drift/decisions';
import { KubeClient } from '../../drift/kube/client';
import { clusterAccess } from './cluster-access';
import { UsageError } from '../../model/errors';

export interface DecideOptions {
  readonly env: string;
  readonly id: string;
  readonly decision: Decision;
  /** Removed: the record names the caller's Kubernetes identity. Given, the command fails. */
  readonly by?: string;
  readonly reason?: string;
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly stacksDir?: string;
}

/**
 * `converge approve|reject <id>`: records a human's decision on a held drift. The controller
 * heals an approved drift; a rejected one is accepted as it is and never healed behind anyone's back.
 * The record names the caller as the API server authenticates them, and the API server refuses a
 * decision that names anyone else (DriftApprovalPolicy). The checks are drift/decisions.ts's,
 * shared with the approvals page.
 */
export async function decide(options: DecideOptions): Promise<number> {
  checkDriftId(options.id);
  const { config } = loadStackConfig(options.env, { dir: options.stacksDir });
  const kc = clusterAccess(options);
  const client = new KubeClient(kc);
  const me = await whoAmI(client);
  if (options.by !== undefined)
    throw new UsageError(
      `--by is gone: the approval records your Kubernetes identity (${me.username}), as the API server authenticates it; drop --by ${JSON.stringify(options.by)}, and to decide as someone else use their kubeconfig (--kubeconfig or --context)`,
    );
  const audit = new AuditLog(client, config.drift.controller.namespace);
  const record = await recordDecision(audit, {
    env: options.env,
    id: options.id,
    decision: options.decision,
    identity: me,
    reason: options.reason,
  });
  console.log(`${options.id} ${options.decision} by ${me.username}: ${record.outcome}`);
  return 0;
}
