// The Git server Argo CD fetches charts from: a bare clone of this repo (or CONVERGE_GIT_SOURCE)
// behind `git daemon`, which accepts pushes and tells argocd-server about each (push-hook.mjs);
// and `git-sync`, which brings the checkout's branches to it without ever overwriting commits
// made in the served repo.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, CONFIG, gitURL, paths, webhookURL } from './config.mjs';
import { tcpProbe } from './probes.mjs';
import { installHook } from './push-hook.mjs';
import { spawnComponent, StartError } from './processes.mjs';

/** git, failing with its stderr unless { check: false }. */
function git(cwd, args, { check = true } = {}) {
  const r = spawnSync('git', ['-C', cwd, ...args], { encoding: 'utf8' });
  if (check && r.status !== 0)
    throw new Error(`git ${args.join(' ')} failed in ${cwd}: ${(r.stderr || r.error?.message || '').trim()}`);
  return r;
}

export function startGitServer() {
  // Only the first start clones: `restart git-daemon` keeps what was pushed to the served repo.
  if (!existsSync(paths.bareRepo)) {
    mkdirSync(paths.gitBase, { recursive: true });
    const r = spawnSync(
      'git',
      ['clone', '--bare', '--quiet', '--no-hardlinks', CONFIG.gitSource, paths.bareRepo],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) {
      const why = (r.stderr || r.error?.message || '').trim();
      throw new StartError('git-daemon', `git clone --bare ${CONFIG.gitSource} failed: ${why}`);
    }
    git(paths.bareRepo, ['config', 'daemon.receivepack', 'true']); // tests push over git:// too
  }
  // Every start: a restart with other ports or another checkout rewrites where the hook points.
  installHook(paths.bareRepo, {
    node: process.execPath,
    webhookURL,
    secretFile: paths.webhookSecret,
    repoURL: gitURL,
    log: paths.pushHookLog,
  });
  // `git` runs git-daemon as a child; stopping the process group covers both.
  spawnComponent(
    'git-daemon',
    'git',
    [
      'daemon',
      '--reuseaddr',
      '--listen=127.0.0.1',
      `--port=${CONFIG.ports.git}`,
      `--base-path=${paths.gitBase}`,
      '--export-all',
      '--enable=receive-pack',
      '--informative-errors',
      paths.gitBase,
    ],
    { endpoint: gitURL },
  );
}

export const gitReady = () => tcpProbe(CONFIG.ports.git);

/** A branch that cannot be merged into the served one; nothing was changed. */
export class GitSyncConflict extends Error {}

// Merges must work on a machine without a Git identity or with commit signing configured.
const MERGER = [
  '-c',
  'user.name=converge',
  '-c',
  'user.email=converge@localhost',
  '-c',
  'commit.gpgsign=false',
];

const short = (sha) => sha.slice(0, 7);

/** branch -> commit under a ref prefix, symbolic refs (origin/HEAD) left out. */
function branchesUnder(repo, prefix) {
  const out = git(repo, ['for-each-ref', '--format=%(refname) %(objectname) %(symref)', prefix]).stdout;
  const branches = new Map();
  for (const line of out.split('\n').filter(Boolean)) {
    const [ref, sha, symref] = line.split(' ');
    if (!symref) branches.set(ref.slice(prefix.length), sha);
  }
  return branches;
}

const isAncestor = (repo, a, b) =>
  git(repo, ['merge-base', '--is-ancestor', a, b], { check: false }).status === 0;

/** Merges `mine` into `theirs` in the scratch clone: { sha } of the merge, or { reason } it failed. */
function merge(work, branch, source, theirs, mine) {
  git(work, ['checkout', '--quiet', '--force', '--detach', theirs]);
  const message = `git-sync: merge ${branch} of ${source} into the served ${branch}`;
  const r = git(work, [...MERGER, 'merge', '--quiet', '--no-ff', '--no-edit', '-m', message, mine], {
    check: false,
  });
  if (r.status === 0) return { sha: git(work, ['rev-parse', 'HEAD']).stdout.trim() };
  const files = git(work, ['diff', '--name-only', '--diff-filter=U'], { check: false })
    .stdout.split('\n')
    .filter(Boolean);
  git(work, ['merge', '--abort'], { check: false });
  const said = (r.stderr || r.stdout).trim().split('\n')[0];
  return { reason: files.length ? `conflicts in ${files.join(', ')}` : said };
}

/**
 * Brings each branch of `source` to the bare repo `served`: creates it, fast-forwards it, leaves it
 * when it already contains the checkout's commit, or merges the two when they diverged. The work
 * happens in a scratch clone and lands in one atomic, non-forced push, so a conflict (or a commit
 * pushed meanwhile) changes nothing. Returns one line per branch.
 */
export function syncBranches(source, served) {
  const work = mkdtempSync(join(tmpdir(), 'converge-git-sync-'));
  try {
    git(work, ['clone', '--quiet', '--no-checkout', served, '.']);
    git(work, ['fetch', '--quiet', '--no-tags', source, 'refs/heads/*:refs/checkout/*']);
    const servedBranches = branchesUnder(work, 'refs/remotes/origin/');
    const lines = [];
    const updates = [];
    const conflicts = [];
    for (const [branch, mine] of branchesUnder(work, 'refs/checkout/')) {
      const theirs = servedBranches.get(branch);
      if (!theirs) {
        updates.push(`${mine}:refs/heads/${branch}`);
        lines.push(`${branch}: created at ${short(mine)}`);
      } else if (theirs === mine) {
        lines.push(`${branch}: up to date at ${short(mine)}`);
      } else if (isAncestor(work, mine, theirs)) {
        lines.push(`${branch}: served ${short(theirs)} already contains ${short(mine)}; left as it is`);
      } else if (isAncestor(work, theirs, mine)) {
        updates.push(`${mine}:refs/heads/${branch}`);
        lines.push(`${branch}: fast-forward ${short(theirs)}..${short(mine)}`);
      } else {
        const m = merge(work, branch, source, theirs, mine);
        if (m.reason) {
          conflicts.push(
            `git-sync: cannot merge ${branch} of ${source} into the served ${branch} (${m.reason}); ` +
              `nothing changed in ${served}. Resolve by hand (git clone ${served}, merge ${short(mine)}, push) ` +
              `or serve the checkout afresh: ${CLI} down && ${CLI} up`,
          );
          continue;
        }
        updates.push(`${m.sha}:refs/heads/${branch}`);
        lines.push(`${branch}: merged ${short(mine)} into the served ${short(theirs)} as ${short(m.sha)}`);
      }
    }
    if (conflicts.length) throw new GitSyncConflict(conflicts.join('\n'));
    if (updates.length) {
      const r = git(work, ['push', '--quiet', '--atomic', 'origin', ...updates], { check: false });
      if (r.status !== 0) {
        const why = r.stderr.trim().split('\n').pop();
        throw new GitSyncConflict(`git-sync: ${served} changed while syncing (${why}); run git-sync again`);
      }
    }
    return lines;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
