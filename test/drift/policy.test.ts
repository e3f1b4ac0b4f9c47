import { declaredImagePrefixes } from '../../config/drift-policy';
import { PlatformConfig } from '../../config/schema';
import { argoMaySelfHeal, classify, classifyFields, pointerOverlaps } from '../../model/classify';
import {
  defaultDriftPolicy,
  DriftPolicySpec,
  DriftSubject,
  validateDriftPolicy,
} from '../../model/drift-policy';

const policy = defaultDriftPolicy(['ghcr.io/example-org/']);
const deployment = (
  fields: DriftSubject['fields'],
  change: DriftSubject['change'] = 'modified',
): DriftSubject => ({
  group: 'apps',
  kind: 'Deployment',
  namespace: 'prod-web',
  name: 'app-service',
  change,
  fields,
});

describe('the default drift policy', () => {
  it.each<[string, DriftSubject, string, string, string]>([
    [
      'replicas scaled by hand',
      deployment([{ path: '/spec/replicas', from: 2, to: 5 }]),
      'low',
      'heal',
      'replicas-scaled',
    ],
    [
      'a Service switched to LoadBalancer',
      {
        group: '',
        kind: 'Service',
        name: 'app-service',
        change: 'modified',
        fields: [{ path: '/spec/type', from: 'ClusterIP', to: 'LoadBalancer' }],
      },
      'medium',
      'hold-for-approval',
      'service-exposure-changed',
    ],
    [
      'resource limits changed',
      deployment([{ path: '/spec/template/spec/containers/0/resources/limits/cpu', from: '1', to: '4' }]),
      'medium',
      'hold-for-approval',
      'resources-changed',
    ],
    [
      'a Secret deleted',
      { group: '', kind: 'Secret', name: 'db', change: 'deleted', fields: [{ path: '' }] },
      'high',
      'heal-and-page',
      'secret-deleted',
    ],
    [
      'RBAC widened',
      {
        group: 'rbac.authorization.k8s.io',
        kind: 'Role',
        name: 'app',
        change: 'modified',
        fields: [{ path: '/rules/0/verbs', from: ['get'], to: ['*'] }],
      },
      'high',
      'heal-and-page',
      'rbac-changed',
    ],
    [
      'an image from an unknown registry',
      deployment([
        {
          path: '/spec/template/spec/containers/0/image',
          from: 'ghcr.io/example-org/app:1',
          to: 'evil.example.net/app:1',
        },
      ]),
      'high',
      'heal-and-page',
      'image-from-unknown-registry',
    ],
    [
      'an image from the trusted registry',
      deployment([
        {
          path: '/spec/template/spec/containers/0/image',
          from: 'ghcr.io/example-org/app:1',
          to: 'ghcr.io/example-org/app:2',
        },
      ]),
      'low',
      'heal',
      'fallback',
    ],
    [
      'an added sidecar from the trusted registry (its name and pull policy are no image)',
      deployment([
        {
          path: '/spec/template/spec/containers/1',
          to: { name: 'sidecar', image: 'ghcr.io/example-org/proxy:1', imagePullPolicy: 'IfNotPresent' },
        },
      ]),
      'low',
      'heal',
      'fallback',
    ],
    [
      'an added sidecar from an unknown registry',
      deployment([
        {
          path: '/spec/template/spec/containers/1',
          to: { name: 'sidecar', image: 'evil.example.net/miner:1' },
        },
      ]),
      'high',
      'heal-and-page',
      'image-from-unknown-registry',
    ],
    [
      'an init container from an unknown registry',
      deployment([
        {
          path: '/spec/template/spec/initContainers/0/image',
          from: 'ghcr.io/example-org/init:1',
          to: 'evil.example.net/init:1',
        },
      ]),
      'high',
      'heal-and-page',
      'image-from-unknown-registry',
    ],
    [
      'an object created out of band',
      {
        group: '',
        kind: 'ConfigMap',
        namespace: 'prod-web',
        name: 'debug',
        change: 'added',
        fields: [{ path: '' }],
      },
      'medium',
      'hold-for-approval',
      'created-out-of-band',
    ],
    [
      'a ConfigMap edited',
      {
        group: '',
        kind: 'ConfigMap',
        name: 'app-service',
        change: 'modified',
        fields: [{ path: '/data/LOG_LEVEL', from: 'info', to: 'debug' }],
      },
      'low',
      'heal',
      'fallback',
    ],
  ])('classifies %s', (_name, subject, severity, action, rule) => {
    expect(classify(policy, subject)).toEqual({ severity, action, rule });
  });

  it('takes the most severe outcome when one change touches fields of different rules', () => {
    const subject = deployment([
      { path: '/spec/replicas', from: 2, to: 5 },
      { path: '/spec/template/spec/containers/0/resources/limits/memory', from: '1Gi', to: '8Gi' },
    ]);
    expect(classify(policy, subject).rule).toBe('replicas-scaled');
    expect(classifyFields(policy, subject)).toEqual({
      severity: 'medium',
      action: 'hold-for-approval',
      rule: 'resources-changed',
    });
  });

  it('lets Argo CD self-heal only kinds no rule holds for approval', () => {
    expect(argoMaySelfHeal(policy, '', 'ConfigMap')).toBe(true);
    expect(argoMaySelfHeal(policy, 'networking.istio.io', 'VirtualService')).toBe(true);
    expect(argoMaySelfHeal(policy, '', 'Service')).toBe(false);
    expect(argoMaySelfHeal(policy, 'apps', 'Deployment')).toBe(false);
  });
});

describe('pointerOverlaps', () => {
  it.each([
    ['/spec/replicas', '/spec/replicas', true],
    ['/spec/template/spec/containers/*/image', '/spec/template/spec/containers/3/image', true],
    ['/spec/template/spec/containers/*/image', '/spec/template/spec/containers/3', true],
    ['/spec', '/spec/replicas', true],
    ['/spec/replicas', '/spec/selector', false],
    ['/metadata/labels', '/spec/replicas', false],
  ])('%s against %s is %s', (pattern, path, expected) => {
    expect(pointerOverlaps(pattern, path)).toBe(expected);
  });
});

describe('validateDriftPolicy', () => {
  const withRule = (rule: object): DriftPolicySpec => ({ ...policy, rules: [rule as never] });

  it('fails when a rule name is not a DNS label', () => {
    expect(() =>
      validateDriftPolicy(withRule({ name: 'Replicas Scaled', match: {}, severity: 'low', action: 'heal' })),
    ).toThrow(`'drift.rules[0].name' is "Replicas Scaled"; it must be a DNS label`);
  });

  it('fails when two rules share a name', () => {
    const rule = { name: 'twice', match: {}, severity: 'low', action: 'heal' };
    expect(() => validateDriftPolicy({ ...policy, rules: [rule as never, rule as never] })).toThrow(
      `'drift.rules[1].name' is "twice"; rule names must be unique`,
    );
  });

  it('fails when a field is not a JSON pointer', () => {
    expect(() =>
      validateDriftPolicy(
        withRule({ name: 'r', match: { fields: ['spec.replicas'] }, severity: 'low', action: 'heal' }),
      ),
    ).toThrow(
      `'drift.rules[0].match.fields[0]' is "spec.replicas"; it must be a JSON pointer starting with "/"`,
    );
  });

  it('fails when a value pattern is not a regular expression', () => {
    expect(() =>
      validateDriftPolicy(
        withRule({ name: 'r', match: { valueNotMatching: '(' }, severity: 'high', action: 'heal-and-page' }),
      ),
    ).toThrow(`'drift.rules[0].match.valueNotMatching' is "("; it is not a valid regular expression`);
  });

  it('fails when the action is unknown', () => {
    expect(() =>
      validateDriftPolicy(withRule({ name: 'r', match: {}, severity: 'low', action: 'revert' })),
    ).toThrow(`'drift.rules[0].action' is "revert"; allowed: heal, hold-for-approval, heal-and-page, ignore`);
  });
});

describe('declaredImagePrefixes', () => {
  const withImages = (...repositories: string[]) =>
    ({
      services: Object.fromEntries(repositories.map((repository, i) => [`s${i}`, { image: { repository } }])),
    }) as unknown as PlatformConfig;

  it('trusts the declared images fully qualified, so a bare Docker Hub image trusts only Docker Hub', () => {
    expect(declaredImagePrefixes(withImages('ghcr.io/example-org/app', 'nginx', 'bitnami/redis'))).toEqual([
      'docker.io/bitnami/',
      'docker.io/library/',
      'ghcr.io/example-org/',
    ]);
    expect(declaredImagePrefixes(withImages('nginx'))).not.toContain('');
  });
});
