import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ConvergeError } from '../../model/errors';
import { redactCredentials } from '../../model/urls';
import { planWriteBackRollback, RollbackOptions, WriteBackRollback } from '../../render/rollback';

/*
 * A rollback is a commit, never a cluster write: clone the desired-state branch, plan the
 * write-back file's rollback there (render/rollback.ts), commit it and push it. The push uses the
 * process's own git credentials (a credential helper, an SSH key): none pass through Converge.
 */

/** Where and what to roll back. */
export interface RollbackRequest {
  readonly file: string;
  readonly environment: string;
  readonly service: string;
  readonly options: RollbackOptions;
}

/** The result: the pushed commit and its plan, or why nothing was committed. */
export type RollbackResult =
  | { readonly pushed: true; readonly commit: string; readonly plan: WriteBackRollback }
  | { readonly pushed: false; readonly reason: string };

export interface RollbackCommitter {
  rollBack(request: RollbackRequest): Promise<RollbackResult>;
}

/** A git step that failed, as one line with git's first complaint, credentials taken out. */
export class GitStepError extends ConvergeError {}

const AUTHOR = ['-c', 'user.name=converge', '-c', 'user.email=converge@users.noreply.converge.dev'];

export class GitRollback implements RollbackCommitter {
  constructor(
    private readonly repoURL: string,
    private readonly branch: string,
  ) {}

  public async rollBack(request: RollbackRequest): Promise<RollbackResult> {
    // A tag or a commit cannot take a commit: only a branch moves.
    if (!(await run(undefined, ['ls-remote', '--heads', this.repoURL, `refs/heads/${this.branch}`])).trim())
      return {
        pushed: false,
        reason: `git.revision ${JSON.stringify(this.branch)} is not a branch of the repo, so no commit can go on it; roll back with \`git revert\` on the branch Argo CD follows`,
      };
    const work = mkdtempSync(join(tmpdir(), 'converge-rollback-'));
    try {
      await run(undefined, [
        'clone',
        '--quiet',
        '--single-branch',
        '--branch',
        this.branch,
        this.repoURL,
        work,
      ]);
      try {
        await run(work, ['cat-file', '-e', `HEAD:${request.file}`]);
      } catch {
        return {
          pushed: false,
          reason: `${request.file} is not on ${this.branch}: no image update was written, so there is none to roll back`,
        };
      }
      const plan = planWriteBackRollback(
        work,
        'HEAD',
        request.file,
        request.environment,
        request.service,
        request.options,
      );
      if (!plan)
        return {
          pushed: false,
          reason: `${request.file} already holds the tag the last healthy revision ran (or no tag at all)`,
        };
      const path = join(work, plan.file);
      if (plan.content === undefined) await run(work, ['rm', '--quiet', '--', plan.file]);
      else {
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, plan.content);
        await run(work, ['add', '--', plan.file]);
      }
      await run(work, ['commit', '--quiet', '-m', plan.message]);
      // A push refused because the branch moved is not retried here: the next failed sync plans again.
      await run(work, ['push', '--quiet', 'origin', `HEAD:refs/heads/${this.branch}`]);
      return { pushed: true, commit: (await run(work, ['rev-parse', 'HEAD'])).trim(), plan };
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
}

const execGit = promisify(execFile);

/** git, without blocking the controller's other work while it talks to the remote. */
async function run(cwd: string | undefined, args: string[]): Promise<string> {
  try {
    const { stdout } = await execGit('git', [...(cwd ? ['-C', cwd] : []), ...AUTHOR, ...args], {
      encoding: 'utf8',
      // Never wait on a prompt for credentials the process does not have.
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
      timeout: 120_000,
      maxBuffer: 16 * 2 ** 20,
    });
    return stdout;
  } catch (err) {
    const lines = String((err as { stderr?: unknown }).stderr ?? '')
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    const why = lines.find((l) => /^(fatal|error|!)/.test(l)) ?? lines[0] ?? (err as Error).message;
    throw new GitStepError(`\`git ${args[0]}\` failed: ${redactCredentials(why)}`);
  }
}
