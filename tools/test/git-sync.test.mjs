// `git-sync` with real temporary repositories: it creates and fast-forwards served branches,
// leaves ones that already contain the checkout, merges diverged ones keeping the commits made in
// the served repo, and on a conflict changes nothing. The served repo refuses non-fast-forward
// pushes, so a forced overwrite would fail these tests. Run: node --test tools/test/
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const main = join(dirname(fileURLToPath(import.meta.url)), '..', 'cluster', 'main.mjs');
const scratch = mkdtempSync(join(tmpdir(), 'converge-git-sync-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

// No identity anywhere and no guessing: git-sync's merges must bring their own.
const home = join(scratch, 'home');
mkdirSync(home);
const bareEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(GIT_|EMAIL$)/.test(k)));
const gitEnv = {
  ...bareEnv,
  HOME: home,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_COUNT: '1',
  GIT_CONFIG_KEY_0: 'user.useConfigOnly',
  GIT_CONFIG_VALUE_0: 'true',
};

const git = (cwd, ...args) =>
  execFileSync('git', ['-C', cwd, ...args], { encoding: 'utf8', env: gitEnv }).trim();
const ME = ['-c', 'user.name=test', '-c', 'user.email=test@localhost'];

function commit(repo, file, content, message) {
  writeFileSync(join(repo, file), content);
  git(repo, 'add', file);
  git(repo, ...ME, 'commit', '--quiet', '-m', message);
  return git(repo, 'rev-parse', 'HEAD');
}

/** A checkout with one commit on main, and a run dir serving a bare clone of it. */
function setup(name) {
  const dir = join(scratch, name);
  const source = join(dir, 'checkout');
  const run = join(dir, 'run');
  const served = join(run, 'git', 'converge.git');
  mkdirSync(source, { recursive: true });
  git(source, 'init', '--quiet', '--initial-branch=main');
  commit(source, 'a.txt', 'one\n', 'first');
  mkdirSync(join(run, 'git'), { recursive: true });
  git(dir, 'clone', '--bare', '--quiet', source, served);
  git(served, 'config', 'receive.denyNonFastForwards', 'true');
  const sync = () =>
    spawnSync(process.execPath, [main, 'git-sync'], {
      encoding: 'utf8',
      env: { ...gitEnv, CONVERGE_RUN_DIR: run, CONVERGE_GIT_SOURCE: source },
    });
  /** Commits straight into the served repo, as tests and users do. */
  const commitServed = (file, content, message) => {
    const clone = mkdtempSync(join(dir, 'served-clone-'));
    git(dir, 'clone', '--quiet', served, clone);
    const sha = commit(clone, file, content, message);
    git(clone, 'push', '--quiet', 'origin', 'main');
    return sha;
  };
  return { dir, source, served, sync, commitServed };
}

const head = (served, branch = 'main') => git(served, 'rev-parse', `refs/heads/${branch}`);
const isAncestor = (repo, a, b) =>
  spawnSync('git', ['-C', repo, 'merge-base', '--is-ancestor', a, b], { env: gitEnv }).status === 0;

test('git-sync fast-forwards a branch the checkout moved ahead and creates new ones', () => {
  const { source, served, sync } = setup('fast-forward');
  const before = head(served);
  const mine = commit(source, 'a.txt', 'two\n', 'second');
  git(source, 'branch', 'feature');

  const r = sync();
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stdout,
    new RegExp(`^git-sync: main: fast-forward ${before.slice(0, 7)}\\.\\.${mine.slice(0, 7)}$`, 'm'),
  );
  assert.match(r.stdout, new RegExp(`^git-sync: feature: created at ${mine.slice(0, 7)}$`, 'm'));
  assert.equal(head(served), mine);
  assert.equal(head(served, 'feature'), mine);
});

test('git-sync leaves a branch that is up to date or already contains the checkout', () => {
  const { source, served, sync, commitServed } = setup('nothing-to-do');
  const mine = git(source, 'rev-parse', 'HEAD');
  let r = sync();
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, `git-sync: main: up to date at ${mine.slice(0, 7)}\n`);

  const theirs = commitServed('b.txt', 'from a test\n', 'made in the served repo');
  r = sync();
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^git-sync: main: served \w{7} already contains \w{7}; left as it is$/m);
  assert.equal(head(served), theirs);
});

test('git-sync merges diverged branches and keeps the commits made in the served repo', () => {
  const { source, served, sync, commitServed } = setup('diverged');
  const theirs = commitServed('b.txt', 'from a test\n', 'made in the served repo');
  const mine = commit(source, 'c.txt', 'from the checkout\n', 'made in the checkout');

  const r = sync();
  assert.equal(r.status, 0, r.stderr);
  const merged = head(served);
  assert.match(
    r.stdout,
    new RegExp(
      `^git-sync: main: merged ${mine.slice(0, 7)} into the served ${theirs.slice(0, 7)} as ${merged.slice(0, 7)}$`,
      'm',
    ),
  );
  assert.ok(isAncestor(served, theirs, merged), 'the served commit is kept');
  assert.ok(isAncestor(served, mine, merged), "the checkout's commit is in");
  assert.equal(git(served, 'rev-parse', `${merged}^1`), theirs, 'first parent: the served branch');
  const [author, committer, subject] = git(
    served,
    'log',
    '-1',
    '--format=%an <%ae>|%cn <%ce>|%s',
    merged,
  ).split('|');
  assert.equal(author, 'converge <converge@localhost>');
  assert.equal(committer, 'converge <converge@localhost>');
  assert.match(subject, /^git-sync: merge main of .*checkout into the served main$/);
  assert.deepEqual(git(served, 'ls-tree', '--name-only', merged).split('\n'), ['a.txt', 'b.txt', 'c.txt']);

  // Once merged, the same checkout has nothing more to bring.
  const again = sync();
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /main: served \w+ already contains \w+; left as it is/);
});

test('fails when the checkout conflicts with the served repo: exit 1, one line, nothing changed', () => {
  const { source, served, sync, commitServed } = setup('conflict');
  commitServed('a.txt', 'served version\n', 'made in the served repo');
  commit(source, 'a.txt', 'checkout version\n', 'made in the checkout');
  git(source, 'branch', 'feature'); // would be created, but nothing lands when one branch fails
  const refsBefore = git(served, 'for-each-ref');

  const r = sync();
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(
    lines[0],
    /^cluster: git-sync: cannot merge main of .*checkout into the served main \(conflicts in a\.txt\); nothing changed in .*converge\.git\. Resolve by hand .* or serve the checkout afresh: node tools\/cluster\/main\.mjs down && node tools\/cluster\/main\.mjs up$/,
  );
  assert.equal(git(served, 'for-each-ref'), refsBefore);
});

test('fails when there is no git server to sync to', () => {
  const r = spawnSync(process.execPath, [main, 'git-sync'], {
    encoding: 'utf8',
    env: { ...gitEnv, CONVERGE_RUN_DIR: join(scratch, 'no-run') },
  });
  assert.equal(r.status, 1);
  assert.equal(r.stderr, 'cluster: no running git server; run: node tools/cluster/main.mjs up\n');
});
