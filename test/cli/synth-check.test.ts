import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { main } from '../../cli/main';

/*
 * `converge synth` writes what Git must hold and `--check` is CI's proof that it does: GIVEN a copy of
 * the stacks rendered into a folder, WHEN a stack file or a rendered file changes, THEN the check says which.
 */

jest.setTimeout(60_000);

let dir: string;
let stacks: string;
let out: string;
let said: { out: string[]; err: string[] };

async function converge(...args: string[]): Promise<number> {
  said = { out: [], err: [] };
  const log = jest.spyOn(console, 'log').mockImplementation((m: string) => void said.out.push(m));
  const error = jest.spyOn(console, 'error').mockImplementation((m: string) => void said.err.push(m));
  const stderr = jest.spyOn(process.stderr, 'write').mockImplementation((m) => {
    said.err.push(String(m));
    return true;
  });
  try {
    return await main(args);
  } finally {
    log.mockRestore();
    error.mockRestore();
    stderr.mockRestore();
  }
}

function setTag(tag: string): void {
  const file = join(stacks, 'Pulumi.dev.yaml');
  const doc = parseDocument(readFileSync(file, 'utf8'));
  doc.setIn(['config', 'converge:platform', 'services', 'app-service', 'image', 'tag'], tag);
  writeFileSync(file, doc.toString());
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'converge-synth-check-'));
  stacks = join(dir, 'stacks');
  out = join(dir, 'manifests', 'dev');
  cpSync(join(__dirname, '..', '..', 'stacks'), stacks, { recursive: true });
  expect(await converge('synth', '--env', 'dev', '--stacks-dir', stacks, '--out', out)).toBe(0);
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('converge synth --check', () => {
  it('passes when the rendered files are what the stack file gives', async () => {
    expect(await converge('synth', '--check', '--env', 'dev', '--stacks-dir', stacks, '--out', out)).toBe(0);
    expect(said.out).toEqual([`dev: ${out} is up to date (2 files)`]);
  });

  it('fails when a stack file changed without rendering, naming the stale file', async () => {
    setTag('1.5.9');
    expect(await converge('synth', '--check', '--env', 'dev', '--stacks-dir', stacks, '--out', out)).toBe(1);
    expect(said.err).toEqual([
      `${join(out, '03-platform.yaml')}: differs from what dev's stack file gives`,
      '1 manifest file(s) are stale; run `converge synth --env dev` and commit the result',
    ]);
    // It writes nothing: the stale file stays as it was.
    expect(readFileSync(join(out, '03-platform.yaml'), 'utf8')).not.toContain('1.5.9');
  });

  it('fails when a rendered file was edited by hand or is missing', async () => {
    writeFileSync(
      join(out, '03-platform.yaml'),
      readFileSync(join(out, '03-platform.yaml'), 'utf8') + '# x\n',
    );
    rmSync(join(out, '02-bootstrap.yaml'));
    expect(await converge('synth', '--check', '--env', 'dev', '--stacks-dir', stacks, '--out', out)).toBe(1);
    expect(said.err.slice(0, 2)).toEqual([
      `${join(out, '02-bootstrap.yaml')}: missing`,
      `${join(out, '03-platform.yaml')}: differs from what dev's stack file gives`,
    ]);
  });

  it('ignores Argo CD’s installation, which is never committed', async () => {
    rmSync(join(out, '01-argocd.yaml'));
    expect(await converge('synth', '--check', '--env', 'dev', '--stacks-dir', stacks, '--out', out)).toBe(0);
  });
});

describe('converge synth', () => {
  it("replaces its own files and leaves the user's alone", async () => {
    writeFileSync(join(out, '99-notes.yaml'), 'mine: true\n');
    writeFileSync(join(out, 'README.md'), 'mine\n');
    setTag('1.5.9');
    expect(await converge('synth', '--env', 'dev', '--stacks-dir', stacks, '--out', out)).toBe(0);
    expect(readdirSync(out).sort()).toEqual([
      '01-argocd.yaml',
      '02-bootstrap.yaml',
      '03-platform.yaml',
      '99-notes.yaml',
      'README.md',
    ]);
    expect(readFileSync(join(out, '03-platform.yaml'), 'utf8')).toContain('1.5.9');
  });

  it('fails when a file it would write was not written by it, and writes nothing', async () => {
    writeFileSync(join(out, '03-platform.yaml'), 'mine: true\n');
    const before = readFileSync(join(out, '02-bootstrap.yaml'), 'utf8');
    setTag('1.5.9');
    expect(await converge('synth', '--env', 'dev', '--stacks-dir', stacks, '--out', out)).toBe(2);
    expect(said.err.join('')).toMatch(
      /03-platform\.yaml exists and was not written by converge synth; move it away or pass another --out/,
    );
    expect(readFileSync(join(out, '03-platform.yaml'), 'utf8')).toBe('mine: true\n');
    expect(readFileSync(join(out, '02-bootstrap.yaml'), 'utf8')).toBe(before);
  });

  it('renders every environment with a stack file when --env is omitted', async () => {
    const cwd = process.cwd();
    try {
      process.chdir(dir);
      expect(await converge('synth', '--stacks-dir', stacks)).toBe(0);
    } finally {
      process.chdir(cwd);
    }
    for (const env of ['dev', 'staging', 'prod'])
      expect(existsSync(join(dir, 'manifests', env, '03-platform.yaml'))).toBe(true);
  });

  it('fails when --out is given without --env', async () => {
    expect(await converge('synth', '--out', out, '--stacks-dir', stacks)).toBe(2);
    expect(said.err.join('')).toMatch(/--out is ".*" but no --env was given/);
  });
});
