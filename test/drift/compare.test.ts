import { diffObject, ownedPaths, ownerOf } from '../../drift/engine/compare';
import { KubeObject } from '../../model/objects';

// Test fixtures are edited freely; the shape is checked by the assertions.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Mutable = any;

const desired: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'dev', labels: { app: 'web' } },
  spec: {
    replicas: 2,
    template: {
      spec: {
        containers: [
          {
            name: 'web',
            image: 'ghcr.io/example-org/web:1',
            resources: { limits: { cpu: '500m', memory: '1Gi' } },
            ports: [{ containerPort: 8080 }],
          },
          { name: 'sidecar', image: 'ghcr.io/example-org/proxy:1' },
        ],
      },
    },
  },
};

function live(overrides: (obj: Mutable) => void = () => undefined): KubeObject {
  // The server adds defaults, status and metadata; containers come back in another order.
  const obj: Mutable = JSON.parse(JSON.stringify(desired));
  obj.metadata = {
    ...obj.metadata,
    uid: 'u1',
    resourceVersion: '42',
    generation: 3,
    annotations: { 'deployment.kubernetes.io/revision': '1' },
  };
  obj.spec.template.spec.containers.reverse();
  for (const c of obj.spec.template.spec.containers)
    Object.assign(c, { terminationMessagePath: '/dev/termination-log', imagePullPolicy: 'IfNotPresent' });
  obj.spec.template.spec.containers[1].resources.limits.cpu = '0.5';
  obj.spec.strategy = { type: 'RollingUpdate' };
  obj.status = { replicas: 2 };
  overrides(obj);
  return obj as KubeObject;
}

describe('diffObject', () => {
  it('finds nothing when only server defaults, status, metadata and order differ', () => {
    expect(diffObject(desired, live())).toEqual([]);
  });

  const withLimits = (limits: Record<string, unknown>): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'dev' },
    spec: { containers: [{ name: 'c', resources: { limits } }] },
  });

  it.each([
    ['500m', '0.5'],
    ['1Gi', '1024Mi'],
    ['1.5Gi', '1536Mi'],
    ['1e3', '1k'],
    ['5n', '0.000000005'],
    ['10u', '0.00001'],
    ['2P', '2000T'],
    ['1Ei', '1024Pi'],
    ['1E', '1000P'],
    [8080, '8080'],
  ])('treats the quantities %s and %s as equal, as the API server does', (a, b) => {
    expect(diffObject(withLimits({ x: a }), withLimits({ x: b }))).toEqual([]);
  });

  it.each([
    ['500m', '0.6'],
    ['1Gi', '1G'],
    ['', '0'],
    ['1.0.0', '1'],
    ['abc', 'abd'],
  ])('tells %s from %s', (a, b) => {
    expect(diffObject(withLimits({ x: a }), withLimits({ x: b }))).toHaveLength(1);
  });

  it("finds no drift in a binding whose ServiceAccount subject's empty apiGroup the API server dropped", () => {
    const binding = (apiGroup?: string): KubeObject => ({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'b', namespace: 'staging-web' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' },
      subjects: [
        {
          kind: 'ServiceAccount',
          name: 'sa',
          namespace: 'converge-system',
          ...(apiGroup === undefined ? {} : { apiGroup }),
        },
      ],
    });
    expect(diffObject(binding(''), binding())).toEqual([]);
    // A value that is not empty is still compared.
    expect(diffObject(binding('rbac.authorization.k8s.io'), binding())).toEqual([
      { path: '/subjects/0/apiGroup', from: 'rbac.authorization.k8s.io', to: undefined },
    ]);
  });

  it("reports a changed field with Git's value and the live one, matching named list items by name", () => {
    const fields = diffObject(
      desired,
      live((o) => {
        o.spec.replicas = 5;
        o.spec.template.spec.containers[1].image = 'evil.example.net/web:1';
      }),
    );
    expect(fields).toEqual([
      { path: '/spec/replicas', from: 2, to: 5 },
      {
        path: '/spec/template/spec/containers/1/image',
        from: 'ghcr.io/example-org/web:1',
        to: 'evil.example.net/web:1',
      },
    ]);
  });

  it('reports removed labels, missing and extra list items', () => {
    const fields = diffObject(
      desired,
      live((o) => {
        delete o.metadata.labels.app;
        o.spec.template.spec.containers = o.spec.template.spec.containers.filter(
          (c: { name: string }) => c.name !== 'sidecar',
        );
        o.spec.template.spec.containers.push({ name: 'debug', image: 'busybox' });
      }),
    );
    expect(fields.map((f) => f.path)).toEqual([
      '/metadata/labels/app',
      '/spec/template/spec/containers/-',
      '/spec/template/spec/containers/1',
    ]);
  });

  it('skips fields owned by ignored field managers', () => {
    const scaled = live((o) => {
      o.spec.replicas = 7;
      o.metadata.managedFields = [
        {
          manager: 'argocd-controller',
          operation: 'Apply',
          time: '2026-11-23T10:00:00Z',
          fieldsV1: { 'f:spec': { 'f:template': {} } },
        },
        {
          manager: 'horizontal-pod-autoscaler',
          operation: 'Update',
          time: '2026-11-23T10:05:00Z',
          fieldsV1: { 'f:spec': { 'f:replicas': {} } },
        },
      ];
    });
    expect(diffObject(desired, scaled)).toEqual([{ path: '/spec/replicas', from: 2, to: 7 }]);
    expect(diffObject(desired, scaled, ['horizontal-pod-autoscaler'])).toEqual([]);
    expect(ownerOf(scaled, '/spec/replicas')).toMatchObject({
      manager: 'horizontal-pod-autoscaler',
      time: '2026-11-23T10:05:00Z',
    });
  });

  it('resolves keyed list items in managedFields to the live indexes', () => {
    const obj = live((o) => {
      o.metadata.managedFields = [
        {
          manager: 'kubectl-edit',
          fieldsV1: {
            'f:spec': {
              'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"web"}': { 'f:image': {} } } } },
            },
          },
        },
      ];
    });
    expect([...ownedPaths(obj, ['kubectl-edit'])]).toEqual(['/spec/template/spec/containers/1/image']);
  });
});
