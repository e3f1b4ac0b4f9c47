import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { preProcessFile } from 'typescript';

/*
 * The layers hold: `npm run lint` refuses an import that breaks a never, and no two folders of the
 * project import each other, directly or around a loop.
 */

const ROOT = join(__dirname, '..', '..');
const ESLINT = join(ROOT, 'node_modules', '.bin', 'eslint');

/** Lints source text as if it were the file at `path`, with the project's own config. */
function lint(path: string, text: string): { status: number | null; out: string } {
  const r = spawnSync(ESLINT, ['--stdin', '--stdin-filename', path], {
    cwd: ROOT,
    input: text,
    encoding: 'utf8',
  });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe('npm run lint', () => {
  it.each([
    ['constructs/argocd/probe.ts', '../../cli/main'],
    ['constructs/probe.ts', '../stacks/platform-stack'],
    ['constructs/drift/probe.ts', '../../drift/audit'],
    ['constructs/platform/probe.ts', '../../render/environment'],
    ['drift/controller/probe.ts', '../../cli/commands/watch'],
    ['drift/probe.ts', '../stacks/deploy-plan'],
    ['stacks/probe.ts', '../cli/main'],
    ['model/probe.ts', '../config/schema'],
    ['model/probe.ts', '../constructs/argocd/argocd-project'],
    ['config/probe.ts', '../constructs/argocd/helm-application'],
    ['render/probe.ts', '../drift/audit'],
    ['bench/probe.ts', '../test/helpers'],
    ['bench/probe.ts', '../cli/main'],
  ])('fails when %s imports %s', (path, target) => {
    const r = lint(path, `import * as x from '${target}';\nexport const y = x;\n`);
    expect(r.status).toBe(1);
    expect(r.out).toContain('no-restricted-imports');
    expect(r.out).toContain(`${path.split('/')[0]}/ must not import`);
  });

  it.each([
    ['constructs/platform/probe.ts', '../../model/objects'],
    ['constructs/platform/probe.ts', '../drift/drift-controller'],
    ['render/probe.ts', '../constructs/platform/gitops-platform'],
    ['drift/controller/probe.ts', '../../render/desired-state'],
    ['cli/commands/probe.ts', '../../drift/controller/manager'],
  ])('lets %s import %s', (path, target) => {
    const r = lint(path, `import * as x from '${target}';\nexport const y = x;\n`);
    expect(r.out).not.toContain('no-restricted-imports');
  });
});

/** Relative imports of every tracked source file outside tests, as folder → folder edges. */
function folderGraph(): Map<string, Set<string>> {
  const files = spawnSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .stdout.split('\n')
    .filter((f) => /\.(ts|mjs|js)$/.test(f) && !f.endsWith('.d.ts'))
    .filter((f) => !f.startsWith('test/') && !f.startsWith('constructs/imports/') && !f.startsWith('dist/'));
  const graph = new Map<string, Set<string>>();
  for (const file of files) {
    const from = dirname(file);
    for (const { fileName } of preProcessFile(readFileSync(join(ROOT, file), 'utf8'), true, true)
      .importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const target = normalize(join(from, fileName));
      // `./x` is a file of the folder, `./x/` or an index import is the folder itself.
      const to = dirname(target.endsWith('.') ? `${target}/index` : target);
      if (to === from || relative(ROOT, join(ROOT, to)).startsWith('..')) continue;
      graph.set(from, (graph.get(from) ?? new Set()).add(to));
    }
  }
  return graph;
}

/** Every cycle of the graph, each as the path that closes it (Johnson-style, small graphs). */
function cycles(graph: Map<string, Set<string>>): string[] {
  const nodes = [...new Set([...graph.keys(), ...[...graph.values()].flatMap((s) => [...s])])].sort();
  const found: string[] = [];
  const walk = (start: string, node: string, path: string[]) => {
    for (const next of graph.get(node) ?? []) {
      if (next === start) found.push([...path, start].join(' → '));
      else if (!path.includes(next) && nodes.indexOf(next) > nodes.indexOf(start))
        walk(start, next, [...path, next]);
    }
  };
  for (const n of nodes) walk(n, n, [n]);
  return found;
}

describe('the folders', () => {
  it('import each other in one direction only: no cycle between any two folders', () => {
    const graph = folderGraph();
    expect(graph.get('cli/commands')).toBeDefined(); // the graph was read
    expect(cycles(graph)).toEqual([]);
  });

  it('finds a cycle when there is one (the check can fail)', () => {
    const graph = new Map([
      ['a', new Set(['b'])],
      ['b', new Set(['c'])],
      ['c', new Set(['a'])],
    ]);
    expect(cycles(graph)).toEqual(['a → b → c → a']);
  });
});
