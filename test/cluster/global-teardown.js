// Stops the control plane only if the suite started it.
const { execFileSync } = require('node:child_process');
const { existsSync, rmSync } = require('node:fs');
const { join } = require('node:path');

const marker = join(__dirname, '.started-by-suite');

module.exports = async function globalTeardown() {
  if (!existsSync(marker) || process.env.CONVERGE_KEEP_CLUSTER === '1') return;
  rmSync(marker);
  execFileSync('node', [join(__dirname, '..', '..', 'tools', 'cluster', 'main.mjs'), 'down'], {
    stdio: 'inherit',
  });
};
