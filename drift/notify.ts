import { createTransport } from 'nodemailer';
import { NotificationsConfig } from '../config/schema';
import { Severity, SeverityRouting } from '../model/drift-policy';
import { describeRef } from '../model/objects';
import { DriftFinding } from './engine';
import { describeField } from './report';

/*
 * Drift notifications, routed by severity: Slack, PagerDuty (Events v2), email and generic JSON
 * webhooks. A drift sends one message; its healing sends a "recovered" one (a PagerDuty resolve
 * with the same dedup key), and a drift that keeps coming back sends one "recurring" alert.
 */

export type NoticeKind = 'drift' | 'recovered' | 'recurring';

export interface DriftNotice {
  readonly kind: NoticeKind;
  readonly environment: string;
  readonly finding: DriftFinding;
  /** Seconds from onset to restore, for "recovered". */
  readonly timeToRestoreSeconds?: number;
  readonly detail?: string;
}

/** Secrets and endpoints, from the environment (never from the stack file). */
export interface NotifierEnv {
  readonly slackToken?: string;
  readonly slackApiUrl?: string;
  readonly pagerDutyRoutingKey?: string;
  readonly pagerDutyEventsUrl?: string;
  readonly smtpPassword?: string;
}

export function notifierEnvFromProcess(env: NodeJS.ProcessEnv = process.env): NotifierEnv {
  return {
    slackToken: env.CONVERGE_SLACK_TOKEN,
    slackApiUrl: env.CONVERGE_SLACK_API_URL,
    pagerDutyRoutingKey: env.CONVERGE_PAGERDUTY_ROUTING_KEY,
    pagerDutyEventsUrl: env.CONVERGE_PAGERDUTY_EVENTS_URL,
    smtpPassword: env.CONVERGE_SMTP_PASSWORD,
  };
}

export function headline(n: DriftNotice): string {
  const f = n.finding;
  const what = `${describeRef(f.object)} in ${n.environment}`;
  switch (n.kind) {
    case 'recovered':
      return `[recovered] ${what} is back in its Git state${n.timeToRestoreSeconds !== undefined ? ` after ${n.timeToRestoreSeconds.toFixed(1)} s` : ''}`;
    case 'recurring':
      return `[${f.severity}] ${what} keeps drifting: something is fighting Git (${n.detail ?? 'repeated heals'})`;
    default:
      return `[${f.severity}] ${what} drifted from Git (${f.change}); policy: ${f.action} (rule ${f.rule}); by ${f.who}`;
  }
}

const fieldLines = (f: DriftFinding) => f.fields.map((x) => `• ${describeField(x)}`).join('\n');

export function slackPayload(channel: string, n: DriftNotice) {
  return {
    channel,
    text: headline(n),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${headline(n)}*` } },
      ...(n.kind === 'drift' && n.finding.fields.length
        ? [{ type: 'section', text: { type: 'mrkdwn', text: fieldLines(n.finding) } }]
        : []),
      {
        type: 'context',
        elements: [
          { type: 'mrkdwn', text: `drift ${n.finding.id} · approve: \`converge approve ${n.finding.id}\`` },
        ],
      },
    ],
  };
}

const PD_SEVERITY: Record<Severity, string> = { high: 'critical', medium: 'warning', low: 'info' };

export function pagerDutyPayload(routingKey: string, n: DriftNotice) {
  const f = n.finding;
  return {
    routing_key: routingKey,
    event_action: n.kind === 'recovered' ? 'resolve' : 'trigger',
    dedup_key: `converge-${f.id}`,
    payload: {
      summary: headline(n),
      severity: PD_SEVERITY[f.severity],
      source: describeRef(f.object),
      component: f.object.kind,
      group: n.environment,
      class: `drift/${f.change}`,
      custom_details: {
        drift: f.id,
        rule: f.rule,
        action: f.action,
        who: f.who,
        onset: f.onset,
        fields: f.fields,
      },
    },
  };
}

export function emailMessage(from: string, to: string, n: DriftNotice) {
  return {
    from,
    to,
    subject: headline(n),
    text: `${headline(n)}\n\n${n.kind === 'drift' ? `${fieldLines(n.finding)}\n\n` : ''}Drift ${n.finding.id}. Approve with: converge approve ${n.finding.id}\n`,
  };
}

export function webhookPayload(n: DriftNotice) {
  return {
    type: n.kind,
    environment: n.environment,
    summary: headline(n),
    timeToRestoreSeconds: n.timeToRestoreSeconds,
    drift: n.finding,
  };
}

export interface Delivery {
  readonly target: string;
  readonly ok: boolean;
  readonly detail: string;
}

export class Notifier {
  constructor(
    private readonly routing: SeverityRouting,
    private readonly config: NotificationsConfig,
    private readonly env: NotifierEnv = notifierEnvFromProcess(),
  ) {}

  /** Sends to every target routed for the drift's severity; failures are reported, not thrown. */
  public async notify(n: DriftNotice): Promise<Delivery[]> {
    const targets = this.routing[n.finding.severity] ?? [];
    return Promise.all(
      targets.map((t) =>
        this.send(t, n).catch((err: Error) => ({ target: t, ok: false, detail: err.message })),
      ),
    );
  }

  private async send(target: string, n: DriftNotice): Promise<Delivery> {
    const [service, ...rest] = target.split(':');
    const arg = rest.join(':');
    switch (service) {
      case 'webhook': {
        const hook = this.config.webhooks[arg];
        if (!hook) return { target, ok: false, detail: `webhook ${arg} is not declared` };
        return post(target, hook.url, webhookPayload(n));
      }
      case 'slack': {
        if (!this.env.slackToken) return { target, ok: false, detail: 'CONVERGE_SLACK_TOKEN is not set' };
        return post(
          target,
          `${this.env.slackApiUrl ?? 'https://slack.com/api'}/chat.postMessage`,
          slackPayload(arg, n),
          {
            Authorization: `Bearer ${this.env.slackToken}`,
          },
          slackAccepted,
        );
      }
      case 'pagerduty': {
        if (!this.env.pagerDutyRoutingKey)
          return { target, ok: false, detail: 'CONVERGE_PAGERDUTY_ROUTING_KEY is not set' };
        return post(
          target,
          `${this.env.pagerDutyEventsUrl ?? 'https://events.pagerduty.com'}/v2/enqueue`,
          pagerDutyPayload(this.env.pagerDutyRoutingKey, n),
        );
      }
      case 'email': {
        const smtp = this.config.email;
        if (!smtp) return { target, ok: false, detail: 'notifications.email is not configured' };
        const transport = createTransport({
          host: smtp.host,
          port: smtp.port,
          secure: smtp.port === 465,
          auth: this.env.smtpPassword ? { user: smtp.from, pass: this.env.smtpPassword } : undefined,
          tls: { rejectUnauthorized: smtp.host !== '127.0.0.1' && smtp.host !== 'localhost' },
        });
        const info = await transport.sendMail(emailMessage(smtp.from, arg, n));
        return { target, ok: true, detail: info.response };
      }
      default:
        return { target, ok: false, detail: `unknown target ${target}` };
    }
  }
}

/** Slack's Web API answers HTTP 200 to failures too: `{ ok: false, error }` says it was not posted. */
async function slackAccepted(res: Response): Promise<string | undefined> {
  const reply = (await res.json().catch(() => ({}))) as { ok?: boolean; error?: string };
  return reply.ok === true ? undefined : `Slack error: ${reply.error ?? 'no "ok" in the reply'}`;
}

async function post(
  target: string,
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
  /** Reads a 2xx reply; returns why it is a failure after all. */
  refused?: (res: Response) => Promise<string | undefined>,
): Promise<Delivery> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const why = res.ok && refused ? await refused(res) : undefined;
  return { target, ok: res.ok && !why, detail: `HTTP ${res.status}${why ? `, ${why}` : ''}` };
}
