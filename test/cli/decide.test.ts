import { createServer, Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../cli/main';

/*
 * `converge approve|reject` in-process against a fake API server on loopback: the decision names
 * whoever the SelfSubjectReview says the caller is, `--by` is refused, and a refusal by RBAC is one
 * line naming the approvers' key.
 */

// The first in-process run loads the whole CLI (config, render): more than jest's 5 s on a busy machine.
jest.setTimeout(30_000);

const ID = 'd-1a2b3c4d5e6f';
const NS = 'converge-system';
const RECORDS = `/apis/converge.dev/v1alpha1/namespaces/${NS}/driftrecords`;

const spec = (event: string, actor = 'converge') => ({
  driftId: ID,
  event,
  environment: 'dev',
  object: { apiVersion: 'v1', kind: 'Service', namespace: 'dev-web', name: 'app-service' },
  severity: 'medium',
  action: 'hold-for-approval',
  at: event === 'detected' ? '2026-01-01T00:00:00.000Z' : '2026-01-01T00:00:01.000Z',
  actor,
});

/** Serves discovery, SelfSubjectReviews, and a DriftRecord list it adds created records to. */
class FakeApiServer {
  public user = { username: 'carol@example.org', groups: ['platform-team', 'system:authenticated'] };
  public records: { metadata: { name: string; namespace: string }; spec: Record<string, unknown> }[] = [];
  public created: Record<string, unknown>[] = [];
  public reviews = 0;
  public forbidCreate = false;
  public forbidList = false;
  public conflict = false;
  private server?: Server;

  public async start(): Promise<string> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const send = (status: number, answer: unknown) => {
          res.writeHead(status, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify(answer));
        };
        if (req.method === 'POST' && req.url === '/apis/authentication.k8s.io/v1/selfsubjectreviews') {
          this.reviews++;
          const review = JSON.parse(body) as Record<string, unknown>;
          return send(201, { ...review, status: { userInfo: { ...this.user, uid: '' } } });
        }
        if (req.url === '/apis/converge.dev/v1alpha1')
          return send(200, { resources: [{ name: 'driftrecords', kind: 'DriftRecord', namespaced: true }] });
        if (req.url === RECORDS && req.method === 'GET')
          return this.forbidList
            ? send(403, {
                message: `driftrecords.converge.dev is forbidden: User "${this.user.username}" cannot list resource "driftrecords" in API group "converge.dev" in the namespace "${NS}"`,
              })
            : send(200, { items: this.records });
        if (req.url === RECORDS && req.method === 'POST') {
          if (this.forbidCreate)
            return send(403, {
              message: `driftrecords.converge.dev is forbidden: User "${this.user.username}" cannot create resource "driftrecords" in API group "converge.dev" in the namespace "${NS}"`,
            });
          if (this.conflict) return send(409, { message: 'driftrecords.converge.dev already exists' });
          const record = JSON.parse(body);
          this.created.push(record);
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

let dir: string;
let kubeconfig: string;
const api = new FakeApiServer();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'converge-decide-'));
  kubeconfig = join(dir, 'kubeconfig');
  const server = await api.start();
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      // client-node refuses plain HTTP unless TLS checks are off; the fake server is on loopback.
      `clusters: [{name: fake, cluster: {server: "${server}", insecure-skip-tls-verify: true}}]`,
      'users: [{name: me, user: {token: t}}]',
      'contexts: [{name: fake, context: {cluster: fake, user: me}}]',
      'current-context: fake',
    ].join('\n'),
  );
});
afterAll(() => {
  api.stop();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  api.records = ['detected', 'held'].map((event) => ({
    metadata: { name: `${ID}-${event}`, namespace: NS },
    spec: spec(event),
  }));
  api.created = [];
  api.reviews = 0;
  api.forbidCreate = false;
  api.forbidList = false;
  api.conflict = false;
});
afterEach(() => {
  process.exitCode = undefined;
});

async function converge(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((...p: unknown[]) => out.push(p.join(' ')));
  const error = jest.spyOn(console, 'error').mockImplementation((...p: unknown[]) => err.push(p.join(' ')));
  try {
    const code = await main([...args, '--env', 'dev', '--kubeconfig', kubeconfig]);
    return { code, stdout: out, stderr: err };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

describe('converge approve|reject', () => {
  it("records the caller's Kubernetes identity from a SelfSubjectReview as the actor, with its groups", async () => {
    const result = await converge('approve', ID, '--reason', 'exposed by mistake');
    expect(result).toMatchObject({ code: 0, stderr: [] });
    expect(result.stdout).toEqual([`${ID} approved by carol@example.org: heal approved`]);
    expect(api.reviews).toBe(1);
    expect(api.created).toHaveLength(1);
    expect(api.created[0]).toMatchObject({
      apiVersion: 'converge.dev/v1alpha1',
      kind: 'DriftRecord',
      metadata: { name: `${ID}-approved`, namespace: NS },
      spec: {
        driftId: ID,
        event: 'approved',
        actor: 'carol@example.org',
        groups: ['platform-team', 'system:authenticated'],
        detail: 'exposed by mistake',
      },
    });
  });

  it('names whoever the API server says, not $USER', async () => {
    const before = process.env.USER;
    process.env.USER = 'mallory';
    api.user = { username: 'system:serviceaccount:ops:oncall-bot', groups: ['system:serviceaccounts'] };
    try {
      const result = await converge('reject', ID);
      expect(result.code).toBe(0);
      expect(result.stdout[0]).toBe(
        `${ID} rejected by system:serviceaccount:ops:oncall-bot: live change accepted; it will not be healed`,
      );
      expect((api.created[0] as { spec: { actor: string } }).spec.actor).toBe(
        'system:serviceaccount:ops:oncall-bot',
      );
    } finally {
      process.env.USER = before;
      api.user = { username: 'carol@example.org', groups: ['platform-team', 'system:authenticated'] };
    }
  });

  it('fails when --by is given, naming the identity the record would carry, and records nothing', async () => {
    const result = await converge('approve', ID, '--by', 'alice');
    expect(result.code).toBe(2);
    expect(result.stdout).toEqual([]);
    expect(result.stderr).toEqual([
      'converge: --by is gone: the approval records your Kubernetes identity (carol@example.org), as the API server authenticates it; drop --by "alice", and to decide as someone else use their kubeconfig (--kubeconfig or --context)',
    ]);
    expect(api.created).toHaveLength(0);
  });

  it('fails when --by is empty, as any --by', async () => {
    const result = await converge('reject', ID, '--by', '');
    expect(result.code).toBe(2);
    expect(result.stderr).toHaveLength(1);
    expect(result.stderr[0]).toContain(
      '--by is gone: the approval records your Kubernetes identity (carol@example.org)',
    );
    expect(result.stderr[0]).toContain('drop --by ""');
    expect(api.created).toHaveLength(0);
  });

  it('fails when the caller may not create records, naming drift.approvers and the Role', async () => {
    api.forbidCreate = true;
    const result = await converge('approve', ID);
    expect(result.code).toBe(2);
    expect(result.stderr).toHaveLength(1);
    expect(result.stderr[0]).toMatch(
      /^converge: carol@example\.org may not decide on drifts in converge-system \(POST .*driftrecords: HTTP 403: .*cannot create resource "driftrecords".*\); approvers are the groups and users under drift\.approvers in Pulumi\.dev\.yaml, bound to the Role converge-drift-approvers-dev$/,
    );
  });

  it('fails when the caller may not even read the records, with the same line', async () => {
    api.forbidList = true;
    const result = await converge('reject', ID);
    expect(result.code).toBe(2);
    expect(result.stderr).toHaveLength(1);
    expect(result.stderr[0]).toMatch(
      /^converge: carol@example\.org may not decide on drifts in converge-system \(GET .*driftrecords: HTTP 403: .*cannot list resource "driftrecords".*\); approvers are the groups and users under drift\.approvers in Pulumi\.dev\.yaml, bound to the Role converge-drift-approvers-dev$/,
    );
    expect(api.created).toHaveLength(0);
  });

  it('fails when someone else recorded the same decision meanwhile, claiming nothing', async () => {
    api.conflict = true;
    const result = await converge('approve', ID);
    expect(result.code).toBe(2);
    expect(result.stdout).toEqual([]);
    expect(result.stderr).toEqual([
      `converge: drift ${ID} was approved by someone else just now (the record ${ID}-approved exists); see it with \`kubectl get drift -n converge-system ${ID}-approved\``,
    ]);
  });

  it('fails when the drift is already decided, naming who decided it', async () => {
    api.records.push({ metadata: { name: `${ID}-approved`, namespace: NS }, spec: spec('approved', 'dave') });
    const result = await converge('reject', ID);
    expect(result.code).toBe(2);
    expect(result.stderr).toEqual([
      `converge: drift ${ID} is already approved (by dave at 2026-01-01T00:00:01.000Z); nothing to decide`,
    ]);
    expect(api.created).toHaveLength(0);
  });

  it('offers no --by in its help', async () => {
    const out: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
      out.push(String(s));
      return true;
    });
    try {
      await main(['approve', '--help']);
    } catch {
      /* commander exits after help */
    } finally {
      write.mockRestore();
    }
    expect(out.join('')).toContain('--reason');
    expect(out.join('')).not.toContain('--by');
  });
});
