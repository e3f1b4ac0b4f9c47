import { SyncPolicy } from '../../model/sync-policy';
import { PlatformConfig } from '../../config/schema';
import { KubeObject } from '../../model/objects';
import { LABELS } from '../../model/constants';

/*
 * The platform's own rules, checked on everything synthesized plus the Applications the
 * ApplicationSet will generate. Each returns the violations it found; none means it held.
 */

export interface Violation {
  /** `Kind/namespace/name` of the object at fault; `<service>/<kind>/<name>` for what a chart renders. */
  readonly object: string;
  readonly rule: InvariantName | 'schema' | 'chart-schema';
  readonly message: string;
}

export const INVARIANTS = [
  'project-not-default',
  'destination-in-project',
  'source-in-project',
  'image-tag-pinned',
  'canary-weights',
  'sync-policy',
  'guarded-drift-healed',
] as const;
export type InvariantName = (typeof INVARIANTS)[number];

interface AppSpec {
  project?: string;
  source?: { repoURL?: string; helm?: { valuesObject?: Values } };
  destination?: { server?: string; namespace?: string };
  syncPolicy?: { automated?: { prune?: boolean; selfHeal?: boolean } };
}
interface Values {
  image?: { repository?: string; tag?: string };
  canary?: { enabled?: boolean; image?: { tag?: string }; weights?: { stable?: number; canary?: number } };
}
interface ProjectSpec {
  sourceRepos?: string[];
  destinations?: { server?: string; namespace?: string }[];
}

export const objectRef = (obj: KubeObject) =>
  `${obj.kind}/${obj.metadata.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata.name}`;

export function checkInvariants(objects: readonly KubeObject[], config: PlatformConfig): Violation[] {
  const violations: Violation[] = [];
  const add = (obj: KubeObject, rule: InvariantName, message: string) =>
    violations.push({ object: objectRef(obj), rule, message });
  const projects = new Map(
    objects.filter((o) => o.kind === 'AppProject').map((p) => [p.metadata.name, p.spec as ProjectSpec]),
  );
  const expected = SyncPolicy.forEnvironment(config.environment, config.sync);

  for (const app of objects.filter((o) => o.kind === 'Application')) {
    const spec = app.spec as AppSpec;
    const project = spec.project ?? 'default';
    if (project === 'default')
      add(app, 'project-not-default', 'it is in the default project, which allows everything');
    const projectSpec = projects.get(project);
    if (!projectSpec && project !== 'default')
      add(app, 'project-not-default', `its project "${project}" is not synthesized`);
    if (projectSpec) {
      const dest = spec.destination ?? {};
      if (
        !(projectSpec.destinations ?? []).some(
          (d) => d.server === dest.server && d.namespace === dest.namespace,
        )
      ) {
        add(
          app,
          'destination-in-project',
          `destination ${dest.server} ${dest.namespace} is not among project ${project}'s destinations`,
        );
      }
      const repo = spec.source?.repoURL;
      if (!repo || !(projectSpec.sourceRepos ?? []).includes(repo)) {
        add(app, 'source-in-project', `source repo ${repo} is not in project ${project}'s sourceRepos`);
      }
    }
    // The root Application applies the platform's own manifests: the service rules are not its.
    if (app.metadata.labels?.[LABELS.service] === undefined) continue;
    const values = spec.source?.helm?.valuesObject ?? {};
    checkTag(config, (m) => add(app, 'image-tag-pinned', m), 'image.tag', values.image?.tag);
    if (values.canary?.enabled) {
      checkTag(config, (m) => add(app, 'image-tag-pinned', m), 'canary.image.tag', values.canary.image?.tag);
      const w = values.canary.weights;
      if (!w || !isPercent(w.stable) || !isPercent(w.canary) || w.stable! + w.canary! !== 100) {
        add(
          app,
          'canary-weights',
          `canary weights ${JSON.stringify(w)} must be integers 0-100 that add up to 100`,
        );
      }
    }
    const automated = spec.syncPolicy?.automated;
    const prune = automated?.prune ?? false;
    const selfHeal = automated?.selfHeal ?? false;
    const wantPrune = expected.automated && expected.prune;
    // The guarded part of a split service leaves healing to the drift controller and its approvals.
    const guarded = app.metadata.labels?.[LABELS.part] === 'guarded';
    const wantSelfHeal = expected.automated && expected.selfHeal && !guarded;
    if (prune !== wantPrune || selfHeal !== wantSelfHeal) {
      add(
        app,
        'sync-policy',
        `prune=${prune} selfHeal=${selfHeal}, but the ${config.environment} policy says prune=${wantPrune} selfHeal=${wantSelfHeal}`,
      );
    }
    // Argo CD does not self-heal a guarded Application: without the controller, even its low drift stays.
    if (guarded && !config.drift.controller.enabled) {
      add(
        app,
        'guarded-drift-healed',
        'Argo CD does not self-heal its kinds and no drift controller is deployed, so none of their drift is ever healed (replicas included); set drift.controller.enabled: true, or drop the rules that hold these kinds',
      );
    }
  }

  for (const obj of objects) {
    const pod = podSpec(obj);
    for (const c of [...(pod?.containers ?? []), ...(pod?.initContainers ?? [])]) {
      const image = c.image ?? '';
      const tag = image.includes('@') ? 'digest' : image.slice(image.lastIndexOf('/') + 1).split(':')[1];
      checkTag(config, (m) => add(obj, 'image-tag-pinned', m), `container ${c.name}`, tag);
    }
    if (obj.kind === 'VirtualService') {
      const http = (obj.spec as { http?: { route?: { weight?: number }[] }[] }).http ?? [];
      http.forEach((route, i) => {
        const weights = (route.route ?? []).map((r) => r.weight ?? (route.route!.length === 1 ? 100 : 0));
        const total = weights.reduce((a, b) => a + b, 0);
        if (weights.some((w) => !isPercent(w)) || total !== 100) {
          add(
            obj,
            'canary-weights',
            `http[${i}] weights ${weights.join('+')} must each be 0-100 and add up to 100`,
          );
        }
      });
    }
  }
  return violations;
}

function checkTag(
  config: PlatformConfig,
  report: (message: string) => void,
  what: string,
  tag: string | undefined,
) {
  if (config.environment === 'dev') return;
  if (!tag) report(`${what} has no tag; outside dev every image is pinned to a release tag or digest`);
  else if (tag === 'latest')
    report(`${what} is "latest"; outside dev every image is pinned to a release tag or digest`);
}

const isPercent = (n: number | undefined) => Number.isInteger(n) && n! >= 0 && n! <= 100;

function podSpec(
  obj: KubeObject,
):
  | { containers?: { name: string; image?: string }[]; initContainers?: { name: string; image?: string }[] }
  | undefined {
  const spec = obj.spec as
    { template?: { spec?: object }; jobTemplate?: { spec?: { template?: { spec?: object } } } } | undefined;
  if (obj.kind === 'Pod') return obj.spec as never;
  return (spec?.template?.spec ?? spec?.jobTemplate?.spec?.template?.spec) as never;
}
