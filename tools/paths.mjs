// Where tools/build.mjs puts the programs it builds, so scripts and tests can find them.
// Node built-ins only: used before `npm ci` too.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot } from './cache-paths.js';
import { versions } from './pins.js';

export { cacheRoot, resultsDir, runDir } from './cache-paths.js';
export { versions } from './pins.js';

/** Root of the built programs: one <name>-<version>/ directory per tool, plus bin/. */
export function toolsCacheDir() {
  return join(cacheRoot(), 'tools');
}

/** Directory of symlinks to the current version of every tool: put it first on PATH. */
export function toolsBinDir() {
  return join(toolsCacheDir(), 'bin');
}

/** name -> family, for every program build.mjs knows (argocd aliases included). */
export const TOOL_FAMILY = Object.freeze({
  helm: 'helm',
  etcd: 'etcd',
  'kube-apiserver': 'kube',
  'kube-controller-manager': 'kube',
  'kube-scheduler': 'kube',
  kubectl: 'kube',
  kwok: 'kwok',
  argocd: 'argocd',
  pulumi: 'pulumi',
  'pulumi-language-nodejs': 'pulumi-language-nodejs',
  'pulumi-resource-kubernetes': 'pulumi-kubernetes',
  crane: 'crane',
  'argocd-image-updater': 'argocd-image-updater',
});

/** Pinned version of a tool, as in tools/versions.json (e.g. "v1.36.3"). */
export function toolVersion(name) {
  const family = TOOL_FAMILY[name];
  if (!family) throw new Error(`unknown tool "${name}"; known: ${Object.keys(TOOL_FAMILY).join(', ')}`);
  return versions().families[family].version;
}

/** Directory holding one built tool version (binary plus any files copied beside it). */
export function toolDir(name) {
  return join(toolsCacheDir(), `${name}-${toolVersion(name)}`);
}

/**
 * Absolute path of a built tool's binary. Throws with the command to run when it is not built,
 * unless { mustExist: false }.
 */
export function toolPath(name, { mustExist = true } = {}) {
  const path = join(toolDir(name), name);
  if (mustExist && !existsSync(path)) {
    throw new Error(`${name} ${toolVersion(name)} is not built; run: node tools/build.mjs ${name}`);
  }
  return path;
}

/** PATH with the tools' bin/ first, for child processes (Pulumi plugins, Argo CD's helm/argocd). */
export function pathWithTools(base = process.env.PATH || '') {
  return base ? `${toolsBinDir()}:${base}` : toolsBinDir();
}
