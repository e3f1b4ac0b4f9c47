import {
  closeSync,
  constants,
  existsSync,
  lstatSync,
  openSync,
  readdirSync,
  readSync,
  realpathSync,
  statSync,
  Stats,
} from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, parse, resolve, sep } from 'node:path';
import { packageRoot } from '../../config/package-root';
import { stacksDir } from '../../config/stack-file';
import { UsageError } from '../../model/errors';
import { GENERATED_HEADER } from '../../render/environment';

/*
 * Where `converge synth` may write. It swaps the whole --out folder, so a wrong --out would pull a
 * user's folder out from under them: refuse anything that is not empty, new, or earlier synth output.
 */

const FIX = 'pass an empty or new folder, or the folder an earlier converge synth wrote';

/** The name synth's own files match; only files that also start with the header are synth's. */
const OWN_NAME = /^\d\d-.*\.yaml$/;

export interface OutFolder {
  /** The path as the user named it (or the default), for messages. */
  readonly given: string;
  /** The real folder written: symlinks resolved, so the swap replaces the target, never the link. */
  readonly path: string;
  /** Whether `--out` was passed, or the default `manifests/<env>` is used. */
  readonly flag: boolean;
}

/** Whether a file starts with the generated header; reads only the header's bytes. */
export function isGenerated(path: string): boolean {
  const stat = lstatSync(path, { throwIfNoEntry: false });
  if (!stat?.isFile()) return false;
  const want = Buffer.from(GENERATED_HEADER);
  const fd = openSync(path, constants.O_RDONLY);
  try {
    const got = Buffer.alloc(want.length);
    const n = readSync(fd, got, 0, want.length, 0);
    return n === want.length && got.equals(want);
  } finally {
    closeSync(fd);
  }
}

/** Files in `dir` that an earlier `converge synth` wrote: only those may be replaced or removed. */
export function ownFiles(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  return readdirSync(dir)
    .filter((f) => OWN_NAME.test(f))
    .filter((f) => isGenerated(join(dir, f)));
}

function refuse(out: { given: string; flag: boolean }, why: string, fix = FIX): never {
  const name = out.flag
    ? `--out is ${JSON.stringify(out.given)}`
    : `the default --out ${JSON.stringify(out.given)}`;
  throw new UsageError(`${name}: ${why}; ${fix}`);
}

/** The real path of `path`, resolving symlinks of the part that exists; the rest is appended. */
function realPath(path: string): string {
  const missing: string[] = [];
  let at = path;
  while (lstatOrNone(at) === undefined) {
    const parent = dirname(at);
    if (parent === at) break;
    missing.unshift(basename(at));
    at = parent;
  }
  return join(realpathSync(at), ...missing);
}

/** lstat that says "nothing there" for ENOENT and ENOTDIR (a file where a folder would be). */
function lstatOrNone(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

const within = (path: string, folder: string) => path === folder || path.startsWith(folder + sep);

function realOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/**
 * Resolves `--out` (or the default) and refuses, with one line, every folder synth must not swap.
 * Reads only; checks that depend on the folder's content come after recovery, in `checkContent`.
 */
export function resolveOut(given: string, flag: boolean, options: { stacksDir?: string } = {}): OutFolder {
  const out = { given, flag };
  if (given.trim() === '') refuse(out, 'it names no folder');
  if (given === '~' || given.startsWith('~/'))
    refuse(
      out,
      'the shell did not expand ~ (it was quoted, or written as --out=~/...)',
      'write the path out, e.g. "$HOME/..."',
    );
  const absolute = resolve(given);
  const link = lstatOrNone(absolute);
  if (link?.isSymbolicLink() && !existsSync(absolute))
    refuse(
      out,
      'it is a symlink to a folder that does not exist',
      'create the target or pass another folder',
    );
  let path: string;
  try {
    path = realPath(absolute);
  } catch (err) {
    refuse(out, `it cannot be resolved (${(err as NodeJS.ErrnoException).code})`);
  }
  if (path === parse(path).root) refuse(out, 'it is the file system root');
  if (path === realOrSelf(homedir())) refuse(out, 'it is your home folder');
  const root = realOrSelf(packageRoot());
  if (path === root) refuse(out, "it is the repository's root");
  const cwd = realOrSelf(process.cwd());
  if (within(cwd, path))
    refuse(
      out,
      'it holds the current folder, which the swap would move away',
      'pass a folder below the current one, e.g. manifests/<env>',
    );
  // The repo's stacks/ and charts/ are what Pulumi and Argo CD read from Git: no output inside them.
  // Another --stacks-dir (a scratch copy) may hold the output, but never be swapped away with it.
  const repoDirs: [string, string][] = [
    [realOrSelf(join(root, 'stacks')), "the repository's stacks/"],
    [realOrSelf(join(root, 'charts')), "the repository's charts/"],
  ];
  for (const [dir, what] of repoDirs)
    if (within(path, dir) || within(dir, path))
      refuse(out, `it overlaps ${what} (${dir})`, 'pass a folder outside it, e.g. manifests/<env>');
  const stacks = realOrSelf(stacksDir({ dir: options.stacksDir }));
  if (within(stacks, path))
    refuse(
      out,
      `it holds the stacks folder (${stacks}), which the swap would move away`,
      'pass a folder outside it, e.g. manifests/<env>',
    );
  // The nearest folder that exists: an ancestor that is a file means the folder can never exist.
  let at = path;
  while (!existsSync(at)) at = dirname(at);
  if (at !== path && !statSync(at).isDirectory())
    refuse(
      out,
      `${at} is a file, so no folder can be created below it`,
      'pass a path whose parents are folders',
    );
  return { given, path, flag };
}

/** Refuses a folder synth must not swap because of what it holds; `names` are the files it writes. */
export function checkContent(out: OutFolder, names: readonly string[]): void {
  const stat = statSync(out.path, { throwIfNoEntry: false });
  if (!stat) return;
  if (!stat.isDirectory()) refuse(out, 'it is a file, not a folder');
  const entries = readdirSync(out.path);
  const own = new Set(ownFiles(out.path));
  if (entries.length > 0 && own.size === 0)
    refuse(
      out,
      `it holds ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'} and no converge synth output (no NN-*.yaml file starting with "${GENERATED_HEADER}")`,
    );
  for (const name of names) {
    if (entries.includes(name) && !own.has(name))
      throw new UsageError(
        `${join(out.given, name)} exists and was not written by converge synth; move it away or pass another --out`,
      );
  }
}
