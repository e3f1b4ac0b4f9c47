import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../cli/main';
import { humanSeconds, parseSince } from '../../cli/commands/report';
import { loadStackConfig } from '../../config/stack-file';
import { LABELS } from '../../model/constants';
import { unreachableKubeconfig } from '../helpers';

/*
 * `converge report` in-process: a fake API server on loopback serves Argo CD's Applications (their
 * history and last operation) and the DriftRecords; the commits come from a real Git repo, cloned
 * by the command into its own cache (git's `insteadOf` sends the stack file's URL to the local repo).
 */

const CONFIG = loadStackConfig('dev').config;
const ARGO_NS = CONFIG.argocd.namespace;
const RECORDS_NS = CONFIG.drift.controller.namespace;
const HOUR = 3_600_000;
// One moment for every fixture time (whole seconds, as Git and Argo CD keep them); the window is hours wide.
const NOW = Math.floor(Date.now() / 1000) * 1000;
const ago = (ms: number) => new Date(NOW - ms).toISOString().replace(/\.\d+Z$/, 'Z');

let dir: string;
let kubeconfig: string;
let shas: string[];
let server: Server;
let apps: unknown[] = [];
let records: unknown[] = [];
let lists = 0;
const saved = { CONVERGE_CACHE: process.env.CONVERGE_CACHE, GIT_CONFIG_COUNT: process.env.GIT_CONFIG_COUNT };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'converge-report-'));
  // GIVEN the desired-state repo: three commits, the last one a revert of the second
  const repo = join(dir, 'repo');
  const git = (args: string[], when?: number) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@localhost', ...args], {
      cwd: repo,
      encoding: 'utf8',
      env:
        when === undefined
          ? process.env
          : { ...process.env, GIT_COMMITTER_DATE: ago(when), GIT_AUTHOR_DATE: ago(when) },
    }).trim();
  execFileSync('git', ['init', '-q', '-b', 'main', repo]);
  shas = [];
  for (const [i, when] of [50 * HOUR, 30 * HOUR].entries()) {
    writeFileSync(join(repo, 'values.yaml'), `replicas: ${i + 2}\n`);
    git(['add', '.']);
    git(['commit', '-q', '-m', `change ${i}`], when);
    shas.push(git(['rev-parse', 'HEAD']));
  }
  git(['revert', '--no-edit', 'HEAD'], 10 * HOUR);
  shas.push(git(['rev-parse', 'HEAD']));
  Object.assign(process.env, {
    CONVERGE_CACHE: join(dir, 'cache'),
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: `url.${repo}.insteadOf`,
    GIT_CONFIG_VALUE_0: CONFIG.git.repoURL,
  });

  server = createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.url === '/apis/argoproj.io/v1alpha1')
      return send(200, { resources: [{ name: 'applications', kind: 'Application', namespaced: true }] });
    if (req.url === '/apis/converge.dev/v1alpha1')
      return send(200, { resources: [{ name: 'driftrecords', kind: 'DriftRecord', namespaced: true }] });
    if (req.url === `/apis/argoproj.io/v1alpha1/namespaces/${ARGO_NS}/applications`) {
      lists++;
      return send(200, { items: apps });
    }
    if (req.url === `/apis/converge.dev/v1alpha1/namespaces/${RECORDS_NS}/driftrecords`)
      return send(200, { items: records });
    send(404, { message: `no route ${req.url}` });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: fake, cluster: {server: "http://127.0.0.1:${(server.address() as AddressInfo).port}", insecure-skip-tls-verify: true}}]`,
      'users: [{name: me, user: {token: t}}]',
      'contexts: [{name: fake, context: {cluster: fake, user: me}}]',
      'current-context: fake',
    ].join('\n'),
  );
});

afterAll(() => {
  server.close();
  server.closeAllConnections();
  for (const key of ['GIT_CONFIG_KEY_0', 'GIT_CONFIG_VALUE_0']) delete process.env[key];
  for (const [key, value] of Object.entries(saved))
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  rmSync(dir, { recursive: true, force: true });
});

const app = (
  name: string,
  environment: string,
  history: unknown[],
  status: Record<string, unknown> = {},
) => ({
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Application',
  metadata: { name, namespace: ARGO_NS, labels: { [LABELS.environment]: environment } },
  spec: { source: { repoURL: CONFIG.git.repoURL } },
  status: {
    sync: { status: 'Synced', revision: shas[2] },
    health: { status: 'Healthy', lastTransitionTime: ago(9 * HOUR) },
    history,
    ...status,
  },
});

const record = (driftId: string, event: string, at: string, extra: Record<string, unknown> = {}) => ({
  metadata: { name: `${driftId}-${event}`, namespace: RECORDS_NS, creationTimestamp: at },
  spec: {
    driftId,
    event,
    environment: 'dev',
    object: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'dev-web', name: 'app-service' },
    severity: 'low',
    actor: 'converge',
    at,
    ...extra,
  },
});

async function report(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((...p: unknown[]) => out.push(p.join(' ')));
  const error = jest.spyOn(console, 'error').mockImplementation((...p: unknown[]) => err.push(p.join(' ')));
  try {
    const code = await main(['report', '--env', 'dev', ...args]);
    return { code, stdout: out.join('\n'), stderr: err };
  } finally {
    log.mockRestore();
    error.mockRestore();
    process.exitCode = undefined;
  }
}

describe('converge report', () => {
  beforeEach(() => {
    lists = 0;
    // Commit 0 deployed 49 h ago (out of a 2-day window), commit 1 29 h ago, self-healed 20 h ago,
    // then its revert 9.5 h ago, Healthy since 9 h ago.
    apps = [
      app('dev-app-service', 'dev', [
        { id: 0, revision: shas[0], deployedAt: ago(49 * HOUR) },
        { id: 1, revision: shas[1], deployedAt: ago(29 * HOUR) },
        { id: 2, revision: shas[1], deployedAt: ago(20 * HOUR) },
        { id: 3, revision: shas[2], deployedAt: ago(9.5 * HOUR) },
      ]),
      // Another environment on the same cluster, with a failed sync: never part of dev's figures.
      app('staging-app-service', 'staging', [{ id: 0, revision: shas[0], deployedAt: ago(40 * HOUR) }], {
        operationState: { phase: 'Failed', startedAt: ago(HOUR), finishedAt: ago(HOUR) },
      }),
    ];
    records = [
      record('d-1', 'detected', ago(3 * HOUR), { onset: ago(3 * HOUR + 2000) }),
      record('d-1', 'restored', ago(3 * HOUR - 4000), { onset: ago(3 * HOUR + 2000) }),
      record('d-2', 'detected', ago(2 * HOUR), { severity: 'medium' }),
      record('d-3', 'detected', ago(2 * HOUR), { severity: 'high', environment: 'staging' }),
    ];
  });

  it('prints the DORA and drift figures of the window as JSON, from the history, Git and the records', async () => {
    const r = await report('--kubeconfig', kubeconfig, '--since', '2d', '--output', 'json');
    expect(r.stderr).toEqual([]);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    // THEN two deployments in the window (the self-heal deploys nothing new): commit 1, and its revert
    expect(json.dora).toMatchObject({
      deployments: 2,
      deploymentsPerDay: 1,
      byOutcome: { succeeded: 1, failed: 0, rolled_back: 1 },
      changeFailureRate: 0.5,
    });
    // commit 1: committed 30 h ago, deployed 29 h ago (replaced since); the revert: 10 h ago, Healthy 9 h ago
    expect(json.dora.leadTime).toMatchObject({ count: 2, median: 3600, unknown: 0, skewed: 0 });
    expect(json.dora.leadTime.p95).toBeCloseTo(3600, 6);
    // the reverted change was bad from its deployment (29 h ago) until the revert was healthy (9 h ago)
    expect(json.dora.timeToRestore.failedDeployment).toMatchObject({ count: 1, median: 20 * 3600 });
    expect(json.dora.timeToRestore.drift).toMatchObject({ count: 1, median: 6 });
    expect(json.drift).toEqual({
      detected: { low: 1, medium: 1, high: 0 },
      timeToDetect: { count: 1, median: 2, p95: 2, onsetUnknown: 1 },
      timeToRestore: { count: 1, median: 6, p95: 6 },
    });
  });

  it('prints a table by default, a line per figure', async () => {
    const r = await report('--kubeconfig', kubeconfig, '--since', '2d');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^dev, \S+ to \S+$/);
    expect(lines[1]).toMatch(/^FIGURE\s+VALUE$/);
    expect(r.stdout).toMatch(
      /deployment frequency\s+2 in 2 d \(1\/day\): 1 succeeded, 0 failed, 1 rolled back/,
    );
    expect(r.stdout).toMatch(/lead time for changes\s+median 1h, p95 1h \(n=2\)/);
    expect(r.stdout).toMatch(/change failure rate\s+50\.0% \(1 of 2\)/);
    expect(r.stdout).toMatch(/drifts detected\s+1 low, 1 medium, 0 high/);
    expect(r.stdout).toMatch(/drift time to detect\s+median 2s, p95 2s \(n=1\); 1 with no known onset/);
  });

  it('says there were no deployments rather than a rate of nothing', async () => {
    apps = [];
    records = [];
    const r = await report('--kubeconfig', kubeconfig, '--output', 'json');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.dora.deployments).toBe(0);
    expect(json.dora).not.toHaveProperty('changeFailureRate');
    expect(json.window.days).toBe(7);
    const table = await report('--kubeconfig', kubeconfig);
    expect(table.stdout).toMatch(/change failure rate\s+no deployments/);
    expect(table.stdout).toMatch(/drift time to restore\s+none/);
  });

  it('fails when the desired-state repo cannot be read, naming it', async () => {
    const was = { key: process.env.GIT_CONFIG_KEY_0, cache: process.env.CONVERGE_CACHE };
    // The stack file's repo URL now leads nowhere, and no mirror of it is cached yet
    process.env.GIT_CONFIG_KEY_0 = `url.${join(dir, 'no-such-repo')}.insteadOf`;
    process.env.CONVERGE_CACHE = join(dir, 'cache-empty');
    apps = [app('dev-app-service', 'dev', [{ id: 0, revision: shas[0], deployedAt: ago(HOUR) }])];
    try {
      const r = await report('--kubeconfig', kubeconfig);
      expect(r.code).toBe(2);
      expect(r.stderr).toHaveLength(1);
      expect(r.stderr[0]).toMatch(
        /^converge: cannot read the commits of https:\/\/github\.com\/example-org\/converge\.git \(git\.repoURL of stacks\/Pulumi\.dev\.yaml\), which the lead times and reverts come from: `git clone` failed: fatal: .+; check that the repo is reachable from here with `git ls-remote`$/,
      );
    } finally {
      process.env.GIT_CONFIG_KEY_0 = was.key;
      process.env.CONVERGE_CACHE = was.cache;
    }
  });
});

describe('converge report with bad input: one line, exit 2, before any request', () => {
  const oneLine = (r: Awaited<ReturnType<typeof report>>, line: string) => {
    expect(r.code).toBe(2);
    expect(r.stderr).toEqual([line]);
    expect(lists).toBe(0);
  };
  beforeEach(() => (lists = 0));

  it.each(['7', '7days', '0d', '-1d', '1.5d', '400d', ''])('fails when --since is %j', async (since) => {
    oneLine(
      await report('--kubeconfig', kubeconfig, '--since', since),
      `converge: --since is ${JSON.stringify(since)}; use a duration such as 7d, 24h, 2w or 1d12h (numbers followed by s, m, h, d or w; more than 0, at most 366d)`,
    );
  });

  it('fails when --output is not table or json', async () => {
    oneLine(
      await report('--kubeconfig', kubeconfig, '--output', 'yaml'),
      'converge: --output is "yaml"; use table or json',
    );
  });

  it('fails when the environment is unknown', async () => {
    oneLine(
      await report('--env', 'qa', '--kubeconfig', kubeconfig),
      'converge: environment "qa" is unknown; allowed: dev, staging, prod; pass one of those, or add stacks/Pulumi.qa.yaml and the name to ENVIRONMENTS',
    );
  });

  it('fails when --kubeconfig names no file', async () => {
    const missing = join(dir, 'missing');
    oneLine(
      await report('--kubeconfig', missing),
      `converge: --kubeconfig is ${JSON.stringify(missing)}; no such file. Pass an existing kubeconfig, or leave the flag out to use $KUBECONFIG or ~/.kube/config`,
    );
  });

  it('fails when the API server cannot be reached, naming it', async () => {
    oneLine(
      await report('--kubeconfig', unreachableKubeconfig(join(dir, 'dead'))),
      'converge: cannot reach the cluster at https://127.0.0.1:1 (ECONNREFUSED: nothing listens there); is the cluster up? check --kubeconfig and --context, or start the cluster',
    );
  });
});

describe('parseSince and humanSeconds', () => {
  it.each([
    ['7d', 7 * 86_400_000],
    ['24h', 86_400_000],
    ['2w', 14 * 86_400_000],
    ['1d12h', 1.5 * 86_400_000],
    ['90m', 5_400_000],
  ])('reads --since %s', (value, ms) => {
    expect(parseSince(value)).toBe(ms);
  });

  it.each([
    [undefined, '-'],
    [0.25, '0.25s'],
    [42, '42s'],
    [200, '3m 20s'],
    [3600, '1h'],
    [7500, '2h 5m'],
    [97_200, '1d 3h'],
  ])('shows %s s as %s', (s, text) => {
    expect(humanSeconds(s)).toBe(text);
  });
});
