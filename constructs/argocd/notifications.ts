import { ANNOTATIONS } from '../../model/constants';
import {
  ARGOCD_SERVICE_NAMES,
  NOTIFICATION_TRIGGERS,
  NotificationsSettings,
  NotificationSubscription,
  PAGERDUTY_SERVICE_KEY,
} from '../../model/notifications';
import { toYaml } from '../../model/yaml';

/** The `data` of `argocd-notifications-cm`: services, templates and triggers. */
export function notificationsConfigData(settings: NotificationsSettings): Record<string, string> {
  const data: Record<string, string> = {};
  const webhooks = Object.keys(settings.webhooks ?? {}).sort();
  if (settings.slack) {
    data[`service.${ARGOCD_SERVICE_NAMES.slack}`] = toYaml({
      token: `$${settings.slack.tokenSecretKey}`,
    });
  }
  if (settings.pagerduty) {
    data[`service.${ARGOCD_SERVICE_NAMES.pagerduty}`] = toYaml({
      serviceKeys: { [PAGERDUTY_SERVICE_KEY]: `$${settings.pagerduty.routingKeySecretKey}` },
    });
  }
  if (settings.email) {
    const { host, port, from, passwordSecretKey } = settings.email;
    data[`service.${ARGOCD_SERVICE_NAMES.email}`] = toYaml({
      host,
      port,
      from,
      username: from,
      password: `$${passwordSecretKey}`,
    });
  }
  for (const name of webhooks) {
    data[`service.webhook.${name}`] = toYaml({
      url: settings.webhooks![name].url,
      headers: [{ name: 'Content-Type', value: 'application/json' }],
    });
  }
  for (const [trigger, spec] of Object.entries(NOTIFICATION_TRIGGERS)) {
    const message = `Application {{.app.metadata.name}} ${spec.title}: sync {{.app.status.sync.status}}, health {{.app.status.health.status}}, revision {{.app.status.sync.revision}}.`;
    const body = JSON.stringify({
      app: '{{.app.metadata.name}}',
      event: trigger,
      sync: '{{.app.status.sync.status}}',
      health: '{{.app.status.health.status}}',
      revision: '{{.app.status.sync.revision}}',
    });
    data[`template.${spec.template}`] = toYaml({
      message,
      email: { subject: `[converge] {{.app.metadata.name}} ${spec.title}` },
      pagerdutyv2: { summary: message, severity: spec.severity, source: '{{.app.metadata.name}}' },
      webhook: Object.fromEntries(webhooks.map((name) => [name, { method: 'POST', body }])),
    });
    data[`trigger.${trigger}`] = toYaml([
      { when: spec.when, send: [spec.template], oncePer: 'app.status.sync.revision' },
    ]);
  }
  return data;
}

/**
 * Subscription annotations for an Application: `notifications.argoproj.io/subscribe.<trigger>.<service>`
 * with the recipients, `;`-separated. Argo CD registers each webhook as a service of its own name
 * (`service.webhook.<name>`), so a webhook subscription is `subscribe.<trigger>.<name>: ""`.
 */
export function notificationAnnotations(
  subscriptions: readonly NotificationSubscription[],
): Record<string, string> {
  const annotations: Record<string, string> = {};
  for (const sub of subscriptions) {
    if (sub.service === 'webhook') {
      for (const name of sub.recipients)
        annotations[`${ANNOTATIONS.notificationsPrefix}.${sub.trigger}.${name}`] = '';
      continue;
    }
    const key = `${ANNOTATIONS.notificationsPrefix}.${sub.trigger}.${ARGOCD_SERVICE_NAMES[sub.service]}`;
    const recipients = new Set([...(annotations[key]?.split(';') ?? []), ...sub.recipients]);
    annotations[key] = [...recipients].join(';');
  }
  return annotations;
}
