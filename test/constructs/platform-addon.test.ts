import { App } from 'cdk8s';
import { PlatformAddon, PlatformAddonProps } from '../../constructs/argocd/platform-addon';
import { GitOpsPlatform } from '../../constructs/platform/gitops-platform';
import { loadStackConfig } from '../../config/stack-file';
import { PlatformConfig } from '../../config/schema';
import { checkInvariants } from '../../cli/validate/invariants';
import { SyncPolicy } from '../../model/sync-policy';
import { KubeObject } from '../../model/objects';
import { MINI_ARGOCD } from '../fixtures/argocd-mini';
import { ofKind, only, synthObjects } from '../helpers';

const ISTIO_REPO = 'https://istio-release.storage.googleapis.com/charts';
const CRD = { group: 'apiextensions.k8s.io', kind: 'CustomResourceDefinition' };
const WEBHOOK = { group: 'admissionregistration.k8s.io', kind: 'ValidatingWebhookConfiguration' };
const NAMESPACE = { group: '', kind: 'Namespace' };

const istioBase: PlatformAddonProps = {
  environment: 'dev',
  name: 'istio-base',
  repoURL: ISTIO_REPO,
  chart: 'base',
  revision: '1.24.3',
  destinationNamespace: 'istio-system',
  values: { defaultRevision: 'default' },
  clusterResources: [CRD, WEBHOOK],
};

interface ProjectSpec {
  sourceRepos: string[];
  destinations: { server: string; namespace: string }[];
  clusterResourceWhitelist: { group: string; kind: string }[];
  namespaceResourceWhitelist: { group: string; kind: string }[];
}
interface AppSpec {
  project: string;
  source: { repoURL: string; chart?: string; path?: string; targetRevision: string; helm: object };
  destination: { server: string; namespace: string };
  syncPolicy: { automated?: { prune: boolean; selfHeal: boolean }; syncOptions: string[] };
}

const addonObjects = (props: PlatformAddonProps) => {
  const objects = synthObjects((chart) => new PlatformAddon(chart, props.name, props));
  return {
    project: only(objects, 'AppProject') as KubeObject & { spec: ProjectSpec },
    app: only(objects, 'Application') as KubeObject & { spec: AppSpec },
  };
};

describe('PlatformAddon', () => {
  it('renders a Helm repo chart as an Application in a project of its own that allows exactly what it declares', () => {
    // GIVEN Istio's base chart, as a new user would declare it / WHEN synthesized
    const { project, app } = addonObjects(istioBase);
    // THEN
    expect({ project, app }).toMatchSnapshot();
    expect(project.metadata).toMatchObject({ name: 'dev-addon-istio-base', namespace: 'argocd' });
    expect(project.spec.sourceRepos).toEqual([ISTIO_REPO]);
    expect(project.spec.destinations).toEqual([
      { server: 'https://kubernetes.default.svc', namespace: 'istio-system' },
    ]);
    expect(project.spec.clusterResourceWhitelist).toEqual([CRD, WEBHOOK]);
    expect(app.metadata).toMatchObject({
      name: 'dev-addon-istio-base',
      namespace: 'argocd',
      labels: {
        'app.kubernetes.io/part-of': 'converge',
        'converge.dev/environment': 'dev',
        'converge.dev/addon': 'istio-base',
      },
    });
    expect(app.spec).toMatchObject({
      project: 'dev-addon-istio-base',
      source: {
        repoURL: ISTIO_REPO,
        chart: 'base',
        targetRevision: '1.24.3',
        helm: { releaseName: 'istio-base', valuesObject: { defaultRevision: 'default' } },
      },
      destination: { server: 'https://kubernetes.default.svc', namespace: 'istio-system' },
    });
    expect(app.spec.source.path).toBeUndefined();
  });

  it('leaves Argo CD out of creating the namespace by default, so the project needs no Namespace kind', () => {
    const { project, app } = addonObjects(istioBase);
    expect(app.spec.syncPolicy.syncOptions).not.toContain('CreateNamespace=true');
    expect(project.spec.clusterResourceWhitelist).not.toContainEqual(NAMESPACE);
  });

  it('allows Namespace only when its sync policy has Argo CD create the namespace', () => {
    const { project, app } = addonObjects({
      ...istioBase,
      syncPolicy: SyncPolicy.forEnvironment('dev', { createNamespace: true }),
    });
    expect(app.spec.syncPolicy.syncOptions).toContain('CreateNamespace=true');
    expect(project.spec.clusterResourceWhitelist).toEqual([CRD, WEBHOOK, NAMESPACE]);
  });

  it('allows any namespaced kind, in its one namespace, unless namespaced kinds are listed', () => {
    expect(addonObjects(istioBase).project.spec.namespaceResourceWhitelist).toEqual([
      { group: '*', kind: '*' },
    ]);
    const sa = { group: '', kind: 'ServiceAccount' };
    expect(
      addonObjects({ ...istioBase, namespaceResources: [sa] }).project.spec.namespaceResourceWhitelist,
    ).toEqual([sa]);
  });

  it('reads a chart folder from a Git repo at a ref', () => {
    const { project, app } = addonObjects({
      environment: 'staging',
      name: 'cluster-issuers',
      repoURL: 'https://github.com/example-org/platform-addons.git',
      chartPath: 'charts/cluster-issuers',
      revision: 'v1.2.0',
      destinationNamespace: 'cert-manager',
    });
    expect(project.spec.sourceRepos).toEqual(['https://github.com/example-org/platform-addons.git']);
    expect(project.spec.clusterResourceWhitelist).toEqual([]);
    expect(app.spec.source).toEqual({
      repoURL: 'https://github.com/example-org/platform-addons.git',
      path: 'charts/cluster-issuers',
      targetRevision: 'v1.2.0',
      helm: { releaseName: 'cluster-issuers' },
    });
    // The environment's preset: staging's retries, no CreateNamespace.
    expect(app.spec.syncPolicy).toMatchObject({ automated: { prune: true, selfHeal: true } });
    expect(app.spec.syncPolicy.syncOptions).not.toContain('CreateNamespace=true');
  });

  it('lists each declared kind once', () => {
    const { project } = addonObjects({ ...istioBase, clusterResources: [CRD, WEBHOOK, CRD] });
    expect(project.spec.clusterResourceWhitelist).toEqual([CRD, WEBHOOK]);
  });

  it('fails when a cluster kind is a wildcard', () => {
    expect(() => addonObjects({ ...istioBase, clusterResources: [{ group: '*', kind: '*' }] })).toThrow(
      `'clusterResources[0]' is {"group":"*","kind":"*"}; wildcards allow more than the add-on needs; list each group and kind`,
    );
  });

  it('fails when a namespaced kind is a wildcard', () => {
    expect(() => addonObjects({ ...istioBase, namespaceResources: [{ group: 'apps', kind: '*' }] })).toThrow(
      `'namespaceResources[0]' is {"group":"apps","kind":"*"}; wildcards allow more`,
    );
  });

  it('fails when it names both a Helm chart and a Git folder', () => {
    expect(() => addonObjects({ ...istioBase, chartPath: 'charts/base' })).toThrow(
      `'chart' is "base"; chartPath is set too`,
    );
  });

  it('fails when it names neither a Helm chart nor a Git folder', () => {
    expect(() => addonObjects({ ...istioBase, chart: undefined })).toThrow(
      `'chartPath' is missing; set chartPath (the chart's folder in a Git repo) or chart (the chart's name in a Helm repo)`,
    );
  });

  it('fails when the name makes its project name longer than Argo CD allows', () => {
    const name = 'a'.repeat(60);
    expect(() => addonObjects({ ...istioBase, name })).toThrow(
      `'name' is "${name}"; it names the project "dev-addon-${name}", 70 characters; Argo CD allows 63`,
    );
  });
});

const platformFor = (env: string, addons: PlatformConfig['addons']) => {
  const config = structuredClone(loadStackConfig(env).config);
  config.addons = addons;
  return new GitOpsPlatform(new App(), env, {
    config,
    argoCdManifests: { ...MINI_ARGOCD, ha: config.argocd.ha },
  });
};
const addonConfig = (
  overrides: Partial<PlatformConfig['addons'][string]> = {},
): PlatformConfig['addons'][string] => ({
  repoURL: ISTIO_REPO,
  chart: 'base',
  revision: '1.24.3',
  namespace: 'istio-system',
  createNamespace: true,
  values: {},
  clusterResources: [CRD, WEBHOOK],
  ignoreDifferences: [],
  sync: {},
  ...overrides,
});

describe('GitOpsPlatform add-ons', () => {
  it("adds each add-on to the platform chart and its namespace to the services' namespaces", () => {
    // GIVEN dev with Istio's base chart and istiod sharing istio-system
    const dev = platformFor('dev', {
      'istio-base': addonConfig(),
      istiod: addonConfig({ chart: 'istiod', clusterResources: [] }),
    });
    // WHEN synthesized
    const platform = dev.platformChart.toJson() as KubeObject[];
    const bootstrap = dev.bootstrapChart.toJson() as KubeObject[];
    // THEN each add-on is an Application in its own project, in Argo CD's namespace
    expect(dev.addons.map((a) => a.fullName)).toEqual(['dev-addon-istio-base', 'dev-addon-istiod']);
    const apps = ofKind(platform, 'Application').filter((a) => a.metadata.labels?.['converge.dev/addon']);
    expect(apps.map((a) => [a.metadata.name, a.metadata.namespace, (a.spec as AppSpec).project])).toEqual([
      ['dev-addon-istio-base', 'argocd', 'dev-addon-istio-base'],
      ['dev-addon-istiod', 'argocd', 'dev-addon-istiod'],
    ]);
    // The platform creates istio-system once, where it creates the services' namespaces
    expect(ofKind(platform, 'Namespace')).toEqual([]);
    const istioSystem = ofKind(bootstrap, 'Namespace').filter((n) => n.metadata.name === 'istio-system');
    expect(istioSystem).toHaveLength(1);
    expect(istioSystem[0].metadata.labels).toEqual({
      'app.kubernetes.io/part-of': 'converge',
      'converge.dev/environment': 'dev',
    });
    // The services' project is unchanged: it grants nothing in the add-ons' namespace
    expect(dev.project.destinations.map((d) => d.namespace)).toEqual(['dev-ml', 'dev-web']);
  });

  it('leaves the namespace to its owner when an add-on says createNamespace: false', () => {
    const dev = platformFor('dev', { 'istio-base': addonConfig({ createNamespace: false }) });
    const names = ofKind(dev.bootstrapChart.toJson() as KubeObject[], 'Namespace').map(
      (n) => n.metadata.name,
    );
    expect(names).not.toContain('istio-system');
  });

  it("gives add-ons the environment's sync policy and subscriptions, with their own prune and selfHeal", () => {
    const staging = platformFor('staging', {
      'istio-base': addonConfig({ sync: { selfHeal: false } }),
      'cert-manager': addonConfig({ chart: 'cert-manager', namespace: 'cert-manager', clusterResources: [] }),
    });
    const bySpec = Object.fromEntries(
      staging.addons.map((a) => [a.name, a.application.manifest.spec as unknown as AppSpec]),
    );
    const service = staging.applicationSet.applications.find(
      (a) => a.metadata.name === 'staging-app-service',
    )!;
    const servicePolicy = (service.spec as AppSpec).syncPolicy;
    expect(bySpec['cert-manager'].syncPolicy).toEqual(servicePolicy);
    expect(bySpec['istio-base'].syncPolicy).toEqual({
      ...servicePolicy,
      automated: { ...servicePolicy.automated, selfHeal: false },
    });
    expect(bySpec['cert-manager'].syncPolicy.syncOptions).not.toContain('CreateNamespace=true');
    const annotations = staging.addons[0].application.manifest.metadata.annotations;
    expect(annotations).toEqual(
      expect.objectContaining({
        'notifications.argoproj.io/subscribe.on-sync-failed.slack': 'deploys-staging',
      }),
    );
  });

  it("keeps `converge validate`'s rules: every add-on Application is inside its project", () => {
    const prod = platformFor('prod', {
      'istio-base': addonConfig(),
      'cluster-issuers': addonConfig({
        repoURL: 'https://github.com/example-org/platform-addons.git',
        chart: undefined,
        path: 'charts/cluster-issuers',
        revision: 'v1.2.0',
        namespace: 'cert-manager',
      }),
    });
    const objects = prod.charts.flatMap((c) => c.toJson() as KubeObject[]);
    const addonViolations = checkInvariants(objects, prod.config).filter((v) => v.object.includes('addon'));
    expect(addonViolations).toEqual([]);
  });

  it('adds nothing when no add-on is declared', () => {
    const dev = platformFor('dev', {});
    expect(dev.addons).toEqual([]);
    const projects = ofKind(dev.platformChart.toJson() as KubeObject[], 'AppProject');
    expect(projects.map((p) => p.metadata.name)).toEqual(['dev']);
  });
});
