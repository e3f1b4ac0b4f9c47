/** Unit, snapshot and Pulumi-mock tests: no cluster, no network. */
const base = require('./jest.base');

module.exports = {
  ...base,
  roots: ['<rootDir>/test'],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/cluster/'],
};
