// Argo CD: its CRDs and base config from the built module, and the repo-server, argocd-server
// (API, `argocd login`, /api/webhook), application-controller, applicationset-controller and
// notifications controller as processes.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathWithTools, toolDir } from '../paths.mjs';
import { argocdServerURL, CONFIG, paths } from './config.mjs';
import {
  apply,
  crdEstablished,
  namespacePhase,
  readConfigMapData,
  readManifests,
  readSecretData,
} from './kube.mjs';
import { answers200 } from './probes.mjs';
import { need, spawnComponent, StartError } from './processes.mjs';

const P = CONFIG.ports;
const ns = CONFIG.argocdNamespace;
const CRDS = ['applications.argoproj.io', 'applicationsets.argoproj.io', 'appprojects.argoproj.io'];

/** What the real Argo CD manifests feed the controller from its ConfigMaps: [configmap, key, env]. */
const CONTROLLER_CM_ENV = [
  ['argocd-cm', 'timeout.reconciliation', 'ARGOCD_RECONCILIATION_TIMEOUT'],
  ['argocd-cm', 'timeout.reconciliation.jitter', 'ARGOCD_RECONCILIATION_JITTER'],
  ['argocd-cm', 'timeout.hard.reconciliation', 'ARGOCD_HARD_RECONCILIATION_TIMEOUT'],
  ...[
    ['controller.self.heal.timeout.seconds', 'ARGOCD_APPLICATION_CONTROLLER_SELF_HEAL_TIMEOUT_SECONDS'],
    [
      'controller.self.heal.backoff.timeout.seconds',
      'ARGOCD_APPLICATION_CONTROLLER_SELF_HEAL_BACKOFF_TIMEOUT_SECONDS',
    ],
    ['controller.self.heal.backoff.factor', 'ARGOCD_APPLICATION_CONTROLLER_SELF_HEAL_BACKOFF_FACTOR'],
    [
      'controller.self.heal.backoff.cap.seconds',
      'ARGOCD_APPLICATION_CONTROLLER_SELF_HEAL_BACKOFF_CAP_SECONDS',
    ],
    ['controller.sync.timeout.seconds', 'ARGOCD_APPLICATION_CONTROLLER_SYNC_TIMEOUT'],
  ].map(([key, envName]) => ['argocd-cmd-params-cm', key, envName]),
];

/**
 * The repo-server's, as the real install maps it: `timeout.reconciliation` is also how long it
 * caches what a branch points at (3 minutes without it), so polling sees a commit that soon.
 */
const REPO_SERVER_CM_ENV = [['argocd-cm', 'timeout.reconciliation', 'ARGOCD_RECONCILIATION_TIMEOUT']];

function manifestsDir() {
  const assets = join(toolDir('argocd'), 'assets');
  if (!existsSync(join(assets, 'bin')))
    throw new StartError(
      'argocd',
      `Argo CD's files are missing or stale (${join(assets, 'manifests')}); run: node tools/build.mjs argocd`,
    );
  return join(assets, 'manifests');
}

/** Every object of every YAML file in a folder, files in name order. */
const manifestsIn = (dir) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => readManifests(join(dir, f)));

export async function applyCrds() {
  for (const crd of manifestsIn(join(manifestsDir(), 'crds'))) await apply(crd);
}

export const crdsReady = async () => (await Promise.all(CRDS.map(crdEstablished))).every(Boolean);

/**
 * Whether what `up` applies for Argo CD is still there: a `pulumi destroy` of a stack that installed
 * Argo CD over it removes the CRDs and the namespace with their config.
 */
export async function installed() {
  const crds = await crdsReady().catch(() => false);
  return (
    crds && (await namespacePhase(ns)) === 'Active' && (await readSecretData(ns, 'argocd-secret')) !== null
  );
}

/** True once the namespace is Active or gone: objects cannot be made in one that is terminating. */
export const namespaceSettled = async () => (await namespacePhase(ns)) !== 'Terminating';

/** The namespace, Argo CD's base config, the webhook secret and the default project; needs the CRDs. */
export async function applyConfig() {
  await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  for (const obj of manifestsIn(join(manifestsDir(), 'base', 'config'))) {
    if (obj.kind !== 'ConfigMap' && obj.kind !== 'Secret')
      throw new Error(`unexpected kind ${obj.kind} (${obj.metadata.name}) in Argo CD's base config`);
    await apply({ ...obj, metadata: { ...obj.metadata, namespace: ns } });
  }
  // The webhook secret, set before argocd-server starts: it reads it only then. The post-receive
  // hook signs with the file's copy. server.secretkey and the admin password argocd-server adds.
  const webhookSecret = randomBytes(32).toString('hex');
  writeFileSync(paths.webhookSecret, `${webhookSecret}\n`, { mode: 0o600 });
  await apply({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'argocd-secret', namespace: ns },
    data: { 'webhook.github.secret': Buffer.from(webhookSecret).toString('base64') },
  });
  // The notifications controller wants its two objects; empty ones mean "no notifiers yet".
  const meta = (name) => ({ name, namespace: ns, labels: { 'app.kubernetes.io/part-of': 'argocd' } });
  await apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('argocd-notifications-cm') });
  await apply({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: meta('argocd-notifications-secret'),
    type: 'Opaque',
  });
  // argocd-server creates this project too, when it is missing, but that makes its first start
  // about 1.7 s slower (ready in 2.5 s instead of 0.8 s); it leaves an existing one alone.
  await apply({
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AppProject',
    metadata: { name: 'default', namespace: ns },
    spec: {
      sourceRepos: ['*'],
      destinations: [{ server: '*', namespace: '*' }],
      clusterResourceWhitelist: [{ group: '*', kind: '*' }],
    },
  });
}

function argocdEnv(binaryName) {
  const a = paths.argocd;
  for (const d of ['tls', 'ssh', 'gpg/keys', 'gpg/source', 'home', 'tmp'])
    mkdirSync(join(a, d), { recursive: true });
  return {
    ARGOCD_BINARY_NAME: binaryName,
    // argocd, helm and git-verify-wrapper.sh are exec'd from PATH, as in Argo CD's image.
    PATH: `${join(toolDir('argocd'), 'assets', 'bin')}:${pathWithTools(process.env.PATH)}`,
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

const metricsURL = (port, path = '/metrics') => `http://127.0.0.1:${port}${path}`;

export async function startRepoServer() {
  const fromCluster = await envFromCluster(REPO_SERVER_CM_ENV);
  const chosen = CONFIG.argocdControllerEnv.ARGOCD_RECONCILIATION_TIMEOUT;
  spawnComponent(
    'repo-server',
    need('argocd'),
    [
      '--loglevel=info',
      '--address=127.0.0.1',
      `--port=${P.repoServer}`,
      '--metrics-address=127.0.0.1',
      `--metrics-port=${P.repoServerMetrics}`,
      `--redis=127.0.0.1:${P.redis}`,
    ],
    {
      extraEnv: {
        ...argocdEnv('argocd-repo-server'),
        ...fromCluster,
        ...(chosen ? { ARGOCD_RECONCILIATION_TIMEOUT: chosen } : {}),
      },
      endpoint: `127.0.0.1:${P.repoServer}`,
    },
  );
}

export const repoServerReady = () => answers200(metricsURL(P.repoServerMetrics, '/healthz'));

export function startArgocdServer() {
  spawnComponent(
    'argocd-server',
    need('argocd'),
    [
      '--loglevel=info',
      `--namespace=${ns}`,
      '--insecure', // plaintext: loopback only
      '--address=127.0.0.1',
      `--port=${P.argocdServer}`,
      '--metrics-address=127.0.0.1',
      `--metrics-port=${P.argocdServerMetrics}`,
      `--redis=127.0.0.1:${P.redis}`,
      `--repo-server=127.0.0.1:${P.repoServer}`,
    ],
    { extraEnv: argocdEnv('argocd-server'), endpoint: argocdServerURL },
  );
}

export const argocdServerReady = () => answers200(`${argocdServerURL}/healthz`);

/** The admin password argocd-server generated, to a file only the user reads; never printed. */
export async function saveAdminPassword() {
  const data = await readSecretData(ns, 'argocd-initial-admin-secret');
  if (!data?.password)
    throw new Error(`argocd-server made no ${ns}/argocd-initial-admin-secret; see its log`);
  writeFileSync(paths.argocdPassword, `${data.password}\n`, { mode: 0o600 });
}

/** Timing from argocd-cm / argocd-cmd-params-cm, as the real install maps it to env. */
async function envFromCluster(mapping) {
  const fromCluster = {};
  const cms = {};
  for (const [cm, key, envName] of mapping) {
    if (!(cm in cms)) cms[cm] = await readConfigMapData(ns, cm);
    const v = cms[cm]?.[key];
    if (v !== undefined) fromCluster[envName] = v;
  }
  return fromCluster;
}

export async function startApplicationController() {
  const fromCluster = await envFromCluster(CONTROLLER_CM_ENV);
  const chosen = Object.fromEntries(Object.entries(CONFIG.argocdControllerEnv).filter(([, v]) => v));
  spawnComponent(
    'application-controller',
    need('argocd'),
    [
      '--loglevel=info',
      `--namespace=${ns}`,
      `--redis=127.0.0.1:${P.redis}`,
      `--repo-server=127.0.0.1:${P.repoServer}`,
      `--metrics-port=${P.controllerMetrics}`,
    ],
    {
      extraEnv: { ...argocdEnv('argocd-application-controller'), ...fromCluster, ...chosen },
      endpoint: metricsURL(P.controllerMetrics),
    },
  );
}

export const applicationControllerReady = () => answers200(metricsURL(P.controllerMetrics, '/healthz'));

export function startApplicationSetController() {
  spawnComponent(
    'applicationset-controller',
    need('argocd'),
    [
      '--loglevel=info',
      `--namespace=${ns}`,
      `--metrics-addr=127.0.0.1:${P.appsetMetrics}`,
      `--probe-addr=127.0.0.1:${P.appsetProbe}`,
      `--webhook-addr=127.0.0.1:${P.appsetWebhook}`,
      `--argocd-repo-server=127.0.0.1:${P.repoServer}`,
    ],
    { extraEnv: argocdEnv('argocd-applicationset-controller'), endpoint: metricsURL(P.appsetMetrics) },
  );
}

// Its probe server registers no checks (404), so readiness is the metrics endpoint answering.
export const applicationSetControllerReady = () => answers200(metricsURL(P.appsetMetrics));

export function startNotifications() {
  spawnComponent(
    'notifications',
    need('argocd'),
    [
      '--loglevel=info',
      `--namespace=${ns}`,
      `--metrics-port=${P.notificationsMetrics}`,
      `--argocd-repo-server=127.0.0.1:${P.repoServer}`,
    ],
    { extraEnv: argocdEnv('argocd-notifications'), endpoint: metricsURL(P.notificationsMetrics) },
  );
}

export const notificationsReady = () => answers200(metricsURL(P.notificationsMetrics));
