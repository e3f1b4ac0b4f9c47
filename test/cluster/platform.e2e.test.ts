import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { toolsBinDir } from '../../render/tools';
import { synthesizeEnvironment } from '../../render/environment';
import {
  observeDev,
  release,
  revert,
  sameObserved,
  serveStarterChart,
  TimedReleases,
  timedReleases,
} from '../../tools/cluster/releases';
import { KubeApiError, KubeClient } from '../../drift/kube/client';
import {
  application,
  ARGOCD_NS,
  clients,
  Clients,
  commitToServer,
  devGitState,
  fileOnServer,
  GIT_URL,
  KUBECONFIG,
  kubeConfig,
  ROOT,
  RUN_DIR,
  PulumiWorkspace,
  refresh,
  applyArgoCdConfig,
  waitFor,
  RESULTS_DIR,
  StackKubeObject,
  stackKubeObjects,
} from '../../tools/cluster/harness';
import { devScenarios, DriftTiming, measure, settled } from '../../tools/cluster/self-heal';

/*
 * The dev stack on a real control plane, in order: (a) `pulumi up` with the real CLI bootstraps
 * (Argo CD, namespaces, the root Application) and a second run changes nothing; (b) Argo CD applies
 * manifests/dev/ and renders both charts from the local Git server, and stack-file commits reach
 * the cluster with no `pulumi up`, by webhook and by polling, and revert; (c) self-heal restores drift, with
 * times measured; (a) `pulumi destroy` removes everything. Each step needs the one before.
 */

const STACK_FILE = 'stacks/Pulumi.dev.yaml';
// Measured times, for reports; outside the repo, so runs never dirty the tree.
const TIMINGS_FILE = join(RESULTS_DIR, 'self-heal-timings.json');

let c: Clients;
let ws: PulumiWorkspace;
const dev = synthesizeEnvironment('dev');
const declared = dev.loaded.config;
/** The commit the bootstrap points Argo CD at: dev's stack file, served locally, and its manifests. */
let bootstrapCommit: string;
let addonRepo: string;

beforeAll(async () => {
  c = clients();
  ws = new PulumiWorkspace('dev');
  // A third-party chart in a repo of its own, declared as an add-on: no hand-written project.
  addonRepo = serveStarterChart('vendor-charts', 'web-starter');
  bootstrapCommit = release(
    'dev',
    {
      'git.repoURL': GIT_URL,
      addons: {
        'web-starter': {
          repoURL: addonRepo,
          path: 'charts/web-starter',
          revision: 'main',
          namespace: 'dev-addons',
        },
      },
    },
    'dev: served by the local Git server, with a vendor chart as an add-on',
  );
  ws.writeConfig(fileOnServer(STACK_FILE));
  await ws.init();
});

afterAll(() => ws?.remove());

const expectOk = (r: { code: number; stdout: string; stderr: string }) => {
  if (r.code !== 0)
    throw new Error(`pulumi exited ${r.code}:\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`);
};

const custom = (plural: string, name: string) =>
  c.custom.getNamespacedCustomObject({
    group: 'argoproj.io',
    version: 'v1alpha1',
    namespace: ARGOCD_NS,
    plural,
    name,
  });

describe('a. pulumi up --stack dev bootstraps', () => {
  it('installs Argo CD, the namespaces and the root Application, and nothing Git owns', async () => {
    const up = await ws.run(['up', '--yes', '--skip-preview']);
    expectOk(up);
    console.log(`pulumi up --stack dev (bootstrap) from empty: ${(up.ms / 1000).toFixed(1)} s`);
    // Argo CD reads its controller settings when it starts, as its pods would after a config rollout.
    applyArgoCdConfig();

    const deployments = (await c.apps.listNamespacedDeployment({ namespace: ARGOCD_NS })).items.map(
      (d) => d.metadata!.name,
    );
    expect(deployments).toEqual(
      expect.arrayContaining(['argocd-repo-server', 'argocd-applicationset-controller', 'argocd-server']),
    );
    const cm = await c.core.readNamespacedConfigMap({ name: 'argocd-cm', namespace: ARGOCD_NS });
    expect(cm.data?.['timeout.reconciliation']).toBe(declared.argocd.reconciliationTimeout);
    for (const ns of ['dev-web', 'dev-ml', 'dev-addons'])
      expect((await c.core.readNamespace({ name: ns })).status?.phase).toBe('Active');
    // One owner per object: the stack holds the root, never what the root applies.
    const exported = await ws.run(['stack', 'export']);
    expectOk(exported);
    const kinds = stackKubeObjects(exported.stdout).map((o) => `${o.kind}/${o.name}`);
    expect(kinds).toEqual(expect.arrayContaining(['Application/dev-root', 'AppProject/dev-platform']));
    expect(kinds).not.toContain('AppProject/dev');
    expect(kinds.filter((k) => k.startsWith('ApplicationSet/'))).toEqual([]);
  });

  it('lets Argo CD create the AppProject and the ApplicationSet from manifests/dev/ in Git', async () => {
    const { ms } = await waitFor(
      'the root Application to apply manifests/dev/03-platform.yaml',
      async () => {
        await custom('applicationsets', 'dev-services');
        return true;
      },
      { timeoutMs: 180_000, intervalMs: 500 },
    );
    console.log(`root Application applied the platform ${(ms / 1000).toFixed(1)} s after bootstrap`);
    const project = (await custom('appprojects', 'dev')) as {
      spec: { destinations: { namespace: string }[] };
    };
    expect(project.spec.destinations.map((d) => d.namespace).sort()).toEqual(['dev-ml', 'dev-web']);
    const root = await application(c, 'dev-root');
    expect(root.metadata?.labels?.['app.kubernetes.io/managed-by']).toBeUndefined();
  });

  it('converge status --wait passes once every Application is Synced and Healthy at the commit', () => {
    const r = convergeStatus('--revision', bootstrapCommit, '--wait', '300s');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    for (const name of ['dev-root', 'dev-app-service', 'dev-model-service', 'dev-addon-web-starter'])
      expect(r.stdout).toMatch(new RegExp(`^${name}\\b.*Synced.*Healthy`, 'm'));
  });

  it('changes nothing on a second run', async () => {
    const preview = await ws.run(['preview', '--expect-no-changes', '--diff']);
    expectOk(preview);
    const again = await ws.run(['up', '--yes', '--expect-no-changes', '--skip-preview']);
    expectOk(again);
    console.log(`no-op pulumi up (bootstrap): ${(again.ms / 1000).toFixed(1)} s`);
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

  it('syncs a third-party chart declared as an add-on, in a project made from its declaration', async () => {
    const ms = await settled(c, 'dev-addon-web-starter', 300_000);
    console.log(`add-on dev-addon-web-starter Synced and Healthy ${(ms / 1000).toFixed(1)} s after checking`);
    expect((await application(c, 'dev-addon-web-starter')).spec).toMatchObject({
      project: 'dev-addon-web-starter',
      destination: { namespace: 'dev-addons' },
    });
    const project = (await custom('appprojects', 'dev-addon-web-starter')) as {
      spec: { sourceRepos: string[]; destinations: { namespace: string }[] };
    };
    expect(project.spec.sourceRepos).toEqual([addonRepo]);
    expect(project.spec.destinations.map((d) => d.namespace)).toEqual(['dev-addons']);
    const d = await c.apps.readNamespacedDeployment({ name: 'web-starter', namespace: 'dev-addons' });
    expect(d.status?.availableReplicas).toBe(1);
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

  let lastRelease: TimedReleases['last'] | undefined;
  // Behaviour only: both paths deliver. `npm run bench:cluster` measures p50/p95 over 10 commits each.
  it('applies stack-file commits with no pulumi up, pushed with the webhook', async () => {
    const { latencies, last } = await timedReleases(c, 'webhook', 3);
    latencies.forEach((ms) => console.log(`commit -> cluster (webhook): ${(ms / 1000).toFixed(1)} s`));
    lastRelease = last;
  });

  it('applies a commit with no webhook at all, when Argo CD next polls', async () => {
    // Argo CD re-reads a branch every reconciliation period (dev: 60s + up to 10s), and its
    // repo-server caches what a branch points at for one period too: about two periods at worst.
    const { latencies, last } = await timedReleases(c, 'polling', 1, { webhook: false, timeoutMs: 300_000 });
    console.log(`commit -> cluster (polling only): ${(latencies[0] / 1000).toFixed(1)} s`);
    lastRelease = last;
  });

  it('git revert of the last release restores the previous image, replicas and weights', async () => {
    const { commit, before, after } = lastRelease!;
    expect(sameObserved(await observeDev(c), after)).toBe(true);
    const reverted = revert(commit);
    const { ms } = await waitFor(
      'the revert applied',
      async () => sameObserved(await observeDev(c), before),
      {
        timeoutMs: 300_000,
      },
    );
    console.log(`git revert reached the cluster in ${(ms / 1000).toFixed(1)} s`);
    expect(convergeStatus('--revision', reverted, '--wait', '120s').status).toBe(0);
  });

  it('converge status fails naming the Application that does not sync, with what Argo CD says', async () => {
    // GIVEN a chart commit that cannot render
    const broken = commitToServer(
      { 'charts/app-service/templates/zz-broken.yaml': '{{ fail "broken on purpose" }}\n' },
      'app-service: a template that fails',
    );
    try {
      // WHEN CI gates on that commit
      const r = convergeStatus('--revision', broken, '--wait', '30s');
      // THEN it fails, naming app-service and Argo CD's message
      expect(r.status).toBe(1);
      expect(r.stdout).toMatch(/^dev-app-service: .*broken on purpose/m);
      expect(r.stdout).not.toMatch(/^dev-model-service: /m);
    } finally {
      revert(broken);
    }
    await settled(c, 'dev-app-service');
  });

  it("answers on argocd-server's API: argocd login with the CLI, then the root Application", () => {
    const config = join(mkdtempSync(join(tmpdir(), 'converge-argocd-')), 'config');
    const server = `127.0.0.1:${process.env.CONVERGE_ARGOCD_SERVER_PORT ?? 28080}`;
    const argocd = (...args: string[]) =>
      execFileSync(join(toolsBinDir(), 'argocd'), [...args, '--config', config], { encoding: 'utf8' });
    const password = readFileSync(join(RUN_DIR, 'argocd-admin-password'), 'utf8').trim();
    try {
      argocd('login', server, '--plaintext', '--username', 'admin', '--password', password);
      const root = JSON.parse(argocd('app', 'get', 'argocd/dev-root', '-o', 'json')) as {
        status: { sync: { status: string }; health: { status: string } };
      };
      expect(root.status.sync.status).toBe('Synced');
      expect(root.status.health.status).toBe('Healthy');
      expect(argocd('app', 'list', '-o', 'name')).toMatch(/argocd\/dev-app-service/);
    } finally {
      rmSync(dirname(config), { recursive: true, force: true });
    }
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

/** `converge status --env dev …` as CI runs it. */
function convergeStatus(...args: string[]) {
  return spawnSync(
    'node',
    [join(ROOT, 'dist', 'cli', 'main.js'), 'status', '--env', 'dev', '--kubeconfig', KUBECONFIG, ...args],
    { encoding: 'utf8' },
  );
}

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
    for (const ns of [ARGOCD_NS, 'dev-web', 'dev-ml', 'dev-addons']) {
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
    // What the root applied from Git went with it.
    for (const [plural, name] of [
      ['appprojects', 'dev'],
      ['applicationsets', 'dev-services'],
    ])
      await expect(custom(plural, name)).rejects.toMatchObject({ code: 404 });
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
