import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../config/package-root';
import { PlatformConfig } from '../config/schema';
import { UsageError } from '../model/errors';
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

function git(args: string[], cwd?: string): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
    // A repo that wants credentials fails at once instead of waiting for a prompt nobody answers.
    env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
  }).trim();
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
export function chartsAtRevision(config: PlatformConfig): ChartsSource {
  const { repoURL, revision } = config.git;
  const root = packageRoot();
  const { commit, note } = resolveCommit(repoURL, revision, root);
  if (!commit) {
    throw new UsageError(
      `git revision "${revision}" of ${repoURL} was not found (not reachable, and not in this checkout); fetch it or pass --charts-dir`,
    );
  }
  const dir = join(
    cacheRoot(),
    'git-snapshots',
    `${createHash('sha256').update(repoURL).digest('hex').slice(0, 12)}-${commit}`,
  );
  if (!existsSync(dir)) {
    const tmp = `${dir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    let hasCommit = true;
    try {
      git(['cat-file', '-e', `${commit}^{commit}`], root);
    } catch {
      hasCommit = false;
    }
    const present = (repo: string) =>
      git(['ls-tree', '--name-only', commit, ...SNAPSHOT_PATHS], repo)
        .split('\n')
        .filter((p) => SNAPSHOT_PATHS.includes(p));
    if (hasCommit) {
      // An archive file rather than a shell pipe: no path is ever interpreted by a shell.
      const archive = join(tmp, 'snapshot.tar');
      git(['archive', '--format=tar', `--output=${archive}`, commit, ...present(root)], root);
      execFileSync('tar', ['-x', '-f', archive, '-C', tmp]);
      rmSync(archive);
    } else {
      const clone = `${tmp}-clone`;
      git(['clone', '--quiet', '--no-checkout', repoURL, clone]);
      const paths = present(clone);
      git(['-C', clone, 'checkout', '--quiet', commit, '--', ...paths]);
      for (const p of paths) renameSync(join(clone, p), join(tmp, p));
      rmSync(clone, { recursive: true, force: true });
    }
    if (!existsSync(join(tmp, 'charts'))) {
      rmSync(tmp, { recursive: true, force: true });
      throw new UsageError(
        `${repoURL} has no charts/ at ${revision} (${commit.slice(0, 12)}); point git.revision at a commit of this repo, or pass --charts-dir`,
      );
    }
    buildChartDependencies(join(tmp, 'charts'));
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  }
  return { dir, commit, note };
}

/**
 * A local charts folder (a working tree), copied into `workDir` so dependencies are built without
 * writing Chart.lock or archives into the user's tree. Returns the folder to render from.
 */
export function localCharts(chartsDir: string, workDir: string): string {
  if (!existsSync(chartsDir))
    throw new UsageError(
      `--charts-dir is ${JSON.stringify(chartsDir)}; no such folder. Pass the folder that holds app-service/ and model-service/ (this repo's charts/)`,
    );
  cpSync(chartsDir, join(workDir, 'charts'), { recursive: true });
  buildChartDependencies(join(workDir, 'charts'));
  return workDir;
}

/** `helm dependency build` of every chart in a folder that declares dependencies (service-base). */
function buildChartDependencies(chartsDir: string): void {
  for (const chart of readdirSync(chartsDir)) {
    const path = join(chartsDir, chart);
    const manifest = join(path, 'Chart.yaml');
    if (existsSync(manifest) && /dependencies:/.test(readFileSync(manifest, 'utf8')))
      execFileSync(toolPath('helm'), ['dependency', 'build', path], { stdio: 'ignore' });
  }
}
