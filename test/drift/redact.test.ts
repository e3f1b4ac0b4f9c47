import { recordFromFinding, storedForm } from '../../drift/audit';
import { Reconciler } from '../../drift/controller/reconciler';
import { DriftFinding, findDrift } from '../../drift/engine/find-drift';
import { redactFields } from '../../drift/engine/redact';
import { redactCredentials as redactUrlCredentials } from '../../model/urls';
import { evaluateApplications } from '../../drift/kube/app-health';
import { emailMessage } from '../../drift/notify/email';
import { pagerDutyPayload } from '../../drift/notify/pagerduty';
import { slackPayload } from '../../drift/notify/slack';
import { webhookPayload } from '../../drift/notify/webhook';
import { driftTable } from '../../drift/report';
import { defaultDriftPolicy } from '../../model/drift-policy';
import { KubeObject, objectKey } from '../../model/objects';
import { changed, deployment, harness, NS, secret, T0 } from './reconciler-fakes';

/*
 * A Secret's values, Git's and the live one, never leave Converge: every output path is built
 * from a finding, and each one is checked here for the values themselves.
 */

const GIT_VALUE = 'czNjcjN0LWZyb20tZ2l0'; // base64 of "s3cr3t-from-git"
const LIVE_VALUE = 'aHVudGVyMi1saXZl'; // base64 of "hunter2-live"
const TOKEN = 'ghp_live0123456789token';
const SECRETS = [GIT_VALUE, LIVE_VALUE, 's3cr3t-from-git', 'hunter2-live', TOKEN];

const DATA = { 'f:data': { 'f:password': {} } };
const desiredSecret = secret({}) as KubeObject;
const gitSecret = { ...desiredSecret, data: { password: GIT_VALUE, user: 'YWRtaW4=' } } as KubeObject;
const liveSecret = changed(
  {
    ...gitSecret,
    metadata: { ...gitSecret.metadata, uid: '6d1f-uid' },
    data: { password: LIVE_VALUE, user: 'YWRtaW4=' },
  } as KubeObject,
  'kubectl-edit',
  T0 - 1000,
  DATA,
);

function expectNoSecret(text: string) {
  for (const value of SECRETS) expect(text).not.toContain(value);
}

function secretFinding(): DriftFinding {
  const [finding] = findDrift(
    [{ object: gitSecret, application: 'staging-app' }],
    new Map([[objectKey(liveSecret), liveSecret]]),
    defaultDriftPolicy(['ghcr.io/example-org/']),
  );
  return finding;
}

describe('redaction of Secret values', () => {
  it('says which key changed and a short hash of each value, never the value', () => {
    const finding = secretFinding();
    expect(finding.fields).toEqual([
      {
        path: '/data/password',
        from: expect.stringMatching(/^<redacted sha256:[0-9a-f]{8}>$/),
        to: expect.stringMatching(/^<redacted sha256:[0-9a-f]{8}>$/),
      },
    ]);
    expect(finding.fields[0].from).not.toEqual(finding.fields[0].to);
    expectNoSecret(JSON.stringify(finding));
  });

  it('keeps the drift id stable across runs, and redaction idempotent', () => {
    const a = secretFinding();
    expect(secretFinding().id).toBe(a.id);
    expect(redactFields(a.object, a.fields)).toEqual(a.fields);
  });

  it('hides a whole data map keeping its keys, and kubectl last-applied copies', () => {
    const ref = { apiVersion: 'v1', kind: 'Secret', namespace: NS, name: 'db' };
    const lastApplied = JSON.stringify({ data: { password: GIT_VALUE } });
    const fields = redactFields(ref, [
      { path: '/data', from: { password: GIT_VALUE }, to: undefined },
      { path: '/stringData/password', from: 's3cr3t-from-git', to: undefined },
      {
        path: '/metadata/annotations',
        from: { team: 'web', 'kubectl.kubernetes.io/last-applied-configuration': lastApplied },
        to: { team: 'web' },
      },
      { path: '/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration', from: lastApplied },
    ]);
    expect(fields[0].from).toEqual({ password: expect.stringMatching(/^<redacted/) });
    expect((fields[2].from as Record<string, string>).team).toBe('web');
    expectNoSecret(JSON.stringify(fields));
  });

  it('leaves other kinds as they are, except credentials inside URLs', () => {
    const ref = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: NS, name: 'app' };
    const [f] = redactFields(ref, [
      { path: '/spec/replicas', from: 2, to: 5 },
      { path: '/x', from: `https://deploy:${TOKEN}@git.example.com/r.git`, to: `https://${TOKEN}@h/r` },
    ]);
    expect(f).toEqual({ path: '/spec/replicas', from: 2, to: 5 });
    expect(
      redactFields(ref, [{ path: '/x', from: `https://deploy:${TOKEN}@git.example.com/r.git` }]),
    ).toEqual([{ path: '/x', from: 'https://***@git.example.com/r.git', to: undefined }]);
  });
});

describe('every output path of a Secret drift', () => {
  const finding = secretFinding();

  it('converge drift: the table and the JSON', () => {
    expectNoSecret(driftTable([finding], new Map()));
    expectNoSecret(JSON.stringify({ findings: [finding] }));
    expect(driftTable([finding], new Map())).toContain('/data/password');
  });

  it('DriftRecords, including one written from unredacted fields', () => {
    expectNoSecret(
      JSON.stringify(storedForm(recordFromFinding(finding, 'detected', 'staging', new Date(T0), 'converge'))),
    );
    const raw = { ...finding, fields: [{ path: '/data/password', from: GIT_VALUE, to: LIVE_VALUE }] };
    const stored = storedForm(recordFromFinding(raw, 'detected', 'staging', new Date(T0), 'converge'));
    expectNoSecret(JSON.stringify(stored));
    expect(stored.fields?.[0].path).toBe('/data/password');
  });

  it('webhook, Slack, PagerDuty and email payloads', () => {
    const notice = { kind: 'drift' as const, environment: 'staging', finding };
    expectNoSecret(JSON.stringify(webhookPayload(notice)));
    expectNoSecret(JSON.stringify(slackPayload('#ops', notice)));
    expectNoSecret(JSON.stringify(pagerDutyPayload('routing', notice)));
    expectNoSecret(JSON.stringify(emailMessage('from@example.com', 'to@example.com', notice)));
  });

  it('the controller: its log lines, its records, its notices and its metrics', async () => {
    const base = defaultDriftPolicy(['ghcr.io/example-org/']);
    const policy = {
      ...base,
      rules: [
        {
          name: 'secret-changed',
          match: { group: '', kind: 'Secret' },
          severity: 'high',
          action: 'heal-and-page',
        } as const,
        ...base.rules,
      ],
    };
    const h = harness([{ object: gitSecret, application: 'staging-app' }], { policy });
    const key = h.cluster.put(liveSecret);
    const lines: string[] = [];
    const reconciler = new Reconciler({
      desired: () => h.desired,
      live: h.cluster,
      audit: h.trail,
      healer: h.healer,
      notifier: h.notifier,
      metrics: h.metrics,
      now: () => new Date(T0),
      log: (line) => lines.push(line),
    });
    await reconciler.reconcile(key);
    expect(h.trail.recordsOf(key).length).toBeGreaterThan(0);
    expect(lines.length).toBeGreaterThan(0);
    expect(h.notifier.notices.length).toBeGreaterThan(0);
    expectNoSecret(lines.join('\n'));
    expectNoSecret(JSON.stringify(h.trail.recordsOf(key)));
    expectNoSecret(JSON.stringify([...h.log.stored.values()]));
    expectNoSecret(JSON.stringify(h.notifier.notices));
    expectNoSecret(await h.metrics.registry.metrics());
  });
});

describe('credentials in URLs', () => {
  it('hides userinfo of http(s) URLs and passwords elsewhere', () => {
    expect(redactUrlCredentials(`clone https://bob:${TOKEN}@git.example.com/r.git failed`)).toBe(
      'clone https://***@git.example.com/r.git failed',
    );
    expect(redactUrlCredentials(`https://${TOKEN}@github.com/o/r`)).toBe('https://***@github.com/o/r');
    expect(redactUrlCredentials('https://u:p@ss@host/x')).toBe('https://***@host/x');
    expect(redactUrlCredentials('ssh://git@github.com/o/r')).toBe('ssh://git@github.com/o/r');
    expect(redactUrlCredentials('ssh://git:pw@github.com/o/r')).toBe('ssh://***@github.com/o/r');
    expect(redactUrlCredentials('git@github.com:o/r.git')).toBe('git@github.com:o/r.git');
  });

  it('converge status shows Argo CD messages without the credentials they repeat', () => {
    const app = {
      metadata: { name: 'staging-app', namespace: 'argocd', labels: {} },
      spec: { source: { repoURL: 'https://git.example.com/r.git' } },
      status: {
        sync: { status: 'Unknown' },
        health: { status: 'Healthy' },
        conditions: [
          {
            type: 'ComparisonError',
            message: `rpc error: git fetch https://bob:${TOKEN}@git.example.com/r.git: 403`,
          },
        ],
      },
    };
    const verdict = evaluateApplications([app], { environment: 'staging', namespace: 'argocd' });
    expect(verdict.lines.join('\n')).toContain('https://***@git.example.com/r.git: 403');
    expectNoSecret(verdict.lines.join('\n'));
  });

  it('a Deployment env value with a URL carrying a token is shown without it', () => {
    const want = deployment(2);
    const withEnv = (value: string) =>
      ({
        ...want,
        spec: {
          ...(want.spec as object),
          template: {
            spec: {
              containers: [
                { name: 'app', image: 'ghcr.io/example-org/app-service:1.4.2', env: [{ name: 'DB', value }] },
              ],
            },
          },
        },
      }) as KubeObject;
    const live = changed(withEnv(`postgres://app:${TOKEN}@db:5432/app`), 'kubectl-edit', T0, {
      'f:spec': { 'f:template': {} },
    });
    const findings = findDrift(
      [{ object: withEnv('postgres://app@db:5432/app') }],
      new Map([[objectKey(live), live]]),
      defaultDriftPolicy(['ghcr.io/example-org/']),
    );
    expect(findings).toHaveLength(1);
    expectNoSecret(JSON.stringify(findings));
  });
});
