import { KubeObject } from '../model/objects';

/**
 * The order `pulumi up` applies the platform in. Each phase waits for the one before it:
 * namespaces, then CRDs (so their kinds exist), then Argo CD itself, then the objects that point
 * Argo CD at Git (projects before the ApplicationSets that use them).
 */
export const DEPLOY_PHASES = ['namespaces', 'crds', 'argocd', 'projects', 'applications'] as const;
export type DeployPhase = (typeof DEPLOY_PHASES)[number];

export function phaseOf(obj: KubeObject): DeployPhase {
  switch (obj.kind) {
    case 'Namespace':
      return 'namespaces';
    case 'CustomResourceDefinition':
      return 'crds';
    case 'AppProject':
      return 'projects';
    case 'ApplicationSet':
    case 'Application':
      return 'applications';
    default:
      return 'argocd';
  }
}

/** Objects grouped by phase, each phase in synth order. Duplicate objects are an error. */
export function planDeployment(objects: readonly KubeObject[]): Map<DeployPhase, KubeObject[]> {
  const plan = new Map<DeployPhase, KubeObject[]>(DEPLOY_PHASES.map((p) => [p, []]));
  const seen = new Set<string>();
  for (const obj of objects) {
    const key = `${obj.apiVersion}/${obj.kind}/${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
    if (seen.has(key)) throw new Error(`${key} is synthesized twice; every object needs one owner`);
    seen.add(key);
    plan.get(phaseOf(obj))!.push(obj);
  }
  return plan;
}
