import { request, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { hostAllowed } from '../../../drift/web/approvals-server';
import {
  CAROL_TOKEN,
  CONTROLLER_TOKEN,
  DAVE_TOKEN,
  FakeApiServer,
  HEALED,
  HELD,
  NS,
  resetApi,
  SECRET_DRIFT,
  SECRET_VALUE,
  startPage,
} from './fake-api';

/*
 * The approvals page's server against a fake API server on loopback that answers TokenReviews and
 * SubjectAccessReviews from tables and keeps DriftRecords: who is authenticated, who may view and
 * decide, that a decision is written with the viewer's own token, and what never leaves the server.
 */

const api = new FakeApiServer();
const logs: string[] = [];
let page: Server;
let port: number;

beforeAll(async () => {
  page = await startPage(api, (line) => logs.push(line));
  port = (page.address() as AddressInfo).port;
});
afterAll(() => {
  api.stop();
  page.close();
  page.closeAllConnections();
});
// The records as the cluster has them (what the decision checks read, as the viewer).
beforeEach(() => resetApi(api));

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: { error?: string; [k: string]: unknown };
}

/** One request to the page, with any Host header (fetch cannot set one). */
function call(
  method: string,
  path: string,
  o: { token?: string; body?: unknown; host?: string; authorization?: string } = {},
): Promise<Answer> {
  const data = o.body === undefined ? undefined : JSON.stringify(o.body);
  const headers: Record<string, string> = { Host: o.host ?? `127.0.0.1:${port}` };
  if (o.token) headers.Authorization = `Bearer ${o.token}`;
  if (o.authorization) headers.Authorization = o.authorization;
  if (data) headers['Content-Type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        let json = {};
        try {
          json = JSON.parse(text);
        } catch {
          /* the page, not JSON */
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(data);
  });
}

const drifts = (token = CAROL_TOKEN) => call('GET', '/api/drifts', { token });
const approve = (id: string, token = CAROL_TOKEN, reason?: string) =>
  call('POST', `/api/drifts/${id}/approve`, { token, body: reason === undefined ? undefined : { reason } });

describe('the approvals page', () => {
  it('serves the page with a strict CSP, no inline script or style, and nosniff', async () => {
    const r = await call('GET', '/');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = String(r.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    // Every script is a file; no attribute handlers or inline styles, which the CSP would block.
    expect(r.text.match(/<script[^>]*>/g)).toEqual(['<script src="/app.js" defer>']);
    expect(r.text).not.toMatch(/\son[a-z]+=|\sstyle=/);
    const js = await call('GET', '/app.js');
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.text).not.toContain('innerHTML');
    expect(js.text).toContain('sessionStorage');
    expect(js.text).not.toMatch(/document\.cookie|localStorage/);
  });

  it('fails when the Host header is another name (DNS rebinding), answering 421', async () => {
    const r = await call('GET', '/', { host: `attacker.example:${port}` });
    expect(r.status).toBe(421);
    expect(r.json.error).toContain('answers only to 127.0.0.1 or localhost');
    expect((await call('GET', '/api/drifts', { host: 'attacker.example', token: CAROL_TOKEN })).status).toBe(
      421,
    );
    expect(api.reviews).toHaveLength(0);
  });

  it.each([
    [`127.0.0.1:${9465}`, true],
    ['localhost:8080', true],
    ['[::1]:9465', true],
    ['10.0.0.7', true],
    ['converge.attacker.example', false],
    ['127.0.0.1.nip.io', false],
    ['', false],
    [undefined, false],
  ])('takes the Host %p: %p', (header, allowed) => {
    expect(hostAllowed(header, '127.0.0.1')).toBe(allowed);
  });

  it('fails when a call has no token, with 401 and no review asked', async () => {
    const r = await call('GET', '/api/drifts');
    expect(r.status).toBe(401);
    expect(r.json.error).toMatch(/^no token: paste your Kubernetes token/);
    expect(api.reviews).toHaveLength(0);
    expect((await call('GET', '/api/drifts', { authorization: 'Basic Y2Fyb2w6cHc=' })).status).toBe(401);
  });

  it('fails when the TokenReview refuses the token, with 401', async () => {
    const r = await drifts('stolen-or-expired-token');
    expect(r.status).toBe(401);
    expect(r.json.error).toContain(
      'the API server does not accept this token (TokenReview: not authenticated)',
    );
    expect(api.reviews.map((v) => v.kind)).toEqual(['TokenReview']);
    expect(api.reviews[0].token).toBe(CONTROLLER_TOKEN);
  });

  it('fails when the SubjectAccessReview denies listing, with 403 naming the user and the Role', async () => {
    api.allowed = {};
    const r = await drifts(DAVE_TOKEN);
    expect(r.status).toBe(403);
    expect(r.json.error).toBe(
      'dave may not view drifts in converge-system (SubjectAccessReview: dave may not list driftrecords.converge.dev in converge-system); viewers need list on driftrecords, which the Roles converge-drift-viewers-staging and converge-drift-approvers-staging grant to drift.viewers and drift.approvers in Pulumi.staging.yaml',
    );
  });

  it('lists held drifts and recent ones, newest first, with their timelines, for a viewer allowed to list', async () => {
    const r = await drifts(DAVE_TOKEN);
    expect(r.status).toBe(200);
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(r.json).toMatchObject({
      environment: 'staging',
      namespace: NS,
      viewer: { username: 'dave', groups: ['system:authenticated'] },
    });
    const held = r.json.held as { id: string; held: boolean; timeline: { event: string }[] }[];
    const recent = r.json.recent as { id: string; closed: boolean; timeline: { event: string }[] }[];
    expect(held.map((d) => d.id)).toEqual([HELD]);
    expect(held[0].timeline.map((t) => t.event)).toEqual(['detected', 'held']);
    expect(recent.map((d) => d.id)).toEqual([SECRET_DRIFT, HEALED]);
    expect(recent[1].timeline.map((t) => t.event)).toEqual(['detected', 'healed-1', 'restored']);
    expect(recent[1].closed).toBe(true);
    // The SubjectAccessReview asked about the viewer, with their groups, in the records' namespace.
    const sar = api.reviews.find((v) => v.kind === 'SubjectAccessReview')!.body as {
      spec: Record<string, unknown>;
    };
    expect(sar.spec).toMatchObject({
      user: 'dave',
      groups: ['system:authenticated'],
      uid: 'uid-dave',
      resourceAttributes: { namespace: NS, verb: 'list', group: 'converge.dev', resource: 'driftrecords' },
    });
  });

  it("never shows a Secret's value, even from a record written unredacted", async () => {
    const r = await drifts();
    expect(r.text).not.toContain(SECRET_VALUE);
    const secret = (r.json.recent as { id: string; fields: { to: unknown }[] }[]).find(
      (d) => d.id === SECRET_DRIFT,
    )!;
    expect(secret.fields[0].to).toMatch(/^<redacted sha256:[0-9a-f]{8}>$/);
    for (const path of ['/', '/app.js', '/app.css'])
      expect((await call('GET', path)).text).not.toContain(SECRET_VALUE);
  });

  it("writes an approval with the viewer's own token, naming the identity the TokenReview returned", async () => {
    const r = await approve(HELD, CAROL_TOKEN, 'exposed by mistake');
    expect(r.status).toBe(200);
    expect(r.json.message).toBe(`${HELD} approved by carol: heal approved`);
    expect(api.created).toHaveLength(1);
    expect(api.created[0].token).toBe(CAROL_TOKEN);
    expect(api.created[0].body).toMatchObject({
      metadata: { name: `${HELD}-approved` },
      spec: {
        driftId: HELD,
        event: 'approved',
        actor: 'carol',
        groups: ['platform-team', 'system:authenticated'],
        detail: 'exposed by mistake',
      },
    });
    const sar = api.reviews.filter((v) => v.kind === 'SubjectAccessReview').map((v) => v.body) as {
      spec: { resourceAttributes: { verb: string } };
    }[];
    expect(sar.map((s) => s.spec.resourceAttributes.verb)).toEqual(['create']);
  });

  it('records a rejection the same way', async () => {
    const r = await call('POST', `/api/drifts/${HELD}/reject`, { token: CAROL_TOKEN });
    expect(r.status).toBe(200);
    expect(r.json.message).toBe(`${HELD} rejected by carol: live change accepted; it will not be healed`);
    expect(api.created[0].body.spec).toMatchObject({ event: 'rejected', actor: 'carol' });
    expect(api.created[0].body.spec.detail).toBeUndefined();
  });

  it('fails when the SubjectAccessReview denies creating, with 403 naming the user, the Role and drift.approvers, writing nothing', async () => {
    const r = await approve(HELD, DAVE_TOKEN);
    expect(r.status).toBe(403);
    expect(r.json.error).toBe(
      'dave may not decide on drifts in converge-system (SubjectAccessReview: dave may not create driftrecords.converge.dev in converge-system); approvers are the groups and users under drift.approvers in Pulumi.staging.yaml, bound to the Role converge-drift-approvers-staging',
    );
    expect(api.created).toHaveLength(0);
  });

  it('fails when the API server refuses the write itself (as the viewer), with the same 403 line', async () => {
    // The review says yes; the API server (RBAC, the approval policy) says no to the viewer's write.
    api.denyWrites = true;
    const r = await approve(HELD, CAROL_TOKEN);
    expect(r.status).toBe(403);
    expect(r.json.error).toMatch(
      /^carol may not decide on drifts in converge-system \(POST .*driftrecords: HTTP 403: denied by the approval policy\); approvers are the groups and users under drift\.approvers in Pulumi\.staging\.yaml, bound to the Role converge-drift-approvers-staging$/,
    );
    expect(api.created).toHaveLength(0);
  });

  it('fails when the drift is not held, with 409', async () => {
    const r = await approve(HEALED);
    expect(r.status).toBe(409);
    expect(r.json.error).toBe(
      `drift ${HEALED} is already restored (by converge at 2026-01-01T00:00:02.000Z); nothing to decide`,
    );
    const high = await approve(SECRET_DRIFT);
    expect(high.status).toBe(409);
    expect(high.json.error).toBe(
      `drift ${SECRET_DRIFT} is not held for approval (its policy action is heal-and-page); nothing to decide`,
    );
    expect(api.created).toHaveLength(0);
  });

  it('fails when the drift id is unknown, with 404, and when it is malformed, with 400', async () => {
    const r = await approve('d-ffffffffffff');
    expect(r.status).toBe(404);
    expect(r.json.error).toBe(
      'drift d-ffffffffffff has no record in converge-system; list held drifts with `converge drift --env staging`',
    );
    const bad = await approve('d-xyz');
    expect(bad.status).toBe(400);
    expect(bad.json.error).toContain('drift id "d-xyz" is malformed');
  });

  it('fails when someone decided the same drift just before, with 409', async () => {
    expect((await approve(HELD)).status).toBe(200);
    const again = await call('POST', `/api/drifts/${HELD}/reject`, { token: CAROL_TOKEN });
    expect(again.status).toBe(409);
    expect(again.json.error).toMatch(new RegExp(`^drift ${HELD} is already approved \\(by carol at `));
  });

  it('fails when the reason is not text, or the body not JSON, with 400', async () => {
    expect(
      (await call('POST', `/api/drifts/${HELD}/approve`, { token: CAROL_TOKEN, body: { reason: 7 } })).status,
    ).toBe(400);
    const r = await new Promise<number>((resolve) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: `/api/drifts/${HELD}/approve`,
          headers: { Authorization: `Bearer ${CAROL_TOKEN}` },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.end('{not json');
    });
    expect(r).toBe(400);
    expect(api.created).toHaveLength(0);
  });

  it('answers unknown paths with 404 and wrong methods with 405', async () => {
    expect((await call('GET', '/api/other', { token: CAROL_TOKEN })).status).toBe(404);
    expect((await call('POST', '/api/drifts', { token: CAROL_TOKEN })).status).toBe(405);
    expect((await call('GET', `/api/drifts/${HELD}/approve`, { token: CAROL_TOKEN })).status).toBe(405);
  });

  it('never writes a token to its log or into an answer', async () => {
    const answers = [
      await drifts(),
      await drifts('stolen-or-expired-token'),
      await approve(HELD, DAVE_TOKEN),
      await approve(HELD, CAROL_TOKEN),
      await approve(HELD, CAROL_TOKEN),
    ];
    expect(logs.join('\n')).toContain(`approvals page: ${HELD} approved by carol`);
    for (const token of [CAROL_TOKEN, DAVE_TOKEN, CONTROLLER_TOKEN, 'stolen-or-expired-token']) {
      expect(logs.join('\n')).not.toContain(token);
      for (const a of answers) expect(a.text).not.toContain(token);
    }
  });
});
