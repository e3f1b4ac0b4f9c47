import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { AuditRecord } from '../../drift/audit';
import { CONVERGE_NAMESPACE } from '../../model/constants';
import { KubeClient } from '../../drift/kube/client';
import { loadKubeConfig } from '../../drift/kube/kubeconfig';
import { KUBECONFIG, RESULTS_DIR, ROOT, waitFor } from '../../tools/cluster/harness';
import { toolsBinDir } from '../../render/tools';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';

/* Helpers for the drift controller's end-to-end tests: a webhook receiver, the controller as a process, its records. */

export interface Received {
  readonly at: number;
  readonly body: {
    type: string;
    summary: string;
    drift: { id: string; severity: string; object: { kind: string; name: string } };
  };
}

/** A webhook receiver on loopback that keeps every JSON payload with its arrival time. */
export class WebhookReceiver {
  public readonly received: Received[] = [];
  private server?: Server;

  /** Listens on `port` (0: any free one); returns the URL to post to. */
  public async start(port = 0): Promise<string> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        this.received.push({ at: performance.now(), body: JSON.parse(body) });
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  public stop(): void {
    this.server?.close();
    // Keep-alive connections from the controller would otherwise hold the test process open.
    this.server?.closeAllConnections();
  }
}

/** Heap limit of the controller process in the tests (the in-cluster Deployment's limit is 512 MiB). */
export const HEAP_LIMIT_MB = 192;

/** `converge watch` as a real process, so it can be killed and restarted. */
export class WatchProcess {
  private child?: ChildProcess;
  public output = '';
  public readonly metricsPort: number;

  constructor(
    private readonly stacksDir: string,
    private readonly env: string,
    metricsPort: number,
    /** Another identity (a service account's token), and flags such as `--namespaced`. */
    private readonly as: { kubeconfig?: string; args?: readonly string[] } = {},
  ) {
    this.metricsPort = metricsPort;
  }

  /**
   * Starts `converge watch`. With a fault, it runs the same command function through a small
   * test entry point (test/cluster/watch-with-faults.js): the CLI has no way to inject one.
   */
  public start(faults: { pauseAfter?: string } = {}): void {
    // Never orphan a running controller: it would keep acting, and keep the test process open.
    if (this.alive()) throw new Error('the drift controller is still running; stop() or kill() it first');
    this.output = '';
    const kubeconfig = this.as.kubeconfig ?? KUBECONFIG;
    const args = faults.pauseAfter
      ? [
          join(__dirname, 'watch-with-faults.js'),
          JSON.stringify({
            env: this.env,
            stacksDir: this.stacksDir,
            kubeconfig,
            metricsPort: this.metricsPort,
            resyncSeconds: 30,
            namespaced: this.as.args?.includes('--namespaced'),
            faults,
          }),
        ]
      : [
          join(ROOT, 'dist', 'cli', 'main.js'),
          'watch',
          '--env',
          this.env,
          '--stacks-dir',
          this.stacksDir,
          '--kubeconfig',
          kubeconfig,
          '--metrics-port',
          String(this.metricsPort),
          '--resync',
          '30',
          ...(this.as.args ?? []),
        ];
    // A fixed heap, as a container memory limit would give: unbounded growth would end the process.
    this.child = spawn('node', args, {
      env: { ...process.env, NODE_OPTIONS: `--max-old-space-size=${HEAP_LIMIT_MB}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Every controller run's output goes to the results folder too, for debugging failures.
    mkdirSync(RESULTS_DIR, { recursive: true });
    const log = createWriteStream(join(RESULTS_DIR, 'drift-controller.log'), { flags: 'a' });
    log.write(`--- started ${new Date().toISOString()} ${JSON.stringify(faults)}\n`);
    const take = (d: Buffer) => {
      this.output += d;
      log.write(d);
    };
    this.child.stdout!.on('data', take);
    this.child.stderr!.on('data', take);
  }

  public async ready(): Promise<void> {
    await waitFor(
      'drift controller ready',
      async () =>
        this.output.includes('initial check done') ||
        (this.child?.exitCode !== null && this.child?.exitCode !== undefined
          ? Promise.reject(new Error(this.output))
          : false),
      {
        timeoutMs: 120_000,
      },
    );
  }

  public alive(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Kills the process at once (SIGKILL), as a crash or an evicted pod would end. */
  public async kill(): Promise<void> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child!.once('exit', r));
    this.child.kill('SIGKILL');
    await exited;
  }

  /** Asks the process to stop (SIGTERM); one stuck in a check (a paused fault) is killed after 10 s. */
  public async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const late = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(late);
  }

  public async metrics(): Promise<string> {
    return (await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`)).text();
  }

  public async metric(name: string): Promise<number> {
    const line = (await this.metrics())
      .split('\n')
      .find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
    return line ? Number(line.split(' ').pop()) : NaN;
  }
}

/** A kubeconfig for the suite's API server that authenticates with a bearer token instead. */
export function kubeconfigWithToken(token: string, file: string): string {
  const kc = loadKubeConfig({ kubeconfig: KUBECONFIG });
  const cluster = kc.getCurrentCluster()!;
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'suite',
        cluster: {
          server: cluster.server,
          'certificate-authority': cluster.caFile,
          'certificate-authority-data': cluster.caData,
          'insecure-skip-tls-verify': cluster.skipTLSVerify || undefined,
        },
      },
    ],
    users: [{ name: 'token', user: { token } }],
    contexts: [{ name: 'suite', context: { cluster: 'suite', user: 'token' } }],
    'current-context': 'suite',
  };
  writeFileSync(file, JSON.stringify(doc), { mode: 0o600 });
  return file;
}

export const auditClient = () => new KubeClient(loadKubeConfig({ kubeconfig: KUBECONFIG }));

export async function records(
  client: KubeClient,
  namespace = CONVERGE_NAMESPACE,
): Promise<(AuditRecord & { name: string; created: string })[]> {
  const { items } = await client.list<{
    metadata: { name: string; namespace: string; creationTimestamp: string };
    spec: AuditRecord;
  }>('converge.dev/v1alpha1', 'DriftRecord');
  return items
    .filter((i) => i.metadata.namespace === namespace)
    .map((i) => ({ ...i.spec, name: i.metadata.name, created: i.metadata.creationTimestamp }));
}

/** The records of the drift of one object since a moment, by event. */
export async function recordsFor(client: KubeClient, kind: string, name: string, sinceIso: string) {
  return (await records(client)).filter(
    (r) => r.object.kind === kind && r.object.name === name && r.at >= sinceIso,
  );
}

/**
 * Another identity for the CLI: `kubectl proxy --as --as-group` on loopback, with the suite's
 * admin credentials (which may impersonate). client-node reads a kubeconfig's `as` but not its
 * `as-groups`, so the proxy, not the kubeconfig, sends the impersonation headers; the API server
 * then authenticates, authorizes and admits each request as that user in those groups.
 */
export class ImpersonatingProxy {
  private child?: ChildProcess;
  public kubeconfig = '';

  constructor(
    public readonly user: string,
    public readonly groups: readonly string[] = [],
  ) {}

  public async start(): Promise<string> {
    const args = ['--kubeconfig', KUBECONFIG, 'proxy', '--port=0', `--as=${this.user}`];
    for (const g of this.groups) args.push(`--as-group=${g}`);
    const child = spawn(join(toolsBinDir(), 'kubectl'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d));
    child.stderr!.on('data', (d: Buffer) => (output += d));
    const { value: port } = await waitFor(
      `kubectl proxy as ${this.user}`,
      async () =>
        /Starting to serve on 127\.0\.0\.1:(\d+)/.exec(output)?.[1] ??
        (child.exitCode !== null ? Promise.reject(new Error(output)) : undefined),
      { timeoutMs: 30_000, intervalMs: 50 },
    );
    this.kubeconfig = join(RESULTS_DIR, `as-${this.user}.kubeconfig`);
    mkdirSync(RESULTS_DIR, { recursive: true });
    // Plain http to loopback: client-node sends it only with TLS checks off (there is no TLS).
    const doc = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name: 'proxy', cluster: { server: `http://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true } },
      ],
      users: [{ name: this.user, user: {} }],
      contexts: [{ name: 'proxy', context: { cluster: 'proxy', user: this.user } }],
      'current-context': 'proxy',
    };
    writeFileSync(this.kubeconfig, JSON.stringify(doc), { mode: 0o600 });
    return this.kubeconfig;
  }

  public async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}

/** `converge <args>` for staging as the identity of a kubeconfig; the result, never a throw. */
export function convergeAs(kubeconfig: string, stacksDir: string, ...args: string[]) {
  const r = spawnSync(
    'node',
    [
      join(ROOT, 'dist', 'cli', 'main.js'),
      ...args,
      '--env',
      'staging',
      '--stacks-dir',
      stacksDir,
      '--kubeconfig',
      kubeconfig,
    ],
    { encoding: 'utf8' },
  );
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
