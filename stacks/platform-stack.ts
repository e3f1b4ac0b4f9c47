import * as pulumi from '@pulumi/pulumi';
import { KubeObject } from '../model/objects';
import { DEPLOY_PHASES, planDeployment } from './deploy-plan';
import { KubeObjectResource } from './kube-object-resource';

export interface PlatformStackArgs {
  /** Synthesized objects of one environment (`converge synth` output). */
  readonly objects: readonly KubeObject[];
  /** Do not wait for workloads to become ready (for clusters without nodes). @default false */
  readonly skipAwait?: boolean;
}

/**
 * Deploys one environment's synthesized platform: Argo CD's installation and the objects that
 * point Argo CD at Git. Argo CD then owns everything the services need.
 */
export class PlatformStack extends pulumi.ComponentResource {
  /** Resources by phase, in apply order. */
  public readonly phases: ReadonlyMap<string, readonly KubeObjectResource[]>;
  public readonly resourceCount: pulumi.Output<number>;

  constructor(name: string, args: PlatformStackArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super('converge:index:Platform', name, {}, opts);
    const plan = planDeployment(args.objects);
    const phases = new Map<string, KubeObjectResource[]>();
    let previous: KubeObjectResource[] = [];
    for (const phase of DEPLOY_PHASES) {
      const created = plan.get(phase)!.map(
        (obj) =>
          new KubeObjectResource(args.skipAwait ? withSkipAwait(obj) : obj, {
            parent: this,
            dependsOn: previous,
          }),
      );
      phases.set(phase, created);
      if (created.length > 0) previous = created;
    }
    this.phases = phases;
    this.resourceCount = pulumi.output(args.objects.length);
    this.registerOutputs({ resourceCount: this.resourceCount });
  }
}

function withSkipAwait(obj: KubeObject): KubeObject {
  return {
    ...obj,
    metadata: {
      ...obj.metadata,
      annotations: { ...obj.metadata.annotations, 'pulumi.com/skipAwait': 'true' },
    },
  };
}
