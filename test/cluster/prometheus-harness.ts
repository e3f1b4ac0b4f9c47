import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { KubeObject } from '../../model/objects';
import { RESULTS_DIR, ROOT, waitFor } from '../../tools/cluster/harness';

/*
 * Debian's Prometheus on loopback for the end-to-end suite: the synthesized rule groups, and a
 * scrape config equivalent to the synthesized ServiceMonitors, with each selected Service's
 * endpoint replaced by the loopback port its process listens on here.
 */

/** A free port on 127.0.0.1, checked by binding it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

interface Endpoint {
  port?: string;
  path?: string;
  honorLabels?: boolean;
}
interface MonitorSpec {
  selector: {
    matchLabels?: Record<string, string>;
    matchExpressions?: { key: string; operator: string; values?: string[] }[];
  };
  namespaceSelector?: { matchNames?: string[] };
  endpoints: Endpoint[];
}

const selects = (sel: MonitorSpec['selector'], labels: Record<string, string>) =>
  Object.entries(sel.matchLabels ?? {}).every(([k, v]) => labels[k] === v) &&
  (sel.matchExpressions ?? []).every((e) =>
    e.operator === 'In'
      ? (e.values ?? []).includes(labels[e.key])
      : e.operator === 'Exists'
        ? e.key in labels
        : false,
  );

/**
 * Prometheus' scrape_configs for the ServiceMonitors: one job per selected Service (the job is
 * the Service's name, as the Prometheus Operator names it), targets where `loopback` says that
 * Service's process listens. A Service with no local process (dex) is left out and returned.
 */
export function scrapeConfigs(
  monitors: KubeObject[],
  services: KubeObject[],
  loopback: Readonly<Record<string, number>>,
  interval: string,
): { configs: object[]; skipped: string[] } {
  const configs: object[] = [];
  const skipped: string[] = [];
  for (const m of monitors) {
    const spec = m.spec as MonitorSpec;
    const namespaces = spec.namespaceSelector?.matchNames ?? [m.metadata.namespace];
    for (const svc of services) {
      if (!namespaces.includes(svc.metadata.namespace ?? '')) continue;
      if (!selects(spec.selector, svc.metadata.labels ?? {})) continue;
      const ports = (svc.spec as { ports?: { name?: string }[] }).ports ?? [];
      for (const ep of spec.endpoints) {
        if (!ports.some((p) => p.name === ep.port)) continue;
        const port = loopback[svc.metadata.name];
        if (port === undefined) {
          skipped.push(svc.metadata.name);
          continue;
        }
        configs.push({
          job_name: svc.metadata.name,
          scrape_interval: interval,
          metrics_path: ep.path ?? '/metrics',
          honor_labels: ep.honorLabels ?? false,
          static_configs: [
            {
              targets: [`127.0.0.1:${port}`],
              labels: { namespace: svc.metadata.namespace, service: svc.metadata.name },
            },
          ],
        });
      }
    }
  }
  return { configs, skipped };
}

export interface PromVector {
  metric: Record<string, string>;
  value: [number, string];
}

export class Prometheus {
  private child?: ChildProcess;
  private readonly dir = mkdtempSync(join(tmpdir(), 'converge-prometheus-'));
  public port = 0;

  constructor(
    private readonly groups: unknown[],
    private readonly scrape: object[],
    private readonly interval = '1s',
  ) {}

  public get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  public async start(): Promise<void> {
    const binary = execFileSync('node', [join(ROOT, 'tools', 'debian.mjs'), '--print-path', 'prometheus'], {
      encoding: 'utf8',
    }).trim();
    writeFileSync(join(this.dir, 'rules.yaml'), stringify({ groups: this.groups }));
    writeFileSync(
      join(this.dir, 'prometheus.yml'),
      stringify({
        global: { scrape_interval: this.interval, evaluation_interval: this.interval },
        rule_files: ['rules.yaml'],
        scrape_configs: this.scrape,
      }),
    );
    this.port = await freePort();
    const log = createWriteStream(join(RESULTS_DIR, 'prometheus.log'), { flags: 'a' });
    log.write(`--- started ${new Date().toISOString()} on 127.0.0.1:${this.port}\n`);
    this.child = spawn(
      binary,
      [
        `--config.file=${join(this.dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(this.dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${this.port}`,
        '--log.level=info',
      ],
      { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child.stdout!.pipe(log, { end: false });
    this.child.stderr!.pipe(log, { end: false });
    await waitFor('Prometheus ready', async () => (await fetch(`${this.url}/-/ready`)).ok, {
      timeoutMs: 60_000,
      intervalMs: 200,
    });
  }

  public async api<T>(path: string): Promise<T> {
    const res = await fetch(`${this.url}/api/v1/${path}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`Prometheus ${path}: ${body.error}`);
    return body.data;
  }

  /** An instant query's vector (or scalar, as one sample). */
  public async query(expr: string): Promise<PromVector[]> {
    const data = await this.api<{ resultType: string; result: PromVector[] | [number, string] }>(
      `query?query=${encodeURIComponent(expr)}`,
    );
    return data.resultType === 'scalar'
      ? [{ metric: {}, value: data.result as [number, string] }]
      : (data.result as PromVector[]);
  }

  public async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
