import { Delivery } from './messages';

/** POSTs a JSON body; a 2xx is a delivery unless `refused` finds the reply says otherwise. */
export async function postJson(
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
