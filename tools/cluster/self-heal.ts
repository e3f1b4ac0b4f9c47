import { KubernetesObject, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { performance } from 'node:perf_hooks';
import { application, ARGOCD_NS, Clients, waitFor } from './harness';

/*
 * Drift scenarios against a deployed dev platform: each changes a live object behind Git's back,
 * then measures time to detect (the Application seen OutOfSync) and time to restore (the object
 * back in its Git state), both from the moment the change was made.
 */

export interface DriftScenario {
  readonly name: string;
  /** Application that owns the object. */
  readonly application: string;
  mutate(c: Clients): Promise<void>;
  /** True once the live object is back in its Git state. */
  restored(c: Clients): Promise<boolean>;
}

export interface DriftTiming {
  readonly scenario: string;
  /** Null when the watch saw neither OutOfSync nor an automated sync; never made up. */
  readonly detectMs: number | null;
  readonly restoreMs: number;
}

const ignoreMissing = async <T>(p: Promise<T>): Promise<T | undefined> => {
  try {
    return await p;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
};

const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** What Git says for app-service in dev, read from the synthesized Application values. */
export interface GitState {
  readonly namespace: string;
  readonly image: string;
  readonly replicas: number;
}

export function devScenarios(git: GitState): DriftScenario[] {
  const ns = git.namespace;
  const app = 'dev-app-service';
  const deployment = (c: Clients) =>
    ignoreMissing(c.apps.readNamespacedDeployment({ name: 'app-service', namespace: ns }));
  return [
    {
      name: 'scale a Deployment',
      application: app,
      mutate: async (c) => {
        await c.apps.patchNamespacedDeploymentScale(
          { name: 'app-service', namespace: ns, body: { spec: { replicas: 5 } } },
          merge,
        );
      },
      restored: async (c) => (await deployment(c))?.spec?.replicas === git.replicas,
    },
    {
      name: 'change a Deployment image',
      application: app,
      mutate: async (c) => {
        await c.apps.patchNamespacedDeployment(
          {
            name: 'app-service',
            namespace: ns,
            body: {
              spec: {
                template: {
                  spec: { containers: [{ name: 'app-service', image: 'registry.example.net/intruder:1' }] },
                },
              },
            },
          },
          setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
        );
      },
      restored: async (c) => (await deployment(c))?.spec?.template.spec?.containers[0].image === git.image,
    },
    {
      name: "patch a Service's type",
      application: app,
      mutate: async (c) => {
        await c.core.patchNamespacedService(
          { name: 'app-service', namespace: ns, body: { spec: { type: 'NodePort' } } },
          merge,
        );
      },
      restored: async (c) =>
        (await ignoreMissing(c.core.readNamespacedService({ name: 'app-service', namespace: ns })))?.spec
          ?.type === 'ClusterIP',
    },
    {
      name: 'delete a Deployment',
      application: app,
      mutate: async (c) => {
        await c.apps.deleteNamespacedDeployment({ name: 'app-service', namespace: ns });
      },
      restored: async (c) => {
        const d = await deployment(c);
        return (
          !!d && !d.metadata?.deletionTimestamp && d.spec?.template.spec?.containers[0].image === git.image
        );
      },
    },
    {
      name: 'delete a ConfigMap',
      application: app,
      mutate: async (c) => {
        await c.core.deleteNamespacedConfigMap({ name: 'app-service', namespace: ns });
      },
      restored: async (c) => {
        const cm = await ignoreMissing(
          c.core.readNamespacedConfigMap({ name: 'app-service', namespace: ns }),
        );
        return !!cm && !cm.metadata?.deletionTimestamp && !!cm.data?.MODEL_SERVICE_URL;
      },
    },
  ];
}

/** Waits until the Application is Synced and Healthy, with nothing left to heal. */
export async function settled(c: Clients, name: string, timeoutMs = 180_000): Promise<number> {
  return (
    await waitFor(
      `${name} Synced and Healthy`,
      async () => {
        const s = (await application(c, name)).status;
        return (
          s?.sync?.status === 'Synced' &&
          s.health?.status === 'Healthy' &&
          s.operationState?.phase !== 'Running'
        );
      },
      { timeoutMs, intervalMs: 200 },
    )
  ).ms;
}

/** Runs one scenario and measures it; the Application must be settled first. */
export async function measure(
  c: Clients,
  scenario: DriftScenario,
  timeoutMs = 120_000,
): Promise<DriftTiming> {
  let detectedAt: number | undefined;
  let started = 0;
  // Watch the Application so a short OutOfSync window between two polls is not missed. Argo CD may
  // compare and start its self-heal sync in one status write, so an automated sync operation set on
  // the Application after the change also counts as detection (it is a write of its own, always seen).
  type AppEvent = KubernetesObject & {
    status?: { sync?: { status?: string } };
    operation?: { initiatedBy?: { automated?: boolean } };
  };
  const watch = await c.watch.watch(
    `/apis/argoproj.io/v1alpha1/namespaces/${ARGOCD_NS}/applications`,
    { fieldSelector: `metadata.name=${scenario.application}` },
    (_type: string, obj: AppEvent) => {
      if (!started || detectedAt !== undefined) return;
      if (obj.status?.sync?.status === 'OutOfSync' || obj.operation?.initiatedBy?.automated === true)
        detectedAt = performance.now();
    },
    () => undefined,
  );
  try {
    started = performance.now();
    await scenario.mutate(c);
    await waitFor(`${scenario.name}: object back in its Git state`, () => scenario.restored(c), {
      timeoutMs,
      intervalMs: 20,
    });
    const restoreMs = performance.now() - started;
    // The watch may deliver the detecting event just after the poll saw the object restored.
    if (detectedAt === undefined) await new Promise((r) => setTimeout(r, 500));
    return {
      scenario: scenario.name,
      detectMs: detectedAt === undefined ? null : detectedAt - started,
      restoreMs,
    };
  } finally {
    watch.abort();
  }
}
