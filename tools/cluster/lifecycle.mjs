// Starting and stopping the cluster, or restarting one component, in the order of components.mjs.
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as argocd from './argocd.mjs';
import { clusterState, COMPONENTS, processNamed, STEPS, stepsFor, stopOrder } from './components.mjs';
import { CLI, CONFIG, fail, paths, PORT_VARS } from './config.mjs';
import { tcpProbe } from './probes.mjs';
import {
  alive,
  markStarting,
  need,
  readPids,
  readStarting,
  secs,
  sleep,
  stopGroup,
  waitReady,
  writePids,
} from './processes.mjs';

const R = CONFIG.runDir;

/** One entry of the list: do it, wait until it is ready, say how long that took. */
async function run(step) {
  const started = Date.now();
  await step.start();
  if (step.ready) await waitReady(step.name, step.ready);
  const took = secs(Date.now() - started);
  console.log(`  ${step.name.padEnd(26)} ${step.ready ? 'ready' : 'done'} in ${took} s`);
}

/** Every program the steps need, before anything starts; a missing one is a StartError. */
function checkPrograms(steps) {
  for (const program of new Set(steps.map((s) => s.program).filter(Boolean))) need(program);
}

/** A port already taken would make a foreign process look like ours to the readiness probes. */
async function checkPortsFree(steps) {
  const used = [];
  for (const key of steps.flatMap((s) => s.ports)) {
    const port = CONFIG.ports[key];
    if (await tcpProbe(port)) used.push(`${port} (${PORT_VARS[key][0]})`);
  }
  if (used.length)
    fail(`port(s) in use on 127.0.0.1: ${used.join(', ')}; stop that process or set those env vars`);
}

/** Starts the cluster: 'started', 'running' (it already was) or 'failed' (and said why). */
export async function up({ core = false } = {}) {
  // Another `up` still starting this run dir: let it finish, then judge what it left.
  const other = readStarting();
  if (alive(other)) {
    console.log(`cluster: another \`up\` (pid ${other.pid}) is starting the cluster in ${R}; waiting for it`);
    while (alive(other)) await sleep(500);
  }
  const found = clusterState(readPids(), core ? COMPONENTS.core : COMPONENTS.full, alive);
  if (found.state === 'running') {
    console.log(
      `cluster: a cluster is already running in ${R} (${found.alive.join(', ')}); nothing started.`,
    );
    console.log(`  use: ${CLI} status | down`);
    return 'running';
  }
  const steps = stepsFor(core);
  checkPrograms(steps);
  if (found.state === 'partial') {
    const why = [
      found.dead.length ? `dead: ${found.dead.join(', ')}` : '',
      found.missing.length ? `not started: ${found.missing.join(', ')}` : '',
    ].filter(Boolean);
    console.log(`cluster: the cluster in ${R} is incomplete (${why.join('; ')}).`);
    console.log(`cluster: stopping the rest (${found.alive.join(', ')}) and starting afresh`);
    await down({ quiet: true });
  }
  await checkPortsFree(steps);
  rmSync(R, { recursive: true, force: true }); // stale run: start clean
  mkdirSync(paths.logs, { recursive: true });
  writePids({});
  markStarting();
  const started = Date.now();
  console.log(`cluster: starting in ${R}`);
  try {
    for (const step of steps) await run(step);
  } catch (err) {
    console.error(`cluster: ${err.message}`);
    if (CONFIG.keepOnFail) {
      console.error(
        `cluster: leaving the partial cluster running (CONVERGE_KEEP_ON_FAIL=1); stop it with: ${CLI} down`,
      );
    } else {
      console.error(
        'cluster: stopping what was started (set CONVERGE_KEEP_ON_FAIL=1 to keep it for debugging)',
      );
      await down({ quiet: true, keepLogs: true });
    }
    return 'failed';
  }
  rmSync(paths.starting, { force: true });
  console.log(`\ncluster ready in ${secs(Date.now() - started)} s`);
  return 'started';
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
    console.error(`cluster: could not copy the logs to ${paths.savedLogs}: ${err.message}`);
    return null;
  }
}

/** Stops what pids.json records, one at a time in reverse start order, then removes the run dir. */
export async function down({ quiet = false, keepLogs = false } = {}) {
  const pids = readPids();
  let stopped = 0;
  for (const name of stopOrder(Object.keys(pids))) {
    const stop = processNamed(name)?.stop ?? stopGroup;
    if (await stop(pids[name])) stopped++;
  }
  const saved = saveLogs();
  if (saved) console.log(`cluster: component logs copied to ${saved}/`);
  if (keepLogs) {
    for (const f of existsSync(R) ? readdirSync(R) : [])
      if (f !== 'logs') rmSync(join(R, f), { recursive: true, force: true });
  } else {
    rmSync(R, { recursive: true, force: true });
  }
  if (!quiet)
    console.log(`cluster: stopped ${stopped} component(s); removed ${keepLogs ? 'data (logs kept)' : R}`);
  return 0;
}

/** Stops one component and starts it again with the current env. */
export async function restart(name) {
  const component = processNamed(name);
  if (!component) fail(`unknown component "${name}"; known: ${COMPONENTS.full.join(', ')}`);
  const pids = readPids();
  if (!alive(pids['kube-apiserver'])) fail(`no running cluster; run: ${CLI} up`);
  await component.stop(pids[name]);
  try {
    await run(component);
  } catch (err) {
    fail(err.message);
  }
  return 0;
}

/**
 * Argo CD as `up` left it, after a `pulumi destroy` of a stack that had installed Argo CD took its
 * CRDs and namespace away: the steps from its CRDs on are run again, its processes restarted (they
 * read the new webhook secret and config only at start). Nothing is done when all is still there.
 */
export async function restoreArgocd() {
  const pids = readPids();
  if (!alive(pids['kube-apiserver'])) fail(`no running cluster; run: ${CLI} up`);
  const steps = STEPS.slice(STEPS.findIndex((s) => s.name === 'argocd-crds'));
  const processes = steps.filter((s) => s.kind === 'process');
  if ((await argocd.installed()) && processes.every((p) => alive(pids[p.name]))) {
    console.log('cluster: Argo CD is installed and running; nothing to restore');
    return 0;
  }
  const started = Date.now();
  try {
    await waitReady('argocd namespace (not terminating)', argocd.namespaceSettled);
    for (const p of [...processes].reverse()) await p.stop(pids[p.name]);
    for (const step of steps) await run(step);
  } catch (err) {
    fail(err.message);
  }
  console.log(`cluster: Argo CD restored in ${secs(Date.now() - started)} s`);
  return 0;
}
