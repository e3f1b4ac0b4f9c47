// Kubernetes itself: credentials, etcd, kube-apiserver, its kubeconfig, kube-controller-manager,
// kube-scheduler, and kwok with its fake nodes. The order they run in is in components.mjs.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { moduleDir } from '../build-recipes.mjs';
import { toolDir } from '../paths.mjs';
import { apiserverURL, CONFIG, paths } from './config.mjs';
import { apply, crdEstablished, readManifests, readyNodeCount } from './kube.mjs';
import { answers200, httpGet } from './probes.mjs';
import { need, spawnComponent, StartError } from './processes.mjs';
import { TEST_USERS, userTokenFile } from './test-users.js';

const P = CONFIG.ports;
const R = CONFIG.runDir;

/**
 * The token file's lines: the admin (system:masters), then each test user with a fresh token,
 * in their groups (a user in none has no groups column). Each user's token goes to its own file.
 */
export function tokenFileLines(
  adminToken,
  users = TEST_USERS,
  newToken = () => randomBytes(24).toString('hex'),
) {
  const lines = [`${adminToken},admin,admin,"system:masters"`];
  const tokens = {};
  for (const user of users) {
    const token = newToken();
    tokens[user.name] = token;
    lines.push(
      `${token},${user.name},${user.name}${user.groups.length ? `,"${user.groups.join(',')}"` : ''}`,
    );
  }
  return { text: `${lines.join('\n')}\n`, tokens };
}

/** The admin token, the test users' tokens and the service-account signing keys. */
export function writePki() {
  const token = CONFIG.adminToken || randomBytes(24).toString('hex');
  mkdirSync(paths.pki, { recursive: true });
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  writeFileSync(join(paths.pki, 'sa.pub'), publicKey);
  writeFileSync(join(paths.pki, 'sa.key'), privateKey, { mode: 0o600 });
  const { text, tokens } = tokenFileLines(token);
  writeFileSync(join(paths.pki, 'tokens.csv'), text, { mode: 0o600 });
  writeFileSync(paths.token, `${token}\n`, { mode: 0o600 });
  for (const [name, userToken] of Object.entries(tokens)) {
    mkdirSync(dirname(userTokenFile(name)), { recursive: true, mode: 0o700 });
    writeFileSync(userTokenFile(name), `${userToken}\n`, { mode: 0o600 });
  }
}

const adminToken = () => readFileSync(paths.token, 'utf8').trim();

export function startEtcd() {
  spawnComponent(
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
}

export const etcdReady = async () =>
  (await httpGet(`http://127.0.0.1:${P.etcd}/health`)).body.includes('"health":"true"');

export function startApiserver() {
  spawnComponent(
    'kube-apiserver',
    need('kube-apiserver'),
    [
      `--etcd-servers=http://127.0.0.1:${P.etcd}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${P.apiserver}`,
      `--cert-dir=${join(paths.pki, 'apiserver')}`, // it writes a self-signed serving cert (and its CA) here
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
}

// A plain probe, not client-node: the kubeconfig the client loads needs the CA, which exists
// only once the API server has written its serving certificate, i.e. while this probe polls.
export const apiserverReady = async () =>
  existsSync(paths.apiserverCert) &&
  answers200(`${apiserverURL}/readyz`, { token: adminToken(), ca: readFileSync(paths.apiserverCert) });

/** The admin kubeconfig: for the other components, the Kubernetes client here, and users. */
export function writeKubeconfig() {
  const kubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'converge',
        cluster: {
          server: apiserverURL,
          'certificate-authority-data': readFileSync(paths.apiserverCert).toString('base64'),
        },
      },
    ],
    users: [{ name: 'admin', user: { token: adminToken() } }],
    contexts: [{ name: 'converge', context: { cluster: 'converge', user: 'admin' } }],
    'current-context': 'converge',
  };
  writeFileSync(paths.kubeconfig, stringify(kubeconfig), { mode: 0o600 });
}

/** kube-controller-manager and kube-scheduler share their flags. */
function startKubeComponent(name, port, args) {
  spawnComponent(
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
}

const healthz = (port) => () => answers200(`https://127.0.0.1:${port}/healthz`, { insecure: true });

export function startControllerManager() {
  startKubeComponent('kube-controller-manager', P.controllerManager, [
    `--controllers=${CONFIG.kcmControllers}`,
    `--service-account-private-key-file=${join(paths.pki, 'sa.key')}`,
    `--root-ca-file=${paths.apiserverCert}`,
    '--use-service-account-credentials=false',
    '--concurrent-deployment-syncs=10',
    '--concurrent-replicaset-syncs=10',
  ]);
}

export const controllerManagerReady = healthz(P.controllerManager);

export const startScheduler = () => startKubeComponent('kube-scheduler', P.scheduler, []);

export const schedulerReady = healthz(P.scheduler);

export const KWOK_STAGE_CRD = 'stages.kwok.x-k8s.io';

/**
 * kwok's Stage CRD, read from the pinned module its binary is built from (the Go module cache
 * holds it once kwok is built). kwok runs with `--enable-crds=Stage`, so its stages are API
 * objects: a test can add one while the cluster runs, e.g. "this version's smoke test fails".
 */
export async function applyKwokStageCrd() {
  stagesFile(); // before touching the API: a kwok build without its stages cannot start at all
  const file = join(moduleDir('kwok'), 'kustomize', 'crd', 'bases', 'kwok.x-k8s.io_stages.yaml');
  for (const crd of readManifests(file)) await apply(crd);
}

export const kwokStageCrdReady = () => crdEstablished(KWOK_STAGE_CRD);

function stagesFile() {
  const stages = join(toolDir('kwok'), 'assets', 'stages.yaml');
  if (!existsSync(stages))
    throw new StartError('kwok', `its stage files are missing (${stages}); run: node tools/build.mjs kwok`);
  return stages;
}

/** kwok's default node and pod lifecycles (its module's `fast` stages), as Stage objects. */
export async function applyKwokStages() {
  const stages = readManifests(stagesFile());
  // Discovery of a just-established CRD can lag by a moment: retry for a few seconds.
  for (let attempt = 1; ; attempt++) {
    try {
      for (const stage of stages) await apply(stage);
      return;
    } catch (err) {
      if (attempt >= 20) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

export function startKwok() {
  stagesFile();
  const config = join(R, 'kwok.yaml');
  // No documents: kwok's defaults, and its stages come from the API (--enable-crds=Stage refuses
  // stages in --config).
  writeFileSync(config, '');
  spawnComponent(
    'kwok',
    need('kwok'),
    [
      `--kubeconfig=${paths.kubeconfig}`,
      `--config=${config}`,
      '--enable-crds=Stage',
      '--cidr=10.244.0.0/16', // pod IPs, clear of the service range
      '--node-ip=10.240.0.1',
      '--manage-all-nodes=false',
      '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
      `--server-address=127.0.0.1:${P.kwok}`,
    ],
    { endpoint: `http://127.0.0.1:${P.kwok}/healthz` },
  );
}

export const kwokReady = () => answers200(`http://127.0.0.1:${P.kwok}/healthz`);

/** The Nodes kwok runs Pods on. */
export async function createFakeNodes() {
  for (let i = 0; i < CONFIG.fakeNodes; i++) {
    const name = `kwok-node-${i}`;
    await apply({
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
    });
  }
}

export const fakeNodesReady = async () => (await readyNodeCount('type=kwok')) >= CONFIG.fakeNodes;
