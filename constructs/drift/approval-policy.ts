import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import {
  CONVERGE_NAMESPACE,
  DECISION_EVENTS,
  DRIFT_CONTROLLER_NAME,
  DRIFT_RECORD,
  LABELS,
  PART_OF,
} from '../../model/constants';
import { isDnsLabel, validate } from '../../model/validators';

export interface DriftApprovalPolicyProps {
  /** Names the policy and its binding: `converge-drift-decisions-<environment>`. */
  readonly environment: string;
  /** The namespace of the records the policy guards. @default "converge-system" */
  readonly namespace?: string;
  /** The drift controller's ServiceAccount, the only writer of records other than decisions. @default "converge-drift" */
  readonly controllerServiceAccount?: string;
}

/** CEL list literal of the decision events, e.g. `['approved', 'rejected']`. */
const DECISIONS = `[${DECISION_EVENTS.map((e) => `'${e}'`).join(', ')}]`;

/**
 * The API server's own check of who wrote a DriftRecord (a ValidatingAdmissionPolicy and its
 * binding, failing closed): a decision must name its requester as `spec.actor`, and claim no group
 * the requester is not in; any other record comes from the drift controller's ServiceAccount, or
 * from a cluster admin (`system:masters`, who can remove this policy anyway) running
 * `converge watch` outside the cluster.
 */
export class DriftApprovalPolicy extends Construct {
  public readonly name: string;
  public readonly namespace: string;
  public readonly controllerUsername: string;
  public readonly policy: ApiObject;
  public readonly binding: ApiObject;

  constructor(scope: Construct, id: string, props: DriftApprovalPolicyProps) {
    super(scope, id);
    const environment = validate('environment', props.environment, isDnsLabel);
    this.namespace = validate('namespace', props.namespace ?? CONVERGE_NAMESPACE, isDnsLabel);
    const sa = validate(
      'controllerServiceAccount',
      props.controllerServiceAccount ?? DRIFT_CONTROLLER_NAME,
      isDnsLabel,
    );
    this.controllerUsername = `system:serviceaccount:${this.namespace}:${sa}`;
    this.name = `converge-drift-decisions-${environment}`;
    const labels = { [LABELS.partOf]: PART_OF, [LABELS.environment]: environment };

    this.policy = new ApiObject(this, 'Resource', {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name: this.name, labels },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': this.namespace } },
          // Creates only: the CRD's transition rule refuses updates, RBAC refuses deletes.
          resourceRules: [
            {
              apiGroups: [DRIFT_RECORD.group],
              apiVersions: ['*'],
              operations: ['CREATE'],
              resources: [DRIFT_RECORD.plural],
            },
          ],
        },
        variables: [{ name: 'decision', expression: `object.spec.event in ${DECISIONS}` }],
        validations: [
          {
            expression: '!variables.decision || object.spec.actor == request.userInfo.username',
            message:
              'a decision on a drift records who made it: spec.actor must be your Kubernetes username; decide with `converge approve|reject`',
            messageExpression:
              "'a decision on a drift records who made it: spec.actor is \"' + object.spec.actor + '\" but you are \"' + request.userInfo.username + '\"; decide with `converge approve|reject`, which records your identity'",
            reason: 'Forbidden',
          },
          {
            expression:
              '!variables.decision || !has(object.spec.groups) || object.spec.groups.all(g, g in request.userInfo.groups)',
            message: "a decision may list only its author's own groups in spec.groups",
            reason: 'Forbidden',
          },
          {
            expression: `variables.decision || request.userInfo.username == '${this.controllerUsername}' || 'system:masters' in request.userInfo.groups`,
            message: `only the drift controller (${this.controllerUsername}) records DriftRecords other than ${DECISION_EVENTS.join(' and ')}`,
            reason: 'Forbidden',
          },
        ],
      },
    });
    this.binding = new ApiObject(this, 'Binding', {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name: this.name, labels },
      spec: { policyName: this.name, validationActions: ['Deny'] },
    });
  }
}
