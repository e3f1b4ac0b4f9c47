import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import {
  CONVERGE_NAMESPACE,
  DRIFT_APPROVERS_ROLE,
  DRIFT_RECORD,
  LABELS,
  PART_OF,
} from '../../model/constants';
import { isDnsLabel, validate } from '../../model/validators';
import { approverProblem } from '../../config/drift-schema';

export interface DriftApproverRoleProps {
  readonly environment: string;
  /** Where the DriftRecords are. @default "converge-system" */
  readonly namespace?: string;
  /** Kubernetes groups that may approve or reject held drifts. @default none */
  readonly groups?: readonly string[];
  /** Kubernetes users that may approve or reject held drifts. @default none */
  readonly users?: readonly string[];
}

/**
 * Who may decide on this environment's held drifts: a Role that creates and reads DriftRecords
 * (never updates or deletes one), bound to the declared groups and users. None declared, no
 * binding: only cluster admins decide. Who the decision names is checked by DriftApprovalPolicy.
 */
export class DriftApproverRole extends Construct {
  public readonly name: string;
  public readonly namespace: string;
  public readonly groups: readonly string[];
  public readonly users: readonly string[];
  public readonly role: ApiObject;
  public readonly binding?: ApiObject;

  constructor(scope: Construct, id: string, props: DriftApproverRoleProps) {
    super(scope, id);
    const environment = validate('environment', props.environment, isDnsLabel);
    this.namespace = validate('namespace', props.namespace ?? CONVERGE_NAMESPACE, isDnsLabel);
    // Sorted and unique: the same declaration renders the same bytes.
    const subjectsOf = (kind: 'group' | 'user', names: readonly string[] = []) =>
      [
        ...new Set(names.map((v, i) => validate(`${kind}s[${i}]`, v, (n) => approverProblem(kind, n)))),
      ].sort();
    this.groups = subjectsOf('group', props.groups);
    this.users = subjectsOf('user', props.users);
    this.name = `${DRIFT_APPROVERS_ROLE}-${environment}`;
    const metadata = {
      name: this.name,
      namespace: this.namespace,
      labels: { [LABELS.partOf]: PART_OF, [LABELS.environment]: environment },
    };
    this.role = new ApiObject(this, 'Resource', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata,
      rules: [
        {
          apiGroups: [DRIFT_RECORD.group],
          resources: [DRIFT_RECORD.plural],
          // Reads find the held drift; create records the decision. Records are never changed.
          verbs: ['create', 'get', 'list', 'watch'],
        },
      ],
    });
    const subjects = [
      ...this.groups.map((name) => ({ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name })),
      ...this.users.map((name) => ({ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name })),
    ];
    if (subjects.length)
      this.binding = new ApiObject(this, 'Binding', {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata,
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: this.name },
        subjects,
      });
  }
}
