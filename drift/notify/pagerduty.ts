import { Severity } from '../../model/drift-policy';
import { describeRef } from '../../model/objects';
import { postJson } from './http';
import { Delivery, DriftNotice, headline } from './messages';

const PD_SEVERITY: Record<Severity, string> = { high: 'critical', medium: 'warning', low: 'info' };

/** A PagerDuty Events v2 event: a trigger, or a resolve with the same dedup key once healed. */
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
      class: n.kind === 'sync-failed' ? 'sync/failed' : `drift/${f.change}`,
      custom_details: {
        drift: f.id,
        rule: f.rule,
        action: f.action,
        who: f.who,
        onset: f.onset,
        fields: f.fields,
        ...(n.syncFailure ? { syncFailure: n.syncFailure } : {}),
      },
    },
  };
}

export function sendPagerDuty(
  target: string,
  n: DriftNotice,
  routingKey: string,
  eventsUrl = 'https://events.pagerduty.com',
): Promise<Delivery> {
  return postJson(target, `${eventsUrl}/v2/enqueue`, pagerDutyPayload(routingKey, n));
}
