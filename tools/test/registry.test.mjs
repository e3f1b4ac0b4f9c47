// The loopback OCI registry (tools/cluster/registry.mjs): the real docker-registry started from the
// config it writes, in a temp run dir on a free port; and crane, once built, pushing to it.
// Run: node --test tools/test/
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parse } from 'yaml';

const scratch = mkdtempSync(join(tmpdir(), 'converge-registry-test-'));

/** A port nothing listens on now. */
const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

let reg; // tools/cluster/registry.mjs, imported once the env points at the sandbox
let cfg;
let proc;
before(async () => {
  process.env.CONVERGE_CACHE = join(scratch, 'cache');
  process.env.CONVERGE_RUN_DIR = join(scratch, 'run');
  process.env.CONVERGE_REGISTRY_PORT = String(await freePort());
  mkdirSync(join(scratch, 'run', 'logs'), { recursive: true });
  cfg = await import('../cluster/config.mjs');
  reg = await import('../cluster/registry.mjs');
  proc = await import('../cluster/processes.mjs');
});
after(async () => {
  const entry = proc?.readPids().registry;
  if (entry) await proc.stopGroup(entry, 2000);
  rmSync(scratch, { recursive: true, force: true });
});

test('the config listens on loopback only, stores under the run dir, and has a fresh upload secret', () => {
  const a = reg.registryConfig();
  assert.equal(a.http.addr, `127.0.0.1:${process.env.CONVERGE_REGISTRY_PORT}`);
  assert.equal(a.storage.filesystem.rootdirectory, join(scratch, 'run', 'registry'));
  assert.equal(a.storage.delete.enabled, true);
  assert.match(a.http.secret, /^[0-9a-f]{32}$/);
  assert.notEqual(reg.registryConfig().http.secret, a.http.secret);
  assert.equal(a.auth, undefined, 'loopback only: no auth');
});

test('startRegistry writes its config (0600) and the real registry answers /v2/ on that port', async () => {
  assert.equal(await reg.registryReady(), false, 'nothing answers before the start');
  reg.startRegistry();
  await proc.waitReady('registry', reg.registryReady, 10);
  const file = join(scratch, 'run', 'registry.yml');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(parse(readFileSync(file, 'utf8')).http.addr, cfg.registryAddress);
  const entry = proc.readPids().registry;
  assert.equal(entry.endpoint, `http://${cfg.registryAddress}`);
  assert.equal(proc.alive(entry), true);
});

test('crane pushes a tiny image it builds itself; the registry lists its tags and keeps its blobs', async (t) => {
  // The test's own cache is empty: look for crane in the real one (built by `npm run tools`).
  const real = spawnSync(
    process.execPath,
    [join(import.meta.dirname, '..', 'build.mjs'), '--print-path', 'crane'],
    {
      encoding: 'utf8',
      env: { ...process.env, CONVERGE_CACHE: '' },
    },
  );
  if (real.status !== 0) return t.skip('crane is not built yet (npm run tools)');
  const bin = real.stdout.trim();
  if (!(await reg.registryReady())) {
    reg.startRegistry();
    await proc.waitReady('registry', reg.registryReady, 10);
  }
  const layerDir = join(scratch, 'layer');
  mkdirSync(layerDir, { recursive: true });
  const repo = `${cfg.registryAddress}/app-service`;
  const digests = new Map();
  for (const tag of ['1.0.6', '1.1.0']) {
    writeFileSync(join(layerDir, 'VERSION'), `${tag}\n`);
    const tar = join(scratch, `layer-${tag}.tar`);
    assert.equal(spawnSync('tar', ['-cf', tar, '-C', layerDir, 'VERSION']).status, 0);
    const push = spawnSync(bin, ['append', '--insecure', '-f', tar, '-t', `${repo}:${tag}`], {
      encoding: 'utf8',
    });
    assert.equal(push.status, 0, push.stderr);
    digests.set(tag, push.stdout.trim());
  }
  const ls = spawnSync(bin, ['ls', '--insecure', repo], { encoding: 'utf8' });
  assert.equal(ls.status, 0, ls.stderr);
  assert.deepEqual(ls.stdout.trim().split('\n').sort(), ['1.0.6', '1.1.0']);
  const digest = spawnSync(bin, ['digest', '--insecure', `${repo}:1.0.6`], { encoding: 'utf8' });
  assert.equal(`${repo}@${digest.stdout.trim()}`, digests.get('1.0.6'));
  assert.notEqual(digests.get('1.0.6'), digests.get('1.1.0'), 'each tag is its own image');
  const repos = join(scratch, 'run', 'registry', 'docker', 'registry', 'v2', 'repositories');
  assert.ok(existsSync(repos) && readdirSync(repos).includes('app-service'), 'stored under the run dir');
});
