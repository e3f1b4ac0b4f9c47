// THE ordered list of what `up` does. Everything else reads its order from here: `up` runs it top
// to bottom (`--core`: the core entries only), `down` stops the processes bottom to top, `restart`
// reruns one process, and the checks before starting collect the programs and ports it names.
import * as argocd from './argocd.mjs';
import * as git from './git-server.mjs';
import * as imageUpdater from './image-updater.mjs';
import * as k8s from './kubernetes.mjs';
import { stopGroup } from './processes.mjs';
import * as redis from './redis.mjs';
import * as registry from './registry.mjs';

/**
 * A process `up` starts and records in pids.json.
 * - `core`: part of `up --core` (Kubernetes and kwok only).
 * - `program`: the tools/build.mjs program it runs, checked before anything starts (null: a system program).
 * - `ports`: keys of CONFIG.ports it listens on, checked free before anything starts.
 * - `start()` spawns it; `ready()` is polled until true; `stop(entry)` ends it (default: its process group).
 */
const proc = (name, { core = false, program = null, ports, start, ready, stop = stopGroup }) =>
  Object.freeze({ kind: 'process', name, core, program, ports, start, ready, stop });

/** A bootstrap step that is not a process: `start()` does the work, an optional `ready()` is polled. */
const step = (name, { core = false, program = null, start, ready = null }) =>
  Object.freeze({ kind: 'step', name, core, program, ports: [], start, ready });

export const STEPS = Object.freeze([
  step('pki', { core: true, start: k8s.writePki }),
  proc('etcd', {
    core: true,
    program: 'etcd',
    ports: ['etcd', 'etcdPeer'],
    start: k8s.startEtcd,
    ready: k8s.etcdReady,
  }),
  proc('kube-apiserver', {
    core: true,
    program: 'kube-apiserver',
    ports: ['apiserver'],
    start: k8s.startApiserver,
    ready: k8s.apiserverReady,
  }),
  step('kubeconfig', { core: true, start: k8s.writeKubeconfig }),
  proc('kube-controller-manager', {
    core: true,
    program: 'kube-controller-manager',
    ports: ['controllerManager'],
    start: k8s.startControllerManager,
    ready: k8s.controllerManagerReady,
  }),
  proc('kube-scheduler', {
    core: true,
    program: 'kube-scheduler',
    ports: ['scheduler'],
    start: k8s.startScheduler,
    ready: k8s.schedulerReady,
  }),
  // kwok reads its stages from the API (--enable-crds=Stage): the CRD and the default stages first.
  step('kwok-stage-crd', {
    core: true,
    program: 'kwok',
    start: k8s.applyKwokStageCrd,
    ready: k8s.kwokStageCrdReady,
  }),
  step('kwok-stages', { core: true, program: 'kwok', start: k8s.applyKwokStages }),
  proc('kwok', { core: true, program: 'kwok', ports: ['kwok'], start: k8s.startKwok, ready: k8s.kwokReady }),
  step('kwok-nodes', { core: true, start: k8s.createFakeNodes, ready: k8s.fakeNodesReady }),
  proc('redis', { ports: ['redis'], start: redis.startRedis, ready: redis.redisReady }),
  proc('git-daemon', { ports: ['git'], start: git.startGitServer, ready: git.gitReady }),
  // Always started: it is ready in about 0.3 s, and image pushes need no Argo CD.
  proc('registry', { ports: ['registry'], start: registry.startRegistry, ready: registry.registryReady }),
  step('argocd-crds', { program: 'argocd', start: argocd.applyCrds, ready: argocd.crdsReady }),
  step('argocd-config', { program: 'argocd', start: argocd.applyConfig }),
  step('image-updater-crd', {
    start: imageUpdater.applyImageUpdaterCrd,
    ready: imageUpdater.imageUpdaterCrdReady,
  }),
  proc('repo-server', {
    program: 'argocd',
    ports: ['repoServer', 'repoServerMetrics'],
    start: argocd.startRepoServer,
    ready: argocd.repoServerReady,
  }),
  // Before the controllers: once it answers, server.secretkey (which the ApplicationSet webhook
  // handler signs with) and the admin password exist.
  proc('argocd-server', {
    program: 'argocd',
    ports: ['argocdServer', 'argocdServerMetrics'],
    start: argocd.startArgocdServer,
    ready: argocd.argocdServerReady,
  }),
  step('argocd-admin-password', { program: 'argocd', start: argocd.saveAdminPassword }),
  proc('application-controller', {
    program: 'argocd',
    ports: ['controllerMetrics'],
    start: argocd.startApplicationController,
    ready: argocd.applicationControllerReady,
  }),
  proc('applicationset-controller', {
    program: 'argocd',
    ports: ['appsetMetrics', 'appsetProbe', 'appsetWebhook'],
    start: argocd.startApplicationSetController,
    ready: argocd.applicationSetControllerReady,
  }),
  proc('notifications', {
    program: 'argocd',
    ports: ['notificationsMetrics'],
    start: argocd.startNotifications,
    ready: argocd.notificationsReady,
  }),
]);

/** What `up` (or `up --core`) runs, in order. */
export const stepsFor = (core) => STEPS.filter((s) => s.core || !core);

const processNames = (steps) => steps.filter((s) => s.kind === 'process').map((s) => s.name);

/** The processes `up` starts, in order; `up --core` the core ones. */
export const COMPONENTS = Object.freeze({
  core: Object.freeze(processNames(stepsFor(true))),
  full: Object.freeze(processNames(STEPS)),
});

/** The process called `name`, or undefined. */
export const processNamed = (name) => STEPS.find((s) => s.kind === 'process' && s.name === name);

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

/**
 * pids.json names in the order `down` stops them: the reverse of start order (clients before the
 * servers they talk to); names the list does not know (an older run) go first.
 */
export function stopOrder(names) {
  const rank = (n) => {
    const i = STEPS.findIndex((s) => s.name === n);
    return i < 0 ? STEPS.length : i;
  };
  return [...names].sort((a, b) => rank(b) - rank(a));
}
