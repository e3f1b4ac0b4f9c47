import { execFileSync } from 'node:child_process';
import { gitMirror } from '../../render/charts';
import { Commit, CommitSource, REVERTS } from './deployments';

/*
 * Commits of the desired-state repo, read with `git log` from the controller's mirror of it
 * (render/charts.ts keeps one per repo in the cache). Commits never change, so each answer is kept.
 */

const FORMAT = '%H%x1f%cI%x1f%B%x1e';

function parse(out: string): Commit[] {
  return out
    .split('\x1e')
    .map((chunk) => chunk.replace(/^\n/, ''))
    .filter((chunk) => chunk.includes('\x1f'))
    .map((chunk) => {
      const [sha, committedAt, body] = chunk.split('\x1f');
      // In UTC, as Argo CD's times are: the committer's offset says nothing here.
      return { sha, committedAt: new Date(committedAt).toISOString(), reverts: REVERTS.exec(body)?.[1] };
    });
}

export class GitCommits implements CommitSource {
  private readonly commits = new Map<string, Commit>();
  private readonly ranges = new Map<string, readonly Commit[]>();

  /** Over a bare repo or checkout at `dir`; `fetch` brings new commits when it has a `repoURL`. */
  constructor(
    private readonly dir: string,
    private readonly repoURL?: string,
  ) {}

  /** Over the cache's mirror of `repoURL`, fetched now so commits pushed since are there. */
  public static mirrorOf(repoURL: string): GitCommits {
    return new GitCommits(gitMirror(repoURL), repoURL);
  }

  /** Fetches what was pushed since; the commits already read stay known. */
  public fetch(): this {
    if (this.repoURL) gitMirror(this.repoURL);
    return this;
  }

  private log(args: string[]): Commit[] | undefined {
    try {
      return parse(
        execFileSync('git', ['log', `--format=${FORMAT}`, ...args], {
          cwd: this.dir,
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
          maxBuffer: 64 * 2 ** 20,
        }),
      );
    } catch {
      // A revision the repo does not have (force-pushed away, another repo's): no commit to read.
      return undefined;
    }
  }

  public commit(sha: string): Commit | undefined {
    // A miss is not kept: the commit may arrive with the next fetch.
    if (!this.commits.has(sha)) {
      const found = this.log(['-1', '--no-walk', sha, '--'])?.[0];
      if (!found) return undefined;
      this.commits.set(sha, found);
    }
    return this.commits.get(sha);
  }

  public between(from: string, to: string): readonly Commit[] {
    const key = `${from}..${to}`;
    if (!this.ranges.has(key)) {
      const found = this.log([key, '--']);
      if (!found) return [];
      this.ranges.set(key, found);
    }
    return this.ranges.get(key)!;
  }
}
