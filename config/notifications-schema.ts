import { z } from 'zod';
import { ARGOCD_SERVICE_NAMES, NOTIFICATION_TRIGGER_NAMES } from '../model/notifications';
import { isSecretKeyName, looksLikeCredential } from '../model/secrets';
import { isWebhookUrl } from '../model/urls';
import {
  isDnsLabel,
  isHostOrAddress,
  isIntegerInRange,
  isMailbox,
  isNonEmptyString,
} from '../model/validators';
import { checked, hidden, redactedUrl } from './checked';

/* The schema of `notifications`: the services Argo CD notifies, and who subscribes to what. */

/** The key of the notifications Secret that holds a token; a pasted token is never shown back. */
const secretKey = (fallback: string) =>
  checked(z.string(), isSecretKeyName, (v) =>
    typeof v === 'string' && looksLikeCredential(v) ? hidden(v) : undefined,
  ).default(fallback);

const notificationServiceName = z.enum(['slack', 'pagerduty', 'email', 'webhook']);

export const notificationsSchema = z.strictObject({
  slack: z.strictObject({ tokenSecretKey: secretKey('slack-token') }).optional(),
  pagerduty: z.strictObject({ routingKeySecretKey: secretKey('pagerduty-routing-key') }).optional(),
  email: z
    .strictObject({
      host: checked(z.string(), isHostOrAddress),
      port: checked(z.number(), isIntegerInRange(1, 65535, 'use 587 for SMTP with STARTTLS')).default(587),
      /** The sender Argo CD's mails show; SMTP servers refuse one that is not an address. */
      from: checked(z.string(), isMailbox),
      passwordSecretKey: secretKey('email-password'),
    })
    .optional(),
  /** Argo CD addresses a webhook by its name, so it may not take the name of another service. */
  webhooks: z
    .record(
      checked(z.string(), (name) =>
        (Object.values(ARGOCD_SERVICE_NAMES) as string[]).includes(name)
          ? `Argo CD addresses webhooks by name, and ${Object.values(ARGOCD_SERVICE_NAMES).join(', ')} name its other services; rename the webhook, e.g. "${name}-hook"`
          : isDnsLabel(name),
      ),
      z.strictObject({ url: checked(z.string(), isWebhookUrl, redactedUrl) }),
    )
    .default({}),
  subscriptions: z
    .array(
      z.strictObject({
        trigger: z.enum(NOTIFICATION_TRIGGER_NAMES),
        service: notificationServiceName,
        recipients: z.array(checked(z.string(), isNonEmptyString)).min(1),
      }),
    )
    .default([]),
});
