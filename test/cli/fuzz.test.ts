import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { isMap, parseDocument } from 'yaml';
import { cli, CliResult, writeKubeconfig } from './error-path-helpers';

/*
 * Property: whatever the stack file holds and whatever flags are passed, `converge` ends with a
 * documented exit code, never 70, never a stack frame, and exit 2 is one `converge: ` line per
 * problem. Inputs: the committed stack files mutated (deleted keys, values of the wrong type,
 * control characters and unicode, huge numbers, deep nesting, unknown keys, truncated text) and
 * random flag lists. Runs are few per command to stay fast; FUZZ_SEED replays a failure.
 */

const ROOT = join(__dirname, '..', '..');
const KEY = ['config', 'converge:platform'];
const ENVS = ['dev', 'staging', 'prod'] as const;
const TEXT = Object.fromEntries(
  ENVS.map((env) => [env, readFileSync(join(ROOT, 'stacks', `Pulumi.${env}.yaml`), 'utf8')]),
) as Record<(typeof ENVS)[number], string>;

type Path = (string | number)[];

/** Every key path under `converge:platform`, maps and lists included. */
function allPaths(value: unknown, prefix: Path = []): Path[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => [[...prefix, i], ...allPaths(v, [...prefix, i])]);
  if (value && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => [[...prefix, k], ...allPaths(v, [...prefix, k])]);
  return [];
}

const PATHS = Object.fromEntries(
  ENVS.map((env) => [env, allPaths((parseDocument(TEXT[env]).getIn(KEY) as { toJSON(): unknown }).toJSON())]),
) as Record<(typeof ENVS)[number], Path[]>;

const nested = (depth: number): unknown => (depth === 0 ? 'x' : [nested(depth - 1)]);

/** Values a stack file should never hold where they land. */
const weird: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ maxLength: 10 }).map((s) => `\u0000\u0007\u001b[31m${s}\u202e\uFEFF`),
  fc.constantFrom(1e308, -1e308, 2 ** 64, -(2 ** 53) - 3, 0.5, -0, Number.MIN_VALUE, 1e21),
  fc.integer({ min: 30, max: 400 }).map(nested),
  fc.constantFrom(null, true, false, '', ' ', 'latest', '~', '*', '../..', 'http://x', '0x10', '1e400'),
);

/** The leaf values of the committed file, so a mutation can keep a value's type and change it. */
const LEAVES = Object.fromEntries(
  ENVS.map((env) => {
    const doc = parseDocument(TEXT[env]);
    return [
      env,
      PATHS[env]
        .map((p) => ({ path: p, value: doc.getIn([...KEY, ...p]) }))
        .filter((l) => ['string', 'number', 'boolean'].includes(typeof l.value)),
    ];
  }),
) as Record<(typeof ENVS)[number], { path: Path; value: unknown }[]>;

/** A value of the same type as `value`, often plausible: these get past the schema, into the constructs. */
const sameType = (value: unknown): fc.Arbitrary<unknown> =>
  typeof value === 'number'
    ? fc.oneof(fc.integer({ min: -3, max: 200 }), fc.double({ noNaN: true }))
    : typeof value === 'boolean'
      ? fc.boolean()
      : fc.oneof(
          fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,14}$/),
          fc.constant(`${String(value)}x`),
          fc.string({ maxLength: 16 }),
        );

type Mutation =
  | { kind: 'delete'; path: Path }
  | { kind: 'set'; path: Path; value: unknown }
  | { kind: 'add'; path: Path; key: string; value: unknown };

const mutation = (env: (typeof ENVS)[number]): fc.Arbitrary<Mutation> => {
  const path = fc.constantFrom(...PATHS[env], []);
  return fc.oneof(
    path.map((p) => ({ kind: 'delete' as const, path: p })),
    fc.record({ kind: fc.constant('set' as const), path, value: weird }),
    fc.record({ kind: fc.constant('add' as const), path, key: fc.string({ maxLength: 12 }), value: weird }),
    fc
      .constantFrom(...LEAVES[env])
      .chain((leaf) =>
        sameType(leaf.value).map((value) => ({ kind: 'set' as const, path: leaf.path, value })),
      ),
  );
};

const stackText = fc.constantFrom(...ENVS).chain((env) =>
  fc.record({
    env: fc.constant(env),
    mutations: fc.array(mutation(env), { minLength: 0, maxLength: 3 }),
    // Cut the text somewhere (as a partial write or a bad merge would), sometimes.
    cut: fc.oneof(
      { weight: 4, arbitrary: fc.constant(null) },
      { weight: 1, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }) },
    ),
  }),
);

function render(input: { env: (typeof ENVS)[number]; mutations: Mutation[]; cut: number | null }): string {
  const doc = parseDocument(TEXT[input.env]);
  for (const m of input.mutations) {
    const full = [...KEY, ...m.path];
    // An earlier mutation may have removed or replaced the parent: then this one does nothing.
    try {
      if (m.kind === 'delete') {
        if (m.path.length) doc.deleteIn(full);
      } else if (m.kind === 'set') {
        if (m.path.length) doc.setIn(full, m.value);
      } else if (isMap(doc.getIn(full))) doc.setIn([...full, m.key], m.value);
    } catch {
      /* not applicable */
    }
  }
  const text = doc.toString();
  return input.cut === null ? text : text.slice(0, Math.floor(text.length * input.cut));
}

const FLAGS = [
  '--env',
  '-e',
  '--check',
  '--output',
  '--stacks-dir',
  '--kubeconfig',
  '--context',
  '--charts-dir',
  '--revision',
  '--wait',
  '--bogus',
  '-x',
  '--',
  '--help',
  'dev',
  'staging',
  'prod',
  'qa',
  'json',
  'table',
  'yaml',
  '0',
  '-1',
  '1s',
  '1a2b3c4',
];
const flags = fc
  .tuple(
    // Often a real environment first, so the other flags are reached.
    fc.oneof(
      fc.constant([]),
      fc.constantFrom(...ENVS).map((env) => ['--env', env]),
    ),
    fc.array(fc.oneof(fc.constantFrom(...FLAGS), fc.string({ maxLength: 8 })), { maxLength: 6 }),
  )
  .map(([env, rest]) => [...env, ...rest]);

let work: string;
let kubeconfig: string;
let cwd: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'converge-fuzz-'));
  kubeconfig = writeKubeconfig(join(work, 'kubeconfig'));
  // Any relative path a random flag names lands here, never in the checkout.
  cwd = process.cwd();
  process.chdir(work);
});
afterAll(() => {
  process.chdir(cwd);
  rmSync(work, { recursive: true, force: true });
});

let run = 0;
/** A fresh stacks folder holding the text as `Pulumi.<env>.yaml`. */
function stacksWith(env: string, text: string): string {
  const dir = join(work, `stacks-${run++}`);
  mkdirSync(dir);
  writeFileSync(join(dir, `Pulumi.${env}.yaml`), text);
  return dir;
}

/** The promise: a documented exit code, no trace, and exit 2 as `converge: ` lines only. */
function expectPromiseKept(r: CliResult, what: string): void {
  const context = `${what}\nexit ${r.code}\nstderr:\n${r.stderr}`;
  if (![0, 1, 2, 3, 4].includes(r.code)) throw new Error(`exit code ${r.code}: ${context}`);
  if (/\n\s+at /.test(r.stderr) || /internal error/.test(r.stderr)) throw new Error(`crash: ${context}`);
  if (r.code === 2) {
    const lines = r.stderr.split('\n');
    if (!r.stderr || lines.some((l) => !l.startsWith('converge: ')))
      throw new Error(`exit 2 without one "converge: " line per problem: ${context}`);
  }
}

const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
// FUZZ_RUNS=20 runs twenty times as many cases, to hunt for crashes by hand.
const scale = Number(process.env.FUZZ_RUNS ?? 1);
const params = (numRuns: number) => ({ numRuns: numRuns * scale, seed, endOnFailure: true });

describe('converge keeps its error promise under random input', () => {
  it('synth, on mutated stack files', async () => {
    await fc.assert(
      fc.asyncProperty(stackText, async (input) => {
        const dir = stacksWith(input.env, render(input));
        const args = ['synth', '--env', input.env, '--stacks-dir', dir, '--out', `${dir}-out`];
        expectPromiseKept(await cli(...args), JSON.stringify(input));
      }),
      params(150),
    );
  }, 60_000);

  it('synth, validate, status and drift (dead cluster) with random flags', async () => {
    const dir = stacksWith('staging', TEXT.staging);
    const charts = join(ROOT, 'charts');
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('synth', 'validate', 'status', 'drift'),
        flags,
        async (command, rest) => {
          const fixed = {
            synth: ['--stacks-dir', dir, ...rest, '--out', join(work, 'out')],
            validate: ['--stacks-dir', dir, ...rest],
            status: ['--stacks-dir', dir, '--kubeconfig', kubeconfig, ...rest],
            drift: ['--stacks-dir', dir, '--kubeconfig', kubeconfig, '--charts-dir', charts, ...rest],
          }[command];
          const args = [command, ...fixed];
          expectPromiseKept(await cli(...args), JSON.stringify(args));
        },
      ),
      params(150),
    );
  }, 60_000);

  it('validate and status (dead cluster), on mutated stack files', async () => {
    await fc.assert(
      fc.asyncProperty(stackText, fc.constantFrom('validate', 'status'), async (input, command) => {
        const dir = stacksWith(input.env, render(input));
        const extra = command === 'status' ? ['--kubeconfig', kubeconfig] : [];
        const args = [command, '--env', input.env, '--stacks-dir', dir, ...extra];
        expectPromiseKept(await cli(...args), JSON.stringify({ input, command }));
      }),
      params(60),
    );
  }, 60_000);

  it('drift against a dead cluster, on mutated stack files', async () => {
    await fc.assert(
      fc.asyncProperty(stackText, async (input) => {
        const dir = stacksWith(input.env, render(input));
        const args = ['drift', '--env', input.env, '--stacks-dir', dir, '--kubeconfig', kubeconfig];
        expectPromiseKept(await cli(...args, '--charts-dir', join(ROOT, 'charts')), JSON.stringify(input));
      }),
      params(15),
    );
  }, 60_000);
});
