import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { CONVERGE_NAMESPACE, LABELS, PART_OF } from '../../model/constants';
import { DriftPolicySpec, validateDriftPolicy } from '../../model/drift-policy';
import { isDnsLabel, validate } from '../../model/validators';
import { toYaml } from '../../model/yaml';

export interface DriftPolicyProps {
  readonly policy: DriftPolicySpec;
  /** Namespace the drift controller runs in. @default "converge-system" */
  readonly namespace?: string;
  /** @default "converge-drift-policy" */
  readonly name?: string;
}

/** The policy as a ConfigMap, which the in-cluster drift controller reads. */
export class DriftPolicy extends Construct {
  public readonly policy: DriftPolicySpec;
  public readonly resource: ApiObject;

  constructor(scope: Construct, id: string, props: DriftPolicyProps) {
    super(scope, id);
    this.policy = validateDriftPolicy(props.policy);
    this.resource = new ApiObject(this, 'Resource', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: props.name ?? 'converge-drift-policy',
        namespace: validate('namespace', props.namespace ?? CONVERGE_NAMESPACE, isDnsLabel),
        labels: { [LABELS.partOf]: PART_OF },
      },
      data: { 'policy.yaml': toYaml(this.policy) },
    });
  }
}
