import { createServer, Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../cli/main';
import { checkEnvironment } from '../../cli/commands/status';
import { KubeClient } from '../../drift/kube/client';
import { loadKubeConfig } from '../../drift/kube/kubeconfig';
import { loadStackConfig } from '../../config/stack-file';
import { LABELS } from '../../model/constants';
import { unreachableKubeconfig } from '../helpers';

/*
 * `converge status` in-process against a fake API server on loopback that serves Argo CD's
 * Applications: exit codes, the lines printed, --wait, and one line with exit 2 for bad input.
 */

const SHA = '1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d';
const NAMESPACE = loadStackConfig('dev').config.argocd.namespace;

interface FakeApp {
  name: string;
  environment?: string;
  sync: string;
  health: string;
  revision?: string;
}

/** Serves discovery and the Application list; `onList` may change the apps before each answer. */
class FakeArgoCd {
  public apps: FakeApp[] = [];
  public lists = 0;
  public argocdInstalled = true;
  public onList?: (n: number) => void;
  private server?: Server;

  public async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (!this.argocdInstalled)
        return send(404, { message: 'the server could not find the requested resource' });
      if (req.url === '/apis/argoproj.io/v1alpha1')
        return send(200, { resources: [{ name: 'applications', kind: 'Application', namespaced: true }] });
      if (req.url === `/apis/argoproj.io/v1alpha1/namespaces/${NAMESPACE}/applications`) {
        // Counted apart: an optional call skips evaluating its arguments when there is no onList.
        this.lists++;
        this.onList?.(this.lists);
        return send(200, {
          items: this.apps.map((a) => ({
            apiVersion: 'argoproj.io/v1alpha1',
            kind: 'Application',
            metadata: {
              name: a.name,
              namespace: NAMESPACE,
              labels: { [LABELS.environment]: a.environment ?? 'dev' },
            },
            status: {
              sync: { status: a.sync, revision: a.revision ?? SHA },
              health: { status: a.health, ...(a.health === 'Degraded' ? { message: 'crash loop' } : {}) },
            },
          })),
        });
      }
      send(404, { message: `no route ${req.url}` });
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
const argo = new FakeArgoCd();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'converge-status-'));
  kubeconfig = join(dir, 'kubeconfig');
  const server = await argo.start();
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
  argo.stop();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  argo.apps = [
    { name: 'dev-app-service', sync: 'Synced', health: 'Healthy' },
    { name: 'dev-web', sync: 'Synced', health: 'Healthy' },
    // Another environment on the same cluster: never part of dev's answer.
    { name: 'staging-web', environment: 'staging', sync: 'OutOfSync', health: 'Degraded' },
  ];
  argo.lists = 0;
  argo.argocdInstalled = true;
  argo.onList = undefined;
});
afterEach(() => {
  // The command sets it, as the binary does; the test process must not end with it.
  process.exitCode = undefined;
});

async function status(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((...p: unknown[]) => out.push(p.join(' ')));
  const error = jest.spyOn(console, 'error').mockImplementation((...p: unknown[]) => err.push(p.join(' ')));
  try {
    const code = await main(['status', '--env', 'dev', ...args]);
    return { code, stdout: out, stderr: err };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

describe('converge status', () => {
  it('exits 0 with one line per Application when all are Synced and Healthy at the revision', async () => {
    const r = await status('--kubeconfig', kubeconfig, '--revision', SHA.slice(0, 9));
    expect(r).toEqual({
      code: 0,
      stdout: ['dev-app-service: Synced, Healthy, at 1a2b3c4', 'dev-web: Synced, Healthy, at 1a2b3c4'],
      stderr: [],
    });
    expect(argo.lists).toBe(1);
  });

  it('exits 1 with a line per failing Application, checking once without --wait', async () => {
    argo.apps[1] = { name: 'dev-web', sync: 'OutOfSync', health: 'Degraded' };
    const r = await status('--kubeconfig', kubeconfig);
    expect(r).toEqual({
      code: 1,
      stdout: ['dev-web: OutOfSync, Degraded, at 1a2b3c4 - crash loop'],
      stderr: [],
    });
    expect(argo.lists).toBe(1);
  });

  it('exits 1 when the Applications are at another revision', async () => {
    const r = await status('--kubeconfig', kubeconfig, '--revision', 'abcdef0');
    expect(r.code).toBe(1);
    expect(r.stdout).toEqual([
      'dev-app-service: Synced, Healthy, at 1a2b3c4 (wanted abcdef0)',
      'dev-web: Synced, Healthy, at 1a2b3c4 (wanted abcdef0)',
    ]);
  });

  it('exits 1 when the environment has no Applications', async () => {
    argo.apps = argo.apps.filter((a) => a.environment === 'staging');
    const r = await status('--kubeconfig', kubeconfig);
    expect(r.code).toBe(1);
    expect(r.stdout).toEqual([
      expect.stringMatching(/^no Argo CD Applications labelled .*pulumi up --stack dev/),
    ]);
  });

  it('exits 1 when the cluster has no Argo CD at all, saying so', async () => {
    argo.argocdInstalled = false;
    const r = await status('--kubeconfig', kubeconfig);
    expect(r.code).toBe(1);
    expect(r.stdout).toEqual([expect.stringMatching(/^the cluster does not serve Argo CD Applications/)]);
  });

  it('with --wait, passes once the Application becomes healthy mid-wait', async () => {
    argo.apps[1] = { name: 'dev-web', sync: 'OutOfSync', health: 'Progressing', revision: 'f'.repeat(40) };
    argo.onList = (n) => {
      if (n === 2) argo.apps[1] = { name: 'dev-web', sync: 'Synced', health: 'Healthy' };
    };
    const r = await status('--kubeconfig', kubeconfig, '--revision', SHA, '--wait', '30s');
    expect(r.code).toBe(0);
    expect(r.stdout).toEqual([
      'dev-app-service: Synced, Healthy, at 1a2b3c4',
      'dev-web: Synced, Healthy, at 1a2b3c4',
    ]);
    expect(argo.lists).toBe(2);
  }, 20_000);

  it('with --wait, fails with the lines of the last check when the time is up', async () => {
    argo.apps[0] = { name: 'dev-app-service', sync: 'Synced', health: 'Progressing' };
    const started = Date.now();
    const r = await status('--kubeconfig', kubeconfig, '--wait', '3s');
    expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
    expect(r.code).toBe(1);
    expect(r.stdout).toEqual([
      'dev-app-service: Synced, Progressing, at 1a2b3c4',
      `dev: not all Synced and Healthy after 3s (${argo.lists} checks); the lines above are the last check`,
    ]);
    // About every 2 s, and once more when the time is up.
    expect(argo.lists).toBeGreaterThanOrEqual(2);
    expect(argo.lists).toBeLessThanOrEqual(3);
  }, 20_000);

  it('checkEnvironment gives promote the same verdict as the command', async () => {
    argo.apps[0] = { name: 'dev-app-service', sync: 'OutOfSync', health: 'Healthy' };
    const client = new KubeClient(loadKubeConfig({ kubeconfig }));
    await expect(checkEnvironment(client, NAMESPACE, 'dev', SHA)).resolves.toEqual({
      ok: false,
      lines: ['dev-app-service: OutOfSync, Healthy, at 1a2b3c4'],
    });
    await expect(checkEnvironment(client, NAMESPACE, 'staging')).resolves.toEqual({
      ok: false,
      lines: ['staging-web: OutOfSync, Degraded, at 1a2b3c4 - crash loop'],
    });
  });
});

describe('converge status with bad input: one line, exit 2, before any request', () => {
  const oneLine = (r: Awaited<ReturnType<typeof status>>, line: string) => {
    expect(r.code).toBe(2);
    expect(r.stderr).toEqual([line]);
    expect(argo.lists).toBe(0);
  };

  it.each(['90', '5x', '0s', '1.5m'])('fails when --wait is %j', async (wait) => {
    oneLine(
      await status('--kubeconfig', kubeconfig, '--wait', wait),
      `converge: --wait is ${JSON.stringify(wait)}; use a duration such as 90s, 5m or 1m30s (numbers followed by ms, s, m or h; more than 0, at most 24h)`,
    );
  });

  it.each(['abc', '1a2b3c', 'main', SHA + '0', 'g1a2b3c4'])(
    'fails when --revision is %j',
    async (revision) => {
      oneLine(
        await status('--kubeconfig', kubeconfig, '--revision', revision),
        `converge: --revision is ${JSON.stringify(revision)}; use a commit id of 7 to 40 hex digits, e.g. the output of \`git rev-parse HEAD\``,
      );
    },
  );

  it('fails when the environment is unknown', async () => {
    oneLine(
      await status('--env', 'qa', '--kubeconfig', kubeconfig),
      'converge: environment "qa" is unknown; allowed: dev, staging, prod; pass one of those, or add stacks/Pulumi.qa.yaml and the name to ENVIRONMENTS',
    );
  });

  it('fails when --kubeconfig names no file', async () => {
    const missing = join(dir, 'missing');
    oneLine(
      await status('--kubeconfig', missing),
      `converge: --kubeconfig is ${JSON.stringify(missing)}; no such file. Pass an existing kubeconfig, or leave the flag out to use $KUBECONFIG or ~/.kube/config`,
    );
  });

  it('fails when no kubeconfig is given and none is found', async () => {
    const saved = {
      HOME: process.env.HOME,
      KUBECONFIG: process.env.KUBECONFIG,
      SA: process.env.KUBERNETES_SERVICE_HOST,
    };
    const home = mkdtempSync(join(tmpdir(), 'converge-home-'));
    Object.assign(process.env, { HOME: home, KUBECONFIG: '', KUBERNETES_SERVICE_HOST: '' });
    try {
      oneLine(
        await status(),
        'converge: no kubeconfig: $KUBECONFIG is unset and ~/.kube/config does not exist; pass --kubeconfig <file>, set KUBECONFIG, or run in the cluster',
      );
    } finally {
      for (const [key, value] of Object.entries({
        HOME: saved.HOME,
        KUBECONFIG: saved.KUBECONFIG,
        KUBERNETES_SERVICE_HOST: saved.SA,
      }))
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('fails when the cluster cannot be reached, naming the server', async () => {
    const unreachable = join(dir, 'unreachable');
    unreachableKubeconfig(unreachable);
    const line =
      'converge: cannot reach the cluster at https://127.0.0.1:1 (ECONNREFUSED: nothing listens there); is the cluster up? check --kubeconfig and --context, or start the cluster';
    oneLine(await status('--kubeconfig', unreachable), line);
    // --wait tries again until the time is up, then gives the same answer.
    const started = Date.now();
    oneLine(await status('--kubeconfig', unreachable, '--wait', '1s'), line);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });
});
