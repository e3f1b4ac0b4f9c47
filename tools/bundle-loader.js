// @ts-check
'use strict';
// Runs the bundles tools/build-bundle.mjs writes beside this file from a V8 code cache, so a start
// skips compiling their source. A bundle's cache is written when a run that lacked one ends, under
// `<cache>/code-cache/`, named by the bundle's digest (from digests.json, written by the build) and
// Node's version and arch: a new build or Node never reads an old one, and V8 itself rejects a
// cache that does not fit (it is then written again). Node 20 has no module.enableCompileCache();
// this is its public vm.Script equivalent.
const { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const { dirname, join } = require('node:path');
const vm = require('node:vm');
const { cacheRoot } = require('./cache-paths');

/** @type {Record<string, string>} */
const digests = JSON.parse(readFileSync(join(__dirname, 'digests.json'), 'utf8'));
/** @type {Map<string, unknown>} */
const loaded = new Map();

/**
 * The exports of bundle `name` (a file beside this one), run once per process. With `main`, the
 * bundle runs as that module (the bin's), so its `require.main === module` holds as unbundled.
 * @param {string} name
 * @param {NodeJS.Module} [main]
 * @returns {unknown}
 */
function load(name, main) {
  if (loaded.has(name)) return loaded.get(name);
  const file = join(__dirname, name);
  const digest = digests[name];
  if (!digest) throw new Error(`${file} is not a bundle of this build (see digests.json); run npm run build`);
  const cacheFile = join(
    cacheRoot(),
    'code-cache',
    `${name}-${digest.slice(0, 16)}-node${process.version}-${process.arch}.bin`,
  );
  /** @type {Buffer | undefined} */
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(Module.wrap(readFileSync(file, 'utf8')), {
    filename: file,
    cachedData,
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  if (cachedData === undefined || script.cachedDataRejected) {
    // At exit, so the cache holds every function this run compiled, not only the top level.
    process.once('exit', () => save(cacheFile, script));
  }
  const mod = main ?? new Module(file, module);
  if (!main) {
    mod.filename = file;
    mod.paths = module.paths;
  }
  loaded.set(name, mod.exports);
  script.runInThisContext()(mod.exports, Module.createRequire(file), mod, file, __dirname);
  loaded.set(name, mod.exports);
  return mod.exports;
}

/**
 * @param {string} cacheFile
 * @param {vm.Script} script
 */
function save(cacheFile, script) {
  const tmp = `${cacheFile}.tmp-${process.pid}`;
  try {
    mkdirSync(dirname(cacheFile), { recursive: true });
    writeFileSync(tmp, script.createCachedData());
    renameSync(tmp, cacheFile);
  } catch {
    // An unwritable cache only costs start-up time.
    try {
      rmSync(tmp, { force: true });
    } catch {
      // Its folder could not be made: there is no temporary file.
    }
  }
}

module.exports = { load };
