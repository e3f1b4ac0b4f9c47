import { KubeObject } from '../../model/objects';

/*
 * The six drifts of the experiment, each on one object of the subject service as its chart renders
 * it: what the change does to the live object and when the live object is back in its Git state.
 * Requests are described, not sent, so the arms send them with one client and the tests check them.
 */

export const SCENARIOS = [
  'scale-deployment',
  'change-image',
  'patch-service-type',
  'delete-deployment',
  'delete-secret',
  'delete-configmap',
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export const SCENARIO_TITLES: Record<ScenarioName, string> = {
  'scale-deployment': 'scale a Deployment',
  'change-image': "change a Deployment's image",
  'patch-service-type': "patch a Service's type",
  'delete-deployment': 'delete a Deployment',
  'delete-secret': 'delete a Secret',
  'delete-configmap': 'delete a ConfigMap',
};

const KIND_OF: Record<ScenarioName, string> = {
  'scale-deployment': 'Deployment',
  'change-image': 'Deployment',
  'patch-service-type': 'Service',
  'delete-deployment': 'Deployment',
  'delete-secret': 'Secret',
  'delete-configmap': 'ConfigMap',
};

/** The image a drift switches to: outside every declared registry, as an intruder's would be. */
export const INTRUDER_IMAGE = 'registry.example.net/intruder:1';

export interface Mutation {
  readonly method: 'PATCH' | 'DELETE';
  /** Appended to the object's path (`/scale` for the scale subresource). */
  readonly subresource?: string;
  readonly body?: unknown;
  readonly contentType?: string;
}

export interface Scenario {
  readonly name: ScenarioName;
  readonly title: string;
  /** The object the drift is made on, as Git declares it. */
  readonly desired: KubeObject;
  readonly mutation: Mutation;
  /**
   * False for an object Git does not hold (a Secret a workload needs, made by hand): only a
   * reconciler that keeps its own copy can restore it, and the operator re-applies theirs.
   */
  readonly inGit: boolean;
  /** True when the live object (undefined: absent) is back in its Git state. */
  restored(live: KubeObject | undefined): boolean;
}

type Container = { name: string; image: string };
const containers = (o: KubeObject | undefined): Container[] =>
  ((o?.spec as { template?: { spec?: { containers?: Container[] } } } | undefined)?.template?.spec
    ?.containers ?? []) as Container[];
const present = (o: KubeObject | undefined): o is KubeObject =>
  !!o && !(o.metadata as { deletionTimestamp?: string }).deletionTimestamp;
const same = (a: unknown, b: unknown) => JSON.stringify(a ?? {}) === JSON.stringify(b ?? {});
const sortedEntries = (o: unknown) => Object.entries((o ?? {}) as Record<string, unknown>).sort();

/**
 * The scenario on the first object of its kind, or undefined when there is none. `outsideGit` (the
 * Secret the eval makes for the subject to need) is searched before the chart's rendered objects.
 */
export function scenarioFor(
  name: ScenarioName,
  objects: readonly KubeObject[],
  outsideGit: readonly KubeObject[] = [],
): Scenario | undefined {
  const desired = [...outsideGit, ...objects].find((o) => o.kind === KIND_OF[name]);
  if (!desired) return undefined;
  const base = { name, title: SCENARIO_TITLES[name], desired, inGit: !outsideGit.includes(desired) };
  const image = containers(desired)[0]?.image;
  switch (name) {
    case 'scale-deployment': {
      const replicas = (desired.spec as { replicas?: number }).replicas ?? 1;
      return {
        ...base,
        mutation: {
          method: 'PATCH',
          subresource: '/scale',
          body: { spec: { replicas: replicas + 3 } },
          contentType: 'application/merge-patch+json',
        },
        restored: (live) => present(live) && (live.spec as { replicas?: number }).replicas === replicas,
      };
    }
    case 'change-image':
      return {
        ...base,
        mutation: {
          method: 'PATCH',
          body: {
            spec: {
              template: {
                spec: { containers: [{ name: containers(desired)[0].name, image: INTRUDER_IMAGE }] },
              },
            },
          },
          contentType: 'application/strategic-merge-patch+json',
        },
        restored: (live) => present(live) && containers(live)[0]?.image === image,
      };
    case 'patch-service-type': {
      const type = (desired.spec as { type?: string }).type ?? 'ClusterIP';
      return {
        ...base,
        mutation: {
          method: 'PATCH',
          body: { spec: { type: type === 'NodePort' ? 'LoadBalancer' : 'NodePort' } },
          contentType: 'application/merge-patch+json',
        },
        restored: (live) => present(live) && (live.spec as { type?: string }).type === type,
      };
    }
    case 'delete-deployment':
      return {
        ...base,
        mutation: { method: 'DELETE' },
        restored: (live) => present(live) && containers(live)[0]?.image === image,
      };
    case 'delete-secret':
    case 'delete-configmap':
      return {
        ...base,
        mutation: { method: 'DELETE' },
        restored: (live) =>
          present(live) &&
          same(
            sortedEntries((live as { data?: unknown }).data),
            sortedEntries((desired as { data?: unknown }).data),
          ),
      };
  }
}
