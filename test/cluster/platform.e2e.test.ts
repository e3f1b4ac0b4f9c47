import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { synthesizeEnvironment } from '../../render/environment';
import { KubeApiError, KubeClient } from '../../drift/kube/client';
import {
  application,
  ARGOCD_NS,
  clients,
  Clients,
  commitToServer,
  devGitState,
  fileOnServer,
  kubeConfig,
  PulumiWorkspace,
  refresh,
  restartArgoCdController,
  waitFor,
  RESULTS_DIR,
  StackKubeObject,
  stackKubeObjects,
} from '../../tools/cluster/harness';
import { devScenarios, DriftTiming, measure, settled } from '../../tools/cluster/self-heal';

/*
 * The dev stack on a real control plane, in order: (a) `pulumi up` with the real CLI installs the
 * platform and a second run changes nothing; (b) Argo CD renders both charts from the local Git
 * server with dev's values, and commits reach the cluster; (c) self-heal restores drift, with
 * times measured; (a) `pulumi destroy` removes everything. Each step needs the one before.
 */

const STACK_FILE = 'stacks/Pulumi.dev.yaml';
// Measured times, for reports; outside the repo, so runs never dirty the tree.
const TIMINGS_FILE = join(RESULTS_DIR, 'self-heal-timings.json');

let c: Clients;
let ws: PulumiWorkspace;
const dev = synthesizeEnvironment('dev');
const declared = dev.loaded.config;

beforeAll(async () => {
  c = clients();
  ws = new PulumiWorkspace('dev');
  ws.writeConfig(fileOnServer(STACK_FILE));
  await ws.init();
});

afterAll(() => ws?.remove());

const expectOk = (r: { code: number; stdout: string; stderr: string }) => {
  if (r.code !== 0)
    throw new Error(`pulumi exited ${r.code}:\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`);
};

describe('a. pulumi up --stack dev', () => {
  it('installs Argo CD, the AppProject and the ApplicationSet', async () => {
    const up = await ws.run(['up', '--yes', '--skip-preview']);
    expectOk(up);
    console.log(`pulumi up --stack dev from empty: ${(up.ms / 1000).toFixed(1)} s`);
    // Argo CD reads its controller settings when it starts, as its pods would after a config rollout.
    restartArgoCdController();

    const deployments = (await c.apps.listNamespacedDeployment({ namespace: ARGOCD_NS })).items.map(
      (d) => d.metadata!.name,
    );
    expect(deployments).toEqual(
      expect.arrayContaining(['argocd-repo-server', 'argocd-applicationset-controller', 'argocd-server']),
    );
    const cm = await c.core.readNamespacedConfigMap({ name: 'argocd-cm', namespace: ARGOCD_NS });
    expect(cm.data?.['timeout.reconciliation']).toBe(declared.argocd.reconciliationTimeout);
    const project = (await c.custom.getNamespacedCustomObject({
      group: 'argoproj.io',
      version: 'v1alpha1',
      namespace: ARGOCD_NS,
      plural: 'appprojects',
      name: 'dev',
    })) as {
      spec: { destinations: { namespace: string }[] };
    };
    expect(project.spec.destinations.map((d) => d.namespace).sort()).toEqual(['dev-ml', 'dev-web']);
    await c.custom.getNamespacedCustomObject({
      group: 'argoproj.io',
      version: 'v1alpha1',
      namespace: ARGOCD_NS,
      plural: 'applicationsets',
      name: 'dev-services',
    });
    for (const ns of ['dev-web', 'dev-ml'])
      expect((await c.core.readNamespace({ name: ns })).status?.phase).toBe('Active');
  });

  it('changes nothing on a second run', async () => {
    const preview = await ws.run(['preview', '--expect-no-changes', '--diff']);
    expectOk(preview);
    const again = await ws.run(['up', '--yes', '--expect-no-changes', '--skip-preview']);
    expectOk(again);
    console.log(`no-op pulumi up: ${(again.ms / 1000).toFixed(1)} s`);
  });
});

describe('b. Argo CD converges the services from Git', () => {
  it('generates both Applications, which reach Synced and Healthy', async () => {
    for (const name of ['dev-app-service', 'dev-model-service']) {
      const ms = await settled(c, name, 300_000);
      console.log(`${name} Synced and Healthy ${(ms / 1000).toFixed(1)} s after checking`);
      const app = await application(c, name);
      expect(app.spec).toMatchObject({
        project: 'dev',
        destination: { server: 'https://kubernetes.default.svc' },
      });
    }
  });

  it("deploys the environment's values: images, replicas, the model-service URL", async () => {
    for (const [name, service] of Object.entries(declared.services)) {
      const stable = await c.apps.readNamespacedDeployment({ name, namespace: service.namespace });
      expect(stable.spec?.replicas).toBe(service.replicas);
      expect(stable.spec?.template.spec?.containers[0].image).toBe(
        `${service.image.repository}:${service.image.tag}`,
      );
      expect(stable.status?.availableReplicas).toBe(service.replicas);
      const canary = await c.apps.readNamespacedDeployment({
        name: `${name}-canary`,
        namespace: service.namespace,
      });
      expect(canary.spec?.template.spec?.containers[0].image).toBe(
        `${service.image.repository}:${service.canary!.tag}`,
      );
    }
    const cm = await c.core.readNamespacedConfigMap({ name: 'app-service', namespace: 'dev-web' });
    expect(cm.data).toMatchObject({
      ENVIRONMENT: 'dev',
      LOG_LEVEL: 'debug',
      MODEL_SERVICE_URL: 'http://model-service.dev-ml.svc.cluster.local:8080',
    });
  });

  it('routes traffic by the weights in Pulumi.dev.yaml', async () => {
    for (const [name, service] of Object.entries(declared.services)) {
      const weights = await virtualServiceWeights(name, service.namespace);
      expect(weights).toEqual({ stable: 100 - service.canary!.weight, canary: service.canary!.weight });
    }
  });

  it('deploys a commit that changes an image tag', async () => {
    const stackFile = setInStackFile(
      fileOnServer(STACK_FILE),
      ['services', 'app-service', 'image', 'tag'],
      '1.5.1-dev.1',
    );
    commitToServer({ [STACK_FILE]: stackFile }, 'dev: app-service 1.5.1-dev.1');
    ws.writeConfig(fileOnServer(STACK_FILE));
    expectOk(await ws.run(['up', '--yes', '--skip-preview']));
    const { ms } = await waitFor('app-service running 1.5.1-dev.1', async () => {
      const d = await c.apps.readNamespacedDeployment({ name: 'app-service', namespace: 'dev-web' });
      return d.spec?.template.spec?.containers[0].image === 'ghcr.io/example-org/app-service:1.5.1-dev.1';
    });
    console.log(`image tag commit reached the cluster ${(ms / 1000).toFixed(1)} s after pulumi up`);
  });

  it('deploys a commit that changes the canary weight', async () => {
    const stackFile = setInStackFile(
      fileOnServer(STACK_FILE),
      ['services', 'app-service', 'canary', 'weight'],
      35,
    );
    commitToServer({ [STACK_FILE]: stackFile }, 'dev: app-service canary at 35%');
    ws.writeConfig(fileOnServer(STACK_FILE));
    expectOk(await ws.run(['up', '--yes', '--skip-preview']));
    await waitFor('app-service weights 65/35', async () => {
      const w = await virtualServiceWeights('app-service', 'dev-web');
      return w.stable === 65 && w.canary === 35;
    });
  });

  it('deploys a chart commit through Argo CD alone', async () => {
    const values = fileOnServer('charts/app-service/values-dev.yaml').replace(
      'logLevel: debug',
      'logLevel: trace',
    );
    commitToServer({ 'charts/app-service/values-dev.yaml': values }, 'app-service: trace logging in dev');
    await refresh(c, 'dev-app-service');
    await waitFor(
      'LOG_LEVEL trace',
      async () =>
        (await c.core.readNamespacedConfigMap({ name: 'app-service', namespace: 'dev-web' })).data
          ?.LOG_LEVEL === 'trace',
    );
    await settled(c, 'dev-app-service');
  });
});

describe('c. self-heal restores drift', () => {
  const timings: DriftTiming[] = [];
  afterAll(() => {
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(TIMINGS_FILE, JSON.stringify(timings, null, 2));
  });

  const git = () => devGitState();

  it.each(devScenarios({ namespace: 'dev-web', image: '', replicas: 0 }).map((s) => [s.name]))(
    '%s: back to its Git state',
    async (name) => {
      const scenario = devScenarios(git()).find((s) => s.name === name)!;
      await settled(c, scenario.application);
      const timing = await measure(c, scenario);
      timings.push(timing);
      console.log(
        `${name}: detected in ${timing.detectMs?.toFixed(0)} ms, restored in ${timing.restoreMs.toFixed(0)} ms`,
      );
      // Argo CD must have seen the drift (OutOfSync or an automated sync), not just some later sync.
      expect(timing.detectMs).not.toBeNull();
      expect(timing.detectMs!).toBeLessThanOrEqual(timing.restoreMs + 1000);
      expect(await scenario.restored(c)).toBe(true);
      await settled(c, scenario.application);
    },
  );
});

describe('a. pulumi destroy', () => {
  it('removes everything it created, namespaces included', async () => {
    // What the stack created, from its state, with each object's API path resolved while the
    // CRDs that serve some of them still exist.
    const exported = await ws.run(['stack', 'export']);
    expectOk(exported);
    const objects = stackKubeObjects(exported.stdout);
    const stackOutputs = (
      JSON.parse(exported.stdout) as {
        deployment: { resources: { type: string; outputs?: { resourceCount?: number } }[] };
      }
    ).deployment.resources.find((r) => r.type === 'pulumi:pulumi:Stack')?.outputs;
    expect(objects).toHaveLength(stackOutputs!.resourceCount!);
    const described = (o: StackKubeObject) => `${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}`;
    expect(objects.map(described)).toEqual(
      expect.arrayContaining([
        `Namespace ${ARGOCD_NS}`,
        'Namespace dev-web',
        'Namespace dev-ml',
        'CustomResourceDefinition applicationsets.argoproj.io',
      ]),
    );
    const api = new KubeClient(kubeConfig());
    const paths = new Map<string, string>(); // API path -> what it is
    for (const o of objects)
      paths.set(await api.path(o.apiVersion, o.kind, o.namespace, o.name), described(o));

    const destroy = await ws.run(['destroy', '--yes', '--skip-preview']);
    expectOk(destroy);
    for (const ns of [ARGOCD_NS, 'dev-web', 'dev-ml']) {
      await waitFor(
        `namespace ${ns} gone`,
        async () => {
          try {
            await c.core.readNamespace({ name: ns });
            return false;
          } catch (err) {
            return (err as { code?: number }).code === 404;
          }
        },
        { timeoutMs: 180_000 },
      );
    }
    // Every object of the stack answers 404; the garbage collector gets a minute for stragglers.
    const remaining = async () => {
      const left: string[] = [];
      for (const [path, what] of paths) {
        try {
          await api.request('GET', path);
          left.push(`${what} (still there)`);
        } catch (err) {
          if (!(err instanceof KubeApiError && err.status === 404))
            left.push(`${what} (${(err as Error).message})`);
        }
      }
      return left;
    };
    await waitFor('every object of the stack gone', async () => (await remaining()).length === 0, {
      timeoutMs: 60_000,
      intervalMs: 1000,
    }).catch(() => undefined);
    expect(await remaining()).toEqual([]);
    console.log(`pulumi destroy removed all ${objects.length} objects of the stack`);
  });
});

async function virtualServiceWeights(name: string, namespace: string) {
  const vs = (await c.custom.getNamespacedCustomObject({
    group: 'networking.istio.io',
    version: 'v1',
    namespace,
    plural: 'virtualservices',
    name,
  })) as {
    spec: { http: { name: string; route: { destination: { subset: string }; weight: number }[] }[] };
  };
  const weighted = vs.spec.http.find((h) => h.name === 'weighted')!;
  return Object.fromEntries(weighted.route.map((r) => [r.destination.subset, r.weight]));
}

function setInStackFile(text: string, path: (string | number)[], value: unknown): string {
  const doc = parse(text) as { config: Record<string, Record<string, unknown>> };
  let node: Record<string | number, unknown> = doc.config['converge:platform'];
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path[path.length - 1]] = value;
  return stringify(doc);
}
