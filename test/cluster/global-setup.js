// Starts the local control plane for the suite (tools/cluster.mjs), unless one already runs:
// then the suite uses it and leaves it running.
const { execFileSync, spawnSync } = require('node:child_process');
const { join } = require('node:path');
const { writeFileSync } = require('node:fs');

const root = join(__dirname, '..', '..');
const marker = join(__dirname, '.started-by-suite');

module.exports = async function globalSetup() {
  const status = spawnSync('node', [join(root, 'tools', 'cluster.mjs'), 'status'], { encoding: 'utf8' });
  const running = status.status === 0;
  if (!running) {
    // A dead leftover run is cleaned by `up` itself.
    execFileSync('node', [join(root, 'tools', 'cluster.mjs'), 'up'], { stdio: 'inherit' });
    writeFileSync(marker, new Date().toISOString());
  } else {
    console.log('\nUsing the local cluster that is already running (tools/cluster.mjs status).');
  }
  // Argo CD reads charts from the local Git server: give it this checkout's commits.
  execFileSync('node', [join(root, 'tools', 'cluster.mjs'), 'git-sync'], { stdio: 'inherit' });
};
