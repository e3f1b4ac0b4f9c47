import { SyncPolicy } from '../../model/sync-policy';
import { KubeObject } from '../../model/objects';
import { loadStackConfig } from '../../config/stack-file';
import { kubernetesOpenApiDir, loadCrds } from '../../render/upstream';
import { checkInvariants } from '../../cli/validate/invariants';
import { closeSchema, SchemaValidator } from '../../cli/validate/schema-validator';
import { main } from '../../cli/main';
import { LABELS } from '../../model/constants';

const prod = loadStackConfig('prod').config;
const dev = loadStackConfig('dev').config;
const project: KubeObject = {
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'AppProject',
  metadata: { name: 'prod', namespace: 'argocd' },
  spec: {
    sourceRepos: ['https://github.com/example-org/converge.git'],
    destinations: [{ server: 'https://kubernetes.default.svc', namespace: 'prod-web' }],
  },
};
const prodPolicy = SyncPolicy.forEnvironment('prod', prod.sync).toJson();
function app(
  overrides: {
    project?: string;
    namespace?: string;
    repoURL?: string;
    values?: object;
    syncPolicy?: object;
  } = {},
): KubeObject {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: {
      name: 'prod-app-service',
      namespace: 'argocd',
      labels: { [LABELS.service]: 'app-service' },
    },
    spec: {
      project: overrides.project ?? 'prod',
      source: {
        repoURL: overrides.repoURL ?? 'https://github.com/example-org/converge.git',
        path: 'charts/app-service',
        helm: {
          valuesObject: overrides.values ?? {
            image: { tag: '1.4.2' },
            canary: { enabled: true, image: { tag: '1.5.0' }, weights: { stable: 95, canary: 5 } },
          },
        },
      },
      destination: { server: 'https://kubernetes.default.svc', namespace: overrides.namespace ?? 'prod-web' },
      syncPolicy: overrides.syncPolicy ?? prodPolicy,
    },
  };
}

describe('platform invariants', () => {
  it('hold for a well-formed Application', () => {
    expect(checkInvariants([project, app()], prod)).toEqual([]);
  });

  it("leave the service rules out of the root Application, which applies the platform's own files", () => {
    const root = app({ values: { image: { tag: 'latest' } }, syncPolicy: {} });
    const { [LABELS.service]: _service, ...labels } = root.metadata.labels!;
    void _service;
    expect(checkInvariants([project, { ...root, metadata: { ...root.metadata, labels } }], prod)).toEqual([]);
  });

  it.each<[string, KubeObject, string, string]>([
    [
      'an Application is in the default project',
      app({ project: 'default' }),
      'project-not-default',
      'default project',
    ],
    [
      'a destination is outside the project',
      app({ namespace: 'kube-system' }),
      'destination-in-project',
      'kube-system is not among project prod',
    ],
    [
      'a source repo is outside the project',
      app({ repoURL: 'https://github.com/other/x.git' }),
      'source-in-project',
      'https://github.com/other/x.git is not in project prod',
    ],
    [
      'an image is latest outside dev',
      app({ values: { image: { tag: 'latest' } } }),
      'image-tag-pinned',
      'image.tag is "latest"',
    ],
    [
      'an image has no tag outside dev',
      app({ values: { image: {} } }),
      'image-tag-pinned',
      'image.tag has no tag',
    ],
    [
      'canary weights do not add up to 100',
      app({
        values: {
          image: { tag: '1' },
          canary: { enabled: true, image: { tag: '2' }, weights: { stable: 90, canary: 20 } },
        },
      }),
      'canary-weights',
      'must be integers 0-100 that add up to 100',
    ],
    [
      'self-heal is off though the policy has it on',
      app({ syncPolicy: { automated: { prune: true, selfHeal: false } } }),
      'sync-policy',
      'prune=true selfHeal=false, but the prod policy says prune=true selfHeal=true',
    ],
  ])('fail when %s', (_name, bad, rule, message) => {
    const violations = checkInvariants([project, bad], prod);
    expect(violations).toContainEqual({
      object: 'Application/argocd/prod-app-service',
      rule,
      message: expect.stringContaining(message),
    });
  });

  it('hold for manual sync (sync.automated: false): Applications neither prune nor self-heal', () => {
    // GIVEN a prod config that turns automated sync off
    const manual = { ...prod, sync: { ...prod.sync, automated: false } };
    const manualApp = app({ syncPolicy: { syncOptions: ['ServerSideApply=true'] } });
    // WHEN / THEN
    expect(checkInvariants([project, manualApp], manual)).toEqual([]);
    expect(checkInvariants([project, app()], manual)).toContainEqual({
      object: 'Application/argocd/prod-app-service',
      rule: 'sync-policy',
      message: 'prune=true selfHeal=true, but the prod policy says prune=false selfHeal=false',
    });
  });

  it('fail when guarded Applications (self-heal off by policy) have no drift controller to heal them', () => {
    // GIVEN a guarded Application, which Argo CD does not self-heal
    const guarded: KubeObject = {
      ...app({ syncPolicy: { automated: { prune: true, selfHeal: false } } }),
      metadata: {
        name: 'prod-app-service-guarded',
        namespace: 'argocd',
        labels: { [LABELS.service]: 'app-service', 'converge.dev/part': 'guarded' },
      },
    };
    const without = {
      ...prod,
      drift: { ...prod.drift, controller: { ...prod.drift.controller, enabled: false } },
    };
    // WHEN the controller is off THEN nothing would ever heal its drift
    expect(checkInvariants([project, guarded], without)).toContainEqual({
      object: 'Application/argocd/prod-app-service-guarded',
      rule: 'guarded-drift-healed',
      message: expect.stringContaining('set drift.controller.enabled: true'),
    });
    // AND with the controller deployed it holds
    expect(
      checkInvariants([project, guarded], prod).filter((v) => v.rule === 'guarded-drift-healed'),
    ).toEqual([]);
  });

  it('allow latest tags in dev only', () => {
    const latest = app({
      project: 'prod',
      values: { image: { tag: 'latest' } },
      syncPolicy: SyncPolicy.forEnvironment('dev', dev.sync).toJson(),
    });
    expect(checkInvariants([project, latest], dev).filter((v) => v.rule === 'image-tag-pinned')).toEqual([]);
  });

  it('fail when a container image in a pod template is unpinned outside dev', () => {
    const deployment: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'x', namespace: 'prod-web' },
      spec: { template: { spec: { containers: [{ name: 'web', image: 'ghcr.io/example-org/web' }] } } },
    };
    expect(checkInvariants([deployment], prod)).toEqual([
      {
        object: 'Deployment/prod-web/x',
        rule: 'image-tag-pinned',
        message: expect.stringContaining('container web has no tag'),
      },
    ]);
  });

  it('fail when VirtualService weights do not add up to 100', () => {
    const vs: KubeObject = {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'x', namespace: 'prod-web' },
      spec: {
        http: [
          {
            route: [
              { destination: { host: 'x' }, weight: 80 },
              { destination: { host: 'x' }, weight: 30 },
            ],
          },
        ],
      },
    };
    expect(checkInvariants([vs], prod)[0]).toMatchObject({
      rule: 'canary-weights',
      message: 'http[0] weights 80+30 must each be 0-100 and add up to 100',
    });
  });
});

describe('SchemaValidator', () => {
  const validator = new SchemaValidator(kubernetesOpenApiDir(), [
    ...loadCrds('argo-cd'),
    ...loadCrds('istio-api'),
  ]);
  const deployment = (spec: object): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'x' },
    spec,
  });

  it('accepts a valid built-in object against the Kubernetes OpenAPI schema', () => {
    const result = validator.validate(
      deployment({
        selector: { matchLabels: { a: 'b' } },
        template: {
          metadata: { labels: { a: 'b' } },
          spec: { containers: [{ name: 'c', image: 'i:1', ports: [{ containerPort: 80 }] }] },
        },
      }),
    );
    expect(result).toEqual({ source: 'kubernetes', problems: [] });
  });

  it('reports unknown fields and wrong types with their paths', () => {
    const result = validator.validate(
      deployment({
        replica: 2,
        selector: { matchLabels: { a: 'b' } },
        template: { spec: { containers: [{ name: 'c', image: 7 }] } },
      }),
    );
    expect(result.problems).toEqual(
      expect.arrayContaining([
        { path: 'spec.replica', message: "unknown field 'replica'" },
        { path: 'spec.template.spec.containers[0].image', message: 'must be string' },
      ]),
    );
  });

  it('checks Argo CD and Istio objects against their CRD schemas', () => {
    expect(validator.validate(app()).source).toBe('crd');
    const vs: KubeObject = {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'x' },
      spec: { hosts: ['x'], http: [{ route: [{ destination: { host: 'x' }, weight: 'ten' }] }] },
    };
    expect(validator.validate(vs)).toMatchObject({
      source: 'crd',
      problems: [{ path: 'spec.http[0].route[0].weight', message: 'must be integer' }],
    });
  });

  it('closes objects except where unknown fields are preserved, and accepts int-or-string', () => {
    expect(
      closeSchema({
        type: 'object',
        properties: {
          a: { 'x-kubernetes-int-or-string': true },
          b: { type: 'object', properties: {}, 'x-kubernetes-preserve-unknown-fields': true },
        },
      }),
    ).toEqual({
      type: 'object',
      additionalProperties: false,
      properties: {
        a: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
        b: { type: 'object', properties: {}, 'x-kubernetes-preserve-unknown-fields': true },
      },
    });
  });
});

describe('converge validate', () => {
  it('prints the checks and exits 0 for a valid environment', async () => {
    const lines: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((m: string) => lines.push(m));
    const code = await main(['validate', '--env', 'staging']);
    log.mockRestore();
    expect(code).toBe(0);
    expect(lines.join('\n')).toMatch(
      /staging: \d+ objects and 4 generated Applications; \d+ checked against Kubernetes v1\.36\.3 schemas/,
    );
    expect(lines.join('\n')).toContain('no violations');
    expect(lines.join('\n')).toMatch(/5 +service-exposure-changed +.*medium +hold-for-approval/);
    expect(lines.join('\n')).toContain(
      'Guarded kinds (their Applications do not self-heal; the drift controller applies the policy): Service, Deployment',
    );
  });
});
