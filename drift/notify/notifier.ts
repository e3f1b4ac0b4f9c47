import { NotificationsConfig } from '../../config/schema';
import { SeverityRouting } from '../../model/drift-policy';
import { sendEmail } from './email';
import { Delivery, DriftNotice } from './messages';
import { sendPagerDuty } from './pagerduty';
import { sendSlack } from './slack';
import { sendWebhook } from './webhook';

/*
 * Drift notifications, routed by severity: Slack, PagerDuty (Events v2), email and generic JSON
 * webhooks. A drift sends one message; its healing sends a "recovered" one (a PagerDuty resolve
 * with the same dedup key), and a drift that keeps coming back sends one "recurring" alert.
 */

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
        return sendWebhook(target, hook.url, n);
      }
      case 'slack':
        if (!this.env.slackToken) return { target, ok: false, detail: 'CONVERGE_SLACK_TOKEN is not set' };
        return sendSlack(target, arg, n, this.env.slackToken, this.env.slackApiUrl);
      case 'pagerduty':
        if (!this.env.pagerDutyRoutingKey)
          return { target, ok: false, detail: 'CONVERGE_PAGERDUTY_ROUTING_KEY is not set' };
        return sendPagerDuty(target, n, this.env.pagerDutyRoutingKey, this.env.pagerDutyEventsUrl);
      case 'email':
        if (!this.config.email) return { target, ok: false, detail: 'notifications.email is not configured' };
        return sendEmail(target, arg, n, this.config.email, this.env.smtpPassword);
      default:
        return { target, ok: false, detail: `unknown target ${target}` };
    }
  }
}
