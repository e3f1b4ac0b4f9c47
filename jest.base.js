// Shared by the unit suite (jest.config.js) and the end-to-end suite (test/cluster/jest.config.js).
// Type errors are `npm run lint`'s job; tests only transpile. @kubernetes/client-node and a few of
// its dependencies ship only ES modules, which jest's CommonJS runtime needs transpiled.
const ESM_PACKAGES = [
  '@kubernetes/client-node',
  'openid-client',
  'jose',
  'oauth4webapi',
  'rfc4648',
  'jsonpath-plus',
  'jsep',
  '@jsep-plugin',
];

module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json', diagnostics: false }],
    '^.+\\.m?js$': [
      'ts-jest',
      { tsconfig: { allowJs: true, module: 'commonjs', target: 'es2022' }, diagnostics: false },
    ],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_PACKAGES.join('|')})/)`],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  snapshotFormat: { escapeString: false, printBasicPrototype: false },
};
