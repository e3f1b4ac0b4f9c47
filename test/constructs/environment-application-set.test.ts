import {
  EnvironmentApplicationSet,
  SERVICE_TEMPLATE_PATCH,
} from '../../constructs/argocd/environment-application-set';
import { SyncPolicy } from '../../model/sync-policy';
import { only, synthObjects } from '../helpers';

const repoURL = 'https://github.com/example-org/converge.git';
const services = [
  {
    name: 'model-service',
    namespace: 'dev-ml',
    repoURL,
    targetRevision: 'main',
    chartPath: 'charts/model-service',
    values: { replicaCount: 1 },
    externalCanaryWeights: true,
  },
  {
    name: 'app-service',
    namespace: 'dev-web',
    repoURL,
    targetRevision: 'main',
    chartPath: 'charts/app-service',
    values: { replicaCount: 2 },
  },
];

interface Spec {
  generators: { list: { elements: Record<string, unknown>[] } }[];
  template: { metadata: Record<string, unknown>; spec: Record<string, unknown> };
  strategy?: unknown;
  goTemplate: boolean;
  templatePatch: string;
}

describe('EnvironmentApplicationSet', () => {
  it('generates one Application per service from a go-templated list generator', () => {
    // GIVEN / WHEN
    const appset = only(
      synthObjects(
        (chart) =>
          new EnvironmentApplicationSet(chart, 'Services', { environment: 'dev', project: 'dev', services }),
      ),
      'ApplicationSet',
    );
    const spec = appset.spec as Spec;
    // THEN
    expect(appset).toMatchSnapshot();
    expect(appset.metadata.name).toBe('dev-services');
    expect(spec.goTemplate).toBe(true);
    expect(spec.templatePatch).toBe(SERVICE_TEMPLATE_PATCH);
    expect(spec.generators[0].list.elements.map((e) => e.appName)).toEqual([
      'dev-app-service',
      'dev-model-service',
    ]);
    expect(spec.template.metadata.name).toBe('{{ .appName }}');
    expect(spec.template.spec).toMatchObject({
      project: 'dev',
      source: {
        repoURL: '{{ .repoURL }}',
        path: '{{ .chartPath }}',
        helm: { valueFiles: ['values-dev.yaml'] },
      },
      destination: { namespace: '{{ .namespace }}' },
    });
  });

  it("carries each service's values and ignore rules as typed JSON, not template strings", () => {
    const appset = only(
      synthObjects(
        (chart) =>
          new EnvironmentApplicationSet(chart, 'S', { environment: 'dev', project: 'dev', services }),
      ),
      'ApplicationSet',
    );
    const [app, model] = (appset.spec as Spec).generators[0].list.elements;
    expect(app.values).toEqual({ replicaCount: 2 });
    expect(app.ignoreDifferences).toEqual([]);
    expect(model.ignoreDifferences).toEqual([
      {
        group: 'networking.istio.io',
        kind: 'VirtualService',
        jqPathExpressions: ['.spec.http[].route[].weight'],
      },
    ]);
  });

  it('predicts the generated Applications with the same builder as HelmApplication', () => {
    synthObjects((chart) => {
      const appset = new EnvironmentApplicationSet(chart, 'S', {
        environment: 'staging',
        project: 'staging',
        services,
      });
      expect(appset.applications.map((a) => a.metadata.name)).toEqual([
        'staging-app-service',
        'staging-model-service',
      ]);
      expect(appset.applications[1]).toMatchObject({
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Application',
        metadata: {
          labels: { 'converge.dev/service': 'model-service', 'converge.dev/environment': 'staging' },
        },
        spec: {
          project: 'staging',
          source: {
            repoURL,
            helm: { valueFiles: ['values-staging.yaml'], valuesObject: { replicaCount: 1 } },
          },
          destination: { namespace: 'dev-ml' },
        },
      });
    });
  });

  it('rolls out step by step with RollingSync when asked for', () => {
    const appset = only(
      synthObjects(
        (chart) =>
          new EnvironmentApplicationSet(chart, 'S', {
            environment: 'prod',
            project: 'prod',
            services,
            syncPolicy: new SyncPolicy({ automated: false, prune: undefined, selfHeal: undefined }),
            progressiveSteps: [['model-service'], ['app-service']],
          }),
      ),
      'ApplicationSet',
    );
    expect((appset.spec as Spec).strategy).toEqual({
      type: 'RollingSync',
      rollingSync: {
        steps: [
          { matchExpressions: [{ key: 'converge.dev/service', operator: 'In', values: ['model-service'] }] },
          { matchExpressions: [{ key: 'converge.dev/service', operator: 'In', values: ['app-service'] }] },
        ],
      },
    });
  });

  it('fails when RollingSync is combined with automated sync', () => {
    expect(() =>
      synthObjects(
        (chart) =>
          new EnvironmentApplicationSet(chart, 'S', {
            environment: 'prod',
            project: 'prod',
            services,
            progressiveSteps: [['app-service']],
          }),
      ),
    ).toThrow(`'progressiveSteps' is [["app-service"]]; RollingSync turns automated sync off`);
  });

  it('fails when a step names an unknown service', () => {
    expect(() =>
      synthObjects(
        (chart) =>
          new EnvironmentApplicationSet(chart, 'S', {
            environment: 'prod',
            project: 'prod',
            services,
            syncPolicy: new SyncPolicy({ automated: false, prune: undefined, selfHeal: undefined }),
            progressiveSteps: [['billing']],
          }),
      ),
    ).toThrow(`'progressiveSteps[0][0]' is "billing"; it is not a service here`);
  });

  it('fails when two services share a name', () => {
    expect(() =>
      synthObjects(
        (chart) =>
          new EnvironmentApplicationSet(chart, 'S', {
            environment: 'dev',
            project: 'dev',
            services: [services[0], services[0]],
          }),
      ),
    ).toThrow(`'services[1].name' is "model-service"; service names must be unique`);
  });

  it('fails when there is no service', () => {
    expect(() =>
      synthObjects(
        (chart) =>
          new EnvironmentApplicationSet(chart, 'S', { environment: 'dev', project: 'dev', services: [] }),
      ),
    ).toThrow("'services' is []; list at least one service");
  });
});
