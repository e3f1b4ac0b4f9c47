import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { apiKindsFrom, readApiKindSources, renderApiKindsModule } from '../../config/api-kinds-source';
import { ApiKinds } from '../../model/api-kinds';
import { classify } from '../../model/classify';
import { isSyncWindowSchedule } from '../../model/cron';
import { defaultDriftPolicy, DriftSubject } from '../../model/drift-policy';
import { isGitRevision } from '../../model/git-ref';
import { isHttpHeaderName, isHttpHeaderValue } from '../../model/http-header';
import { imageHasPrefix, normaliseImage } from '../../model/image-reference';
import { inlineSecretPaths, isSecretKeyName } from '../../model/secrets';
import { isTimeZone } from '../../model/time-zone';
import { hasNoCredentials, isWebhookUrl, redactCredentials } from '../../model/urls';

/* The pure value checks behind the stack file's rules: what each consumer accepts passes. */

describe('sync window schedules, as robfig/cron parses them for Argo CD', () => {
  it.each([
    '0 22 * * 5',
    '0 18 * * 5',
    '*/15 * * * *',
    '0 0 1 1 *',
    '0 9-17 * * MON-FRI',
    '0 9 * JAN,jul sun',
    '30 2 ? * ?',
    '5/10 * * * *',
    '0 0 29 2 *',
    '0  22\t* * 5',
    '0 0 31 1-12 *',
    '0 0 31 2 1',
  ])('accepts %j', (schedule) => expect(isSyncWindowSchedule(schedule)).toBeUndefined());

  it('answers every string with a rule or undefined, never a throw', () => {
    fc.assert(fc.property(fc.string(), (s) => typeof (isSyncWindowSchedule(s) ?? '') === 'string'));
  });
});

describe('time zones, as Go loads them', () => {
  it.each(['UTC', 'Europe/Berlin', 'America/Argentina/Buenos_Aires', 'Etc/GMT+5', 'Asia/Kolkata'])(
    'accepts %s',
    (zone) => expect(isTimeZone(zone)).toBeUndefined(),
  );
  it.each(['', ' UTC', 'utc', 'Europe/Berlín', 'GMT+1'])('refuses %j', (zone) =>
    expect(isTimeZone(zone)).toBeDefined(),
  );
});

describe('git revisions', () => {
  it.each(['main', 'v1.5.0', 'release-1.5', 'feature/x.y', 'HEAD', 'abc1234', 'a'.repeat(40), 'ünïcode'])(
    'accepts %s',
    (rev) => expect(isGitRevision(rev)).toBeUndefined(),
  );
  it.each([
    'a..b',
    'x y',
    'a~1',
    'a:b',
    'a?',
    'a*',
    'a[b',
    'a\\b',
    'a/',
    'a.lock',
    'a.',
    '@',
    'a@{u}',
    '.a',
    'a//b',
  ])('refuses %j', (rev) => expect(isGitRevision(rev)).toBeDefined());
});

describe('canary headers', () => {
  it.each(['x-canary', 'x_canary', "x!#$%&'*+.^`|~-1"])('accepts the name %s', (name) =>
    expect(isHttpHeaderName(name)).toBeUndefined(),
  );
  it.each(['always', 'a b', 'v=1; q'])('accepts the value %j', (value) =>
    expect(isHttpHeaderValue(value)).toBeUndefined(),
  );
  it.each(['a\rb', 'a\tb', ' a', 'a\u0000'])('refuses the value %j', (value) =>
    expect(isHttpHeaderValue(value)).toBeDefined(),
  );
});

describe('URLs', () => {
  it.each([
    'https://hooks.example.com/argocd',
    'http://localhost:8080/x',
    'http://127.0.0.1/x',
    'http://127.8.9.10:1/x',
    'http://[::1]:9000/x',
  ])('accepts the webhook %s', (url) => expect(isWebhookUrl(url)).toBeUndefined());
  it.each([
    'http://10.0.0.1/x',
    'http://128.0.0.1/x',
    'http://localhost.evil.com/x',
    'http://127.0.0.1.nip.io/x',
    'ftp://x/y',
    'javascript:alert(1)',
    'HTTPS://u:p@host/x',
  ])('refuses the webhook %s', (url) => expect(isWebhookUrl(url)).toBeDefined());
  it.each([
    'https://github.com/example-org/converge.git',
    'ssh://git@github.com/example-org/converge.git',
    'git@github.com:example-org/converge.git',
  ])('accepts the repo %s', (url) => expect(hasNoCredentials(url)).toBeUndefined());

  it('redacts any userinfo but an ssh login name', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-zA-Z0-9._~%!$&'()*+,;=-]{1,20}$/),
        fc.stringMatching(/^[a-zA-Z0-9._~%!$&'()*+,;=-]{1,20}$/),
        (user, password) => {
          const line = redactCredentials(
            `x: "https://${user}:${password}@host/p" and ssh://${user}:${password}@h/p`,
          );
          expect(line).not.toContain(`${user}:${password}`);
        },
      ),
    );
    expect(redactCredentials('ssh://git@github.com/x')).toBe('ssh://git@github.com/x');
  });
});

describe('notification Secret keys and inline secrets', () => {
  it.each(['slack-token', 'pagerduty-routing-key', 'email.password', 'SLACK_TOKEN'])(
    'accepts the key %s',
    (key) => expect(isSecretKeyName(key)).toBeUndefined(),
  );
  it('takes references, placeholders and empty values for secrets', () => {
    expect(
      inlineSecretPaths({
        existingSecret: 'db',
        passwordSecretName: 'db',
        tokenSecretKey: 'token',
        auth: { password: '' },
        apiKey: '${API_KEY}',
        tls: { secretName: 'cert' },
        tokenTTL: '24h',
        passwordEnabled: true,
        url: 'https://example.com',
      }),
    ).toEqual([]);
  });
});

describe('trusted image prefixes', () => {
  it.each<[string, string, boolean]>([
    ['ghcr.io/example-org/app:1', 'ghcr.io', true],
    ['ghcr.io.evil.com/x:1', 'ghcr.io', false],
    ['ghcr.io:443/x:1', 'ghcr.io', false],
    ['ghcr.io/example-org-evil/x', 'ghcr.io/example-org', false],
    ['ghcr.io/example-org/x', 'ghcr.io/example-org', true],
    ['ghcr.io/example-org/app:1.2', 'ghcr.io/example-org/app', true],
    ['ghcr.io/example-org/app-evil:1', 'ghcr.io/example-org/app', false],
    ['nginx:1.25', 'docker.io/library/', true],
    ['library/nginx', 'docker.io/library/nginx', true],
    ['nginx:1.25', 'nginx', true],
    ['nginx.evil.com/x', 'nginx', false],
    ['index.docker.io/library/nginx', 'docker.io/library/', true],
    ['example-org/app', 'example-org/', true],
    ['example-org.evil.com/app', 'example-org/', false],
  ])('%s under %s: %s', (image, prefix, trusted) => expect(imageHasPrefix(image, prefix)).toBe(trusted));

  it('normalises Docker Hub shorthands', () => {
    expect(normaliseImage('nginx:1.25')).toBe('docker.io/library/nginx:1.25');
    expect(normaliseImage('library/nginx')).toBe('docker.io/library/nginx');
    expect(normaliseImage('localhost:5000/app')).toBe('localhost:5000/app');
  });

  const imageChange = (image: string): DriftSubject => ({
    group: 'apps',
    kind: 'Deployment',
    namespace: 'prod-web',
    name: 'app-service',
    change: 'modified',
    fields: [
      { path: '/spec/template/spec/containers/0/image', from: 'ghcr.io/example-org/app:1', to: image },
    ],
  });

  it.each<[string[], string, string]>([
    [['ghcr.io'], 'ghcr.io.evil.com/x:1', 'image-from-unknown-registry'],
    [['ghcr.io'], 'ghcr.io/example-org/app:2', 'fallback'],
    [['ghcr.io/example-org/'], 'nginx:1.25', 'image-from-unknown-registry'],
    [['docker.io/library/'], 'nginx:1.25', 'fallback'],
    [['nginx'], 'nginx.evil.com/nginx:1', 'image-from-unknown-registry'],
    [['library/'], 'evil/nginx:1', 'image-from-unknown-registry'],
  ])('with trusted %j, the default policy classifies %s by %s', (prefixes, image, rule) => {
    expect(classify(defaultDriftPolicy(prefixes), imageChange(image)).rule).toBe(rule);
  });

  it('keeps the committed pattern of a prefix ending in "/"', () => {
    expect(defaultDriftPolicy(['ghcr.io/example-org/']).rules[0].match.valueNotMatching).toBe(
      '^(ghcr\\.io/example-org/)',
    );
  });
});

describe('kinds drift rules may name', () => {
  it('are exactly those of the generated bindings (regenerate with config/api-kinds-source.ts)', () => {
    const generated = readFileSync(join(__dirname, '..', '..', 'model', 'api-kinds.generated.ts'), 'utf8');
    expect(generated).toBe(renderApiKindsModule(apiKindsFrom(readApiKindSources())));
  });

  it('include Kubernetes, Argo CD, Istio, the DriftRecord and declared kinds, and no list types', () => {
    const known = new ApiKinds([{ group: 'cert-manager.io', kind: 'Certificate' }]);
    for (const [group, kind] of [
      ['apps', 'Deployment'],
      ['', 'Secret'],
      ['rbac.authorization.k8s.io', '*'],
      ['argoproj.io', 'AppProject'],
      ['networking.istio.io', 'VirtualService'],
      ['converge.dev', 'DriftRecord'],
      ['cert-manager.io', 'Certificate'],
      [undefined, 'Service'],
      ['*', 'Deployment'],
    ] as const) {
      expect(group === undefined ? undefined : known.groupProblem(group)).toBeUndefined();
      expect(known.kindProblem(kind, group)).toBeUndefined();
    }
    expect(known.kindProblem('DeploymentList', 'apps')).toBeDefined();
  });
});
