import { SERVICE_KINDS, KubeObject } from '../../model/objects';
import { DriftController } from '../../constructs/drift/drift-controller';
import { defaultDriftPolicy } from '../../model/drift-policy';
import { DriftRecordCrd } from '../../constructs/drift/drift-record-crd';
import { ofKind, only, synthObjects } from '../helpers';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}
/** What every controller here shares: the environment, the default policy and the image. */
const BASE = {
  environment: 'prod',
  policy: defaultDriftPolicy(),
  image: 'ghcr.io/example-org/converge:0.1.0',
};
const rulesOf = (o: KubeObject) => (o as unknown as { rules: Rule[] }).rules;

describe('DriftController', () => {
  const objects = synthObjects(
    (chart) =>
      new DriftController(chart, 'Drift', {
        ...BASE,
        namespacedKinds: {
          'prod-web': [...SERVICE_KINDS, { group: 'rbac.authorization.k8s.io', kind: 'Role' }],
        },
        clusterKinds: [{ group: '', kind: 'Namespace' }],
      }),
  );

  it('runs `converge watch --in-cluster` as a restricted Deployment with its policy', () => {
    expect(objects).toMatchSnapshot();
    const deployment = only(objects, 'Deployment');
    const container = (deployment.spec as { template: { spec: { containers: Record<string, unknown>[] } } })
      .template.spec.containers[0];
    expect(container).toMatchObject({
      image: 'ghcr.io/example-org/converge:0.1.0',
      args: ['watch', '--env', 'prod', '--in-cluster', '--metrics-port', '9464', '--metrics-host', '0.0.0.0'],
      securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, runAsNonRoot: true },
    });
    const policy = ofKind(objects, 'ConfigMap').find((c) => c.metadata.name === 'converge-drift-policy')!;
    expect((policy.data as Record<string, string>)['policy.yaml']).toContain('service-exposure-changed');
  });

  it('may create audit records but never update or delete them', () => {
    const records = ofKind(objects, 'Role').find((r) => r.metadata.name === 'converge-drift-records')!;
    const rule = rulesOf(records).find((r) => r.resources.includes('driftrecords'))!;
    expect(rule.verbs.sort()).toEqual(['create', 'get', 'list', 'watch']);
  });

  it('heals only the managed kinds in the managed namespaces, and only reads RBAC', () => {
    const role = ofKind(objects, 'Role').find((r) => r.metadata.namespace === 'prod-web')!;
    const write = rulesOf(role).find(
      (r) => r.verbs.includes('patch') && r.resources.includes('deployments'),
    )!;
    expect(write.verbs.sort()).toEqual(['create', 'delete', 'get', 'list', 'patch', 'watch']);
    expect(rulesOf(role).some((r) => r.resources.includes('roles') && r.verbs.includes('patch'))).toBe(false);
    const cluster = only(objects, 'ClusterRole');
    expect(rulesOf(cluster)).toHaveLength(1);
    expect(rulesOf(cluster)[0]).toMatchObject({
      apiGroups: [''],
      resources: ['namespaces'],
      verbs: ['get', 'list', 'watch'],
    });
  });
});

describe('DriftController in the cluster', () => {
  const objects = synthObjects(
    (chart) =>
      new DriftController(chart, 'Drift', {
        ...BASE,
        namespacedKinds: { 'prod-web': SERVICE_KINDS },
        argocdNamespace: 'gitops',
      }),
  );

  it("reads Argo CD's Applications in Argo CD's namespace only, and never writes them", () => {
    const role = ofKind(objects, 'Role').find((r) => r.metadata.namespace === 'gitops')!;
    expect(rulesOf(role)).toEqual([
      { apiGroups: ['argoproj.io'], resources: ['applications'], verbs: ['get', 'list', 'watch'] },
    ]);
    const binding = ofKind(objects, 'RoleBinding').find((b) => b.metadata.namespace === 'gitops')!;
    expect(binding).toMatchObject({
      roleRef: { kind: 'Role', name: 'converge-drift-applications' },
      subjects: [{ kind: 'ServiceAccount', name: 'converge-drift', namespace: 'converge-system' }],
    });
  });

  it('keeps its working files on the /tmp volume, as its root filesystem is read-only', () => {
    const deployment = only(objects, 'Deployment');
    const container = (
      deployment.spec as { template: { spec: { containers: { env: { name: string; value: string }[] }[] } } }
    ).template.spec.containers[0];
    expect(container.env).toEqual(
      expect.arrayContaining([
        { name: 'HOME', value: '/tmp' },
        { name: 'CONVERGE_CACHE', value: '/tmp/converge' },
      ]),
    );
  });

  it('fails when the Argo CD namespace is not a DNS label', () => {
    expect(() =>
      synthObjects(
        (chart) =>
          new DriftController(chart, 'Drift', {
            environment: 'prod',
            policy: defaultDriftPolicy(),
            image: 'x:1',
            namespacedKinds: {},
            argocdNamespace: 'Argo_CD',
          }),
      ),
    ).toThrow('\'argocdNamespace\' is "Argo_CD"');
  });
});

describe('DriftRecordCrd', () => {
  it('defines the append-only audit record kind', () => {
    const crd = only(
      synthObjects((chart) => new DriftRecordCrd(chart, 'Records')),
      'CustomResourceDefinition',
    );
    expect(crd).toMatchSnapshot();
    expect(crd.spec).toMatchObject({
      group: 'converge.dev',
      scope: 'Namespaced',
      names: { kind: 'DriftRecord', plural: 'driftrecords' },
    });
  });
});
