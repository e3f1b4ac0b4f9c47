import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { packageRoot } from '../config/package-root';
import { PlatformConfig } from '../config/schema';
import { firstLine, isSystemError, UsageError } from '../model/errors';
import { redactUrl } from '../model/urls';
import { cacheRoot } from './cache';
import { toolPath } from './tools';

/*
 * The repo as Argo CD reads it at the configured revision: `charts/` (dependencies built),
 * `manifests/` and `stacks/`, cached by commit outside the repo. The desired state comes from here,
 * never from the working tree, so uncommitted edits cannot show up as drift.
 */

/** The repo's folders the desired state is read from. */
const SNAPSHOT_PATHS = ['charts', 'manifests', 'stacks'];

export interface ChartsSource {
  /** Folder holding `charts/` (one folder per chart) and, from Git, `manifests/` and `stacks/`. */
  readonly dir: string;
  /** The commit the charts were read at; none for a local folder. */
  readonly commit?: string;
  readonly note?: string;
}

/** A program that ran and failed, as one line: what ran, its own first error line, the fix. */
export class ToolError extends UsageError {}

/** The first line of a failed program's stderr that says what went wrong (helm's `Error: ...`, git's `fatal: ...`). */
export function toolErrorLine(err: unknown): string {
  const stderr = String((err as { stderr?: unknown }).stderr ?? '');
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const line = lines.find((l) => /^(error|fatal)\b/i.test(l)) ?? lines[0];
  if (line) return line;
  if ((err as { signal?: string }).signal)
    return `stopped by ${(err as { signal?: string }).signal} (timed out?)`;
  return firstLine((err as Error).message ?? String(err));
}

function git(args: string[], cwd?: string): string {
  try {
    return execFileSync('git', args, {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
      // A repo that wants credentials fails at once instead of waiting for a prompt nobody answers.
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
    }).trim();
  } catch (err) {
    if (isSystemError(err) && err.code === 'ENOENT' && err.syscall?.startsWith('spawn'))
      throw new ToolError('git is not installed or not on PATH; install git, or pass --charts-dir');
    throw new ToolError(
      `\`git ${args[0]}\`${cwd ? ` in ${cwd}` : ''} failed: ${toolErrorLine(err)}; check the repo and git.revision, or pass --charts-dir`,
    );
  }
}

/** Runs a program with an argv array (never a shell); a failure is a ToolError naming `what`. */
function runTool(file: string, args: string[], what: string, fix: string): void {
  try {
    execFileSync(file, args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 300_000 });
  } catch (err) {
    throw new ToolError(`${what} failed: ${toolErrorLine(err)}; ${fix}`);
  }
}

/** The commit a revision names: asked of the remote, else looked up in this checkout. */
function resolveCommit(repoURL: string, revision: string, root: string): { commit?: string; note?: string } {
  let commit: string | undefined;
  let note: string | undefined;
  try {
    const line = git([
      'ls-remote',
      repoURL,
      revision,
      `refs/heads/${revision}`,
      `refs/tags/${revision}`,
    ]).split('\n')[0];
    commit = line?.split(/\s+/)[0] || (/^[0-9a-f]{40}$/.test(revision) ? revision : undefined);
  } catch {
    note = `could not reach ${repoURL}; charts come from this checkout's ${revision}`;
  }
  if (!commit) {
    try {
      commit = git(['rev-parse', '--verify', '--quiet', `${revision}^{commit}`], root);
    } catch {
      commit = undefined;
    }
  }
  return { commit, note };
}

/** The repo's charts, manifests and stack files at the configured revision, cached by commit outside the repo. */
export function chartsAtRevision(config: Pick<PlatformConfig, 'git'>): ChartsSource {
  const { repoURL, revision } = config.git;
  const root = packageRoot();
  // An installed package (the drift controller's image) has no checkout: Git is cloned instead.
  if (!existsSync(join(root, '.git'))) return chartsFromClone(repoURL, revision);
  const { commit, note } = resolveCommit(repoURL, revision, root);
  if (!commit) {
    const checkout = existsSync(join(root, '.git'))
      ? 'not in this checkout'
      : `and ${root} is not a git checkout`;
    throw new UsageError(
      `git revision "${revision}" of ${repoURL} was not found (not reachable, ${checkout}); fetch it, fix git.revision, or pass --charts-dir`,
    );
  }
  const dir = snapshotDir(repoURL, commit);
  if (!existsSync(dir)) inTemporary(dir, (tmp) => snapshot(root, repoURL, revision, commit, tmp));
  return { dir, commit, note };
}

const urlHash = (repoURL: string) => createHash('sha256').update(repoURL).digest('hex').slice(0, 12);
const snapshotDir = (repoURL: string, commit: string) =>
  join(cacheRoot(), 'git-snapshots', `${urlHash(repoURL)}-${commit}`);

/** Fills `dir` through a temporary sibling renamed at the end: nothing half-written stays in the cache. */
function inTemporary(dir: string, fill: (tmp: string) => void): void {
  const tmp = `${dir}.tmp-${process.pid}`;
  try {
    fill(tmp);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    rmSync(`${tmp}-clone`, { recursive: true, force: true });
    throw err;
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
}

/**
 * The snapshot from a clone of `repoURL` kept in the cache (`<cache>/git-mirrors/`): cloned once,
 * bare and without blobs where the server allows filtering (the paths read fetch theirs on demand),
 * then fetched on every call, so each resync sees what was pushed since.
 */
export function chartsFromClone(repoURL: string, revision: string): ChartsSource {
  const mirror = gitMirror(repoURL);
  let commit: string;
  try {
    commit = git(['rev-parse', '--verify', '--quiet', `${revision}^{commit}`], mirror);
  } catch {
    throw new UsageError(
      `git revision "${revision}" is not a branch, tag or commit of ${redactUrl(repoURL)}; fix git.revision (or --revision), or push it`,
    );
  }
  const dir = snapshotDir(repoURL, commit);
  if (!existsSync(dir))
    inTemporary(dir, (tmp) => {
      mkdirSync(tmp, { recursive: true });
      extract(mirror, commit, tmp);
      withCharts(tmp, repoURL, revision, commit);
    });
  return { dir, commit };
}

/**
 * The bare mirror of `repoURL` in the cache, cloned once (without blobs where the server allows)
 * and fetched on every call; its path. The DORA figures read commit times from it too.
 */
export function gitMirror(repoURL: string): string {
  const mirror = join(cacheRoot(), 'git-mirrors', `${urlHash(repoURL)}.git`);
  if (existsSync(join(mirror, 'HEAD'))) git(['fetch', '--quiet', '--prune', 'origin'], mirror);
  else {
    mkdirSync(join(cacheRoot(), 'git-mirrors'), { recursive: true });
    inTemporary(mirror, (tmp) => git(['clone', '--quiet', '--mirror', '--filter=blob:none', repoURL, tmp]));
  }
  return mirror;
}

/** Writes the repo's snapshot paths at `commit` into `tmp`, with chart dependencies built. */
function snapshot(root: string, repoURL: string, revision: string, commit: string, tmp: string): void {
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  let hasCommit = true;
  try {
    git(['cat-file', '-e', `${commit}^{commit}`], root);
  } catch {
    hasCommit = false;
  }
  if (hasCommit) {
    extract(root, commit, tmp);
  } else {
    const clone = `${tmp}-clone`;
    git(['clone', '--quiet', '--no-checkout', repoURL, clone]);
    const paths = present(clone, commit);
    git(['-C', clone, 'checkout', '--quiet', commit, '--', ...paths]);
    for (const p of paths) renameSync(join(clone, p), join(tmp, p));
    rmSync(clone, { recursive: true, force: true });
  }
  withCharts(tmp, repoURL, revision, commit);
}

/** Which of the snapshot paths `repo` holds at `commit`. */
const present = (repo: string, commit: string) =>
  git(['ls-tree', '--name-only', commit, ...SNAPSHOT_PATHS], repo)
    .split('\n')
    .filter((p) => SNAPSHOT_PATHS.includes(p));

/** The snapshot paths of `repo` at `commit`, written into `tmp`. */
function extract(repo: string, commit: string, tmp: string): void {
  // An archive file rather than a shell pipe: no path is ever interpreted by a shell.
  const archive = join(tmp, 'snapshot.tar');
  git(['archive', '--format=tar', `--output=${archive}`, commit, ...present(repo, commit)], repo);
  runTool(
    'tar',
    ['-x', '-f', archive, '-C', tmp],
    `extracting ${archive}`,
    'check the disk space and the cache folder',
  );
  rmSync(archive);
}

/** Checks the snapshot has charts, and builds their dependencies. */
function withCharts(tmp: string, repoURL: string, revision: string, commit: string): void {
  if (!existsSync(join(tmp, 'charts')))
    throw new UsageError(
      `${repoURL} has no charts/ at ${revision} (${commit.slice(0, 12)}); point git.revision at a commit of this repo, or pass --charts-dir`,
    );
  buildChartDependencies(join(tmp, 'charts'));
}

/**
 * A local charts folder (a working tree), copied into `workDir` so dependencies are built without
 * writing Chart.lock or archives into the user's tree. Returns the folder to render from.
 */
export function localCharts(chartsDir: string, workDir: string): string {
  const pass = "Pass the folder that holds app-service/ and model-service/ (this repo's charts/)";
  const flag = `--charts-dir is ${JSON.stringify(chartsDir)}`;
  if (!existsSync(chartsDir)) throw new UsageError(`${flag}; no such folder. ${pass}`);
  if (!statSync(chartsDir).isDirectory())
    throw new UsageError(`${flag}; it is a file, not a folder. ${pass}`);
  // Copying a folder that holds the cache would copy the cache (and this copy) into itself.
  if (within(cacheRoot(), chartsDir))
    throw new UsageError(
      `${flag}; it holds Converge's cache folder ${cacheRoot()}, which would be copied into itself. ${pass}`,
    );
  cpSync(chartsDir, join(workDir, 'charts'), { recursive: true });
  buildChartDependencies(join(workDir, 'charts'));
  return workDir;
}

/** Whether `path` is `dir` or inside it, following symbolic links where they exist. */
function within(path: string, dir: string): boolean {
  const real = (p: string) => (existsSync(p) ? realpathSync(p) : resolve(p));
  const rel = relative(real(dir), real(path));
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** `helm dependency build` of every chart in a folder that declares dependencies (service-base). */
function buildChartDependencies(chartsDir: string): void {
  for (const chart of readdirSync(chartsDir)) {
    const path = join(chartsDir, chart);
    const manifest = join(path, 'Chart.yaml');
    if (existsSync(manifest) && /dependencies:/.test(readFileSync(manifest, 'utf8')))
      runTool(
        toolPath('helm'),
        ['dependency', 'build', path],
        `\`helm dependency build\` of chart ${chart}`,
        "fix the chart's dependencies in its Chart.yaml",
      );
  }
}
