// @ts-check
'use strict';
// A PULUMI_HOME for the local control plane's `pulumi` runs, without the CLI's automatic debug log.
// Pulumi writes every property map of every resource into `$PULUMI_HOME/logs/` on each run, with no
// setting to turn it off; Argo CD's CRDs make that about half of a no-op `pulumi up` here. When
// `logs` is a file the CLI cannot make the folder, says "automatic logging unavailable" in its own
// debug output, and runs as before. Shared by the suite, the benchmarks and the demo.
const { existsSync, mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

/**
 * Makes `dir` ready as PULUMI_HOME with automatic logging off (`CONVERGE_PULUMI_LOGS=1` keeps it on)
 * and returns it.
 * @param {string} dir
 * @returns {string}
 */
function pulumiHome(dir) {
  mkdirSync(dir, { recursive: true });
  const logs = join(dir, 'logs');
  if (process.env.CONVERGE_PULUMI_LOGS !== '1' && !existsSync(logs))
    writeFileSync(logs, 'A file, so the Pulumi CLI writes no automatic debug log (tools/pulumi-home.js).\n');
  return dir;
}

module.exports = { pulumiHome };
