// One linter (ESLint with typescript-eslint); Prettier formats.
import tseslint from 'typescript-eslint';

/*
 * The layers, as folders: imports run one way, model → config → constructs → render →
 * (cli | stacks | drift), and nothing imports cli/. Each folder lists the folders it must never
 * import; a file that does fails `npm run lint` (test/architecture/layers.test.ts proves it).
 */
const PROJECT = [
  'model',
  'config',
  'constructs',
  'render',
  'drift',
  'cli',
  'stacks',
  'tools',
  'bench',
  'test',
];
export const NEVER = {
  model: PROJECT.filter((f) => f !== 'model'),
  config: PROJECT.filter((f) => f !== 'config' && f !== 'model'),
  constructs: ['render', 'drift', 'cli', 'stacks', 'tools', 'bench', 'test'],
  render: ['drift', 'cli', 'stacks', 'bench', 'test'],
  drift: ['cli', 'stacks', 'bench', 'test'],
  stacks: ['cli', 'drift', 'bench', 'test'],
  cli: ['stacks', 'bench', 'test'],
  bench: ['cli', 'test'],
};

/** One rule block per folder and depth: from `drift/controller/x.ts`, `../../cli/` is cli/. */
function layerRules() {
  return Object.entries(NEVER).flatMap(([folder, never]) =>
    [1, 2, 3, 4].map((depth) => ({
      files: [`${folder}/${'*/'.repeat(depth - 1)}*.ts`],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: [
              {
                regex: `^${'\\.\\./'.repeat(depth)}(${never.join('|')})(/|$)`,
                message: `${folder}/ must not import ${never.join(', ')} (layers run model → config → constructs → render → cli | stacks | drift; see README.md, "Layout")`,
              },
            ],
          },
        ],
      },
    })),
  );
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'constructs/imports/**', 'coverage/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': 'off',
    },
  },
  ...layerRules(),
  {
    // CommonJS config and setup files that jest loads as they are.
    files: ['**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        module: 'writable',
        exports: 'writable',
        __dirname: 'readonly',
        process: 'readonly',
        console: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
