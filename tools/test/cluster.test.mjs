// tools/cluster/ without a real cluster: partial-cluster detection, `down` keeping the last logs and
// stopping in reverse start order, `up` checking every program first and cleaning up after a
// component that fails. Everything runs in a temp cache and run dir with
// fake programs and ports far from the defaults, so a real cluster on this machine is never touched.
// Run: node --test tools/test/
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { clusterState, COMPONENTS, STEPS } from '../cluster/components.mjs';
import { toolVersion } from '../paths.mjs';

const tools = join(dirname(fileURLToPath(import.meta.url)), '..');
const scratch = mkdtempSync(join(tmpdir(), 'converge-cluster-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Every CONVERGE_*_PORT tools/cluster/ reads, moved to a block far from the defaults. */
const PORT_VARS = [
  'CONVERGE_ETCD_PORT',
  'CONVERGE_ETCD_PEER_PORT',
  'CONVERGE_APISERVER_PORT',
  'CONVERGE_KCM_PORT',
  'CONVERGE_SCHEDULER_PORT',
  'CONVERGE_KWOK_PORT',
  'CONVERGE_REDIS_PORT',
  'CONVERGE_REPO_SERVER_PORT',
  'CONVERGE_REPO_SERVER_METRICS_PORT',
  'CONVERGE_ARGOCD_SERVER_PORT',
  'CONVERGE_ARGOCD_SERVER_METRICS_PORT',
  'CONVERGE_ARGOCD_CONTROLLER_METRICS_PORT',
  'CONVERGE_APPSET_METRICS_PORT',
  'CONVERGE_APPSET_PROBE_PORT',
  'CONVERGE_APPSET_WEBHOOK_PORT',
  'CONVERGE_NOTIFICATIONS_METRICS_PORT',
  'CONVERGE_GIT_PORT',
  'CONVERGE_REGISTRY_PORT',
];

function sandbox(name) {
  const cache = join(scratch, name, 'cache');
  const run = join(scratch, name, 'run');
  const base = 41000 + Math.floor(Math.random() * 200) * 20;
  const env = {
    ...process.env,
    CONVERGE_CACHE: cache,
    CONVERGE_RUN_DIR: run,
    CONVERGE_READY_TIMEOUT: '5',
    CONVERGE_KEEP_ON_FAIL: '',
    ...Object.fromEntries(PORT_VARS.map((v, i) => [v, String(base + i)])),
  };
  const cluster = (...args) =>
    spawnSync(process.execPath, [join(tools, 'cluster', 'main.mjs'), ...args], {
      encoding: 'utf8',
      env,
      timeout: 60_000,
    });
  return { cache, run, env, cluster };
}

/** A fake built program at <cache>/tools/<name>-<version>/<name>. */
function fakeTool(cache, name, script) {
  const dir = join(cache, 'tools', `${name}-${toolVersion(name)}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), `#!/bin/sh\n${script}\n`);
  chmodSync(join(dir, name), 0o755);
}

function procStartTime(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

function procAlive(pid, startTime) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = fields.slice(fields.lastIndexOf(')') + 2).split(' ');
    return rest[0] !== 'Z' && rest[19] === startTime;
  } catch {
    return false;
  }
}

/** A live process in its own group, recorded as tools/cluster/ records a component. */
function liveEntry() {
  const child = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
  child.unref();
  return { pid: child.pid, startTime: procStartTime(child.pid), argv0: 'sleep', endpoint: '' };
}

const deadEntry = () => ({ pid: 2 ** 22 + 7, startTime: '1', argv0: 'gone', endpoint: '' });

test('clusterState: none, running, partial with dead and never-started components', () => {
  const isAlive = (e) => e.up;
  assert.deepEqual(clusterState({}, COMPONENTS.core, isAlive), {
    state: 'none',
    alive: [],
    dead: [],
    missing: COMPONENTS.core,
  });
  const all = Object.fromEntries(COMPONENTS.core.map((n) => [n, { up: true }]));
  assert.equal(clusterState(all, COMPONENTS.core, isAlive).state, 'running');
  // A core cluster is not the full cluster `up` (without --core) was asked for.
  assert.deepEqual(clusterState(all, COMPONENTS.full, isAlive).missing, COMPONENTS.full.slice(5));
  assert.equal(clusterState(all, COMPONENTS.full, isAlive).state, 'partial');
  const someDead = { ...all, kwok: { up: false }, 'kube-scheduler': { up: false } };
  const r = clusterState(someDead, COMPONENTS.core, isAlive);
  assert.equal(r.state, 'partial');
  assert.deepEqual(r.dead, ['kube-scheduler', 'kwok']);
  assert.deepEqual(r.alive, ['etcd', 'kube-apiserver', 'kube-controller-manager']);
  // Everything recorded is dead: nothing to keep, start afresh as after a reboot.
  const allDead = Object.fromEntries(COMPONENTS.core.map((n) => [n, { up: false }]));
  assert.equal(clusterState(allDead, COMPONENTS.core, isAlive).state, 'none');
});

test('down stops what is recorded and keeps only the latest logs in <cache>/results/logs-last', () => {
  const { cache, run, cluster } = sandbox('down');
  const live = liveEntry();
  mkdirSync(join(run, 'logs'), { recursive: true });
  writeFileSync(join(run, 'logs', 'etcd.log'), 'etcd said something\n');
  writeFileSync(join(run, 'pids.json'), JSON.stringify({ etcd: live, kwok: deadEntry() }));
  const old = join(cache, 'results', 'logs-last');
  mkdirSync(old, { recursive: true });
  writeFileSync(join(old, 'stale.log'), 'from an earlier run\n');

  const r = cluster('down');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`component logs copied to ${old}/`));
  assert.match(r.stdout, /stopped 1 component\(s\)/);
  assert.equal(procAlive(live.pid, live.startTime), false);
  assert.equal(existsSync(run), false);
  assert.equal(readFileSync(join(old, 'etcd.log'), 'utf8'), 'etcd said something\n');
  assert.equal(existsSync(join(old, 'stale.log')), false);

  // A second down has no logs to copy and leaves the saved ones alone.
  const again = cluster('down');
  assert.equal(again.status, 0, again.stderr);
  assert.doesNotMatch(again.stdout, /logs copied/);
  assert.equal(existsSync(join(old, 'etcd.log')), true);
});

/** A live process group that appends `name` to `file` when it gets SIGTERM. */
function recordingEntry(name, file) {
  const script = `trap 'echo ${name} >> "${file}"; exit 0' TERM; while :; do sleep 0.05; done`;
  const child = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
  child.unref();
  return { pid: child.pid, startTime: procStartTime(child.pid), argv0: 'sh', endpoint: '' };
}

test('down stops one component at a time, in reverse of the order the list starts them', async () => {
  const { run, cluster } = sandbox('down-order');
  const order = join(scratch, 'down-order', 'stopped.txt');
  mkdirSync(join(run, 'logs'), { recursive: true });
  // Recorded out of order, as a restart would leave them: the list decides, not pids.json.
  const names = ['kwok', 'repo-server', 'etcd', 'git-daemon', 'kube-apiserver'];
  writeFileSync(
    join(run, 'pids.json'),
    JSON.stringify(Object.fromEntries(names.map((n) => [n, recordingEntry(n, order)]))),
  );
  await new Promise((r) => setTimeout(r, 200)); // let each shell install its trap

  const r = cluster('down');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /stopped 5 component\(s\)/);
  const expected = STEPS.map((s) => s.name)
    .filter((n) => names.includes(n))
    .reverse();
  assert.deepEqual(expected, ['repo-server', 'git-daemon', 'kwok', 'kube-apiserver', 'etcd']);
  assert.deepEqual(readFileSync(order, 'utf8').trim().split('\n'), expected);
});

test('up checks every program the list needs before it starts anything', () => {
  const { cache, run, cluster } = sandbox('programs');
  const started = join(scratch, 'programs', 'started');
  mkdirSync(started, { recursive: true });
  for (const t of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok'])
    fakeTool(cache, t, `touch "${join(started, t)}"; sleep 30`);

  const r = cluster('up'); // the full cluster needs argocd too, which is not built
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(
    r.stderr,
    /^cluster: argocd cannot start: argocd v[\d.]+ is not built; run: node tools\/build\.mjs argocd/m,
  );
  assert.deepEqual(readdirSync(started), [], 'no program ran');
  assert.equal(existsSync(join(run, 'pids.json')), false);
});

test('up on a partial cluster names the dead parts, stops the rest, starts afresh; a failed start stops everything', () => {
  const { cache, run, cluster } = sandbox('partial');
  for (const t of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok', 'argocd'])
    fakeTool(cache, t, 'exit 0');
  fakeTool(cache, 'etcd', 'echo "fake etcd: no data dir" >&2; exit 3');
  const live = liveEntry();
  mkdirSync(join(run, 'logs'), { recursive: true });
  writeFileSync(
    join(run, 'pids.json'),
    JSON.stringify({ etcd: live, 'kube-apiserver': deadEntry(), 'kube-controller-manager': deadEntry() }),
  );

  const r = cluster('up', '--core');
  assert.match(
    r.stdout,
    /incomplete \(dead: kube-apiserver, kube-controller-manager; not started: kube-scheduler, kwok\)/,
  );
  assert.match(r.stdout, /stopping the rest \(etcd\) and starting afresh/);
  assert.equal(procAlive(live.pid, live.startTime), false, 'the live leftover was stopped');
  // The fresh start fails at etcd: one message naming it with its log, then everything is stopped.
  assert.equal(r.status, 1);
  assert.match(r.stderr, /cluster: etcd exited; last lines of .*etcd\.log:\nfake etcd: no data dir/);
  assert.match(r.stderr, /stopping what was started/);
  assert.equal(existsSync(join(run, 'pids.json')), false, 'the data is removed');
  assert.match(readFileSync(join(run, 'logs', 'etcd.log'), 'utf8'), /fake etcd: no data dir/);
  assert.match(readFileSync(join(cache, 'results', 'logs-last', 'etcd.log'), 'utf8'), /fake etcd/);
});

test('cluster/main.mjs with no command prints its usage and exits 2', () => {
  const r = spawnSync(process.execPath, [join(tools, 'cluster', 'main.mjs')], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /usage: node tools\/cluster\/main\.mjs up\|status\|down/);
});

test('restore-argocd fails when no cluster runs, naming how to start one', () => {
  const { cluster } = sandbox('restore-none');
  const r = cluster('restore-argocd');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /no running cluster; run: node tools\/cluster\/main\.mjs up/);
  assert.doesNotMatch(r.stderr, /\n\s+at /); // one line, no stack trace
});

/** Fakes that answer the readiness probes: etcd over HTTP, the others over TLS. */
const FAKE_SERVER = `
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createTls } from 'node:https';
import { join } from 'node:path';
const [kind, ...args] = process.argv.slice(2);
const flag = (n) => args.find((a) => a.startsWith('--' + n + '='))?.slice(n.length + 3);
writeFileSync(join(process.env.FAKE_PIDS, kind), String(process.pid));
if (kind === 'etcd') {
  createServer((_, res) => res.end('{"health":"true"}')).listen(new URL(flag('listen-client-urls')).port, '127.0.0.1');
} else {
  if (kind === 'kube-apiserver') {
    mkdirSync(flag('cert-dir'), { recursive: true });
    copyFileSync(process.env.FAKE_CERT, join(flag('cert-dir'), 'apiserver.crt'));
  }
  const tls = { key: readFileSync(process.env.FAKE_KEY), cert: readFileSync(process.env.FAKE_CERT) };
  createTls(tls, (_, res) => res.end('ok')).listen(Number(flag('secure-port')), '127.0.0.1');
}
`;

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

test(
  'up: a component that cannot start (kwok without its stage files) stops what already runs',
  { skip: !hasOpenssl && 'needs openssl for the fake API server certificate' },
  (t) => {
    const { cache, run, env, cluster } = sandbox('start-error');
    const dir = join(scratch, 'start-error');
    const fakePids = join(dir, 'fake-pids');
    mkdirSync(fakePids, { recursive: true });
    const [key, cert] = [join(dir, 'tls.key'), join(dir, 'tls.crt')];
    const gen = spawnSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert,
    ], { encoding: 'utf8' }); // prettier-ignore
    assert.equal(gen.status, 0, gen.stderr);
    writeFileSync(join(dir, 'fake-server.mjs'), FAKE_SERVER);
    for (const name of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok'])
      fakeTool(cache, name, `exec "${process.execPath}" "${join(dir, 'fake-server.mjs')}" ${name} "$@"`);
    Object.assign(env, { FAKE_PIDS: fakePids, FAKE_KEY: key, FAKE_CERT: cert });
    // Should `up` leave them running (the bug this guards against), do not leak them.
    t.after(() => {
      for (const f of existsSync(fakePids) ? readdirSync(fakePids) : []) {
        try {
          process.kill(Number(readFileSync(join(fakePids, f), 'utf8')), 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    });

    const r = cluster('up', '--core');
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /kube-scheduler +ready in/);
    assert.match(r.stderr, /^cluster: kwok cannot start: its stage files are missing \(.*stages\.yaml\)/m);
    assert.match(r.stderr, /stopping what was started/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    for (const name of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']) {
      const pid = Number(readFileSync(join(fakePids, name), 'utf8'));
      let state = null;
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
      } catch {
        /* gone */
      }
      assert.ok(state === null || state === 'Z', `${name} (pid ${pid}) still runs`);
    }
    assert.equal(existsSync(join(run, 'pids.json')), false);
    // A second up starts afresh instead of reporting "already running".
    const again = cluster('up', '--core');
    assert.doesNotMatch(again.stdout, /already running/);
    assert.equal(again.status, 1);
  },
);
