import * as pulumi from '@pulumi/pulumi';
import { KubeObject } from '../model/objects';

// The Kubernetes provider's own version: resources must ask for the plugin the SDK matches.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const PROVIDER_VERSION: string = require('@pulumi/kubernetes/package.json').version;

/** The provider's type token for an object, e.g. `kubernetes:core/v1:Namespace`. */
export function typeToken(obj: Pick<KubeObject, 'apiVersion' | 'kind'>): string {
  const groupVersion = obj.apiVersion.includes('/') ? obj.apiVersion : `core/${obj.apiVersion}`;
  return `kubernetes:${groupVersion}:${obj.kind}`;
}

/** Logical name of an object in the stack: `namespace/name`, or `name` when cluster-scoped. */
export function logicalName(obj: KubeObject): string {
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name;
}

/**
 * Any synthesized object as a Kubernetes provider resource. The typed classes of
 * `@pulumi/kubernetes` register the same token; one generic class keeps the deploy order explicit
 * without a switch over every kind.
 */
export class KubeObjectResource extends pulumi.CustomResource {
  public readonly apiVersion!: pulumi.Output<string>;
  public readonly kind!: pulumi.Output<string>;
  public readonly metadata!: pulumi.Output<{ name: string; namespace?: string; uid?: string }>;

  constructor(obj: KubeObject, opts: pulumi.CustomResourceOptions = {}) {
    super(typeToken(obj), logicalName(obj), { ...obj }, { version: PROVIDER_VERSION, ...opts });
  }
}
