import { SERVICE_KINDS, KubeObject } from '../../model/objects';
import { DriftController, NOTIFICATIONS_SECRET } from '../../constructs/drift/drift-controller';
import { IMAGE_LAYOUT } from '../../model/image-layout';
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
  git: { repoURL: 'https://github.com/example-org/converge.git', revision: 'main' },
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
      command: [IMAGE_LAYOUT.command],
      workingDir: IMAGE_LAYOUT.workdir,
      args: [
        'watch',
        '--env',
        'prod',
        '--in-cluster',
        '--repo-url',
        'https://github.com/example-org/converge.git',
        '--revision',
        'main',
        '--metrics-port',
        '9464',
        '--metrics-host',
        '0.0.0.0',
        '--approvals-port',
        '9465',
        '--approvals-host',
        '127.0.0.1',
      ],
      securityContext: {
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        runAsNonRoot: true,
        capabilities: { drop: ['ALL'] },
      },
    });
    const policy = ofKind(objects, 'ConfigMap').find((c) => c.metadata.name === 'converge-drift-policy')!;
    expect((policy.data as Record<string, string>)['policy.yaml']).toContain('service-exposure-changed');
  });

  it('may review tokens and access for the approvals page (system:auth-delegator), and nothing more cluster-wide', () => {
    const bindings = ofKind(objects, 'ClusterRoleBinding').filter(
      (b) => (b as unknown as { roleRef: { name: string } }).roleRef.name === 'system:auth-delegator',
    );
    expect(bindings).toHaveLength(1);
    expect(bindings[0]).toMatchObject({
      metadata: { name: 'converge-drift-auth-delegator-prod' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:auth-delegator' },
      subjects: [{ kind: 'ServiceAccount', name: 'converge-drift', namespace: 'converge-system' }],
    });
    // The built-in role is referenced, never redefined here.
    expect(ofKind(objects, 'ClusterRole').map((r) => r.metadata.name)).not.toContain('system:auth-delegator');
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
            ...BASE,
            image: 'x:1',
            namespacedKinds: {},
            argocdNamespace: 'Argo_CD',
          }),
      ),
    ).toThrow('\'argocdNamespace\' is "Argo_CD"');
  });

  it('fails when the notifications Secret is not a DNS label', () => {
    expect(() =>
      synthObjects(
        (chart) =>
          new DriftController(chart, 'Drift', {
            ...BASE,
            namespacedKinds: {},
            notificationsSecret: 'Tokens!',
          }),
      ),
    ).toThrow('\'notificationsSecret\' is "Tokens!"');
  });
});

describe('DriftController hardening', () => {
  const objects = synthObjects(
    (chart) =>
      new DriftController(chart, 'Drift', { ...BASE, namespacedKinds: { 'prod-web': SERVICE_KINDS } }),
  );
  const pod = (only(objects, 'Deployment').spec as { template: { spec: Record<string, unknown> } }).template
    .spec as {
    securityContext: Record<string, unknown>;
    containers: { securityContext: Record<string, unknown>; volumeMounts: { mountPath: string }[] }[];
    volumes: { name: string; emptyDir?: object }[];
  };

  it('meets Pod Security "restricted": RuntimeDefault seccomp, no capabilities, non-root, no escalation', () => {
    expect(pod.securityContext).toMatchObject({
      seccompProfile: { type: 'RuntimeDefault' },
      runAsNonRoot: true,
      runAsUser: IMAGE_LAYOUT.user,
      runAsGroup: IMAGE_LAYOUT.group,
    });
    expect(pod.containers[0].securityContext).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      privileged: false,
      readOnlyRootFilesystem: true,
      runAsGroup: IMAGE_LAYOUT.group,
      runAsNonRoot: true,
      runAsUser: IMAGE_LAYOUT.user,
    });
  });

  it("mounts an emptyDir at every writable path of the image's layout, and nowhere else", () => {
    expect(pod.containers[0].volumeMounts.map((m) => m.mountPath)).toEqual(
      IMAGE_LAYOUT.volumes.map((v) => v.path),
    );
    expect(pod.volumes.every((v) => v.emptyDir !== undefined)).toBe(true);
  });
});

describe('DriftController notification tokens', () => {
  const envOf = (objects: KubeObject[]) =>
    (only(objects, 'Deployment').spec as { template: { spec: { containers: { env: object[] }[] } } }).template
      .spec.containers[0].env;

  it('maps each configured key of the notifications Secret to its variable, optionally', () => {
    const env = envOf(
      synthObjects(
        (chart) =>
          new DriftController(chart, 'Drift', {
            ...BASE,
            namespacedKinds: {},
            notificationSecretKeys: {
              slackToken: 'slack-token',
              pagerDutyRoutingKey: 'pd-key',
              smtpPassword: 'mail',
            },
          }),
      ),
    );
    const ref = (key: string) => ({
      valueFrom: { secretKeyRef: { name: NOTIFICATIONS_SECRET, key, optional: true } },
    });
    expect(env).toEqual(
      expect.arrayContaining([
        { name: 'CONVERGE_SLACK_TOKEN', ...ref('slack-token') },
        { name: 'CONVERGE_PAGERDUTY_ROUTING_KEY', ...ref('pd-key') },
        { name: 'CONVERGE_SMTP_PASSWORD', ...ref('mail') },
      ]),
    );
  });

  it('sets no token variable for a service that is not configured', () => {
    const env = envOf(
      synthObjects(
        (chart) =>
          new DriftController(chart, 'Drift', {
            ...BASE,
            namespacedKinds: {},
            notificationSecretKeys: { slackToken: 'slack-token' },
          }),
      ),
    ) as { name: string }[];
    expect(env.map((e) => e.name).filter((n) => n.startsWith('CONVERGE_') && n !== 'CONVERGE_CACHE')).toEqual(
      ['CONVERGE_SLACK_TOKEN'],
    );
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
