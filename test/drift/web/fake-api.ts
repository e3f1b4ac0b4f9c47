import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { StoredRecord } from '../../../drift/audit';
import { KubeClient } from '../../../drift/kube/client';
import { ApprovalsServer } from '../../../drift/web/approvals-server';

/*
 * A fake API server on loopback for the approvals page's tests: TokenReviews and
 * SubjectAccessReviews answered from tables, DriftRecords kept, and the token of every request seen.
 */

export const NS = 'converge-system';
export const HELD = 'd-1a2b3c4d5e6f';
export const HEALED = 'd-0000000000aa';
export const SECRET_DRIFT = 'd-5ec4e7000001';
export const SECRET_VALUE = 'hunter2-plain-value';
export const CONTROLLER_TOKEN = 'controller-token-3f9a';
export const CAROL_TOKEN = 'carol-token-71c2d9';
export const DAVE_TOKEN = 'dave-token-0b8e44';
export const RECORDS = `/apis/converge.dev/v1alpha1/namespaces/${NS}/driftrecords`;

export const users: Record<string, { username: string; groups: string[] }> = {
  [CAROL_TOKEN]: { username: 'carol', groups: ['platform-team', 'system:authenticated'] },
  [DAVE_TOKEN]: { username: 'dave', groups: ['system:authenticated'] },
};

export const service = { apiVersion: 'v1', kind: 'Service', namespace: 'staging-web', name: 'app-service' };
export const rec = (
  driftId: string,
  event: string,
  at: string,
  extra: Partial<StoredRecord> = {},
): StoredRecord => ({
  name: `${driftId}-${event}`,
  driftId,
  event: event.replace(/-\d+$/, '') as StoredRecord['event'],
  environment: 'staging',
  object: service,
  change: 'modified',
  fields: [{ path: '/spec/type', from: 'ClusterIP', to: 'NodePort' }],
  severity: 'medium',
  action: 'hold-for-approval',
  rule: 'service-exposure',
  who: 'kubectl-edit',
  at,
  actor: 'converge',
  ...extra,
});

/** The controller's trail: one held drift, one healed, and a Secret drift written unredacted. */
export const trail: StoredRecord[] = [
  rec(HEALED, 'detected', '2026-01-01T00:00:00.000Z', { severity: 'low', action: 'heal' }),
  rec(HEALED, 'healed-1', '2026-01-01T00:00:01.000Z'),
  rec(HEALED, 'restored', '2026-01-01T00:00:02.000Z'),
  rec(HELD, 'detected', '2026-01-01T00:01:00.000Z'),
  rec(HELD, 'held', '2026-01-01T00:01:00.000Z'),
  rec(SECRET_DRIFT, 'detected', '2026-01-01T00:02:00.000Z', {
    object: { apiVersion: 'v1', kind: 'Secret', namespace: 'staging-web', name: 'db' },
    fields: [{ path: '/data/password', from: 'Z2l0', to: SECRET_VALUE }],
    severity: 'high',
    action: 'heal-and-page',
    // Markup in a record must show as text on the page, never run.
    who: '<img src=x onerror="window.pwned=1">',
  }),
];

/** The API server: reviews from the tables above, records kept per namespace, every token seen. */
export class FakeApiServer {
  public allowed: Record<string, string[]> = {};
  public denyWrites = false;
  public created: { token: string; body: { metadata: { name: string }; spec: Record<string, unknown> } }[] =
    [];
  public stored: { metadata: { name: string; namespace: string }; spec: Record<string, unknown> }[] = [];
  public reviews: { kind: string; token: string; body: Record<string, unknown> }[] = [];
  private server?: Server;

  public async start(): Promise<string> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
        const send = (status: number, answer: unknown): void => {
          res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(answer));
        };
        if (req.method === 'POST' && req.url === '/apis/authentication.k8s.io/v1/tokenreviews') {
          const review = JSON.parse(body) as { spec: { token: string } };
          this.reviews.push({ kind: 'TokenReview', token, body: review });
          if (token !== CONTROLLER_TOKEN) return send(403, { message: 'only the controller reviews tokens' });
          const user = users[review.spec.token];
          return send(201, {
            ...review,
            status: user
              ? { authenticated: true, user: { ...user, uid: `uid-${user.username}` } }
              : { authenticated: false, error: 'invalid bearer token' },
          });
        }
        if (req.method === 'POST' && req.url === '/apis/authorization.k8s.io/v1/subjectaccessreviews') {
          const review = JSON.parse(body) as {
            spec: { user: string; resourceAttributes: { verb: string; namespace: string; resource: string } };
          };
          this.reviews.push({ kind: 'SubjectAccessReview', token, body: review });
          if (token !== CONTROLLER_TOKEN) return send(403, { message: 'only the controller reviews access' });
          const a = review.spec.resourceAttributes;
          const allowed =
            a.namespace === NS &&
            a.resource === 'driftrecords' &&
            (this.allowed[review.spec.user] ?? []).includes(a.verb);
          return send(201, { ...review, status: { allowed } });
        }
        if (req.url === '/apis/converge.dev/v1alpha1')
          return send(200, { resources: [{ name: 'driftrecords', kind: 'DriftRecord', namespaced: true }] });
        const viewer = users[token];
        if (req.url === RECORDS && req.method === 'GET')
          return viewer && (this.allowed[viewer.username] ?? []).includes('list')
            ? send(200, { items: this.stored })
            : send(403, { message: 'cannot list resource "driftrecords"' });
        if (req.url === RECORDS && req.method === 'POST') {
          // As the real API server: RBAC judges the requester, not whoever the record names.
          if (this.denyWrites) return send(403, { message: 'denied by the approval policy' });
          if (!viewer || !(this.allowed[viewer.username] ?? []).includes('create'))
            return send(403, { message: `User "${viewer?.username}" cannot create resource "driftrecords"` });
          const record = JSON.parse(body);
          if (this.stored.some((s) => s.metadata.name === record.metadata.name))
            return send(409, { message: 'already exists' });
          this.created.push({ token, body: record });
          this.stored.push(record);
          return send(201, record);
        }
        send(404, { message: `no route ${req.method} ${req.url}` });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  public stop(): void {
    this.server?.close();
    this.server?.closeAllConnections();
  }
}

/** The page's server for the fake API server, as the controller would run it; its port. */
export async function startPage(api: FakeApiServer, log: (line: string) => void): Promise<Server> {
  const url = await api.start();
  const kc = new KubeConfig();
  kc.loadFromOptions({
    // client-node sends plain http only with TLS checks off; the fake server is on loopback.
    clusters: [{ name: 'fake', server: url, skipTLSVerify: true }],
    users: [{ name: 'controller', token: CONTROLLER_TOKEN }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'controller' }],
    currentContext: 'fake',
  });
  return new ApprovalsServer({
    environment: 'staging',
    namespace: () => NS,
    client: new KubeClient(kc),
    records: () => trail,
    log,
  }).listen(0);
}

/** Back to the tables above: carol decides, dave views, the records are the trail's. */
export function resetApi(api: FakeApiServer): void {
  api.allowed = { carol: ['create', 'get', 'list', 'watch'], dave: ['get', 'list'] };
  api.created = [];
  api.reviews = [];
  api.denyWrites = false;
  api.stored = trail.map(({ name, ...spec }) => ({ metadata: { name, namespace: NS }, spec }));
}
