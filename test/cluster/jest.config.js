/** The end-to-end suite: a real kube-apiserver, etcd, kwok, Argo CD and the Pulumi CLI as local processes. */
const base = require('../../jest.base');

module.exports = {
  ...base,
  rootDir: __dirname,
  roots: ['<rootDir>'],
  testMatch: ['**/*.e2e.test.ts'],
  globalSetup: '<rootDir>/global-setup.js',
  testSequencer: '<rootDir>/sequencer.js',
  globalTeardown: '<rootDir>/global-teardown.js',
  testTimeout: 600_000,
  maxWorkers: 1,
  // A process a failed test leaves behind must not hold CI open until its time limit.
  // (`--detectOpenHandles` finds such leaks when debugging.)
  forceExit: true,
  transform: Object.fromEntries(
    Object.entries(base.transform).map(([k, [t, o]]) => [
      k,
      [
        t,
        o.tsconfig === 'tsconfig.test.json' ? { ...o, tsconfig: `${__dirname}/../../tsconfig.test.json` } : o,
      ],
    ]),
  ),
};
