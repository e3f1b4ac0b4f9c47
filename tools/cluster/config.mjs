// Every knob of the local control plane in one place: loopback ports, env settings, paths in the
// run dir. Read once, when the first module imports it.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resultsDir, runDir } from '../paths.mjs';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** How users run this program; messages quote it. */
export const CLI = 'node tools/cluster/main.mjs';

const env = process.env;

/** Prints one line and exits 1: for what the user must fix (a bad env value, no cluster). */
export function fail(message) {
  console.error(`cluster: ${message}`);
  process.exit(1);
}

function int(name, dflt) {
  const v = env[name];
  if (v === undefined || v === '') return dflt;
  if (!/^\d+$/.test(v)) fail(`${name}=${v} is not a whole number`);
  return Number(v);
}

/** Loopback ports: key -> [env var that overrides it, default]. Components claim theirs by key. */
export const PORT_VARS = Object.freeze({
  etcd: ['CONVERGE_ETCD_PORT', 23790],
  etcdPeer: ['CONVERGE_ETCD_PEER_PORT', 23800],
  apiserver: ['CONVERGE_APISERVER_PORT', 26443],
  controllerManager: ['CONVERGE_KCM_PORT', 20257],
  scheduler: ['CONVERGE_SCHEDULER_PORT', 20259],
  kwok: ['CONVERGE_KWOK_PORT', 20247],
  redis: ['CONVERGE_REDIS_PORT', 26379],
  repoServer: ['CONVERGE_REPO_SERVER_PORT', 28081],
  repoServerMetrics: ['CONVERGE_REPO_SERVER_METRICS_PORT', 28084],
  argocdServer: ['CONVERGE_ARGOCD_SERVER_PORT', 28080],
  argocdServerMetrics: ['CONVERGE_ARGOCD_SERVER_METRICS_PORT', 28083],
  controllerMetrics: ['CONVERGE_ARGOCD_CONTROLLER_METRICS_PORT', 28082],
  appsetMetrics: ['CONVERGE_APPSET_METRICS_PORT', 28085],
  appsetProbe: ['CONVERGE_APPSET_PROBE_PORT', 28086],
  appsetWebhook: ['CONVERGE_APPSET_WEBHOOK_PORT', 28087],
  notificationsMetrics: ['CONVERGE_NOTIFICATIONS_METRICS_PORT', 29001],
  git: ['CONVERGE_GIT_PORT', 29418],
  registry: ['CONVERGE_REGISTRY_PORT', 25000],
});

const DEFAULT_KCM_CONTROLLERS = [
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
];

export const CONFIG = Object.freeze({
  runDir: runDir(),
  // The suite's results folder (RESULTS_DIR in test/cluster/harness.ts): `down` keeps the last logs here.
  resultsDir: resultsDir(),
  readyTimeoutSec: int('CONVERGE_READY_TIMEOUT', 90),
  ports: Object.freeze(
    Object.fromEntries(Object.entries(PORT_VARS).map(([key, [name, dflt]]) => [key, int(name, dflt)])),
  ),
  fakeNodes: int('CONVERGE_FAKE_NODES', 2),
  kcmControllers: env.CONVERGE_KCM_CONTROLLERS || DEFAULT_KCM_CONTROLLERS.join(','),
  adminToken: env.CONVERGE_ADMIN_TOKEN || '',
  keepOnFail: env.CONVERGE_KEEP_ON_FAIL === '1',
  gitSource: env.CONVERGE_GIT_SOURCE || repoRoot,
  argocdNamespace: 'argocd',
  // Argo CD application-controller timing. Precedence: these env vars, then the keys the real
  // install maps from argocd-cm / argocd-cmd-params-cm (read from the cluster at start), then
  // Argo CD's own defaults. `restart application-controller` applies changes.
  argocdControllerEnv: Object.freeze({
    // e.g. "30s"; upstream 120s. The repo-server's revision cache takes it too (upstream 3m).
    ARGOCD_RECONCILIATION_TIMEOUT: env.CONVERGE_ARGOCD_APP_RESYNC,
    ARGOCD_RECONCILIATION_JITTER: env.CONVERGE_ARGOCD_APP_RESYNC_JITTER, // upstream 60s
    ARGOCD_HARD_RECONCILIATION_TIMEOUT: env.CONVERGE_ARGOCD_APP_HARD_RESYNC,
    ARGOCD_APPLICATION_CONTROLLER_SELF_HEAL_TIMEOUT_SECONDS: env.CONVERGE_ARGOCD_SELF_HEAL_TIMEOUT,
    ARGOCD_APPLICATION_CONTROLLER_SELF_HEAL_BACKOFF_TIMEOUT_SECONDS:
      env.CONVERGE_ARGOCD_SELF_HEAL_BACKOFF_TIMEOUT,
    ARGOCD_APPLICATION_CONTROLLER_SELF_HEAL_BACKOFF_FACTOR: env.CONVERGE_ARGOCD_SELF_HEAL_BACKOFF_FACTOR,
    ARGOCD_APPLICATION_CONTROLLER_SELF_HEAL_BACKOFF_CAP_SECONDS: env.CONVERGE_ARGOCD_SELF_HEAL_BACKOFF_CAP,
  }),
});

/** Extra flags appended to a component's command line, e.g. CONVERGE_ARGS_APPLICATION_CONTROLLER. */
export function extraArgs(component) {
  const v = env[`CONVERGE_ARGS_${component.toUpperCase().replace(/-/g, '_')}`] || '';
  return v.split(/\s+/).filter(Boolean);
}

const R = CONFIG.runDir;
export const paths = Object.freeze({
  pids: join(R, 'pids.json'),
  logs: join(R, 'logs'),
  kubeconfig: join(R, 'kubeconfig'),
  token: join(R, 'admin-token'),
  pki: join(R, 'pki'),
  apiserverCert: join(R, 'pki', 'apiserver', 'apiserver.crt'),
  gitBase: join(R, 'git'),
  bareRepo: join(R, 'git', 'converge.git'),
  argocd: join(R, 'argocd'),
  // Read from argocd-initial-admin-secret once argocd-server made it; user `admin`.
  argocdPassword: join(R, 'argocd-admin-password'),
  // webhook.github.secret of argocd-secret: the post-receive hook signs its events with it.
  webhookSecret: join(R, 'webhook-secret'),
  pushHookLog: join(R, 'logs', 'post-receive.log'),
  registryConfig: join(R, 'registry.yml'),
  registryStorage: join(R, 'registry'),
  starting: join(R, 'starting.json'), // the `up` that is starting this cluster, while it does
  savedLogs: join(CONFIG.resultsDir, 'logs-last'),
});

export const apiserverURL = `https://127.0.0.1:${CONFIG.ports.apiserver}`;
export const gitURL = `git://127.0.0.1:${CONFIG.ports.git}/converge.git`;
/** argocd-server, plaintext on loopback: what `argocd login` takes (with --plaintext). */
export const argocdServerAddress = `127.0.0.1:${CONFIG.ports.argocdServer}`;
export const argocdServerURL = `http://${argocdServerAddress}`;
export const webhookURL = `${argocdServerURL}/api/webhook`;
/** The OCI registry, plain http: image references start with this host:port. */
export const registryAddress = `127.0.0.1:${CONFIG.ports.registry}`;
export const registryURL = `http://${registryAddress}`;
