#!/usr/bin/env node
// Builds every program the end-to-end suite runs (etcd, kube-apiserver, kwok, Argo CD, Helm,
// Pulumi, ...) from their official Go modules, via the wrapper modules in tools/<family>/.
// Binaries are cached outside the repo in <cache>/tools/<name>-<version>/<name>; a cached one is
// never rebuilt. <cache>/tools/bin/ holds symlinks to the current versions (one PATH entry).
// Node built-ins only: it runs before `npm ci`.
//
//   node tools/build.mjs [name ...]        build what is missing (no names = all)
//   node tools/build.mjs --print-path NAME print the binary's path; exit 1 if not built
//   node tools/build.mjs --list            list tools, versions and whether they are built
//
// Env: CONVERGE_CACHE (default ~/.cache/converge). Go >= versions.json go.minimum must be on PATH.
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BuildError, fam, here, readRequire, TOOLS } from './build-recipes.mjs';
import { TOOL_FAMILY, toolDir, toolPath, toolsBinDir, toolsCacheDir, versions } from './paths.mjs';

export { readRequire, TOOLS } from './build-recipes.mjs';

const V = versions();

const byName = new Map(TOOLS.map((t) => [t.name, t]));
const familyOf = (t) => TOOL_FAMILY[t.name];
const goToolchain = (t) => fam(familyOf(t)).goToolchain || 'local';
const secs = (ms) => (ms / 1000).toFixed(1);

function fail(message) {
  console.error(`build.mjs: ${message}`);
  process.exit(1);
}

/** versions.json and the committed go.mod must agree, or the cache key would lie. */
export function checkWrapper(t) {
  const family = familyOf(t);
  const e = fam(family);
  if (!existsSync(join(here, family, 'go.mod')))
    throw new BuildError(`tools/${family}/go.mod is missing; run: node tools/sync.mjs ${family}`);
  const want = e.moduleVersion || e.version;
  if (!want) throw new BuildError(`tools/versions.json has no module version for ${family}`);
  const got = readRequire(family, e.module);
  if (got !== want) {
    throw new BuildError(
      `tools/${family}/go.mod requires ${e.module} ${got ?? '(nothing)'} but tools/versions.json pins ${want}; run: node tools/sync.mjs ${family}`,
    );
  }
}

function checkGo() {
  const r = spawnSync('go', ['env', 'GOVERSION'], {
    encoding: 'utf8',
    env: { ...process.env, GOTOOLCHAIN: 'local' },
  });
  if (r.error?.code === 'ENOENT') fail(`go not found on PATH; install Go ${V.go.minimum} or newer`);
  const m = (r.stdout || '').trim().match(/^go(\d+)\.(\d+)/);
  if (r.status !== 0 || !m) fail(`cannot run \`go env GOVERSION\`: ${(r.stderr || r.stdout || '').trim()}`);
  const [wantMajor, wantMinor] = V.go.minimum.split('.').map(Number);
  if (+m[1] < wantMajor || (+m[1] === wantMajor && +m[2] < wantMinor)) {
    fail(`go ${m[0].slice(2)} is too old; Go ${V.go.minimum} or newer is required`);
  }
  return (r.stdout || '').trim();
}

/** Runs go, keeping its output for the error message; prints a heartbeat while it works. */
function runGo(args, { cwd, env, label }) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn('go', args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const beat = setInterval(
      () => console.log(`    ... ${label} still building (${secs(Date.now() - started)} s)`),
      60_000,
    );
    child.on('error', (err) => {
      clearInterval(beat);
      reject(new BuildError(`${label}: cannot run go: ${err.message}`));
    });
    child.on('close', (code) => {
      clearInterval(beat);
      if (code === 0) resolve(out);
      else {
        const tail = out.trim().split('\n').slice(-25).join('\n');
        reject(
          new BuildError(`building ${label} failed (go exit ${code}); last lines of go output:\n${tail}`),
        );
      }
    });
  });
}

async function build(t) {
  const family = familyOf(t);
  const outDir = toolDir(t.name);
  const bin = toolPath(t.name, { mustExist: false });
  const version = fam(family).version;
  const scratch = join(toolsCacheDir(), '.work', `${t.name}-${version}`);
  const cwd = t.prepare ? t.prepare(scratch) : join(here, family);
  mkdirSync(outDir, { recursive: true });
  const tmp = `${bin}.tmp-${process.pid}`;
  const ldflags = ['-s', '-w', ...(t.ldflags ? t.ldflags() : [])].join(' ');
  const args = [
    'build',
    '-trimpath',
    '-ldflags',
    ldflags,
    ...(t.tags ? ['-tags', t.tags] : []),
    '-o',
    tmp,
    t.pkg,
  ];
  const env = { ...process.env, CGO_ENABLED: '0', GOTOOLCHAIN: goToolchain(t) };
  try {
    await runGo(args, { cwd, env, label: t.name });
    renameSync(tmp, bin); // atomic: a half-written binary never looks cached
  } finally {
    rmSync(tmp, { force: true });
    if (t.prepare) rmSync(scratch, { recursive: true, force: true });
  }
}

/** Extra files a tool needs at run time, copied from its module once (idempotent, atomic). */
function ensureAssets(t) {
  if (!t.assets) return;
  const dir = join(toolDir(t.name), 'assets');
  const stamp = join(dir, '.rev');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === String(t.assetsRev)) return;
  rmSync(dir, { recursive: true, force: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    t.assets(tmp);
    writeFileSync(join(tmp, '.rev'), `${t.assetsRev}\n`);
    renameSync(tmp, dir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Points bin/<name> (and aliases) at the built version; replaced atomically. */
function linkBin(t) {
  const binDir = toolsBinDir();
  mkdirSync(binDir, { recursive: true });
  const target = relative(binDir, toolPath(t.name, { mustExist: false }));
  for (const link of [t.name, ...(t.aliases || [])]) {
    const tmp = join(binDir, `.${link}.tmp-${process.pid}`);
    rmSync(tmp, { force: true });
    symlinkSync(target, tmp);
    renameSync(tmp, join(binDir, link));
  }
}

function sizeMiB(path) {
  return existsSync(path) ? (statSync(path).size / 1048576).toFixed(1) : '-';
}

function printTable(rows) {
  const head = ['tool', 'version', 'result', 'seconds', 'MiB'];
  const cells = rows.map((r) => [r.name, r.version, r.result, r.seconds, r.size]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => String(c[i]).length)));
  const line = (c) => c.map((v, i) => String(v).padEnd(widths[i])).join('  ');
  console.log(`\n${line(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const c of cells) console.log(line(c));
}

async function main(argv) {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(
      readFileSync(fileURLToPath(import.meta.url), 'utf8')
        .split('\n')
        .slice(1, 12)
        .join('\n')
        .replace(/^\/\/ ?/gm, ''),
    );
    return 0;
  }
  const pp = argv.indexOf('--print-path');
  if (pp >= 0) {
    const name = argv[pp + 1];
    if (!byName.has(name)) fail(`unknown tool "${name}"; known: ${TOOLS.map((t) => t.name).join(', ')}`);
    const path = toolPath(name, { mustExist: false });
    if (!existsSync(path)) {
      console.error(`build.mjs: ${name} is not built; run: node tools/build.mjs ${name}`);
      return 1;
    }
    console.log(path);
    return 0;
  }
  if (argv.includes('--list')) {
    for (const t of TOOLS)
      console.log(
        `${t.name}\t${fam(familyOf(t)).version}\t${existsSync(toolPath(t.name, { mustExist: false })) ? 'built' : 'missing'}`,
      );
    return 0;
  }
  const names = argv.filter((a) => !a.startsWith('-'));
  for (const n of names)
    if (!byName.has(n)) fail(`unknown tool "${n}"; known: ${TOOLS.map((t) => t.name).join(', ')}`);
  const wanted = names.length ? TOOLS.filter((t) => names.includes(t.name)) : TOOLS;

  const todo = wanted.filter(
    (t) => !existsSync(toolPath(t.name, { mustExist: false })) && !fam(familyOf(t)).blocked,
  );
  if (todo.length) {
    const gov = checkGo();
    console.log(`build.mjs: ${todo.length} to build with ${gov} into ${toolsCacheDir()}`);
  }

  const rows = [];
  const failures = [];
  const blocked = [];
  const all = Date.now();
  for (const [i, t] of wanted.entries()) {
    const version = fam(familyOf(t)).version;
    const bin = toolPath(t.name, { mustExist: false });
    const started = Date.now();
    let result = 'cached';
    const why = fam(familyOf(t)).blocked;
    if (why && !existsSync(bin)) {
      // A known gap (see versions.json) fails the run only when asked for by name. Its run-time
      // files come from the module, which may be served even when a dependency is not.
      try {
        ensureAssets(t);
      } catch (err) {
        if (!(err instanceof BuildError)) throw err;
        console.error(`build.mjs: ${t.name}'s files: ${err.message}`);
        failures.push(t.name);
      }
      console.error(`build.mjs: ${t.name} cannot be built yet: ${why}`);
      (names.includes(t.name) ? failures : blocked).push(t.name);
      rows.push({ name: t.name, version, result: 'BLOCKED', seconds: '0.0', size: '-' });
      continue;
    }
    try {
      checkWrapper(t);
      if (!existsSync(bin)) {
        console.log(`==> [${i + 1}/${wanted.length}] ${t.name} ${version}: building`);
        await build(t);
        result = 'built';
      }
      ensureAssets(t);
      linkBin(t);
      if (result === 'built')
        console.log(`    ${t.name} built in ${secs(Date.now() - started)} s (${sizeMiB(bin)} MiB)`);
    } catch (err) {
      if (!(err instanceof BuildError)) throw err;
      result = 'FAILED';
      failures.push(t.name);
      console.error(`build.mjs: ${err.message}`);
    }
    rows.push({ name: t.name, version, result, seconds: secs(Date.now() - started), size: sizeMiB(bin) });
  }
  printTable(rows);
  console.log(`\ntotal ${secs(Date.now() - all)} s; PATH entry: ${toolsBinDir()}`);
  if (blocked.length)
    console.error(
      `build.mjs: not built (known gaps, see tools/versions.json "blocked"): ${blocked.join(', ')}`,
    );
  if (failures.length) {
    console.error(`build.mjs: failed to build ${failures.join(', ')} (see the go output above)`);
    return 1;
  }
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
