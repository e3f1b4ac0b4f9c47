#!/usr/bin/env node
// Programs taken from Debian's packages rather than built from Go modules: redis-server (Argo CD's
// cache), chromium (the browser tests), prometheus and promtool (the alert-rule tests and the live
// scrape), docker-registry (the OCI registry image updates are pushed to). Installed only when we
// may: as root with no terminal to ask on (CI, a fresh machine's setup); otherwise the error says
// the one command to run. Node built-ins only: it runs before `npm ci`.
//
//   node tools/debian.mjs [package ...]     install what is missing (no names = all)
//   node tools/debian.mjs --print-path PROGRAM
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Each program, and the Debian package that ships it. */
export const DEBIAN_PROGRAMS = {
  'redis-server': 'redis-server',
  chromium: 'chromium',
  prometheus: 'prometheus',
  promtool: 'prometheus',
  'docker-registry': 'docker-registry',
};

export class DebianError extends Error {}

const onPath = (program) => {
  for (const dir of (process.env.PATH || '').split(':').concat(['/usr/bin', '/usr/sbin', '/usr/local/bin'])) {
    if (dir && existsSync(join(dir, program))) return join(dir, program);
  }
  return undefined;
};

const mayInstall = () => process.getuid?.() === 0 && !process.stdin.isTTY;

/** Installs the packages with apt-get (one `apt-get update` retry); throws DebianError with apt's last lines. */
export function installDebianPackages(packages) {
  if (!packages.length) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...packages], {
      env,
      encoding: 'utf8',
    });
  let r = install();
  if (r.status !== 0) {
    spawnSync('apt-get', ['update', '-q'], { env, encoding: 'utf8' });
    r = install();
  }
  if (r.status !== 0) {
    const why = (r.stderr || r.stdout || r.error?.message || '').trim().split('\n').slice(-3).join(' ');
    throw new DebianError(`apt-get install ${packages.join(' ')} failed: ${why}`);
  }
}

/** The program's path, installing its Debian package first when it is missing and we may. */
export function debianProgram(program) {
  const pkg = DEBIAN_PROGRAMS[program];
  if (!pkg) throw new DebianError(`${program} is not a program tools/debian.mjs knows`);
  const found = onPath(program);
  if (found) return found;
  if (!mayInstall())
    throw new DebianError(
      `${program} not found; install the Debian package: sudo apt-get install -y --no-install-recommends ${pkg}`,
    );
  console.log(`  ${program} missing: installing the Debian package ${pkg} (apt-get)`);
  installDebianPackages([pkg]);
  const installed = onPath(program);
  if (!installed) throw new DebianError(`apt-get installed ${pkg}, but ${program} is still not found`);
  return installed;
}

/** Installs every missing package in one apt-get run. */
export function ensureDebianPrograms(programs = Object.keys(DEBIAN_PROGRAMS)) {
  const missing = [...new Set(programs.filter((p) => !onPath(p)).map((p) => DEBIAN_PROGRAMS[p]))];
  if (!missing.length) return;
  if (!mayInstall())
    throw new DebianError(
      `missing Debian packages; install them: sudo apt-get install -y --no-install-recommends ${missing.join(' ')}`,
    );
  console.log(`  installing Debian packages: ${missing.join(' ')}`);
  installDebianPackages(missing);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  try {
    if (args[0] === '--print-path') {
      if (!args[1]) throw new DebianError('usage: node tools/debian.mjs --print-path PROGRAM');
      console.log(debianProgram(args[1]));
    } else {
      const unknown = args.filter((a) => !Object.values(DEBIAN_PROGRAMS).includes(a));
      if (unknown.length)
        throw new DebianError(
          `unknown package ${unknown.join(', ')}; known: ${[...new Set(Object.values(DEBIAN_PROGRAMS))].join(', ')}`,
        );
      const programs = args.length
        ? Object.keys(DEBIAN_PROGRAMS).filter((p) => args.includes(DEBIAN_PROGRAMS[p]))
        : undefined;
      ensureDebianPrograms(programs);
    }
  } catch (err) {
    if (!(err instanceof DebianError)) throw err;
    console.error(`debian.mjs: ${err.message}`);
    process.exit(err.message.startsWith('usage') || err.message.startsWith('unknown') ? 2 : 1);
  }
}
