// The served repo's post-receive hook without a cluster: the GitHub push event it builds, its
// signature, the hook file git-server.mjs installs, and real pushes into a temporary bare repo
// whose hook posts to a stand-in for argocd-server's /api/webhook (or to nothing, and the push
// still succeeds). Run: node --test tools/test/
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import {
  classifyChanges,
  eventHeaders,
  HOOK_SCRIPT,
  hookScript,
  installHook,
  parseUpdates,
  pushEvent,
  signature,
  webURLFor,
} from '../cluster/push-hook.mjs';

const run = promisify(execFile);
const scratch = mkdtempSync(join(tmpdir(), 'converge-push-hook-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const ZERO = '0'.repeat(40);
const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const REPO = 'git://127.0.0.1:29418/converge.git';

test('webURLFor: a git:// repo URL becomes the one web URL Argo CD matches it by', () => {
  assert.equal(webURLFor(REPO), 'http://git///127.0.0.1:29418/converge');
  assert.equal(webURLFor('git://127.0.0.1:40000/other.git'), 'http://git///127.0.0.1:40000/other');
  // Web-style repo URLs match their own web URL: only the .git goes.
  assert.equal(webURLFor('https://example.test/org/app.git'), 'https://example.test/org/app');
});

test('parseUpdates reads the lines git gives post-receive', () => {
  assert.deepEqual(parseUpdates(`${A} ${B} refs/heads/main\n${ZERO} ${B} refs/tags/v1\n\n`), [
    { before: A, after: B, ref: 'refs/heads/main' },
    { before: ZERO, after: B, ref: 'refs/tags/v1' },
  ]);
  assert.deepEqual(parseUpdates(''), []);
});

test('classifyChanges sorts name-status output into added, modified, removed', () => {
  const out = ['A', 'charts/new.yaml', 'M', 'charts/a b.yaml', 'D', 'old.txt', 'T', 'link', ''].join('\0');
  assert.deepEqual(classifyChanges(out), {
    added: ['charts/new.yaml'],
    modified: ['charts/a b.yaml', 'link'],
    removed: ['old.txt'],
  });
  assert.deepEqual(classifyChanges(''), { added: [], modified: [], removed: [] });
});

test('pushEvent: an update lists its files; a created or deleted ref lists none', () => {
  const files = { added: ['x'], modified: [], removed: [] };
  const e = pushEvent({ repoURL: REPO, defaultBranch: 'main', ref: 'refs/heads/main', before: A, after: B, files });
  assert.equal(e.ref, 'refs/heads/main');
  assert.equal(e.before, A);
  assert.equal(e.after, B);
  assert.deepEqual(e.commits, [{ id: B, distinct: true, ...files }]);
  assert.deepEqual(e.repository, {
    name: 'converge',
    full_name: 'converge/converge',
    html_url: 'http://git///127.0.0.1:29418/converge',
    clone_url: REPO,
    default_branch: 'main',
  });
  assert.equal(e.created, false);
  assert.equal(e.deleted, false);
  const created = pushEvent({ repoURL: REPO, defaultBranch: 'main', ref: 'refs/heads/x', before: ZERO, after: B, files: null });
  assert.equal(created.created, true);
  assert.deepEqual(created.commits, []);
  const deleted = pushEvent({ repoURL: REPO, defaultBranch: 'main', ref: 'refs/heads/x', before: A, after: ZERO, files });
  assert.equal(deleted.deleted, true);
  assert.deepEqual(deleted.commits, []);
}); // prettier-ignore

test('signature is GitHub X-Hub-Signature-256; unsigned without a secret', () => {
  // GitHub's documented example of a webhook signature.
  assert.equal(
    signature('Hello, World!', "It's a Secret to Everybody"),
    'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
  );
  const h = eventHeaders('{}', 's3cret');
  assert.equal(h['X-GitHub-Event'], 'push');
  assert.equal(h['X-Hub-Signature-256'], signature('{}', 's3cret'));
  assert.match(h['X-GitHub-Delivery'], /^[0-9a-f-]{36}$/);
  assert.equal('X-Hub-Signature-256' in eventHeaders('{}', ''), false);
});

test('hookScript execs this script with every argument quoted for sh', () => {
  const s = hookScript({
    node: '/usr/bin/node',
    webhookURL: 'http://127.0.0.1:1/api/webhook',
    secretFile: "/run/it's/secret",
    repoURL: REPO,
    log: '/run/logs/post-receive.log',
  });
  assert.match(s, /^#!\/bin\/sh\n/);
  assert.ok(s.endsWith(
    `exec '/usr/bin/node' '${HOOK_SCRIPT}' 'http://127.0.0.1:1/api/webhook' '/run/it'\\''s/secret' '${REPO}' '/run/logs/post-receive.log'\n`,
  )); // prettier-ignore
});

/** A bare repo with one commit on main, its hook posting to `url`, and a clone to push from. */
async function servedRepo(name, url, secret) {
  const dir = join(scratch, name);
  const bare = join(dir, 'served.git');
  const work = join(dir, 'work');
  mkdirSync(work, { recursive: true });
  const env = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: dir };
  const git = (cwd, ...args) =>
    run('git', ['-C', cwd, '-c', 'user.name=t', '-c', 'user.email=t@localhost', ...args], { env });
  await git(work, 'init', '--quiet', '--initial-branch=main');
  writeFileSync(join(work, 'a.txt'), 'one\n');
  writeFileSync(join(work, 'gone.txt'), 'bye\n');
  await git(work, 'add', '.');
  await git(work, 'commit', '--quiet', '-m', 'first');
  await git(dir, 'clone', '--bare', '--quiet', work, bare);
  await git(work, 'remote', 'add', 'served', bare);
  const secretFile = join(dir, 'secret');
  writeFileSync(secretFile, `${secret}\n`);
  const log = join(dir, 'post-receive.log');
  const options = { node: process.execPath, webhookURL: url, secretFile, repoURL: REPO, log };
  const hook = installHook(bare, options);
  return { dir, bare, work, git, hook, log, options };
}

/** A stand-in for argocd-server's webhook: records each request. */
async function fakeWebhook() {
  const got = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      got.push({ method: req.method, url: req.url, headers: req.headers, body });
      res.end();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { got, url: `http://127.0.0.1:${server.address().port}/api/webhook`, close: () => server.close() };
}

test('installHook writes an executable hook, the same file each time', async () => {
  const { bare, hook, options } = await servedRepo('install', 'http://127.0.0.1:1/api/webhook', 'x');
  assert.equal(hook, join(bare, 'hooks', 'post-receive'));
  const first = readFileSync(hook, 'utf8');
  assert.equal(statSync(hook).mode & 0o777, 0o755);
  installHook(bare, options);
  assert.equal(readFileSync(hook, 'utf8'), first);
});

test('a push posts one signed GitHub push event per ref, with the files it changed', async (t) => {
  const hook = await fakeWebhook();
  t.after(hook.close);
  const secret = 'test-secret';
  const { work, git, log } = await servedRepo('push', hook.url, secret);
  const before = (await git(work, 'rev-parse', 'HEAD')).stdout.trim();
  writeFileSync(join(work, 'a.txt'), 'two\n');
  writeFileSync(join(work, 'b.txt'), 'new\n');
  await git(work, 'rm', '--quiet', 'gone.txt');
  await git(work, 'add', '.');
  await git(work, 'commit', '--quiet', '-m', 'second');
  const after = (await git(work, 'rev-parse', 'HEAD')).stdout.trim();
  await git(work, 'tag', 'v1');

  const pushed = await git(work, 'push', '--quiet', 'served', 'main', 'v1');
  assert.equal(pushed.stderr, '', 'nothing said on success');
  assert.equal(hook.got.length, 2);
  const [main, tag] = hook.got.map((r) => ({ ...r, event: JSON.parse(r.body) }));
  for (const r of [main, tag]) {
    assert.equal(r.method, 'POST');
    assert.equal(r.url, '/api/webhook');
    assert.equal(r.headers['x-github-event'], 'push');
    const mac = createHmac('sha256', secret).update(r.body).digest('hex');
    assert.equal(r.headers['x-hub-signature-256'], `sha256=${mac}`);
    assert.equal(r.event.repository.html_url, 'http://git///127.0.0.1:29418/converge');
    assert.equal(r.event.repository.default_branch, 'main');
  }
  assert.equal(main.event.ref, 'refs/heads/main');
  assert.equal(main.event.before, before);
  assert.equal(main.event.after, after);
  assert.deepEqual(main.event.commits, [
    { id: after, distinct: true, added: ['b.txt'], modified: ['a.txt'], removed: ['gone.txt'] },
  ]);
  assert.equal(tag.event.ref, 'refs/tags/v1');
  assert.equal(tag.event.created, true);
  assert.deepEqual(tag.event.commits, [], 'a new ref: no file list, so Argo CD refreshes');
  assert.match(
    readFileSync(log, 'utf8'),
    /refs\/heads\/main [0-9a-f]{7}: argocd-server answered 200 in \d+ ms/,
  );
});

test('with argocd-server down the push still succeeds, and the hook says so in one line', async () => {
  const closed = await fakeWebhook();
  closed.close(); // a port that refuses
  await new Promise((r) => setTimeout(r, 50));
  const { work, git, log } = await servedRepo('down', closed.url, 'x');
  writeFileSync(join(work, 'a.txt'), 'three\n');
  await git(work, 'commit', '--quiet', '-am', 'third');
  await git(work, 'tag', 'v2');

  const pushed = await git(work, 'push', 'served', 'main', 'v2'); // rejects on a non-zero exit
  const said = pushed.stderr.split('\n').filter((l) => /converge:/.test(l));
  assert.equal(said.length, 1, pushed.stderr);
  assert.match(
    said[0],
    /argocd-server not reached at .* \(ECONNREFUSED\); Argo CD sees this push at its next poll/,
  );
  const served = await git(work, 'ls-remote', 'served', 'main');
  assert.equal(served.stdout.split('\t')[0], (await git(work, 'rev-parse', 'HEAD')).stdout.trim());
  assert.match(readFileSync(log, 'utf8'), /not reached \(ECONNREFUSED\)/);
});
