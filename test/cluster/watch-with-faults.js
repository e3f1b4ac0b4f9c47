// `converge watch` with a fault injected, for the restart tests: the command function the CLI
// runs, given the `faults` option that no flag or environment variable can set.
// Usage: node watch-with-faults.js '<WatchOptions as JSON>'
const { watch } = require('../../dist/cli/commands/watch.js');

watch(JSON.parse(process.argv[2])).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(err);
    process.exitCode = 1;
  },
);
