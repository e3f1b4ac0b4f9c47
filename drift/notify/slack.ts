import { postJson } from './http';
import { Delivery, DriftNotice, fieldLines, headline } from './messages';

/** A Slack `chat.postMessage` body. */
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
          {
            type: 'mrkdwn',
            text:
              n.kind === 'sync-failed'
                ? `failed sync ${n.finding.id} · Application ${n.syncFailure?.application ?? n.finding.object.name}`
                : `drift ${n.finding.id} · approve: \`converge approve ${n.finding.id}\``,
          },
        ],
      },
    ],
  };
}

/** Slack's Web API answers HTTP 200 to failures too: `{ ok: false, error }` says it was not posted. */
async function slackAccepted(res: Response): Promise<string | undefined> {
  const reply = (await res.json().catch(() => ({}))) as { ok?: boolean; error?: string };
  return reply.ok === true ? undefined : `Slack error: ${reply.error ?? 'no "ok" in the reply'}`;
}

export function sendSlack(
  target: string,
  channel: string,
  n: DriftNotice,
  token: string,
  apiUrl = 'https://slack.com/api',
): Promise<Delivery> {
  return postJson(
    target,
    `${apiUrl}/chat.postMessage`,
    slackPayload(channel, n),
    { Authorization: `Bearer ${token}` },
    slackAccepted,
  );
}
