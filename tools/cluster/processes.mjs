// The processes `up` starts: pids.json bookkeeping, spawning each in its own process group,
// telling our process from a reused pid by its kernel start time, stopping, waiting for readiness.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathWithTools, toolPath } from '../paths.mjs';
import { CONFIG, extraArgs, paths } from './config.mjs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const secs = (ms) => (ms / 1000).toFixed(1);

/** A component that is not ready in time, or exited; the message ends with its log tail. */
export class ReadyError extends Error {
  constructor(component, what, log) {
    super(`${component} ${what}${log ? `; last lines of ${log}:\n${tail(log)}` : ''}`);
  }
}

/** A component that cannot be started at all (missing program or files); `up` stops the others. */
export class StartError extends Error {
  constructor(component, what) {
    super(`${component} cannot start: ${what}`);
  }
}

/** Path of a program tools/build.mjs builds; a StartError naming the build command when missing. */
export function need(tool) {
  try {
    return toolPath(tool);
  } catch (err) {
    throw new StartError(tool, `${err.message} (or: npm run tools)`);
  }
}

/** name -> { pid, startTime, argv0, endpoint, log, started }, in start order. */
export function readPids() {
  try {
    return JSON.parse(readFileSync(paths.pids, 'utf8'));
  } catch {
    return {};
  }
}

export function writePids(pids) {
  writeFileSync(paths.pids, JSON.stringify(pids, null, 2) + '\n');
}

/** Kernel start time of a pid (clock ticks since boot), or null: identifies a process across pid reuse. */
export function startTime(pid) {
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
export function alive(entry) {
  if (!entry?.pid) return false;
  const t = startTime(entry.pid);
  return t !== null && t === entry.startTime;
}

/** Records this process as the `up` starting the run dir, so a second `up` waits for it. */
export function markStarting() {
  writeFileSync(
    paths.starting,
    JSON.stringify({ pid: process.pid, startTime: startTime(process.pid) }) + '\n',
  );
}

export function readStarting() {
  try {
    return JSON.parse(readFileSync(paths.starting, 'utf8'));
  } catch {
    return null;
  }
}

export const logPath = (name) => join(paths.logs, `${name}.log`);

function tail(file, n = 25) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Starts a component in its own process group, logging to logs/<name>.log, and records it. */
export function spawnComponent(name, argv0, args, { extraEnv = {}, endpoint = '' } = {}) {
  const log = openSync(logPath(name), 'a');
  const child = spawn(argv0, [...args, ...extraArgs(name)], {
    detached: true, // own process group: `down` kills the group, nothing else
    stdio: ['ignore', log, log],
    env: { ...process.env, PATH: pathWithTools(process.env.PATH), ...extraEnv },
    cwd: CONFIG.runDir,
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

/** SIGTERM to the process group, SIGKILL after the grace period; false if it was not running. */
export async function stopGroup(entry, graceMs = 10_000) {
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

/** Polls probe() until true; on timeout or exit names the component and shows its log tail. */
export async function waitReady(name, probe, timeoutSec = CONFIG.readyTimeoutSec) {
  const started = Date.now();
  const entry = readPids()[name];
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (entry && !alive(entry)) throw new ReadyError(name, 'exited', entry.log);
    if (Date.now() - started > timeoutSec * 1000)
      throw new ReadyError(name, `not ready after ${timeoutSec} s`, entry?.log);
    await sleep(250);
  }
}
