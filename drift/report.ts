import { DriftPolicySpec, FieldChange } from '../model/drift-policy';
import { formatTable, short } from '../model/text';
import { describeRef } from '../model/objects';
import { DriftFinding } from './engine/find-drift';
import { ArgoStatus } from './kube/argocd';

export const describeField = (f: FieldChange) =>
  f.path === '' ? `${short(f.from)} → ${short(f.to)}` : `${f.path}: ${short(f.from)} → ${short(f.to)}`;

/** One row per drifted object: what changed (Git → live), how severe, what the policy does, who. */
export function driftTable(
  findings: readonly DriftFinding[],
  argo: ReadonlyMap<string, ArgoStatus> = new Map(),
): string {
  const withArgo = argo.size > 0;
  const headers = [
    'ID',
    'OBJECT',
    'CHANGE',
    'FIELDS (GIT → LIVE)',
    'SEVERITY',
    'POLICY ACTION',
    'RULE',
    'WHO',
    ...(withArgo ? ['ARGO CD'] : []),
  ];
  const rows = findings.map((f) => {
    const status = f.application ? argo.get(f.application) : undefined;
    return [
      f.id,
      describeRef(f.object),
      f.change,
      f.fields.map(describeField).join('; '),
      f.severity,
      f.action,
      f.rule,
      f.who,
      ...(withArgo
        ? [
            status
              ? `${f.application}: ${status.sync ?? '?'}/${status.health ?? '?'}`
              : f.application
                ? `${f.application}: not found`
                : '(Pulumi-owned)',
          ]
        : []),
    ];
  });
  return formatTable(headers, rows);
}

/** The policy as a table: the order is the order rules are tried in. */
export function policyTable(policy: DriftPolicySpec): string {
  const rows = policy.rules.map((r, i) => {
    const m = r.match;
    const what = [
      m.group !== undefined ? `group=${m.group === '' ? '(core)' : m.group}` : '',
      m.kind ? `kind=${m.kind}` : '',
      m.namespace ? `namespace=${m.namespace}` : '',
      m.name ? `name=${m.name}` : '',
      m.fields ? `fields=${m.fields.join(',')}` : '',
      m.change ? `change=${m.change.join(',')}` : '',
      m.valueNotMatching ? `value!~${m.valueNotMatching}` : '',
    ]
      .filter(Boolean)
      .join(' ');
    return [String(i + 1), r.name, what || '(anything)', r.severity, r.action];
  });
  rows.push(['-', 'fallback', '(no rule matched)', policy.fallback.severity, policy.fallback.action]);
  return formatTable(['#', 'RULE', 'MATCHES', 'SEVERITY', 'ACTION'], rows);
}
