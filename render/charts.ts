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
 * The services' charts as Argo CD reads them: the repo's `charts/` at the configured revision,
 * cached by commit outside the repo, with their dependencies (service-base) built.
 */

export interface ChartsSource {
  /** Folder holding one folder per chart. */
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

/** The repo's `charts/` at the configured revision, cached by commit outside the repo. */
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
    'charts',
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
    if (hasCommit) {
      // An archive file rather than a shell pipe: no path is ever interpreted by a shell.
      const archive = join(tmp, 'charts.tar');
      git(['archive', '--format=tar', `--output=${archive}`, commit, 'charts'], root);
      execFileSync('tar', ['-x', '-f', archive, '-C', tmp]);
      rmSync(archive);
    } else {
      const clone = `${tmp}-clone`;
      git(['clone', '--quiet', '--no-checkout', repoURL, clone]);
      git(['-C', clone, 'checkout', '--quiet', commit, '--', 'charts']);
      renameSync(join(clone, 'charts'), join(tmp, 'charts'));
      rmSync(clone, { recursive: true, force: true });
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
