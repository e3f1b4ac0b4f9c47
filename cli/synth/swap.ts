import {
  chmodSync,
  closeSync,
  copyFileSync,
  constants,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ConvergeError, UsageError } from '../../model/errors';
import { OutFolder, ownFiles } from './out-folder';

/*
 * `converge synth` replaces the --out folder whole: every generated file goes into a folder beside
 * it (same parent, so renames stay on one file system and are atomic), the user's own files are
 * carried over as hard links, then out → backup, new → out, backup removed. At every instant the
 * path holds the old folder or the new one complete, or neither for the instant between the two
 * renames; the next run finishes what a crash left (`recover`).
 */

/** The steps of a swap, after which a test may simulate a crash. */
export type SwapStep = 'built' | 'backedUp' | 'swapped';

export interface SwapSeams {
  /** Called after each step; a test throws here to stop the swap as a crash would. */
  readonly afterStep?: (step: SwapStep) => void;
}

export interface GeneratedFile {
  readonly name: string;
  readonly content: string;
}

const leftover = (out: string) => new RegExp(`^\\.${escape(basename(out))}\\.converge-(new|old)-(\\d+)$`);
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const sideName = (out: string, kind: 'new' | 'old', pid = process.pid) =>
  join(dirname(out), `.${basename(out)}.converge-${kind}-${pid}`);

function alive(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Leftover temp and backup folders of earlier runs beside `out`, by kind. */
function leftovers(out: string): { kind: 'new' | 'old'; pid: number; path: string }[] {
  let names: string[];
  try {
    names = readdirSync(dirname(out));
  } catch {
    return [];
  }
  const pattern = leftover(out);
  return names.flatMap((name) => {
    const m = pattern.exec(name);
    return m ? [{ kind: m[1] as 'new' | 'old', pid: Number(m[2]), path: join(dirname(out), name) }] : [];
  });
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Finishes or undoes what an interrupted synth left beside `out`; returns what it did, if anything.
 * A backup exists only once the new folder was complete, so with a backup the new folder wins.
 */
export function recover(out: OutFolder): string | undefined {
  const found = leftovers(out.path);
  const busy = found.find((l) => alive(l.pid));
  if (busy)
    throw new UsageError(
      `another converge synth (pid ${busy.pid}) is writing ${out.given} (${busy.path}); wait for it to finish, or delete ${busy.path} if no such process runs`,
    );
  if (found.length === 0) return undefined;
  const outExists = lstatSync(out.path, { throwIfNoEntry: false }) !== undefined;
  const olds = found.filter((l) => l.kind === 'old');
  const news = found.filter((l) => l.kind === 'new');
  let did: string;
  if (!outExists && olds.length > 0) {
    const complete = news.find((n) => olds.some((o) => o.pid === n.pid));
    renameSync(complete?.path ?? olds[0].path, out.path);
    did = complete
      ? 'finished the swap an interrupted converge synth began'
      : 'restored the folder an interrupted converge synth moved away';
  } else {
    did = 'removed the temporary folders an interrupted converge synth left';
  }
  for (const l of found) rmSync(l.path, { recursive: true, force: true });
  fsyncDir(dirname(out.path));
  return `${out.given}: ${did}`;
}

function writeDurably(path: string, content: string): void {
  const fd = openSync(path, 'wx');
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A hard link of every file of `from` below `to`, or a copy where links fail (another device). */
function carry(from: string, to: string): void {
  const stat = lstatSync(from);
  if (stat.isDirectory()) {
    mkdirSync(to);
    for (const name of readdirSync(from)) carry(join(from, name), join(to, name));
    chmodSync(to, stat.mode & 0o7777);
    utimesSync(to, stat.atime, stat.mtime);
  } else if (stat.isSymbolicLink()) {
    symlinkSync(readlinkSync(from), to);
  } else {
    try {
      linkSync(from, to);
    } catch {
      copyFileSync(from, to);
      chmodSync(to, stat.mode & 0o7777);
      utimesSync(to, stat.atime, stat.mtime);
    }
  }
}

/** The entries of `out` synth keeps as they are: everything but its own files. */
function userEntries(out: string): string[] {
  const own = new Set(ownFiles(out));
  return readdirSync(out).filter((name) => !own.has(name));
}

/**
 * Writes `files` as the new content of `out`, keeping every entry of `out` that synth did not write.
 * Throws a one-line error, and leaves `out` as it was, when the folder beside it cannot be written.
 */
export function swapIn(out: OutFolder, files: readonly GeneratedFile[], seams: SwapSeams = {}): void {
  const temp = sideName(out.path, 'new');
  const backup = sideName(out.path, 'old');
  const existing = statSync(out.path, { throwIfNoEntry: false });
  let created: string | undefined;
  try {
    created = mkdirSync(dirname(out.path), { recursive: true });
    mkdirSync(temp);
  } catch (err) {
    if (created) rmSync(created, { recursive: true, force: true });
    const e = err as NodeJS.ErrnoException;
    const name = out.flag
      ? `--out is ${JSON.stringify(out.given)}`
      : `the default --out ${JSON.stringify(out.given)}`;
    throw new UsageError(
      `${name}: its parent folder ${dirname(out.path)} cannot be written (${e.code}); pass a folder whose parent you can write`,
    );
  }
  try {
    for (const file of files) writeDurably(join(temp, file.name), file.content);
    if (existing) {
      for (const name of userEntries(out.path))
        if (!files.some((f) => f.name === name)) carry(join(out.path, name), join(temp, name));
      chmodSync(temp, existing.mode & 0o7777);
    }
    fsyncDir(temp);
  } catch (err) {
    rmSync(temp, { recursive: true, force: true });
    if (created) rmSync(created, { recursive: true, force: true });
    const e = err as NodeJS.ErrnoException;
    throw new ConvergeError(
      `could not write ${out.given} (${e.code ?? e.message}); it is unchanged. Free space or fix permissions, then run converge synth again`,
    );
  }
  seams.afterStep?.('built');
  if (existing) {
    try {
      renameSync(out.path, backup);
    } catch (err) {
      // A mount point (a CI volume) cannot be renamed: say so rather than half-swap.
      rmSync(temp, { recursive: true, force: true });
      throw new ConvergeError(
        `could not move ${out.given} aside to swap in the new files (${(err as NodeJS.ErrnoException).code}; is it a mount point?); it is unchanged. Pass a folder inside it instead`,
      );
    }
    fsyncDir(dirname(out.path));
    seams.afterStep?.('backedUp');
  }
  try {
    renameSync(temp, out.path);
  } catch (err) {
    if (existing) renameSync(backup, out.path);
    rmSync(temp, { recursive: true, force: true });
    throw new ConvergeError(
      `could not move the new files into ${out.given} (${(err as NodeJS.ErrnoException).code}); it is unchanged. Run converge synth again`,
    );
  }
  fsyncDir(dirname(out.path));
  seams.afterStep?.('swapped');
  if (existing) rmSync(backup, { recursive: true, force: true });
}
