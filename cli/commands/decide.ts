import { userInfo } from 'node:os';
import { loadStackConfig } from '../../config/stack-file';
import { AuditLog, AuditRecord } from '../../drift/audit';
import { KubeClient } from '../../drift/kube/client';
import { clusterAccess } from './cluster-access';
import { UsageError } from '../../model/errors';

export interface DecideOptions {
  readonly env: string;
  readonly id: string;
  readonly decision: 'approved' | 'rejected';
  readonly by?: string;
  readonly reason?: string;
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly stacksDir?: string;
}

/**
 * `converge approve|reject <id>`: records a human's decision on a held drift. The controller
 * heals an approved drift; a rejected one is accepted as it is and never healed behind anyone's back.
 */
export async function decide(options: DecideOptions): Promise<number> {
  if (!/^d-[0-9a-f]{12}$/.test(options.id)) {
    throw new UsageError(
      `drift id "${options.id}" is malformed; ids look like "d-1a2b3c4d5e6f" (see \`converge drift\` or the held notification)`,
    );
  }
  const { config } = loadStackConfig(options.env, { dir: options.stacksDir });
  const kc = clusterAccess(options);
  const audit = new AuditLog(new KubeClient(kc), config.drift.controller.namespace);
  const records = (await audit.list()).filter((r) => r.driftId === options.id);
  const detected = records.find((r) => r.event === 'detected');
  if (!detected)
    throw new UsageError(
      `drift ${options.id} has no record in ${config.drift.controller.namespace}; list held drifts with \`converge drift --env ${options.env}\``,
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
  const by = options.by ?? process.env.USER ?? userInfo().username;
  const record: AuditRecord = {
    ...detected,
    event: options.decision,
    at: new Date().toISOString(),
    actor: by,
    outcome:
      options.decision === 'approved' ? 'heal approved' : 'live change accepted; it will not be healed',
    detail: options.reason,
  };
  await audit.record(record);
  console.log(`${options.id} ${options.decision} by ${by}: ${record.outcome}`);
  return 0;
}
