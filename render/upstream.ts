import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ArgoCdManifests } from '../constructs/argocd/argocd-install';
import { ConvergeError } from '../model/errors';
import { KubeObject } from '../model/objects';
import { upstreamPin as pinOf } from '../tools/pins';
import { cacheRoot } from './cache';
import { UpstreamRenderCache } from './upstream-render-cache';

/*
 * Reads the pinned upstream files (Argo CD manifests and CRDs, Istio CRDs, the Kubernetes OpenAPI
 * spec) from the local cache that `npm run setup` fills from the official Go modules. Synth never
 * touches the network: a missing cache is an error that says how to fill it.
 */

export type UpstreamName =
  'argo-cd' | 'istio-api' | 'prometheus-operator' | 'argocd-image-updater' | 'kubernetes';

export interface UpstreamPin {
  readonly module: string;
  readonly version: string;
}

/** Raised when the pinned upstream files are not cached yet. */
export class UpstreamMissingError extends ConvergeError {
  constructor(name: string, dir: string) {
    super(
      `${name} files are not cached at ${dir}; run \`npm run setup\` (or \`node tools/upstream.mjs\`) to fetch the pinned versions`,
    );
  }
}

export function upstreamPin(name: UpstreamName): UpstreamPin {
  return pinOf(name);
}

export function upstreamDir(name: UpstreamName): string {
  const dir = join(cacheRoot(), 'upstream', `${name}-${upstreamPin(name).version}`);
  if (!existsSync(dir)) throw new UpstreamMissingError(`${name} ${upstreamPin(name).version}`, dir);
  return dir;
}

function readJson<T>(name: UpstreamName, file: string): T {
  return JSON.parse(readFileSync(join(upstreamDir(name), file), 'utf8')) as T;
}

/**
 * Argo CD's official install objects at the pinned version; `ha` picks the high-availability set.
 * The objects installed unchanged come already synthesized from `<upstream dir>/rendered/`
 * (filled on first use); `renderCache: false` synthesizes everything.
 */
export function loadArgoCdManifests(options: { ha?: boolean; renderCache?: boolean } = {}): ArgoCdManifests {
  const ha = options.ha ?? false;
  const dir = upstreamDir('argo-cd');
  const source = readFileSync(join(dir, ha ? 'ha-install.json' : 'install.json'), 'utf8');
  const manifests = {
    version: upstreamPin('argo-cd').version,
    ha,
    objects: JSON.parse(source) as KubeObject[],
  };
  // cdk8s reads CDK8S_DISABLE_SORT when it synthesizes; the cache holds sorted output only.
  if (options.renderCache === false || process.env.CDK8S_DISABLE_SORT) return manifests;
  return { ...manifests, rendered: new UpstreamRenderCache(manifests, source, join(dir, 'rendered')) };
}

/** The official CRDs of Argo CD, Istio, the Prometheus Operator or Argo CD Image Updater at the pinned version. */
export function loadCrds(
  name: 'argo-cd' | 'istio-api' | 'prometheus-operator' | 'argocd-image-updater',
): KubeObject[] {
  return readJson<KubeObject[]>(name, 'crds.json');
}

/** Folder of the Kubernetes OpenAPI v3 spec files (`api__v1_openapi.json`, ...). */
export function kubernetesOpenApiDir(): string {
  return join(upstreamDir('kubernetes'), 'openapi');
}
