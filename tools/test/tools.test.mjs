// Checks that need no Go and no cluster: the pins agree with each other and the scripts answer
// as documented. Run: node --test tools/test/
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkWrapper, TOOLS } from '../build.mjs';
import { upstreamPin } from '../pins.js';
import { UPSTREAM_SOURCES } from '../upstream.mjs';
import { TOOL_FAMILY, toolPath, toolsBinDir, versions } from '../paths.mjs';

const tools = join(dirname(fileURLToPath(import.meta.url)), '..');
const V = versions();
const node = (args, env = {}) =>
  spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, ...env } });

test('every build recipe has a family with a pinned module and version', () => {
  for (const t of TOOLS) {
    const fam = V.families[TOOL_FAMILY[t.name]];
    assert.ok(fam, `${t.name} has no family in versions.json`);
    assert.match(fam.module, /^[a-z0-9.-]+\//);
    assert.match(fam.version, /^v\d+\.\d+\.\d+$/);
  }
});

test('each committed wrapper go.mod requires exactly the version versions.json pins', () => {
  for (const t of TOOLS) {
    if (!existsSync(join(tools, TOOL_FAMILY[t.name], 'go.mod'))) continue; // not synced yet (see README)
    assert.doesNotThrow(() => checkWrapper(t), t.name);
  }
});

test('each upstream source is pinned once: by its own entry or by the family built from it', () => {
  for (const name of Object.keys(V.upstream)) {
    const pin = upstreamPin(name);
    assert.match(pin.version, /^v\d+\.\d+\.\d+$/, name);
    const family = Object.values(V.families).find((f) => f.module === pin.module);
    if (family) assert.equal(pin.version, family.version, `${name} and the family built from ${pin.module}`);
    if (family)
      assert.ok('family' in V.upstream[name], `${name} restates a family's version; name the family instead`);
  }
  assert.throws(() => upstreamPin('nope'), /no upstream entry "nope"/);
});

test('upstream.mjs fetches every upstream source versions.json pins, and nothing else', () => {
  assert.deepEqual([...UPSTREAM_SOURCES].sort(), Object.keys(V.upstream).sort());
});

test('the Pulumi SDKs in package.json are the versions the plugins are built at', () => {
  const pkg = JSON.parse(readFileSync(join(tools, '..', 'package.json'), 'utf8'));
  const deps = { ...pkg.dependencies, ...pkg.devDependencies };
  assert.equal(deps['@pulumi/pulumi'], V.families.pulumi.version.slice(1));
  assert.equal(deps['@pulumi/kubernetes'], V.families['pulumi-kubernetes'].version.slice(1));
});

test('paths follow <cache>/tools/<name>-<version>/<name>', () => {
  const cache = '/nonexistent/converge-cache';
  process.env.CONVERGE_CACHE = cache;
  try {
    assert.equal(
      toolPath('helm', { mustExist: false }),
      `${cache}/tools/helm-${V.families.helm.version}/helm`,
    );
    assert.equal(toolsBinDir(), `${cache}/tools/bin`);
    assert.throws(() => toolPath('helm'), /not built; run: node tools\/build.mjs helm/);
  } finally {
    delete process.env.CONVERGE_CACHE;
  }
});

test('build.mjs --print-path exits 1 for a tool that is not built, 1 for an unknown one', () => {
  const missing = node([join(tools, 'build.mjs'), '--print-path', 'helm'], {
    CONVERGE_CACHE: '/nonexistent/c',
  });
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /helm is not built; run: node tools\/build.mjs helm/);
  const unknown = node([join(tools, 'build.mjs'), '--print-path', 'nope']);
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /unknown tool "nope"/);
});

test('build.mjs fails with one line when go is missing', () => {
  const r = node([join(tools, 'build.mjs'), 'helm'], {
    CONVERGE_CACHE: '/nonexistent/c',
    PATH: '/nonexistent',
  });
  assert.equal(r.status, 1);
  assert.equal(r.stderr.trim(), `build.mjs: go not found on PATH; install Go ${V.go.minimum} or newer`);
});

test('cluster/main.mjs status with no cluster says so and exits 1', () => {
  const r = node([join(tools, 'cluster', 'main.mjs'), 'status'], { CONVERGE_RUN_DIR: '/nonexistent/run' });
  assert.equal(r.status, 1);
  assert.match(r.stdout, /no cluster in \/nonexistent\/run/);
});
