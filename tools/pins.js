// @ts-check
'use strict';
// Every pinned version is written once, in tools/versions.json; this reads it, for the scripts in
// tools/ (ES modules) and the compiled library (CommonJS) alike. Node built-ins only.
const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

/**
 * @typedef {{ module: string, version: string, goToolchain?: string }} Pin
 * @typedef {{ upstream: Record<string, Pin | { family: string }>, families: Record<string, Pin & Record<string, unknown>>, go: { minimum: string } }} Versions
 */

/** @type {Versions | undefined} */
let cached;

/** tools/versions.json, parsed. @returns {Versions} */
function versions() {
  // Beside this file in tools/, or two levels up from its compiled copy in dist/tools/.
  const file = [join(__dirname, 'versions.json'), join(__dirname, '..', '..', 'tools', 'versions.json')].find(
    (f) => existsSync(f),
  );
  if (!file) throw new Error(`tools/versions.json not found from ${__dirname}`);
  cached ??= JSON.parse(readFileSync(file, 'utf8'));
  return /** @type {Versions} */ (cached);
}

/**
 * The pin of an upstream source of files (`argo-cd`, `istio-api`, `kubernetes`): its own, or that
 * of the family of programs built from the same module, so one version serves both.
 * @param {string} name
 * @returns {Pin}
 */
function upstreamPin(name) {
  const entry = versions().upstream[name];
  if (!entry) throw new Error(`tools/versions.json has no upstream entry "${name}"`);
  if (!('family' in entry)) return entry;
  const family = versions().families[entry.family];
  if (!family)
    throw new Error(`tools/versions.json: upstream "${name}" names the unknown family "${entry.family}"`);
  return {
    module: family.module,
    version: family.version,
    ...(family.goToolchain ? { goToolchain: family.goToolchain } : {}),
  };
}

exports.versions = versions;
exports.upstreamPin = upstreamPin;
