#!/usr/bin/env node
// Fetches the pinned upstream files Converge reads at synth and validate time: Argo CD's install
// manifests and CRDs, Istio's and the Prometheus Operator's CRDs, Argo CD Image Updater's CRD, and the Kubernetes OpenAPI v3 spec. They come from the official
// Go modules (served by the module proxy, so this works with no internet) and are cached as JSON
// outside the repo. Nothing upstream is ever committed here.
//
//   node tools/upstream.mjs            fetch what is missing (idempotent)
//   node tools/upstream.mjs --print    print the cache directory
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { cacheRoot as convergeCache } from './cache-paths.js';
import { upstreamPin } from './pins.js';

export const cacheRoot = () => join(convergeCache(), 'upstream');

/** Go toolchain able to extract a module whose go.mod asks for a newer Go (Argo CD 3.6 asks 1.27). */
const goToolchainFor = (entry) => entry.goToolchain ?? 'local';

function moduleDir(module, version, toolchain, extraEnv = {}) {
  let out;
  try {
    out = execFileSync('go', ['mod', 'download', '-json', `${module}@${version}`], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, GOFLAGS: '-mod=mod', GOTOOLCHAIN: toolchain, ...extraEnv },
    });
  } catch (err) {
    if (err.code === 'ENOENT')
      fail('go is not on PATH; install Go 1.26 or newer, then run `npm run setup` again');
    out = err.stdout ?? '';
  }
  const info = JSON.parse(out || '{}');
  if (!info.Dir) fail(`could not download ${module}@${version}: ${info.Error ?? 'no module directory'}`);
  return info.Dir;
}

function fail(message) {
  console.error(`converge upstream: ${message}`);
  process.exit(2);
}

const readYamlObjects = (file) =>
  parseAllDocuments(readFileSync(file, 'utf8'))
    .map((doc) => doc.toJSON())
    .filter((obj) => obj && typeof obj === 'object' && obj.kind);

/** Writes a directory atomically, so an interrupted fetch never leaves a half cache behind. */
function writeEntry(dir, files) {
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  for (const [name, value] of Object.entries(files)) {
    const target = join(tmp, name);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, typeof value === 'string' ? value : JSON.stringify(value));
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
}

const entries = {
  'argo-cd': (v) => {
    const dir = moduleDir(v.module, v.version, goToolchainFor(v));
    const crd = (name) => readYamlObjects(join(dir, 'manifests', 'crds', `${name}-crd.yaml`))[0];
    return {
      'install.json': readYamlObjects(join(dir, 'manifests', 'install.yaml')),
      'ha-install.json': readYamlObjects(join(dir, 'manifests', 'ha', 'install.yaml')),
      'crds.json': ['application', 'applicationset', 'appproject'].map(crd),
    };
  },
  'istio-api': (v) => {
    const dir = moduleDir(v.module, v.version, goToolchainFor(v));
    return { 'crds.json': readYamlObjects(join(dir, 'kubernetes', 'customresourcedefinitions.gen.yaml')) };
  },
  // Only the two kinds the platform declares (alert rules, scrape targets), from the operator's own CRDs.
  'prometheus-operator': (v) => {
    const dir = join(moduleDir(v.module, v.version, goToolchainFor(v)), 'example', 'prometheus-operator-crd');
    const crd = (plural) => readYamlObjects(join(dir, `monitoring.coreos.com_${plural}.yaml`))[0];
    return { 'crds.json': ['prometheusrules', 'servicemonitors'].map(crd) };
  },
  // Image Updater's module has no checksum-database entry here, so the sum is not looked up.
  'argocd-image-updater': (v) => {
    const noSumDb = [process.env.GONOSUMDB, v.module].filter(Boolean).join(',');
    const dir = moduleDir(v.module, v.version, goToolchainFor(v), { GONOSUMDB: noSumDb });
    return {
      'crds.json': readYamlObjects(
        join(dir, 'config', 'crd', 'bases', 'argocd-image-updater.argoproj.io_imageupdaters.yaml'),
      ),
    };
  },
  kubernetes: (v) => {
    const dir = join(moduleDir(v.module, v.version, goToolchainFor(v)), 'api', 'openapi-spec', 'v3');
    const files = {};
    for (const name of readdirSync(dir).filter((f) => f.endsWith('_openapi.json'))) {
      files[join('openapi', name)] = readFileSync(join(dir, name), 'utf8');
    }
    return files;
  },
};

/** The sources fetched, one per `upstream` entry in versions.json (a test checks they match). */
export const UPSTREAM_SOURCES = Object.keys(entries);

export function upstreamDir(name) {
  const v = upstreamPin(name);
  return join(cacheRoot(), `${name}-${v.version}`);
}

export function fetchUpstream({ quiet = false } = {}) {
  for (const [name, build] of Object.entries(entries)) {
    const v = upstreamPin(name);
    const dir = upstreamDir(name);
    if (existsSync(dir)) {
      if (!quiet) console.log(`upstream ${name} ${v.version}: cached`);
      continue;
    }
    const started = Date.now();
    writeEntry(dir, build(v));
    console.log(`upstream ${name} ${v.version}: fetched in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--print')) console.log(cacheRoot());
  else fetchUpstream({ quiet: process.argv.includes('--quiet') });
}
