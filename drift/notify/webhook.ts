import { postJson } from './http';
import { Delivery, DriftNotice, headline } from './messages';

/** The JSON body a generic webhook receives. */
export function webhookPayload(n: DriftNotice) {
  return {
    type: n.kind,
    environment: n.environment,
    summary: headline(n),
    timeToRestoreSeconds: n.timeToRestoreSeconds,
    drift: n.finding,
    ...(n.syncFailure ? { syncFailure: n.syncFailure } : {}),
  };
}

export function sendWebhook(target: string, url: string, n: DriftNotice): Promise<Delivery> {
  return postJson(target, url, webhookPayload(n));
}
