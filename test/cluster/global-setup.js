// Starts the local control plane for the suite (tools/cluster/main.mjs), unless one already runs:
// then the suite uses it and leaves it running.
const { execFileSync, spawnSync } = require('node:child_process');
const { join } = require('node:path');
const { readFileSync, rmSync, writeFileSync } = require('node:fs');
const { cacheRoot, runDir } = require('../../tools/cache-paths.js');
const { upstreamPin } = require('../../tools/pins.js');

const root = join(__dirname, '..', '..');
const marker = join(__dirname, '.started-by-suite');

module.exports = async function globalSetup() {
  const status = spawnSync('node', [join(root, 'tools', 'cluster', 'main.mjs'), 'status'], {
    encoding: 'utf8',
  });
  const running = status.status === 0;
  if (!running) {
    // `up` itself clears a dead leftover run, and stops and restarts a partial one (naming the dead
    // components), so the suite never runs on half a cluster.
    execFileSync('node', [join(root, 'tools', 'cluster', 'main.mjs'), 'up'], { stdio: 'inherit' });
    writeFileSync(marker, new Date().toISOString());
  } else {
    // A marker left by an earlier run (or by `npm run demo`) must not stop a cluster we did not start.
    rmSync(marker, { force: true });
    console.log('\nUsing the local cluster that is already running (tools/cluster/main.mjs status).');
  }
  // Istio itself is a cluster prerequisite Converge does not install; its CRDs are enough here.
  // They come from the pinned upstream cache (tools/upstream.mjs), never from this repo.
  execFileSync('node', [join(root, 'tools', 'upstream.mjs'), '--quiet'], { stdio: 'inherit' });
  const cache = execFileSync('node', [join(root, 'tools', 'upstream.mjs'), '--print'], {
    encoding: 'utf8',
  }).trim();
  // So are the Prometheus Operator's (staging and prod declare alert rules and ServiceMonitors).
  const crdsOf = (name) =>
    JSON.parse(readFileSync(join(cache, `${name}-${upstreamPin(name).version}`, 'crds.json'), 'utf8'));
  const crds = JSON.stringify([...crdsOf('istio-api'), ...crdsOf('prometheus-operator')]);
  const kubectl = join(cacheRoot(), 'tools', 'bin', 'kubectl');
  const kubeconfig = join(runDir(), 'kubeconfig');
  execFileSync(kubectl, ['--kubeconfig', kubeconfig, 'apply', '--server-side', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: JSON.parse(crds) }),
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  // Argo CD reads charts from the local Git server: give it this checkout's commits.
  execFileSync('node', [join(root, 'tools', 'cluster', 'main.mjs'), 'git-sync'], { stdio: 'inherit' });
};
