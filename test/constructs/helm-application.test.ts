import { HelmApplication } from '../../constructs/argocd/helm-application';
import { ArgoCdProject } from '../../constructs/argocd/argocd-project';
import { SyncPolicy } from '../../model/sync-policy';
import { KubeObject } from '../../model/objects';
import { ofKind, only, synthObjects } from '../helpers';

const base = {
  project: 'dev',
  repoURL: 'https://github.com/example-org/converge.git',
  chartPath: 'charts/app-service',
  destinationNamespace: 'dev-web',
};
const projectProps = { sourceRepos: [base.repoURL], destinations: [{ namespace: 'dev-web' }] };
const ISTIO_REPO = 'https://istio-release.storage.googleapis.com/charts';
const helmRepoChart = {
  project: 'dev',
  repoURL: ISTIO_REPO,
  chart: 'base',
  targetRevision: '1.24.3',
  destinationNamespace: 'istio-system',
};

/** Applications Argo CD would refuse: CreateNamespace=true in a project that does not allow Namespace. */
function namespaceCreationRefused(objects: readonly KubeObject[]): string[] {
  const projects = new Map(ofKind(objects, 'AppProject').map((p) => [p.metadata.name, p]));
  return ofKind(objects, 'Application')
    .filter((app) => {
      const spec = app.spec as { project: string; syncPolicy?: { syncOptions?: string[] } };
      if (!spec.syncPolicy?.syncOptions?.includes('CreateNamespace=true')) return false;
      const whitelist =
        (projects.get(spec.project)?.spec as { clusterResourceWhitelist?: { group: string; kind: string }[] })
          ?.clusterResourceWhitelist ?? [];
      return !whitelist.some((gk) => gk.group === '' && gk.kind === 'Namespace');
    })
    .map((app) => app.metadata.name);
}

describe('HelmApplication', () => {
  it('renders an Application for a chart in Git with the finalizer and the default sync policy', () => {
    // GIVEN / WHEN
    const app = only(
      synthObjects((chart) => new HelmApplication(chart, 'dev-app-service', base)),
      'Application',
    );
    // THEN
    expect(app).toMatchSnapshot();
    expect(app.metadata).toMatchObject({
      name: 'dev-app-service',
      namespace: 'argocd',
      finalizers: ['resources-finalizer.argocd.argoproj.io'],
    });
    expect(app.spec).toMatchObject({
      project: 'dev',
      source: {
        repoURL: base.repoURL,
        path: 'charts/app-service',
        targetRevision: 'HEAD',
        helm: { releaseName: 'dev-app-service' },
      },
      destination: { server: 'https://kubernetes.default.svc', namespace: 'dev-web' },
      syncPolicy: { automated: { prune: true, selfHeal: true } },
    });
  });

  it('passes value files and platform values to Helm', () => {
    const app = only(
      synthObjects(
        (chart) =>
          new HelmApplication(chart, 'app', {
            ...base,
            valueFiles: ['values-dev.yaml'],
            values: { replicaCount: 3 },
            targetRevision: 'v1.2.0',
          }),
      ),
      'Application',
    );
    expect(app.spec).toMatchObject({
      source: {
        targetRevision: 'v1.2.0',
        helm: { valueFiles: ['values-dev.yaml'], valuesObject: { replicaCount: 3 } },
      },
    });
  });

  it('ignores exactly the VirtualService weights when a rollout controller owns them, and respects that on sync', () => {
    const app = only(
      synthObjects(
        (chart) =>
          new HelmApplication(chart, 'app', {
            ...base,
            externalCanaryWeights: true,
            syncPolicy: new SyncPolicy({ respectIgnoreDifferences: false }),
          }),
      ),
      'Application',
    );
    const spec = app.spec as { ignoreDifferences: unknown[]; syncPolicy: { syncOptions: string[] } };
    expect(spec.ignoreDifferences).toEqual([
      {
        group: 'networking.istio.io',
        kind: 'VirtualService',
        jqPathExpressions: ['.spec.http[].route[].weight'],
      },
    ]);
    expect(spec.syncPolicy.syncOptions).toContain('RespectIgnoreDifferences=true');
  });

  it('subscribes to notifications through annotations', () => {
    const app = only(
      synthObjects(
        (chart) =>
          new HelmApplication(chart, 'app', {
            ...base,
            notifications: [
              { trigger: 'on-sync-failed', service: 'slack', recipients: ['deploys'] },
              { trigger: 'on-sync-failed', service: 'slack', recipients: ['oncall'] },
              { trigger: 'on-health-degraded', service: 'pagerduty', recipients: ['converge'] },
            ],
          }),
      ),
      'Application',
    );
    expect(app.metadata.annotations).toEqual({
      'notifications.argoproj.io/subscribe.on-sync-failed.slack': 'deploys;oncall',
      'notifications.argoproj.io/subscribe.on-health-degraded.pagerdutyv2': 'converge',
    });
  });

  it('subscribes webhooks by their own name, with an empty recipient, as Argo CD addresses them', () => {
    const app = only(
      synthObjects(
        (chart) =>
          new HelmApplication(chart, 'app', {
            ...base,
            notifications: [
              { trigger: 'on-sync-failed', service: 'webhook', recipients: ['deploy-events', 'audit'] },
              { trigger: 'on-health-degraded', service: 'webhook', recipients: ['deploy-events'] },
            ],
          }),
      ),
      'Application',
    );
    expect(app.metadata.annotations).toEqual({
      'notifications.argoproj.io/subscribe.on-sync-failed.deploy-events': '',
      'notifications.argoproj.io/subscribe.on-sync-failed.audit': '',
      'notifications.argoproj.io/subscribe.on-health-degraded.deploy-events': '',
    });
  });

  it('leaves the finalizer out when cascading delete is off', () => {
    const app = only(
      synthObjects((chart) => new HelmApplication(chart, 'app', { ...base, cascadeDelete: false })),
      'Application',
    );
    expect(app.metadata.finalizers).toBeUndefined();
  });

  it("works by default with a project made by ArgoCdProject's defaults: Argo CD is not asked to create the namespace", () => {
    // GIVEN a project with the constructs' defaults (no cluster-scoped kinds) and an Application in it
    const objects = synthObjects((chart) => {
      new ArgoCdProject(chart, 'dev', projectProps);
      new HelmApplication(chart, 'dev-app-service', base);
    });
    // THEN the Application does not need Namespace, which the project does not allow
    expect(namespaceCreationRefused(objects)).toEqual([]);
    expect(only(objects, 'Application').spec).toMatchObject({
      syncPolicy: { syncOptions: expect.not.arrayContaining(['CreateNamespace=true']) },
    });
  });

  it('creates the namespace only when told, and then checks the project it is given allows Namespace', () => {
    const createNamespace = SyncPolicy.forEnvironment('dev', { createNamespace: true });
    expect(() =>
      synthObjects((chart) => {
        const project = new ArgoCdProject(chart, 'dev', projectProps);
        new HelmApplication(chart, 'app', { ...base, project, syncPolicy: createNamespace });
      }),
    ).toThrow(
      `'syncPolicy' is "CreateNamespace=true"; project dev does not allow the Namespace kind, so Argo CD could not create the namespace`,
    );
    const objects = synthObjects((chart) => {
      const project = new ArgoCdProject(chart, 'dev', {
        ...projectProps,
        clusterResources: [{ group: '', kind: 'Namespace' }],
      });
      new HelmApplication(chart, 'app', { ...base, project, syncPolicy: createNamespace });
    });
    expect((only(objects, 'Application').spec as { project: string }).project).toBe('dev');
    expect(namespaceCreationRefused(objects)).toEqual([]);
  });

  it('renders a chart from a Helm repo at its version', () => {
    const app = only(
      synthObjects((chart) => new HelmApplication(chart, 'istio-base', helmRepoChart)),
      'Application',
    );
    expect((app.spec as { source: unknown }).source).toEqual({
      repoURL: ISTIO_REPO,
      chart: 'base',
      targetRevision: '1.24.3',
      helm: { releaseName: 'istio-base' },
    });
  });

  it('fails when a chart from a Helm repo has no version', () => {
    expect(() =>
      synthObjects(
        (chart) => new HelmApplication(chart, 'app', { ...helmRepoChart, targetRevision: undefined }),
      ),
    ).toThrow(`'targetRevision' is missing; a chart from a Helm repo is installed at a version`);
  });

  it('fails when a chart from a Helm repo is read from a Git URL', () => {
    expect(() =>
      synthObjects(
        (chart) =>
          new HelmApplication(chart, 'app', { ...helmRepoChart, repoURL: 'git@github.com:istio/istio.git' }),
      ),
    ).toThrow(
      `'repoURL' is "git@github.com:istio/istio.git"; it must be the https URL of a Helm chart repository`,
    );
  });

  it('fails when a Helm chart name is a path', () => {
    expect(() =>
      synthObjects((chart) => new HelmApplication(chart, 'app', { ...helmRepoChart, chart: 'istio/base' })),
    ).toThrow(`'chart' is "istio/base"; it must be the name of a chart in the Helm repo`);
  });

  it('fails when both a Helm chart and a chart folder are given', () => {
    expect(() =>
      synthObjects((chart) => new HelmApplication(chart, 'app', { ...base, chart: 'base' })),
    ).toThrow(`'chart' is "base"; chartPath is set too`);
  });

  it('fails when neither a Helm chart nor a chart folder is given', () => {
    expect(() =>
      synthObjects((chart) => new HelmApplication(chart, 'app', { ...base, chartPath: undefined })),
    ).toThrow(`'chartPath' is missing; set chartPath (the chart's folder in a Git repo) or chart`);
  });

  it('fails when the project it is given does not list its repo', () => {
    expect(() =>
      synthObjects((chart) => {
        const project = new ArgoCdProject(chart, 'dev', projectProps);
        new HelmApplication(chart, 'app', { ...helmRepoChart, project, destinationNamespace: 'dev-web' });
      }),
    ).toThrow(
      `'repoURL' is "${ISTIO_REPO}"; project dev does not list it in sourceRepos (https://github.com/example-org/converge.git)`,
    );
  });

  it('fails when the project it is given does not allow its destination', () => {
    expect(() =>
      synthObjects((chart) => {
        const project = new ArgoCdProject(chart, 'dev', projectProps);
        new HelmApplication(chart, 'app', { ...base, project, destinationNamespace: 'kube-system' });
      }),
    ).toThrow(
      `'destinationNamespace' is "kube-system"; project dev does not allow https://kubernetes.default.svc kube-system`,
    );
  });

  it('fails when the project it is given is in another namespace', () => {
    expect(() =>
      synthObjects((chart) => {
        const project = new ArgoCdProject(chart, 'dev', { ...projectProps, namespace: 'argo' });
        new HelmApplication(chart, 'app', { ...base, project });
      }),
    ).toThrow(`'namespace' is "argocd"; project dev is in namespace argo`);
  });

  it('fails when the project is default', () => {
    expect(() =>
      synthObjects((chart) => new HelmApplication(chart, 'app', { ...base, project: 'default' })),
    ).toThrow(`'project' is "default"; the default project allows everything`);
  });

  it('fails when the chart path leaves the repo', () => {
    expect(() =>
      synthObjects((chart) => new HelmApplication(chart, 'app', { ...base, chartPath: '../other' })),
    ).toThrow(`'chartPath' is "../other"; it must be a path inside the repo`);
  });

  it('fails when the repo URL is not a Git URL', () => {
    expect(() =>
      synthObjects((chart) => new HelmApplication(chart, 'app', { ...base, repoURL: 'github.com/x' })),
    ).toThrow(`'repoURL' is "github.com/x"; it must be a Git URL`);
  });

  it('fails when an ignore rule names no fields', () => {
    expect(() =>
      synthObjects(
        (chart) => new HelmApplication(chart, 'app', { ...base, ignoreDifferences: [{ kind: 'Service' }] }),
      ),
    ).toThrow('name what to ignore: jsonPointers, jqPathExpressions or managedFieldsManagers');
  });
});
