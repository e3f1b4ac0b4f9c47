import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { CONVERGE_NAMESPACE, DRIFT_RECORD, LABELS, PART_OF } from '../../model/constants';
import { isDnsLabel, validate } from '../../model/validators';
import { approverProblem } from '../../config/drift-schema';

export interface DriftRecordsRoleProps {
  readonly environment: string;
  /** Where the DriftRecords are. @default "converge-system" */
  readonly namespace?: string;
  /** Kubernetes groups bound to the Role. @default none */
  readonly groups?: readonly string[];
  /** Kubernetes users bound to the Role. @default none */
  readonly users?: readonly string[];
}

/** What a records Role is for: its name prefix, its verbs, and whose names it checks. */
export interface DriftRecordsAccess {
  readonly rolePrefix: string;
  readonly verbs: readonly string[];
  readonly purpose: 'approve' | 'view';
}

/**
 * A per-environment Role on DriftRecords (never update or delete), bound to the declared groups and
 * users. It renders with no one declared too, so an admin can bind it by hand; the binding then does not.
 */
export abstract class DriftRecordsRole extends Construct {
  public readonly name: string;
  public readonly namespace: string;
  public readonly groups: readonly string[];
  public readonly users: readonly string[];
  public readonly role: ApiObject;
  public readonly binding?: ApiObject;

  protected constructor(
    scope: Construct,
    id: string,
    props: DriftRecordsRoleProps,
    access: DriftRecordsAccess,
  ) {
    super(scope, id);
    const environment = validate('environment', props.environment, isDnsLabel);
    this.namespace = validate('namespace', props.namespace ?? CONVERGE_NAMESPACE, isDnsLabel);
    // Sorted and unique: the same declaration renders the same bytes.
    const subjectsOf = (kind: 'group' | 'user', names: readonly string[] = []) =>
      [
        ...new Set(
          names.map((v, i) => validate(`${kind}s[${i}]`, v, (n) => approverProblem(kind, n, access.purpose))),
        ),
      ].sort();
    this.groups = subjectsOf('group', props.groups);
    this.users = subjectsOf('user', props.users);
    this.name = `${access.rolePrefix}-${environment}`;
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
        { apiGroups: [DRIFT_RECORD.group], resources: [DRIFT_RECORD.plural], verbs: [...access.verbs] },
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
