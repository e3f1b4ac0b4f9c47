#!/usr/bin/env node
// Local control plane for the end-to-end suite, as plain processes (no containers, no kubelet):
// etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok (fake nodes that run Pods),
// redis, Argo CD (repo-server, application-controller, applicationset-controller, notifications)
// and a `git daemon` serving a bare clone of this repo, so Argo CD fetches charts/ over git.
//
//   node tools/cluster.mjs up [--core]        start everything, wait until each part is ready
//                                            (--core: Kubernetes and kwok only, no redis/git/Argo CD)
//   node tools/cluster.mjs status             each component: pid, alive/dead, endpoint
//   node tools/cluster.mjs down               stop exactly what `up` started, remove the run dir
//   node tools/cluster.mjs restart NAME       restart one component with the current env
//   node tools/cluster.mjs git-sync           push this repo's branches to the served bare repo
//   node tools/cluster.mjs env                print shell exports (KUBECONFIG, PATH, ...)
//
// `up` while a cluster runs prints so and exits 0 without starting twins; when part of a recorded
// cluster is dead (or was never started), it names those parts, stops the rest and starts afresh.
// `down` copies the component logs to <cache>/results/logs-last/ before removing the run dir.
// Programs come from tools/build.mjs. Node built-ins only. Env knobs: see CONFIG below.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cacheRoot, pathWithTools, toolDir, toolPath, toolsBinDir } from './paths.mjs';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const env = process.env;
const int = (name, dflt) => {
  const v = env[name];
  if (v === undefined || v === '') return dflt;
  if (!/^\d+$/.test(v)) fail(`${name}=${v} is not a whole number`);
  return Number(v);
};

/** Loopback ports: key -> [env var that overrides it, default, needed by `up --core`]. */
function portTable() {
  return {
    etcd: ['CONVERGE_ETCD_PORT', 23790, true],
    etcdPeer: ['CONVERGE_ETCD_PEER_PORT', 23800, true],
    apiserver: ['CONVERGE_APISERVER_PORT', 26443, true],
    controllerManager: ['CONVERGE_KCM_PORT', 20257, true],
    scheduler: ['CONVERGE_SCHEDULER_PORT', 20259, true],
    kwok: ['CONVERGE_KWOK_PORT', 20247, true],
    redis: ['CONVERGE_REDIS_PORT', 26379, false],
    repoServer: ['CONVERGE_REPO_SERVER_PORT', 28081, false],
    repoServerMetrics: ['CONVERGE_REPO_SERVER_METRICS_PORT', 28084, false],
    controllerMetrics: ['CONVERGE_ARGOCD_CONTROLLER_METRICS_PORT', 28082, false],
    appsetMetrics: ['CONVERGE_APPSET_METRICS_PORT', 28085, false],
    appsetProbe: ['CONVERGE_APPSET_PROBE_PORT', 28086, false],
    appsetWebhook: ['CONVERGE_APPSET_WEBHOOK_PORT', 28087, false],
    notificationsMetrics: ['CONVERGE_NOTIFICATIONS_METRICS_PORT', 29001, false],
    git: ['CONVERGE_GIT_PORT', 29418, false],
  };
}

/** Every knob in one place. Ports are loopback-only. */
export const CONFIG = {
  runDir: env.CONVERGE_RUN_DIR || join(cacheRoot(), 'run'),
  // The suite's results folder (RESULTS_DIR in test/cluster/harness.ts): `down` keeps the last logs here.
  resultsDir: join(cacheRoot(), 'results'),
  readyTimeoutSec: int('CONVERGE_READY_TIMEOUT', 90),
  ports: Object.fromEntries(Object.entries(portTable()).map(([key, [name, dflt]]) => [key, int(name, dflt)])),
  fakeNodes: int('CONVERGE_FAKE_NODES', 2),
  kcmControllers:
    env.CONVERGE_KCM_CONTROLLERS ||
    [
      'namespace-controller',
      'garbage-collector-controller',
      'serviceaccount-controller',
      'serviceaccount-token-controller',
      'root-ca-certificate-publisher-controller',
      'clusterrole-aggregation-controller',
      'deployment-controller',
      'replicaset-controller',
      'statefulset-controller',
      'daemonset-controller',
      'job-controller',
      'cronjob-controller',
      'ttl-after-finished-controller',
      'endpoints-controller',
      'endpointslice-controller',
      'disruption-controller',
      'resourcequota-controller',
      'pod-garbage-collector-controller',
    ].join(','),
  argocdNamespace: 'argocd',
  // Argo CD application-controller timing. Precedence: these env vars, then the keys the real
  // install maps from argocd-cm / argocd-cmd-params-cm (read from the cluster at start), then
  // Argo CD's own defaults. `restart application-controller` applies changes.
  argocdControllerEnv: {
    ARGOCD_RECONCILIATION_TIMEOUT: env.CONVERGE_ARGOCD_APP_RESYNC, // e.g. "30s"; upstream 120s
    ARGOCD_RECONCILIATION_JITTER: env.CONVERGE_ARGOCD_APP_RESYNC_JITTER, // upstream 60s
    ARGOCD_HARD_RECONCILIATION_TIMEOUT: env.CONVERGE_ARGOCD_APP_HARD_RESYNC,
    ARGOCD_APPLICATION_CONTROLLER_SELF_HEAL_TIMEOUT_SECONDS: env.CONVERGE_ARGOCD_SELF_HEAL_TIMEOUT,
    ARGOCD_APPLICATION_CONTROLLER_SELF_HEAL_BACKOFF_TIMEOUT_SECONDS:
      env.CONVERGE_ARGOCD_SELF_HEAL_BACKOFF_TIMEOUT,
    ARGOCD_APPLICATION_CONTROLLER_SELF_HEAL_BACKOFF_FACTOR: env.CONVERGE_ARGOCD_SELF_HEAL_BACKOFF_FACTOR,
    ARGOCD_APPLICATION_CONTROLLER_SELF_HEAL_BACKOFF_CAP_SECONDS: env.CONVERGE_ARGOCD_SELF_HEAL_BACKOFF_CAP,
  },
  // Extra flags appended to a component's command line, e.g. CONVERGE_ARGS_APPLICATION_CONTROLLER.
  extraArgs: (component) =>
    (env[`CONVERGE_ARGS_${component.toUpperCase().replace(/-/g, '_')}`] || '').split(/\s+/).filter(Boolean),
};

/** What the real Argo CD manifests feed the controller from its ConfigMaps (configmap, key, env). */
const CONTROLLER_CM_ENV = [
  ['argocd-cm', 'timeout.reconciliation', 'ARGOCD_RECONCILIATION_TIMEOUT'],
  ['argocd-cm', 'timeout.reconciliation.jitter', 'ARGOCD_RECONCILIATION_JITTER'],
  ['argocd-cm', 'timeout.hard.reconciliation', 'ARGOCD_HARD_RECONCILIATION_TIMEOUT'],
  [
    'argocd-cmd-params-cm',
    'controller.self.heal.timeout.seconds',
    'ARGOCD_APPLICATION_CONTROLLER_SELF_HEAL_TIMEOUT_SECONDS',
  ],
  [
    'argocd-cmd-params-cm',
    'controller.self.heal.backoff.timeout.seconds',
    'ARGOCD_APPLICATION_CONTROLLER_SELF_HEAL_BACKOFF_TIMEOUT_SECONDS',
  ],
  [
    'argocd-cmd-params-cm',
    'controller.self.heal.backoff.factor',
    'ARGOCD_APPLICATION_CONTROLLER_SELF_HEAL_BACKOFF_FACTOR',
  ],
  [
    'argocd-cmd-params-cm',
    'controller.self.heal.backoff.cap.seconds',
    'ARGOCD_APPLICATION_CONTROLLER_SELF_HEAL_BACKOFF_CAP_SECONDS',
  ],
  ['argocd-cmd-params-cm', 'controller.sync.timeout.seconds', 'ARGOCD_APPLICATION_CONTROLLER_SYNC_TIMEOUT'],
];

const R = CONFIG.runDir;
const P = CONFIG.ports;
const paths = {
  pids: join(R, 'pids.json'),
  logs: join(R, 'logs'),
  kubeconfig: join(R, 'kubeconfig'),
  token: join(R, 'admin-token'),
  pki: join(R, 'pki'),
  gitBase: join(R, 'git'),
  bareRepo: join(R, 'git', 'converge.git'),
  argocd: join(R, 'argocd'),
  starting: join(R, 'starting.json'), // the `up` that is starting this cluster, while it does
  savedLogs: join(CONFIG.resultsDir, 'logs-last'),
};
const apiserverURL = `https://127.0.0.1:${P.apiserver}`;
const gitURL = `git://127.0.0.1:${P.git}/converge.git`;

function fail(message) {
  console.error(`cluster.mjs: ${message}`);
  process.exit(1);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const secs = (ms) => (ms / 1000).toFixed(1);

// ---------------------------------------------------------------- process bookkeeping

function readPids() {
  try {
    return JSON.parse(readFileSync(paths.pids, 'utf8'));
  } catch {
    return {};
  }
}

function writePids(pids) {
  writeFileSync(paths.pids, JSON.stringify(pids, null, 2) + '\n');
}

/** Kernel start time of a pid (clock ticks since boot), or null: identifies a process across pid reuse. */
function startTime(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z') return null; // exited, not yet reaped
    return fields[19];
  } catch {
    return null;
  }
}

/** True if the pid still runs and is the process we started (not a reused pid). */
function alive(entry) {
  if (!entry?.pid) return false;
  const t = startTime(entry.pid);
  return t !== null && t === entry.startTime;
}

function logPath(name) {
  return join(paths.logs, `${name}.log`);
}

function tail(file, n = 25) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Starts a component in its own process group, logging to logs/<name>.log. */
function start(name, argv0, args, { extraEnv = {}, endpoint = '' } = {}) {
  const log = openSync(logPath(name), 'a');
  const child = spawn(argv0, [...args, ...CONFIG.extraArgs(name)], {
    detached: true, // own process group: `down` kills the group, nothing else
    stdio: ['ignore', log, log],
    env: { ...env, PATH: pathWithTools(env.PATH), ...extraEnv },
    cwd: R,
  });
  closeSync(log);
  if (!child.pid) throw new ReadyError(name, `could not be started (${argv0})`);
  child.on('error', () => {}); // reported through the missing pid above
  child.unref();
  const pids = readPids();
  pids[name] = {
    pid: child.pid,
    startTime: startTime(child.pid),
    argv0,
    endpoint,
    log: logPath(name),
    started: new Date().toISOString(),
  };
  writePids(pids);
  return pids[name];
}

async function stop(name, entry, graceMs = 10_000) {
  if (!alive(entry)) return false;
  try {
    process.kill(-entry.pid, 'SIGTERM');
  } catch {
    /* already gone */
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && alive(entry)) await sleep(100);
  // SIGKILL the group even when the leader went: it sweeps children such as git-daemon.
  try {
    process.kill(-entry.pid, 'SIGKILL');
  } catch {
    /* group is empty */
  }
  while (alive(entry)) await sleep(50);
  return true;
}

// ---------------------------------------------------------------- probes

function httpGet(url, { token, ca, insecure } = {}) {
  return new Promise((resolveP) => {
    const u = new URL(url);
    const fn = u.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = fn(
      u,
      {
        method: 'GET',
        timeout: 3000,
        headers: token ? { Authorization: `Bearer ${token}` } : {},
        ...(u.protocol === 'https:' ? (ca ? { ca } : { rejectUnauthorized: !insecure }) : {}),
      },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolveP({ status: res.statusCode, body }));
      },
    );
    req.on('error', (err) => resolveP({ status: 0, body: err.message }));
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

function tcpSay(port, say, expect) {
  return new Promise((resolveP) => {
    const sock = connect({ host: '127.0.0.1', port });
    let got = '';
    const done = (ok) => {
      sock.destroy();
      resolveP(ok);
    };
    sock.setTimeout(2000, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => (say ? sock.write(say) : done(true)));
    sock.on('data', (d) => {
      got += d;
      if (got.includes(expect)) done(true);
    });
  });
}

/** Polls probe() until true; on timeout names the component and shows its log tail. */
async function waitReady(name, probe, timeoutSec = CONFIG.readyTimeoutSec) {
  const started = Date.now();
  const entry = readPids()[name];
  for (;;) {
    if (await probe().catch(() => false)) {
      console.log(`  ${name.padEnd(26)} ready in ${secs(Date.now() - started)} s`);
      return Date.now() - started;
    }
    if (entry && !alive(entry)) throw new ReadyError(name, `exited`, entry.log);
    if (Date.now() - started > timeoutSec * 1000)
      throw new ReadyError(name, `not ready after ${timeoutSec} s`, entry?.log);
    await sleep(250);
  }
}

class ReadyError extends Error {
  constructor(component, what, log) {
    super(`${component} ${what}${log ? `; last lines of ${log}:\n${tail(log)}` : ''}`);
  }
}

/** A component that cannot be started at all (missing program or files); `up` stops the others. */
class StartError extends Error {
  constructor(component, what) {
    super(`${component} cannot start: ${what}`);
  }
}

// ---------------------------------------------------------------- Kubernetes API (no kubectl)

let kube = null; // { token, ca }

function kubeReq(method, path, body, contentType = 'application/json') {
  return new Promise((resolveP, reject) => {
    const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const req = httpsRequest(
      `${apiserverURL}${path}`,
      {
        method,
        ca: kube.ca,
        timeout: 15_000,
        headers: {
          Authorization: `Bearer ${kube.token}`,
          Accept: 'application/json',
          ...(data !== undefined
            ? { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(data) }
            : {}),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          let json = null;
          try {
            json = JSON.parse(text);
          } catch {
            /* not json */
          }
          resolveP({ status: res.statusCode, json, text });
        });
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timeout`)));
    if (data !== undefined) req.write(data);
    req.end();
  });
}

async function kubeOK(method, path, body, contentType) {
  const r = await kubeReq(method, path, body, contentType);
  if (r.status >= 300)
    throw new Error(`${method} ${path}: HTTP ${r.status}: ${r.json?.message || r.text.slice(0, 300)}`);
  return r.json;
}

/** Server-side apply of a YAML or JSON document; the server parses YAML itself. */
const apply = (path, doc) =>
  kubeOK('PATCH', `${path}?fieldManager=converge-cluster&force=true`, doc, 'application/apply-patch+yaml');

/** kind and metadata.name of a single-document manifest, without a YAML parser. */
function kindAndName(yaml) {
  const kind = yaml.match(/^kind:\s*(\S+)/m)?.[1];
  const meta = yaml.match(/^metadata:\n((?:[ \t]+.*\n|\s*\n)*)/m)?.[1] || '';
  const indent = meta.match(/^([ \t]+)\S/)?.[1] || '  ';
  const name = meta.match(new RegExp(`^${indent}name:\\s*['"]?([^'"\\s]+)`, 'm'))?.[1];
  if (!kind || !name) throw new Error('cannot find kind and metadata.name');
  return { kind, name };
}

// ---------------------------------------------------------------- components

function need(name) {
  try {
    return toolPath(name);
  } catch (err) {
    throw new StartError(name, `${err.message} (or: npm run tools)`);
  }
}

function writePki(token) {
  mkdirSync(paths.pki, { recursive: true });
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  writeFileSync(join(paths.pki, 'sa.pub'), publicKey);
  writeFileSync(join(paths.pki, 'sa.key'), privateKey, { mode: 0o600 });
  writeFileSync(join(paths.pki, 'tokens.csv'), `${token},admin,admin,"system:masters"\n`, { mode: 0o600 });
  writeFileSync(paths.token, `${token}\n`, { mode: 0o600 });
}

function writeKubeconfig(token, ca) {
  const b64 = Buffer.from(ca).toString('base64');
  writeFileSync(
    paths.kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: converge',
      '  cluster:',
      `    server: ${apiserverURL}`,
      `    certificate-authority-data: ${b64}`,
      'users:',
      '- name: admin',
      '  user:',
      `    token: ${token}`,
      'contexts:',
      '- name: converge',
      '  context:',
      '    cluster: converge',
      '    user: admin',
      'current-context: converge',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
}

async function startEtcd() {
  start(
    'etcd',
    need('etcd'),
    [
      '--name=converge',
      `--data-dir=${join(R, 'etcd-data')}`,
      `--listen-client-urls=http://127.0.0.1:${P.etcd}`,
      `--advertise-client-urls=http://127.0.0.1:${P.etcd}`,
      `--listen-peer-urls=http://127.0.0.1:${P.etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${P.etcdPeer}`,
      `--initial-cluster=converge=http://127.0.0.1:${P.etcdPeer}`,
      '--unsafe-no-fsync', // throwaway data: speed over durability
      '--quota-backend-bytes=4294967296',
      '--log-level=warn',
    ],
    { endpoint: `http://127.0.0.1:${P.etcd}` },
  );
  await waitReady('etcd', async () =>
    (await httpGet(`http://127.0.0.1:${P.etcd}/health`)).body.includes('"health":"true"'),
  );
}

async function startApiserver(token) {
  const certDir = join(paths.pki, 'apiserver');
  start(
    'kube-apiserver',
    need('kube-apiserver'),
    [
      `--etcd-servers=http://127.0.0.1:${P.etcd}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${P.apiserver}`,
      `--cert-dir=${certDir}`, // it writes a self-signed serving cert (and its CA) here
      '--authorization-mode=RBAC',
      `--token-auth-file=${join(paths.pki, 'tokens.csv')}`,
      '--service-cluster-ip-range=10.96.0.0/16',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${join(paths.pki, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(paths.pki, 'sa.key')}`,
      '--disable-admission-plugins=ServiceAccount,TaintNodesByCondition', // no node-lifecycle controller to lift not-ready taints
      '--allow-privileged=true',
      '--endpoint-reconciler-type=none', // loopback is not a valid Endpoints address
      '--enable-priority-and-fairness=false',
      '--profiling=false',
    ],
    { endpoint: apiserverURL },
  );
  const certFile = join(certDir, 'apiserver.crt');
  await waitReady('kube-apiserver', async () => {
    if (!existsSync(certFile)) return false;
    const r = await httpGet(`${apiserverURL}/readyz`, { token, ca: readFileSync(certFile) });
    return r.status === 200;
  });
  kube = { token, ca: readFileSync(certFile) };
  writeKubeconfig(token, kube.ca);
}

async function startKubeComponent(name, port, args) {
  start(
    name,
    need(name),
    [
      `--kubeconfig=${paths.kubeconfig}`,
      `--authentication-kubeconfig=${paths.kubeconfig}`,
      `--authorization-kubeconfig=${paths.kubeconfig}`,
      '--authentication-skip-lookup=true', // no client CA here; the lookup only logs errors
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      `--secure-port=${port}`,
      ...args,
    ],
    { endpoint: `https://127.0.0.1:${port}/healthz` },
  );
  await waitReady(
    name,
    async () => (await httpGet(`https://127.0.0.1:${port}/healthz`, { insecure: true })).status === 200,
  );
}

async function startControllerManager() {
  await startKubeComponent('kube-controller-manager', P.controllerManager, [
    `--controllers=${CONFIG.kcmControllers}`,
    `--service-account-private-key-file=${join(paths.pki, 'sa.key')}`,
    `--root-ca-file=${join(paths.pki, 'apiserver', 'apiserver.crt')}`,
    '--use-service-account-credentials=false',
    '--concurrent-deployment-syncs=10',
    '--concurrent-replicaset-syncs=10',
  ]);
}

async function startKwok() {
  const stages = join(toolDir('kwok'), 'assets', 'stages.yaml');
  if (!existsSync(stages))
    throw new StartError('kwok', `its stage files are missing (${stages}); run: node tools/build.mjs kwok`);
  const config = join(R, 'kwok.yaml');
  // Stages only: a KwokConfiguration document here would skip kwok's defaults.
  writeFileSync(config, readFileSync(stages, 'utf8'));
  start(
    'kwok',
    need('kwok'),
    [
      `--kubeconfig=${paths.kubeconfig}`,
      `--config=${config}`,
      '--cidr=10.244.0.0/16', // pod IPs, clear of the service range
      '--node-ip=10.240.0.1',
      '--manage-all-nodes=false',
      '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
      `--server-address=127.0.0.1:${P.kwok}`,
    ],
    { endpoint: `http://127.0.0.1:${P.kwok}/healthz` },
  );
  await waitReady('kwok', async () => (await httpGet(`http://127.0.0.1:${P.kwok}/healthz`)).status === 200);
  for (let i = 0; i < CONFIG.fakeNodes; i++) {
    const name = `kwok-node-${i}`;
    const node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name,
        annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'kwok.x-k8s.io/node': 'fake' },
        labels: {
          'kubernetes.io/hostname': name,
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
          type: 'kwok',
        },
      },
      // No NoSchedule taint: the platform's charts must schedule here without tolerations.
      status: {
        allocatable: { cpu: '32', memory: '256Gi', pods: '250' },
        capacity: { cpu: '32', memory: '256Gi', pods: '250' },
      },
    };
    await apply(`/api/v1/nodes/${name}`, node);
  }
  await waitReady('kwok-nodes', async () => {
    const list = await kubeOK('GET', '/api/v1/nodes?labelSelector=type%3Dkwok');
    const ready = list.items.filter((n) =>
      n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    );
    return ready.length >= CONFIG.fakeNodes;
  });
}

function redisBinary() {
  for (const p of (env.PATH || '').split(':').concat(['/usr/bin', '/usr/sbin'])) {
    if (p && existsSync(join(p, 'redis-server'))) return join(p, 'redis-server');
  }
  // Only as root and with no terminal to ask on: install the Debian package ourselves.
  if (process.getuid?.() === 0 && !process.stdin.isTTY) {
    console.log('  redis-server missing: installing the Debian package redis-server (apt-get)');
    const aptEnv = { ...env, DEBIAN_FRONTEND: 'noninteractive' };
    const install = () =>
      spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'redis-server'], {
        env: aptEnv,
        encoding: 'utf8',
      });
    let r = install();
    if (r.status !== 0) {
      spawnSync('apt-get', ['update', '-q'], { env: aptEnv, encoding: 'utf8' });
      r = install();
    }
    if (r.status === 0 && existsSync('/usr/bin/redis-server')) return '/usr/bin/redis-server';
    throw new StartError(
      'redis',
      `apt-get install redis-server failed: ${(r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' ')}`,
    );
  }
  throw new StartError(
    'redis',
    'redis-server not found; install the Debian package: sudo apt-get install -y redis-server',
  );
}

async function startRedis() {
  start(
    'redis',
    redisBinary(),
    [
      '--bind',
      '127.0.0.1',
      '--port',
      String(P.redis),
      '--save',
      '',
      '--appendonly',
      'no',
      '--protected-mode',
      'yes',
      '--dir',
      R,
    ],
    { endpoint: `redis://127.0.0.1:${P.redis}` },
  );
  await waitReady('redis', () => tcpSay(P.redis, 'PING\r\n', '+PONG'));
}

function startGitServer() {
  mkdirSync(paths.gitBase, { recursive: true });
  const source = env.CONVERGE_GIT_SOURCE || repoRoot;
  const r = spawnSync('git', ['clone', '--bare', '--quiet', '--no-hardlinks', source, paths.bareRepo], {
    encoding: 'utf8',
  });
  if (r.status !== 0)
    throw new StartError(
      'git-daemon',
      `git clone --bare ${source} failed: ${(r.stderr || r.error?.message || '').trim()}`,
    );
  // Tests may push to it over git:// too.
  execFileSync('git', ['-C', paths.bareRepo, 'config', 'daemon.receivepack', 'true']);
  start(
    'git-daemon',
    'git',
    [
      'daemon',
      '--reuseaddr',
      '--listen=127.0.0.1',
      `--port=${P.git}`,
      `--base-path=${paths.gitBase}`,
      '--export-all',
      '--enable=receive-pack',
      '--informative-errors',
      paths.gitBase,
    ],
    { endpoint: gitURL },
  );
  // `git` runs git-daemon as a child; killing the process group covers both.
  return waitReady('git-daemon', () => tcpSay(P.git));
}

async function bootstrapArgocd() {
  const started = Date.now();
  const assets = join(toolDir('argocd'), 'assets', 'manifests');
  if (!existsSync(join(toolDir('argocd'), 'assets', 'bin')))
    throw new StartError(
      'argocd',
      `Argo CD's files are missing or stale (${assets}); run: node tools/build.mjs argocd`,
    );
  const ns = CONFIG.argocdNamespace;
  for (const f of readdirSync(join(assets, 'crds')).sort()) {
    const yaml = readFileSync(join(assets, 'crds', f), 'utf8');
    await apply(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${kindAndName(yaml).name}`, yaml);
  }
  await apply(`/api/v1/namespaces/${ns}`, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  for (const f of readdirSync(join(assets, 'base', 'config')).sort()) {
    const yaml = readFileSync(join(assets, 'base', 'config', f), 'utf8');
    const { kind, name } = kindAndName(yaml);
    const plural = { ConfigMap: 'configmaps', Secret: 'secrets' }[kind];
    if (!plural) throw new Error(`unexpected kind ${kind} in ${f}`);
    await apply(`/api/v1/namespaces/${ns}/${plural}/${name}`, yaml);
  }
  // argocd-server normally generates the signing key; the ApplicationSet webhook handler needs it.
  await apply(`/api/v1/namespaces/${ns}/secrets/argocd-secret`, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'argocd-secret', namespace: ns },
    data: { 'server.secretkey': randomBytes(32).toString('base64') },
  });
  // The notifications controller wants its two objects; empty ones mean "no notifiers yet".
  const meta = (name) => ({ name, namespace: ns, labels: { 'app.kubernetes.io/part-of': 'argocd' } });
  await apply(`/api/v1/namespaces/${ns}/configmaps/argocd-notifications-cm`, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta('argocd-notifications-cm'),
  });
  await apply(`/api/v1/namespaces/${ns}/secrets/argocd-notifications-secret`, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: meta('argocd-notifications-secret'),
    type: 'Opaque',
  });
  for (const crd of ['applications.argoproj.io', 'applicationsets.argoproj.io', 'appprojects.argoproj.io']) {
    for (;;) {
      const c = await kubeOK('GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd}`);
      if (c.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True')) break;
      if (Date.now() - started > CONFIG.readyTimeoutSec * 1000)
        throw new ReadyError('argocd-crds', `${crd} not Established`);
      await sleep(200);
    }
  }
  // argocd-server normally creates the default project; it does not run here.
  await apply(`/apis/argoproj.io/v1alpha1/namespaces/${ns}/appprojects/default`, {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AppProject',
    metadata: { name: 'default', namespace: ns },
    spec: {
      sourceRepos: ['*'],
      destinations: [{ server: '*', namespace: '*' }],
      clusterResourceWhitelist: [{ group: '*', kind: '*' }],
    },
  });
  console.log(`  ${'argocd-objects'.padEnd(26)} applied in ${secs(Date.now() - started)} s`);
}

function argocdEnv(binaryName) {
  const a = paths.argocd;
  for (const d of ['tls', 'ssh', 'gpg/keys', 'gpg/source', 'home', 'tmp'])
    mkdirSync(join(a, d), { recursive: true });
  return {
    ARGOCD_BINARY_NAME: binaryName,
    // argocd, helm and git-verify-wrapper.sh are exec'd from PATH, as in Argo CD's image.
    PATH: `${join(toolDir('argocd'), 'assets', 'bin')}:${pathWithTools(env.PATH)}`,
    ARGOCD_FAKE_IN_CLUSTER: 'true', // in-cluster URL -> our KUBECONFIG
    KUBECONFIG: paths.kubeconfig,
    ARGOCD_GPG_ENABLED: 'false',
    ARGOCD_TLS_DATA_PATH: join(a, 'tls'),
    ARGOCD_SSH_DATA_PATH: join(a, 'ssh'),
    ARGOCD_GNUPGHOME: join(a, 'gpg', 'keys'),
    ARGOCD_GPG_DATA_PATH: join(a, 'gpg', 'source'),
    HOME: join(a, 'home'),
    TMPDIR: join(a, 'tmp'),
  };
}

const argocdComponents = {
  async 'repo-server'() {
    start(
      'repo-server',
      toolPath('argocd'),
      [
        '--loglevel=info',
        '--address=127.0.0.1',
        `--port=${P.repoServer}`,
        '--metrics-address=127.0.0.1',
        `--metrics-port=${P.repoServerMetrics}`,
        `--redis=127.0.0.1:${P.redis}`,
      ],
      { extraEnv: argocdEnv('argocd-repo-server'), endpoint: `127.0.0.1:${P.repoServer}` },
    );
    await waitReady(
      'repo-server',
      async () => (await httpGet(`http://127.0.0.1:${P.repoServerMetrics}/healthz`)).status === 200,
    );
  },
  async 'application-controller'() {
    const fromCluster = {};
    for (const [cm, key, envName] of CONTROLLER_CM_ENV) {
      const r = await kubeReq('GET', `/api/v1/namespaces/${CONFIG.argocdNamespace}/configmaps/${cm}`);
      const v = r.json?.data?.[key];
      if (r.status === 200 && v !== undefined) fromCluster[envName] = v;
    }
    const chosen = Object.fromEntries(Object.entries(CONFIG.argocdControllerEnv).filter(([, v]) => v));
    start(
      'application-controller',
      toolPath('argocd'),
      [
        '--loglevel=info',
        `--namespace=${CONFIG.argocdNamespace}`,
        `--redis=127.0.0.1:${P.redis}`,
        `--repo-server=127.0.0.1:${P.repoServer}`,
        `--metrics-port=${P.controllerMetrics}`,
      ],
      {
        extraEnv: { ...argocdEnv('argocd-application-controller'), ...fromCluster, ...chosen },
        endpoint: `http://127.0.0.1:${P.controllerMetrics}/metrics`,
      },
    );
    await waitReady(
      'application-controller',
      async () => (await httpGet(`http://127.0.0.1:${P.controllerMetrics}/healthz`)).status === 200,
    );
  },
  async 'applicationset-controller'() {
    start(
      'applicationset-controller',
      toolPath('argocd'),
      [
        '--loglevel=info',
        `--namespace=${CONFIG.argocdNamespace}`,
        `--metrics-addr=127.0.0.1:${P.appsetMetrics}`,
        `--probe-addr=127.0.0.1:${P.appsetProbe}`,
        `--webhook-addr=127.0.0.1:${P.appsetWebhook}`,
        `--argocd-repo-server=127.0.0.1:${P.repoServer}`,
      ],
      {
        extraEnv: argocdEnv('argocd-applicationset-controller'),
        endpoint: `http://127.0.0.1:${P.appsetMetrics}/metrics`,
      },
    );
    // Its probe server registers no checks (404), so readiness is the metrics endpoint answering.
    await waitReady(
      'applicationset-controller',
      async () => (await httpGet(`http://127.0.0.1:${P.appsetMetrics}/metrics`)).status === 200,
    );
  },
  async notifications() {
    start(
      'notifications',
      toolPath('argocd'),
      [
        '--loglevel=info',
        `--namespace=${CONFIG.argocdNamespace}`,
        `--metrics-port=${P.notificationsMetrics}`,
        `--argocd-repo-server=127.0.0.1:${P.repoServer}`,
      ],
      {
        extraEnv: argocdEnv('argocd-notifications'),
        endpoint: `http://127.0.0.1:${P.notificationsMetrics}/metrics`,
      },
    );
    await waitReady(
      'notifications',
      async () => (await httpGet(`http://127.0.0.1:${P.notificationsMetrics}/metrics`)).status === 200,
    );
  },
};

const kubeComponents = {
  etcd: startEtcd,
  'kube-apiserver': () => startApiserver(readFileSync(paths.token, 'utf8').trim()),
  'kube-controller-manager': startControllerManager,
  'kube-scheduler': () => startKubeComponent('kube-scheduler', P.scheduler, []),
  kwok: startKwok,
  redis: startRedis,
  'git-daemon': startGitServer,
};

// ---------------------------------------------------------------- commands

/** A port already taken would make a foreign process look like ours to the readiness probes. */
async function checkPortsFree(core) {
  const used = [];
  for (const [key, [name, , inCore]] of Object.entries(portTable())) {
    if (core && !inCore) continue;
    if (await tcpSay(P[key])) used.push(`${P[key]} (${name})`);
  }
  if (used.length)
    fail(`port(s) in use on 127.0.0.1: ${used.join(', ')}; stop that process or set those env vars`);
}

/** What `up` starts, in order; `up --core` the first five only. */
export const COMPONENTS = Object.freeze({
  core: Object.keys(kubeComponents).slice(0, 5),
  full: [...Object.keys(kubeComponents), ...Object.keys(argocdComponents)],
});

/**
 * What a run dir's pids.json holds, judged with `isAlive(entry)`: `none` (nothing alive), `running`
 * (every expected component recorded and alive) or `partial` (some alive; others dead or never
 * started), with the names of each.
 */
export function clusterState(pids, expected, isAlive) {
  const names = Object.keys(pids);
  const live = names.filter((n) => isAlive(pids[n]));
  const dead = names.filter((n) => !isAlive(pids[n]));
  const missing = expected.filter((n) => !names.includes(n));
  const state = live.length === 0 ? 'none' : dead.length || missing.length ? 'partial' : 'running';
  return { state, alive: live, dead, missing };
}

function readStarting() {
  try {
    return JSON.parse(readFileSync(paths.starting, 'utf8'));
  } catch {
    return null;
  }
}

async function up() {
  const core = rest.includes('--core');
  // Another `up` still starting this run dir: let it finish, then judge what it left.
  const other = readStarting();
  if (alive(other)) {
    console.log(
      `cluster.mjs: another \`up\` (pid ${other.pid}) is starting the cluster in ${R}; waiting for it`,
    );
    while (alive(other)) await sleep(500);
  }
  const found = clusterState(readPids(), core ? COMPONENTS.core : COMPONENTS.full, alive);
  if (found.state === 'running') {
    console.log(
      `cluster.mjs: a cluster is already running in ${R} (${found.alive.join(', ')}); nothing started.`,
    );
    console.log(`  use: node tools/cluster.mjs status | down`);
    return 0;
  }
  for (const t of [
    'etcd',
    'kube-apiserver',
    'kube-controller-manager',
    'kube-scheduler',
    'kwok',
    ...(core ? [] : ['argocd']),
  ])
    need(t);
  if (found.state === 'partial') {
    const why = [
      found.dead.length ? `dead: ${found.dead.join(', ')}` : '',
      found.missing.length ? `not started: ${found.missing.join(', ')}` : '',
    ].filter(Boolean);
    console.log(`cluster.mjs: the cluster in ${R} is incomplete (${why.join('; ')}).`);
    console.log(`cluster.mjs: stopping the rest (${found.alive.join(', ')}) and starting afresh`);
    await down({ quiet: true });
  }
  await checkPortsFree(core);
  rmSync(R, { recursive: true, force: true }); // stale run: start clean
  mkdirSync(paths.logs, { recursive: true });
  writePids({});
  writeFileSync(
    paths.starting,
    JSON.stringify({ pid: process.pid, startTime: startTime(process.pid) }) + '\n',
  );
  const token = env.CONVERGE_ADMIN_TOKEN || randomBytes(24).toString('hex');
  writePki(token);
  const started = Date.now();
  console.log(`cluster.mjs: starting in ${R}`);
  try {
    await startEtcd();
    await startApiserver(token);
    await startControllerManager();
    await startKubeComponent('kube-scheduler', P.scheduler, []);
    await startKwok();
    if (!core) {
      await startRedis();
      await startGitServer();
      await bootstrapArgocd();
      for (const start of Object.values(argocdComponents)) await start();
    }
  } catch (err) {
    console.error(`cluster.mjs: ${err.message}`);
    if (env.CONVERGE_KEEP_ON_FAIL === '1') {
      console.error(
        `cluster.mjs: leaving the partial cluster running (CONVERGE_KEEP_ON_FAIL=1); stop it with: node tools/cluster.mjs down`,
      );
    } else {
      console.error(
        'cluster.mjs: stopping what was started (set CONVERGE_KEEP_ON_FAIL=1 to keep it for debugging)',
      );
      await down({ quiet: true, keepLogs: true });
    }
    return 1;
  }
  rmSync(paths.starting, { force: true });
  console.log(`\ncluster ready in ${secs(Date.now() - started)} s`);
  printUsage(core);
  return 0;
}

function printUsage(core = false) {
  const argocd = core
    ? ''
    : `
  Git server   ${gitURL}   (bare clone of ${env.CONVERGE_GIT_SOURCE || repoRoot}; charts at path charts/...)
  Argo CD      namespace ${CONFIG.argocdNamespace}; repo URL for Applications: ${gitURL}`;
  console.log(`
  export KUBECONFIG=${paths.kubeconfig}
  export PATH=${toolsBinDir()}:$PATH
  kubectl get nodes

  API server   ${apiserverURL}   (admin token in ${paths.token}, group system:masters)${argocd}
  Logs         ${paths.logs}/
  Stop         node tools/cluster.mjs down`);
}

function status() {
  const pids = readPids();
  const names = Object.keys(pids);
  if (!names.length) {
    console.log(`cluster.mjs: no cluster in ${R}`);
    return 1;
  }
  let dead = 0;
  for (const n of names) {
    const e = pids[n];
    const ok = alive(e);
    if (!ok) dead++;
    console.log(
      `${n.padEnd(26)} ${String(e.pid).padEnd(8)} ${(ok ? 'alive' : 'DEAD').padEnd(6)} ${e.endpoint || ''}`,
    );
  }
  console.log(`\nKUBECONFIG=${paths.kubeconfig}\ngit: ${gitURL}`);
  return dead ? 1 : 0;
}

/** Copies logs/ to <results>/logs-last/, replacing the previous copy; returns where, or null. */
function saveLogs() {
  if (!existsSync(paths.logs) || readdirSync(paths.logs).length === 0) return null;
  try {
    rmSync(paths.savedLogs, { recursive: true, force: true });
    mkdirSync(CONFIG.resultsDir, { recursive: true });
    cpSync(paths.logs, paths.savedLogs, { recursive: true });
    return paths.savedLogs;
  } catch (err) {
    console.error(`cluster.mjs: could not copy the logs to ${paths.savedLogs}: ${err.message}`);
    return null;
  }
}

async function down({ quiet = false, keepLogs = false } = {}) {
  const pids = readPids();
  // Reverse start order: clients before the servers they talk to.
  const names = Object.keys(pids).reverse();
  let stopped = 0;
  await Promise.all(
    names.map(async (n) => {
      if (await stop(n, pids[n])) stopped++;
    }),
  );
  const saved = saveLogs();
  if (saved) console.log(`cluster.mjs: component logs copied to ${saved}/`);
  if (keepLogs) {
    for (const f of existsSync(R) ? readdirSync(R) : [])
      if (f !== 'logs') rmSync(join(R, f), { recursive: true, force: true });
  } else {
    rmSync(R, { recursive: true, force: true });
  }
  if (!quiet)
    console.log(`cluster.mjs: stopped ${stopped} component(s); removed ${keepLogs ? 'data (logs kept)' : R}`);
  return 0;
}

async function restart(name) {
  const all = { ...kubeComponents, ...argocdComponents };
  if (!all[name]) fail(`unknown component "${name}"; known: ${Object.keys(all).join(', ')}`);
  const pids = readPids();
  if (!pids['kube-apiserver'] || !alive(pids['kube-apiserver']))
    fail('no running cluster; run: node tools/cluster.mjs up');
  kube = {
    token: readFileSync(paths.token, 'utf8').trim(),
    ca: readFileSync(join(paths.pki, 'apiserver', 'apiserver.crt')),
  };
  await stop(name, pids[name]);
  try {
    await all[name]();
  } catch (err) {
    fail(err.message);
  }
  return 0;
}

function gitSync() {
  if (!existsSync(paths.bareRepo)) fail('no running git server; run: node tools/cluster.mjs up');
  const source = env.CONVERGE_GIT_SOURCE || repoRoot;
  execFileSync(
    'git',
    ['-C', source, 'push', '--quiet', '--force', paths.bareRepo, 'refs/heads/*:refs/heads/*'],
    { stdio: 'inherit' },
  );
  console.log(`pushed branches of ${source} to ${gitURL}`);
  return 0;
}

function printEnv() {
  console.log(
    `export KUBECONFIG=${paths.kubeconfig}\nexport PATH=${toolsBinDir()}:$PATH\nexport CONVERGE_GIT_URL=${gitURL}`,
  );
  return 0;
}

const [cmd, ...rest] = process.argv.slice(2);
const commands = {
  up,
  status,
  down: () => down(),
  restart: () => restart(rest[0]),
  'git-sync': gitSync,
  env: printEnv,
};
// Run only as a program: tools/test/ imports the helpers above.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (!commands[cmd]) {
    console.error('usage: node tools/cluster.mjs up|status|down|restart NAME|git-sync|env');
    process.exit(2);
  }
  Promise.resolve(commands[cmd]()).then(
    (code) => process.exit(code ?? 0),
    (err) =>
      fail(err instanceof StartError || err instanceof ReadyError ? err.message : err.stack || err.message),
  );
}
