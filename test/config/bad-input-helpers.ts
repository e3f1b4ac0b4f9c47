import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { main } from '../../cli/main';

/*
 * Shared by the bad-input tests: each case writes a real stack file with mutations into a fresh
 * folder, runs the CLI in-process and captures what it printed.
 */

const STACKS = join(__dirname, '..', '..', 'stacks');
const KEY = ['config', 'converge:platform'];

export type Mutation = (doc: ReturnType<typeof parseDocument>) => void;
export const set =
  (path: (string | number)[], value: unknown): Mutation =>
  (doc) =>
    doc.setIn([...KEY, ...path], value);
export const del =
  (path: (string | number)[]): Mutation =>
  (doc) =>
    doc.deleteIn([...KEY, ...path]);

let work: string;

/** A fresh folder for each test of the file that calls this. */
export function useScratchFolder(): void {
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), 'converge-bad-'));
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));
}

/** Writes the env's stack file with mutations applied, runs the CLI, and captures stderr. */
export async function run(
  args: string[],
  options: { env?: string; mutate?: Mutation[]; text?: string } = {},
) {
  const env = options.env ?? 'dev';
  let text = options.text;
  if (text === undefined) {
    const doc = parseDocument(readFileSync(join(STACKS, `Pulumi.${env}.yaml`), 'utf8'));
    for (const m of options.mutate ?? []) m(doc);
    text = doc.toString();
  }
  writeFileSync(join(work, `Pulumi.${env}.yaml`), text);
  const errors: string[] = [];
  const spy = jest
    .spyOn(console, 'error')
    .mockImplementation((...parts: unknown[]) => errors.push(parts.join(' ')));
  const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    const code = await main([
      ...args,
      '--stacks-dir',
      work,
      ...(args[0] === 'synth' ? ['--out', join(work, 'out')] : []),
    ]);
    return { code, stderr: errors.join('\n'), text };
  } finally {
    spy.mockRestore();
    log.mockRestore();
  }
}

/** 1-based line of the first line containing `needle`, after line `after` when given. */
export const lineOf = (text: string, needle: string, after = 0) =>
  text.split('\n').findIndex((l, i) => i >= after && l.includes(needle)) + 1;

export function expectOneLine(result: { code: number; stderr: string }, ...parts: string[]) {
  expect(result.code).toBe(2);
  const lines = result.stderr.split('\n');
  expect(lines).toHaveLength(1);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  for (const part of parts) expect(result.stderr).toContain(part);
}
