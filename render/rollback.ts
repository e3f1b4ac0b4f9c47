import { execFileSync } from 'node:child_process';
import { parseDocument } from 'yaml';
import { UsageError } from '../model/errors';
import { WRITE_BACK_KEYS } from '../model/image-updates';

/*
 * A rollback "to the last healthy revision" in GitOps is a commit: the write-back file put back to
 * the tag it held before the update that failed. This plans that commit from the file's history;
 * whoever responds to a failed sync (hooks.syncFail.rollback) commits and pushes it.
 */

export interface WriteBackRollback {
  /** The write-back file, from the repo's root. */
  readonly file: string;
  /** The tag the failed sync was rolling out. */
  readonly from: string;
  /** The tag before it: what the file says after the rollback; none when the pin ran before (the file goes). */
  readonly to?: string;
  /** The commit that wrote `from`. */
  readonly reverts: string;
  /** The file's new text: the old one with only the tag changed (comments and layout kept); none to delete it. */
  readonly content?: string;
  readonly message: string;
}

const tagPath = WRITE_BACK_KEYS.tag.split('.');

function git(repo: string, args: string[]): string {
  try {
    return execFileSync('git', ['-C', repo, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? '')
      .trim()
      .split('\n')[0];
    throw new UsageError(`\`git ${args[0]}\` in ${repo} failed: ${stderr}; check the repo and the revision`);
  }
}

const tagIn = (text: string): string | undefined => {
  const value = parseDocument(text).getIn(tagPath);
  return value === undefined || value === null || value === '' ? undefined : String(value);
};

/** What a rollback is bounded by, and what its message names. */
export interface RollbackOptions {
  /**
   * The last commit Argo CD synced healthy: the file goes back to what it held there (removed when
   * it had none), never further; no plan when it holds that already, so a rollback never loops.
   * @default the tag before the current one, whatever its record
   */
  readonly healthy?: string;
  /** The revision whose sync failed, named in the message. @default the commit that wrote the tag */
  readonly failed?: string;
}

/**
 * The rollback of `file` at `revision`: back to the last tag it held that differs from the current
 * one (or the one it held at `options.healthy`), or, when there was none, its removal (the stack
 * file's pin runs again). Undefined when the file holds no written tag, or already holds the
 * healthy revision's.
 */
export function planWriteBackRollback(
  repo: string,
  revision: string,
  file: string,
  environment: string,
  service: string,
  options: RollbackOptions = {},
): WriteBackRollback | undefined {
  const commits = git(repo, ['log', '--format=%H', revision, '--', file]).split('\n').filter(Boolean);
  // Never written, or removed since (the pin runs already): nothing to roll back.
  if (commits.length === 0 || !existed(repo, commits[0], file)) return undefined;
  const current = git(repo, ['show', `${commits[0]}:${file}`]);
  const from = tagIn(current);
  if (from === undefined) return undefined;
  const tagAt = (commit: string) =>
    existed(repo, commit, file) ? tagIn(git(repo, ['show', `${commit}:${file}`])) : undefined;
  // The newest commit that wrote `from` is the update being rolled back.
  let reverts = commits[0];
  let before: string | undefined;
  for (const commit of commits.slice(1)) {
    const tag = tagAt(commit);
    if (tag !== from) {
      before = tag;
      break;
    }
    reverts = commit;
  }
  // Bounded by the healthy revision: its tag, not merely the one before.
  const to = options.healthy !== undefined ? tagAt(resolve(repo, options.healthy)) : before;
  if (to === from) return undefined;
  const failed = options.failed ?? reverts;
  if (to === undefined) return plan(file, from, undefined, reverts, undefined, environment, service, failed);
  const doc = parseDocument(current);
  doc.setIn(tagPath, to);
  return plan(file, from, to, reverts, doc.toString(), environment, service, failed);
}

/** A commit id as the repo has it; an unknown one is a clear error, not an empty history. */
const resolve = (repo: string, commit: string): string =>
  git(repo, ['rev-parse', '--verify', `${commit}^{commit}`]).trim();

const existed = (repo: string, commit: string, file: string): boolean => {
  try {
    git(repo, ['cat-file', '-e', `${commit}:${file}`]);
    return true;
  } catch {
    return false;
  }
};

function plan(
  file: string,
  from: string,
  to: string | undefined,
  reverts: string,
  content: string | undefined,
  environment: string,
  service: string,
  failed: string,
): WriteBackRollback {
  const back = to ?? 'its pinned tag';
  return {
    file,
    from,
    to,
    reverts,
    content,
    message: `${environment}: roll ${service} back from ${from} to ${back} (sync of ${failed.slice(0, 12)} failed)`,
  };
}
