import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { main } from '../../cli/main';
import { synth } from '../../cli/commands/synth';
import { SwapStep } from '../../cli/synth/swap';

/*
 * `converge synth` swaps its --out folder whole, so it must never take a folder that is not its own,
 * never lose a file it did not write, and leave the folder whole, old or new, wherever it stops.
 * GIVEN a scratch folder with a copy of the stacks, WHEN synth runs against a bad or busy --out,
 * THEN it says so in one line, exits 2 and the scratch tree hashes the same as before.
 */

jest.setTimeout(60_000);

const ROOT = join(__dirname, '..', '..');
const FIX = 'pass an empty or new folder, or the folder an earlier converge synth wrote';
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

const synthTo = (target: string, ...more: string[]) =>
  converge('synth', '--env', 'staging', '--stacks-dir', stacks, '--out', target, ...more);

/** Every path below `root` with its type and content (or link target), hashed: any change shows. */
function treeHash(root: string): string {
  const hash = createHash('sha256');
  const walk = (path: string, rel: string) => {
    const stat = lstatSync(path);
    hash.update(`${rel}\0${stat.mode}\0`);
    if (stat.isSymbolicLink()) hash.update(readlinkSync(path));
    else if (stat.isDirectory())
      for (const name of readdirSync(path).sort()) walk(join(path, name), `${rel}/${name}`);
    else hash.update(readFileSync(path));
  };
  walk(root, '.');
  return hash.digest('hex');
}

/** Asserts one line `converge: <parts…>` on stderr and exit 2, and that `root` did not change. */
async function expectRefused(root: string, run: () => Promise<number>, ...parts: string[]): Promise<void> {
  const before = treeHash(root);
  const code = await run();
  expect(said.err).toHaveLength(1);
  expect(said.err[0]).toMatch(/^converge: /);
  expect(said.err[0]).not.toContain('\n');
  for (const part of parts) expect(said.err[0]).toContain(part);
  expect(code).toBe(2);
  expect(said.out).toEqual([]);
  expect(treeHash(root)).toBe(before);
}

function setTag(tag: string): void {
  const file = join(stacks, 'Pulumi.staging.yaml');
  const doc = parseDocument(readFileSync(file, 'utf8'));
  doc.setIn(['config', 'converge:platform', 'services', 'app-service', 'image', 'tag'], tag);
  writeFileSync(file, doc.toString());
}

const leftovers = () => readdirSync(join(dir, 'manifests')).filter((n) => n.includes('.converge-'));

beforeEach(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'converge-synth-safety-')));
  stacks = join(dir, 'stacks');
  out = join(dir, 'manifests', 'staging');
  cpSync(join(ROOT, 'stacks'), stacks, { recursive: true });
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('converge synth refuses a folder that is not its own', () => {
  it('fails when --out is the file system root', async () => {
    const before = readdirSync('/').sort();
    await expectRefused(dir, () => synthTo('/'), '--out is "/": it is the file system root;', FIX);
    expect(readdirSync('/').sort()).toEqual(before);
  });

  it('fails when --out is the home folder (as the shell expands ~)', async () => {
    const before = readdirSync(homedir()).sort();
    await expectRefused(
      dir,
      () => synthTo(homedir()),
      `--out is ${JSON.stringify(homedir())}: it is your home folder;`,
      FIX,
    );
    expect(readdirSync(homedir()).sort()).toEqual(before);
  });

  it('fails when --out is a ~ the shell did not expand', async () => {
    await expectRefused(
      dir,
      () => synthTo('~/manifests'),
      '--out is "~/manifests": the shell did not expand ~',
      'write the path out',
    );
    expect(existsSync(join(process.cwd(), '~'))).toBe(false);
  });

  it('fails when --out is empty', async () => {
    await expectRefused(dir, () => synthTo(''), '--out is "": it names no folder;', FIX);
  });

  it("fails when --out is the repository's root", async () => {
    const before = readdirSync(ROOT).sort();
    await expectRefused(dir, () => synthTo(ROOT), "it is the repository's root;", FIX);
    expect(readdirSync(ROOT).sort()).toEqual(before);
  });

  it('fails when --out is the current folder, which holds files of its own', async () => {
    const cwd = process.cwd();
    const work = join(dir, 'work');
    mkdirSync(work);
    writeFileSync(join(work, 'notes.txt'), 'mine\n');
    process.chdir(work);
    try {
      await expectRefused(
        dir,
        () => synthTo('.'),
        '--out is ".": it holds the current folder, which the swap would move away;',
      );
    } finally {
      process.chdir(cwd);
    }
  });

  it('fails when --out holds the current folder', async () => {
    const cwd = process.cwd();
    mkdirSync(join(dir, 'a', 'b'), { recursive: true });
    process.chdir(join(dir, 'a', 'b'));
    try {
      await expectRefused(dir, () => synthTo('..'), '--out is "..": it holds the current folder');
    } finally {
      process.chdir(cwd);
    }
  });

  it('fails when --out is a non-empty folder without converge synth output', async () => {
    mkdirSync(join(dir, 'photos'));
    writeFileSync(join(dir, 'photos', 'cat.jpg'), 'meow');
    writeFileSync(join(dir, 'photos', '01-argocd.yaml.bak'), 'x');
    await expectRefused(
      dir,
      () => synthTo(join(dir, 'photos')),
      `--out is ${JSON.stringify(join(dir, 'photos'))}: it holds 2 entries and no converge synth output`,
      FIX,
    );
  });

  it('fails when --out is a folder whose NN-*.yaml files are the user’s own', async () => {
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, '04-mine.yaml'), 'kind: ConfigMap\n');
    await expectRefused(dir, () => synthTo(out), 'it holds 1 entry and no converge synth output');
  });

  it('fails when --out is an existing file', async () => {
    writeFileSync(join(dir, 'file.yaml'), 'mine\n');
    await expectRefused(
      dir,
      () => synthTo(join(dir, 'file.yaml')),
      `--out is ${JSON.stringify(join(dir, 'file.yaml'))}: it is a file, not a folder;`,
      FIX,
    );
  });

  it('fails when --check is given a file as --out', async () => {
    writeFileSync(join(dir, 'file.yaml'), 'mine\n');
    await expectRefused(dir, () => synthTo(join(dir, 'file.yaml'), '--check'), 'it is a file, not a folder');
  });

  it('fails when a parent of --out is a file', async () => {
    writeFileSync(join(dir, 'file'), 'mine\n');
    await expectRefused(
      dir,
      () => synthTo(join(dir, 'file', 'sub', 'dev')),
      `${join(dir, 'file')} is a file, so no folder can be created below it;`,
      'pass a path whose parents are folders',
    );
  });

  it('fails when the parent of --out cannot be written', async () => {
    // /sys refuses new entries even to root, which a chmod'ed folder would not.
    await expectRefused(
      dir,
      () => synthTo('/sys/converge-out'),
      '--out is "/sys/converge-out": its parent folder /sys cannot be written (',
      'pass a folder whose parent you can write',
    );
    expect(existsSync('/sys/converge-out')).toBe(false);
  });

  it("fails when --out is inside the repository's stacks/", async () => {
    const repoStacks = join(ROOT, 'stacks');
    const before = treeHash(repoStacks);
    await expectRefused(
      dir,
      () => synthTo(join(repoStacks, 'out')),
      `it overlaps the repository's stacks/ (${repoStacks});`,
      'pass a folder outside it',
    );
    expect(treeHash(repoStacks)).toBe(before);
  });

  it('fails when --out is the --stacks-dir folder', async () => {
    await expectRefused(
      dir,
      () => synthTo(stacks),
      `it holds the stacks folder (${stacks}), which the swap would move away;`,
    );
  });

  it('fails when --out holds the --stacks-dir folder', async () => {
    await expectRefused(dir, () => synthTo(dir), `it holds the stacks folder (${stacks})`);
  });

  it('writes below a --stacks-dir folder, which it leaves alone', async () => {
    const before = treeHash(stacks);
    expect(await synthTo(join(stacks, 'out'))).toBe(0);
    expect(readdirSync(join(stacks, 'out'))).toContain('03-platform.yaml');
    rmSync(join(stacks, 'out'), { recursive: true });
    expect(treeHash(stacks)).toBe(before);
  });

  it("fails when --out is inside the repository's charts/", async () => {
    const before = treeHash(join(ROOT, 'charts'));
    await expectRefused(
      dir,
      () => synthTo(join(ROOT, 'charts', 'app-service', 'templates')),
      `it overlaps the repository's charts/ (${join(ROOT, 'charts')})`,
    );
    expect(treeHash(join(ROOT, 'charts'))).toBe(before);
  });

  it('fails when --out is a symlink to nothing', async () => {
    symlinkSync(join(dir, 'gone'), join(dir, 'link'));
    await expectRefused(
      dir,
      () => synthTo(join(dir, 'link')),
      'it is a symlink to a folder that does not exist;',
      'create the target or pass another folder',
    );
  });

  it('fails when a file it would write is the user’s, and writes nothing', async () => {
    expect(await synthTo(out)).toBe(0);
    writeFileSync(join(out, '03-platform.yaml'), 'mine: true\n');
    setTag('1.5.9');
    await expectRefused(
      dir,
      () => synthTo(out),
      `${join(out, '03-platform.yaml')} exists and was not written by converge synth;`,
    );
  });

  it('fails when another converge synth is writing the same folder', async () => {
    expect(await synthTo(out)).toBe(0);
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      const busy = join(dir, 'manifests', `.staging.converge-new-${sleeper.pid}`);
      mkdirSync(busy);
      await expectRefused(
        dir,
        () => synthTo(out),
        `another converge synth (pid ${sleeper.pid}) is writing ${out}`,
        `delete ${busy} if no such process runs`,
      );
    } finally {
      sleeper.kill();
    }
  });

  it('fails when one of several environments has a bad folder, and writes none of them', async () => {
    const cwd = process.cwd();
    // Two environments: staging, which would be written first, and prod, whose folder is not synth's.
    rmSync(join(stacks, 'Pulumi.dev.yaml'));
    mkdirSync(join(dir, 'manifests', 'prod'), { recursive: true });
    writeFileSync(join(dir, 'manifests', 'prod', 'notes.md'), 'mine\n');
    process.chdir(dir);
    try {
      await expectRefused(
        dir,
        () => converge('synth', '--stacks-dir', stacks),
        'the default --out "manifests/prod": it holds 1 entry and no converge synth output',
      );
    } finally {
      process.chdir(cwd);
    }
    expect(existsSync(join(dir, 'manifests', 'staging'))).toBe(false);
  });
});

describe('converge synth keeps what it did not write', () => {
  it("replaces and removes only its own files; the user's stay byte-identical", async () => {
    expect(await synthTo(out)).toBe(0);
    const stale =
      '# Generated by `converge synth --env staging` from stacks/Pulumi.staging.yaml. Do not edit.\nkind: X\n';
    writeFileSync(join(out, '05-gone.yaml'), stale);
    writeFileSync(join(out, 'copy.yaml'), stale);
    writeFileSync(join(out, '04-mine.yaml'), 'kind: ConfigMap\n');
    writeFileSync(join(out, 'README.md'), '# mine\n');
    writeFileSync(join(out, '.hidden'), 'secret-ish\n');
    mkdirSync(join(out, 'sub', 'deeper'), { recursive: true });
    writeFileSync(join(out, 'sub', 'deeper', '01-argocd.yaml'), 'mine too\n');
    chmodSync(join(out, 'README.md'), 0o640);
    symlinkSync('README.md', join(out, 'link'));
    const mine = ['04-mine.yaml', 'README.md', '.hidden', 'sub', 'link', 'copy.yaml'];
    const before = Object.fromEntries(mine.map((m) => [m, treeHash(join(out, m))]));
    const inode = statSync(join(out, 'README.md')).ino;
    setTag('1.5.9');
    expect(await synthTo(out)).toBe(0);
    expect(readdirSync(out).sort()).toEqual(
      [
        '.hidden',
        '01-argocd.yaml',
        '02-bootstrap.yaml',
        '03-platform.yaml',
        '04-mine.yaml',
        'README.md',
        'copy.yaml',
        'link',
        'sub',
      ].sort(),
    );
    for (const m of mine) expect([m, treeHash(join(out, m))]).toEqual([m, before[m]]);
    // Carried over as a hard link, not a copy: the same file.
    expect(statSync(join(out, 'README.md')).ino).toBe(inode);
    expect(readFileSync(join(out, '03-platform.yaml'), 'utf8')).toContain('1.5.9');
    expect(leftovers()).toEqual([]);
  });

  it('creates the parents of a new --out, as mkdir -p does', async () => {
    const deep = join(dir, 'a', 'b', 'dev');
    expect(await synthTo(deep)).toBe(0);
    expect(readdirSync(deep).sort()).toEqual(['01-argocd.yaml', '02-bootstrap.yaml', '03-platform.yaml']);
  });

  it('writes into an empty folder and keeps its mode', async () => {
    mkdirSync(out, { recursive: true, mode: 0o750 });
    chmodSync(out, 0o750);
    expect(await synthTo(out)).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o750);
    expect(said.out).toEqual([
      `staging: wrote ${said.out[0].match(/wrote (\d+)/)![1]} objects in 3 files to ${out} (01-argocd.yaml, 02-bootstrap.yaml, 03-platform.yaml)`,
    ]);
  });

  it('swaps the target of a symlinked --out and leaves the link as it is', async () => {
    // The link may cross file systems; the target's parent is where a rename stays atomic.
    const target = join(dir, 'real', 'dev');
    expect(await synthTo(target)).toBe(0);
    writeFileSync(join(target, 'README.md'), 'mine\n');
    const link = join(dir, 'link-dev');
    symlinkSync(target, link);
    setTag('1.5.9');
    expect(await synthTo(link)).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(target);
    expect(readFileSync(join(target, '03-platform.yaml'), 'utf8')).toContain('1.5.9');
    expect(readFileSync(join(target, 'README.md'), 'utf8')).toBe('mine\n');
    expect(readdirSync(join(dir, 'real')).filter((n) => n.includes('.converge-'))).toEqual([]);
  });

  it('--check never creates --out', async () => {
    expect(await synthTo(out, '--check')).toBe(1);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(join(dir, 'manifests'))).toBe(false);
  });
});

describe('converge synth leaves the folder whole wherever it stops', () => {
  class Crash extends Error {}
  const crashAt = (at: SwapStep) => () =>
    synth(
      { env: 'staging', stacksDir: stacks, out },
      {
        afterStep: (step) => {
          if (step === at) throw new Crash(step);
        },
      },
    );

  beforeEach(async () => {
    expect(await synthTo(out)).toBe(0);
    writeFileSync(join(out, 'README.md'), 'mine\n');
    setTag('1.5.9');
  });

  const oldTag = () => readFileSync(join(out, '03-platform.yaml'), 'utf8').includes('1.5.9');

  it.each<[SwapStep, boolean | undefined]>([
    // Built but not swapped: the old folder is in place.
    ['built', false],
    // Moved away, new not yet in: no folder at the path for an instant, both complete beside it.
    ['backedUp', undefined],
    // Swapped, backup not yet removed: the new folder is in place.
    ['swapped', true],
  ])('after %s, and the next run recovers', async (step, isNew) => {
    const quiet = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    expect(crashAt(step)).toThrow(Crash);
    quiet.mockRestore();
    if (isNew === undefined) expect(existsSync(out)).toBe(false);
    else {
      expect(oldTag()).toBe(isNew);
      expect(readdirSync(out).sort()).toEqual([
        '01-argocd.yaml',
        '02-bootstrap.yaml',
        '03-platform.yaml',
        'README.md',
      ]);
    }
    expect(leftovers().length).toBeGreaterThan(0);
    // WHEN synth runs again THEN it finishes or cleans what the crash left, and writes the new files.
    expect(await converge('synth', '--check', '--env', 'staging', '--stacks-dir', stacks, '--out', out)).toBe(
      isNew ? 0 : 1,
    );
    expect(await synthTo(out)).toBe(0);
    expect(said.out[0]).toMatch(
      new RegExp(`^${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: (finished|removed)`),
    );
    expect(leftovers()).toEqual([]);
    expect(oldTag()).toBe(true);
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toBe('mine\n');
  });

  it('cleans a half-written temporary folder an earlier run left', async () => {
    const half = join(dir, 'manifests', `.staging.converge-new-${process.pid}`);
    mkdirSync(half);
    writeFileSync(join(half, '01-argocd.yaml'), '# Generated by `converge synth --env staging');
    expect(await synthTo(out)).toBe(0);
    expect(said.out[0]).toBe(`${out}: removed the temporary folders an interrupted converge synth left`);
    expect(leftovers()).toEqual([]);
    expect(oldTag()).toBe(true);
  });

  it('restores a moved-away folder whose replacement never got built', async () => {
    const backup = join(dir, 'manifests', `.staging.converge-old-${process.pid}`);
    renameSync(out, backup);
    expect(await converge('synth', '--check', '--env', 'staging', '--stacks-dir', stacks, '--out', out)).toBe(
      1,
    );
    expect(await synthTo(out)).toBe(0);
    expect(said.out[0]).toBe(`${out}: restored the folder an interrupted converge synth moved away`);
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toBe('mine\n');
    expect(leftovers()).toEqual([]);
  });
});
