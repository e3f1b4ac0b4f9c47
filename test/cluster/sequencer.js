// The end-to-end files share one control plane: run them in a fixed order, each cleaning up after
// itself, except that the staging files share one staging platform (test/cluster/staging-drift.ts),
// which the last of them in this run removes. The order is passed on to the files in the env.
const Sequencer = require('@jest/test-sequencer').default;

const ORDER = [
  'platform.e2e',
  'drift.e2e',
  'approvals-page.e2e',
  'metrics.e2e',
  'pod.e2e',
  'observability.e2e',
  'dry-run.e2e',
  'drift-report.e2e',
  'sync-fail.e2e',
  'image-updates.e2e',
  'eval.e2e',
];
const rank = (path) => {
  const i = ORDER.findIndex((name) => path.includes(name));
  return i < 0 ? ORDER.length : i;
};

module.exports = class FixedOrder extends Sequencer {
  sort(tests) {
    const sorted = [...tests].sort((a, b) => rank(a.path) - rank(b.path) || a.path.localeCompare(b.path));
    process.env.CONVERGE_E2E_ORDER = JSON.stringify(sorted.map((t) => t.path));
    return sorted;
  }
};
