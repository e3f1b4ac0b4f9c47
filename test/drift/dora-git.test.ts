import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GitCommits } from '../../drift/dora/git-commits';

/* Commit times and reverts read from a real Git repo with `git log`, as the controller reads its mirror. */

let dir: string;
const git = (args: string[], date?: string) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@localhost', ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, ...(date ? { GIT_COMMITTER_DATE: date, GIT_AUTHOR_DATE: date } : {}) },
  }).trim();
const commitFile = (text: string, date: string) => {
  writeFileSync(join(dir, 'f.txt'), text);
  git(['add', 'f.txt']);
  git(['commit', '-q', '-m', `set ${text}`], date);
  return git(['rev-parse', 'HEAD']);
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'converge-dora-git-'));
  git(['init', '-q', '-b', 'main']);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('GitCommits', () => {
  it('reads commit times, the commits between two, and what a revert reverts', () => {
    const a = commitFile('a', '2026-12-01T10:00:00Z');
    const b = commitFile('b', '2026-12-01T10:05:00Z');
    git(['revert', '--no-edit', 'HEAD'], '2026-12-01T10:07:30Z');
    const r = git(['rev-parse', 'HEAD']);
    const commits = new GitCommits(dir);
    expect(commits.commit(a)).toEqual({
      sha: a,
      committedAt: '2026-12-01T10:00:00.000Z',
      reverts: undefined,
    });
    expect(Date.parse(commits.commit(r)!.committedAt)).toBe(Date.parse('2026-12-01T10:07:30Z'));
    expect(commits.commit(r)!.reverts).toBe(b);
    expect(commits.between(a, r).map((c) => c.sha)).toEqual([r, b]);
  });

  it('has no commit for a revision the repo does not have, and finds it once it arrives', () => {
    const commits = new GitCommits(dir);
    expect(commits.commit('0'.repeat(40))).toBeUndefined();
    expect(commits.between('0'.repeat(40), 'HEAD')).toEqual([]);
    const c = commitFile('c', '2026-12-01T11:00:00Z');
    expect(commits.commit(c)?.sha).toBe(c);
  });
});
