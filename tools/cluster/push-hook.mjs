#!/usr/bin/env node
// The served repo's post-receive hook: for each ref a push updates, a GitHub push event to
// argocd-server's /api/webhook, so Argo CD refreshes the Applications tracking that ref at once
// rather than at its next poll (120 s plus jitter). git-server.mjs installs the hook, which execs
// this file. Node built-ins only, as it runs inside every push; it never fails one: when
// argocd-server is not reached it says so in one line and exits 0.
//
//   push-hook.mjs WEBHOOK_URL SECRET_FILE REPO_URL LOG_FILE   (ref updates on stdin, cwd the repo)
import { spawnSync } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { appendFileSync, chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { basename, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const HOOK_SCRIPT = fileURLToPath(import.meta.url);

const isZero = (sha) => /^0+$/.test(sha);

/**
 * repository.html_url for a repo URL. Argo CD matches each Application's repoURL against a pattern
 * made from it that admits http(s)://, ssh:// or no scheme before the host, so no ordinary web URL
 * matches a git:// repoURL. One with host `git` whose path repeats the rest does: the pattern then
 * reads `git` + `:` + `//127.0.0.1:29418/converge` (+ `.git`), which is the repoURL itself.
 */
export function webURLFor(repoURL) {
  const u = new URL(repoURL);
  const path = u.pathname.replace(/\.git$/, '');
  return u.protocol === 'git:' ? `http://git///${u.host}${path}` : `${u.protocol}//${u.host}${path}`;
}

/** The `<old> <new> <ref>` lines git feeds post-receive on stdin. */
export function parseUpdates(text) {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const [before, after, ref] = l.split(/\s+/);
      return { before, after, ref };
    });
}

/** `git diff --no-renames --name-status -z` output as GitHub's added/modified/removed lists. */
export function classifyChanges(nameStatusZ) {
  const files = { added: [], modified: [], removed: [] };
  const parts = nameStatusZ.split('\0');
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const [status, path] = [parts[i][0], parts[i + 1]];
    if (status === 'A') files.added.push(path);
    else if (status === 'D') files.removed.push(path);
    else files.modified.push(path);
  }
  return files;
}

/**
 * A GitHub push event for one ref update. `files` is null when there is no list (a created or
 * deleted ref): with no commits Argo CD refreshes every Application on that revision. With a list,
 * Applications whose manifest-generate-paths it misses are left alone, as with a real GitHub.
 */
export function pushEvent({ repoURL, defaultBranch, ref, before, after, files }) {
  const name = basename(new URL(repoURL).pathname).replace(/\.git$/, '');
  const deleted = isZero(after);
  return {
    ref,
    before,
    after,
    created: isZero(before),
    deleted,
    commits: files && !deleted ? [{ id: after, distinct: true, ...files }] : [],
    repository: {
      name,
      full_name: `converge/${name}`,
      html_url: webURLFor(repoURL),
      clone_url: repoURL,
      default_branch: defaultBranch,
    },
  };
}

/** X-Hub-Signature-256 of a body, as GitHub signs with the webhook secret. */
export const signature = (body, secret) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/** The headers GitHub sends with a push event; signed when there is a secret. */
export function eventHeaders(body, secret) {
  return {
    'Content-Type': 'application/json',
    'User-Agent': 'converge-post-receive',
    'X-GitHub-Event': 'push',
    'X-GitHub-Delivery': randomUUID(),
    ...(secret ? { 'X-Hub-Signature-256': signature(body, secret) } : {}),
  };
}

const shellQuote = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;

/** The post-receive hook file: execs this script with where to post, what to sign with, where to log. */
export function hookScript({ node, script = HOOK_SCRIPT, webhookURL, secretFile, repoURL, log }) {
  const argv = [node, script, webhookURL, secretFile, repoURL, log].map(shellQuote).join(' ');
  return `#!/bin/sh\n# Written by tools/cluster/git-server.mjs at each start; edits are lost.\nexec ${argv}\n`;
}

/** Writes (or rewrites) the bare repo's post-receive hook; the same options give the same file. */
export function installHook(bareRepo, options) {
  const hooks = join(bareRepo, 'hooks');
  mkdirSync(hooks, { recursive: true });
  const file = join(hooks, 'post-receive');
  writeFileSync(file, hookScript(options));
  chmodSync(file, 0o755); // writeFileSync's mode applies only when it creates the file
  return file;
}

/** POSTs one event; resolves the HTTP status, rejects when nothing answered in time. */
function post(url, body, headers, timeoutMs = 3000) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

function git(args) {
  const r = spawnSync('git', args, { encoding: 'utf8' });
  return r.status === 0 ? r.stdout : null;
}

function readSecret(file) {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return '';
  }
}

async function main([url, secretFile, repoURL, log]) {
  const say = (line) => {
    try {
      appendFileSync(log, `${new Date().toISOString()} ${line}\n`);
    } catch {
      /* no log dir (the cluster is down): the line is lost, the push is not */
    }
  };
  const defaultBranch = (git(['symbolic-ref', '--short', 'HEAD']) ?? 'main').trim();
  const secret = readSecret(secretFile);
  for (const u of parseUpdates(readFileSync(0, 'utf8'))) {
    const known = !isZero(u.before) && !isZero(u.after);
    const diff = known ? git(['diff', '--no-renames', '--name-status', '-z', u.before, u.after]) : null;
    const files = diff === null ? null : classifyChanges(diff);
    const body = JSON.stringify(pushEvent({ repoURL, defaultBranch, ...u, files }));
    const started = Date.now();
    try {
      const status = await post(url, body, eventHeaders(body, secret));
      say(`${u.ref} ${u.after.slice(0, 7)}: argocd-server answered ${status} in ${Date.now() - started} ms`);
      if (status !== 200)
        console.error(`converge: argocd-server answered ${status} to the push event for ${u.ref}`);
    } catch (err) {
      const why = err.code || err.message;
      say(`${u.ref} ${u.after.slice(0, 7)}: argocd-server not reached (${why})`);
      console.error(
        `converge: argocd-server not reached at ${url} (${why}); Argo CD sees this push at its next poll`,
      );
      return; // the others would fail the same way
    }
  }
}

// Run only as the hook: tests import the functions above.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2))
    .catch((err) => console.error(`converge: post-receive: ${err.message}`))
    .finally(() => process.exit(0));
}
