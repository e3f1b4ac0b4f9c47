// @ts-check
'use strict';
// Where Converge keeps what it builds, fetches and runs outside the repo: the one definition,
// shared by the scripts in tools/ (ES modules) and the compiled library (CommonJS).
// Node built-ins only: the scripts use it before `npm ci`.
const { homedir } = require('node:os');
const { join } = require('node:path');

/**
 * Root of everything Converge caches: `$CONVERGE_CACHE`, or `~/.cache/converge` when it is unset
 * or empty (an empty value never means the working directory).
 * @returns {string}
 */
function cacheRoot() {
  return process.env.CONVERGE_CACHE || join(homedir(), '.cache', 'converge');
}

/**
 * Run dir of the local control plane: `$CONVERGE_RUN_DIR`, or `<cache>/run` when unset or empty.
 * @returns {string}
 */
function runDir() {
  return process.env.CONVERGE_RUN_DIR || join(cacheRoot(), 'run');
}

/**
 * Where the end-to-end suite, the benchmarks and `down` keep results and logs: `<cache>/results`.
 * @returns {string}
 */
function resultsDir() {
  return join(cacheRoot(), 'results');
}

exports.cacheRoot = cacheRoot;
exports.runDir = runDir;
exports.resultsDir = resultsDir;
