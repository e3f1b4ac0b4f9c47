/** The notification vocabulary: services, triggers and subscriptions Converge configures in Argo CD. */

/** Notification services Converge configures in `argocd-notifications-cm`. */
export type NotificationServiceName = 'slack' | 'pagerduty' | 'email' | 'webhook';

/** The triggers Converge defines; their conditions and messages are Converge's own. */
export const NOTIFICATION_TRIGGERS = {
  'on-sync-failed': {
    when: "app.status.operationState != nil and app.status.operationState.phase in ['Error', 'Failed']",
    template: 'app-sync-failed',
    title: 'sync failed',
    severity: 'error',
  },
  'on-health-degraded': {
    when: "app.status.health.status == 'Degraded'",
    template: 'app-health-degraded',
    title: 'health degraded',
    severity: 'critical',
  },
  'on-deployed': {
    when: "app.status.operationState != nil and app.status.operationState.phase in ['Succeeded'] and app.status.health.status == 'Healthy'",
    template: 'app-deployed',
    title: 'deployed',
    severity: 'info',
  },
  'on-out-of-sync': {
    when: "app.status.sync.status == 'OutOfSync'",
    template: 'app-out-of-sync',
    title: 'differs from Git',
    severity: 'warning',
  },
  'on-sync-status-unknown': {
    when: "app.status.sync.status == 'Unknown'",
    template: 'app-sync-status-unknown',
    title: 'sync status unknown',
    severity: 'warning',
  },
} as const;

export type NotificationTrigger = keyof typeof NOTIFICATION_TRIGGERS;
export const NOTIFICATION_TRIGGER_NAMES = Object.keys(NOTIFICATION_TRIGGERS) as [
  NotificationTrigger,
  ...NotificationTrigger[],
];

/** A `drift.notify` target (`slack:<channel>`, `pagerduty`, `email:<address>`, `webhook:<name>`) as a subscription. */
export function subscriptionFor(trigger: NotificationTrigger, target: string): NotificationSubscription {
  const [service, ...rest] = target.split(':');
  const recipient = rest.join(':');
  if (service === 'pagerduty') return { trigger, service: 'pagerduty', recipients: [PAGERDUTY_SERVICE_KEY] };
  return { trigger, service: service as NotificationServiceName, recipients: [recipient] };
}

export interface NotificationSubscription {
  readonly trigger: NotificationTrigger;
  readonly service: NotificationServiceName;
  /** Slack channels, email addresses, PagerDuty service keys, or the names of webhooks to call. */
  readonly recipients: readonly string[];
}

export interface NotificationsSettings {
  /** Slack, with its token in `argocd-notifications-secret` under this key. */
  readonly slack?: { readonly tokenSecretKey: string };
  /** PagerDuty Events v2; subscriptions name the recipient `converge`. */
  readonly pagerduty?: { readonly routingKeySecretKey: string };
  readonly email?: {
    readonly host: string;
    readonly port: number;
    readonly from: string;
    readonly passwordSecretKey: string;
  };
  /** Generic webhooks by name; each receives a JSON body. Names must differ from ARGOCD_SERVICE_NAMES. */
  readonly webhooks?: Readonly<Record<string, { readonly url: string }>>;
}

/** The names Argo CD knows the non-webhook services by (their `service.<name>` keys below). */
export const ARGOCD_SERVICE_NAMES = { slack: 'slack', pagerduty: 'pagerdutyv2', email: 'email' } as const;

/** The recipient PagerDuty subscriptions use; it maps to the routing key secret. */
export const PAGERDUTY_SERVICE_KEY = 'converge';
