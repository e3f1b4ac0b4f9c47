import { HelmApplication } from '../../constructs/argocd/helm-application';
import { SyncPolicy } from '../../model/sync-policy';
import { only, synthObjects } from '../helpers';

const base = {
  project: 'dev',
  repoURL: 'https://github.com/example-org/converge.git',
  chartPath: 'charts/app-service',
  destinationNamespace: 'dev-web',
};

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
