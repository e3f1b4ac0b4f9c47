import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { loadStackConfig } from '../../config/stack-file';
import { DriftFinding } from '../../drift/engine/find-drift';
import { DriftMetrics } from '../../drift/metrics';
import { emailMessage } from '../../drift/notify/email';
import { DriftNotice } from '../../drift/notify/messages';
import { Notifier } from '../../drift/notify/notifier';
import { pagerDutyPayload } from '../../drift/notify/pagerduty';
import { slackPayload } from '../../drift/notify/slack';
import { webhookPayload } from '../../drift/notify/webhook';
import { partialObject } from '../../drift/remediate';

const finding: DriftFinding = {
  id: 'd-0123456789ab',
  object: { apiVersion: 'v1', kind: 'Secret', namespace: 'prod-web', name: 'db' },
  change: 'deleted',
  fields: [{ path: '', from: 'present', to: 'absent' }],
  severity: 'high',
  action: 'heal-and-page',
  rule: 'secret-deleted',
  who: 'unknown (object deleted)',
};
const drift: DriftNotice = { kind: 'drift', environment: 'prod', finding };
const recovered: DriftNotice = { kind: 'recovered', environment: 'prod', finding, timeToRestoreSeconds: 0.4 };

describe('notification payloads', () => {
  it('pages PagerDuty with a trigger, and resolves it with the same dedup key when recovered', () => {
    expect(pagerDutyPayload('key', drift)).toMatchObject({
      routing_key: 'key',
      event_action: 'trigger',
      dedup_key: 'converge-d-0123456789ab',
      payload: {
        severity: 'critical',
        source: 'Secret/prod-web/db',
        summary:
          '[high] Secret/prod-web/db in prod drifted from Git (deleted); policy: heal-and-page (rule secret-deleted); by unknown (object deleted)',
      },
    });
    expect(pagerDutyPayload('key', recovered)).toMatchObject({
      event_action: 'resolve',
      dedup_key: 'converge-d-0123456789ab',
    });
  });

  it('writes Slack, email and webhook messages that say what, where, and how to approve', () => {
    expect(slackPayload('#deploys', drift)).toMatchObject({
      channel: '#deploys',
      text: expect.stringContaining('[high] Secret/prod-web/db in prod'),
    });
    expect(JSON.stringify(slackPayload('#deploys', drift))).toContain('converge approve d-0123456789ab');
    expect(emailMessage('argocd@example.com', 'oncall@example.com', recovered)).toMatchObject({
      subject: '[recovered] Secret/prod-web/db in prod is back in its Git state after 0.4 s',
    });
    expect(webhookPayload(drift)).toMatchObject({
      type: 'drift',
      environment: 'prod',
      drift: { id: 'd-0123456789ab' },
    });
  });
});

describe('Notifier', () => {
  let server: Server;
  let smtp: SMTPServer;
  let base: string;
  let smtpPort: number;
  const received: { url: string; auth?: string; body: Record<string, unknown> }[] = [];
  const mails: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        received.push({ url: req.url!, auth: req.headers.authorization, body: JSON.parse(body) });
        // Slack's Web API answers HTTP 200 either way; the body says whether it was posted.
        if (req.url!.startsWith('/slack-refuses')) res.end('{"ok":false,"error":"channel_not_found"}');
        else res.end(req.url!.startsWith('/slack') ? '{"ok":true}' : '{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData(stream, _session, done) {
        let text = '';
        stream.on('data', (d) => (text += d));
        stream.on('end', () => {
          mails.push(text);
          done();
        });
      },
    });
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
    smtpPort = (smtp.server.address() as AddressInfo).port;
  });
  afterAll(() => {
    server.close();
    smtp.close();
  });

  it('routes by severity to Slack, PagerDuty, email and webhooks', async () => {
    const config = loadStackConfig('prod').config.notifications;
    const notifier = new Notifier(
      {
        low: [],
        medium: ['slack:deploys'],
        high: ['pagerduty', 'webhook:oncall', 'email:oncall@example.com', 'slack:incidents'],
      },
      {
        ...config,
        webhooks: { oncall: { url: `${base}/hook` } },
        email: { host: '127.0.0.1', port: smtpPort, from: 'converge@example.com', passwordSecretKey: 'x' },
      },
      {
        slackToken: 'xoxb-test',
        slackApiUrl: `${base}/slack`,
        pagerDutyRoutingKey: 'rk',
        pagerDutyEventsUrl: `${base}/pd`,
      },
    );
    const deliveries = await notifier.notify(drift);
    expect(deliveries.map((d) => [d.target, d.ok])).toEqual([
      ['pagerduty', true],
      ['webhook:oncall', true],
      ['email:oncall@example.com', true],
      ['slack:incidents', true],
    ]);
    expect(received.map((r) => r.url).sort()).toEqual(['/hook', '/pd/v2/enqueue', '/slack/chat.postMessage']);
    expect(received.find((r) => r.url.startsWith('/slack'))).toMatchObject({
      auth: 'Bearer xoxb-test',
      body: { channel: 'incidents' },
    });
    expect(mails[0]).toContain('Subject: [high] Secret/prod-web/db in prod drifted from Git (deleted)');
    expect(await notifier.notify({ ...drift, finding: { ...finding, severity: 'low' } })).toEqual([]);
  });

  it('fails when Slack answers ok: false, reporting its error rather than "sent"', async () => {
    const notifier = new Notifier(
      { low: [], medium: [], high: ['slack:nowhere'] },
      { webhooks: {}, subscriptions: [] } as never,
      { slackToken: 'xoxb-test', slackApiUrl: `${base}/slack-refuses` },
    );
    expect(await notifier.notify(drift)).toEqual([
      { target: 'slack:nowhere', ok: false, detail: 'HTTP 200, Slack error: channel_not_found' },
    ]);
  });

  it('reports a missing secret instead of throwing', async () => {
    const notifier = new Notifier(
      { low: [], medium: [], high: ['slack:x', 'webhook:nope'] },
      { webhooks: {}, subscriptions: [] } as never,
      {},
    );
    expect(await notifier.notify(drift)).toEqual([
      { target: 'slack:x', ok: false, detail: 'CONVERGE_SLACK_TOKEN is not set' },
      { target: 'webhook:nope', ok: false, detail: 'webhook nope is not declared' },
    ]);
  });
});

describe('DriftMetrics', () => {
  it('serves the four drift metrics on /metrics', async () => {
    const metrics = new DriftMetrics();
    metrics.detected.inc({ severity: 'high', kind: 'Secret' });
    metrics.timeToDetect.observe(0.2);
    metrics.timeToRestore.observe(0.9);
    metrics.pendingApprovals.set(2);
    const server = await metrics.serve(0, '127.0.0.1');
    const text = await (
      await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`)
    ).text();
    server.close();
    expect(text).toContain('converge_drift_detected_total{severity="high",kind="Secret"} 1');
    expect(text).toContain('converge_drift_time_to_detect_seconds_count 1');
    expect(text).toContain('converge_drift_time_to_restore_seconds_bucket{le="1"} 1');
    expect(text).toContain('converge_drift_pending_approvals 2');
  });

  it("starts each severity's time-to-detect and time-to-restore series at 0, so rate() sees the first drift", async () => {
    const text = await new DriftMetrics().registry.metrics();
    for (const severity of ['low', 'medium', 'high'])
      for (const name of ['converge_drift_time_to_detect_seconds', 'converge_drift_time_to_restore_seconds'])
        expect(text).toContain(`${name}_count{severity="${severity}"} 0`);
  });
});

describe('partialObject', () => {
  it('keeps only the drifted fields (lists whole) plus the object header', () => {
    const desired = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'dev', labels: { a: 'b' } },
      spec: {
        replicas: 2,
        selector: { matchLabels: { a: 'b' } },
        template: { spec: { containers: [{ name: 'web', image: 'i:1' }] } },
      },
    };
    expect(partialObject(desired, ['/spec/replicas', '/spec/template/spec/containers/0/image'])).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'dev' },
      spec: { replicas: 2, template: { spec: { containers: [{ name: 'web', image: 'i:1' }] } } },
    });
  });
});
