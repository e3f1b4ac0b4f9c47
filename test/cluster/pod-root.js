// Runs one process as a pod would, from pod.e2e.test.ts: `unshare --mount --fork node pod-root.js <spec>`.
// In its own mount namespace it lays the host's /usr and /etc read-only into the root, a tmpfs per
// emptyDir volume, the service account files read-only, then makes the root read-only and runs the
// command chrooted, as the pod's user with no new privileges. Argv arrays only: no shell.
'use strict';
const { execFileSync, spawn } = require('node:child_process');
const { join } = require('node:path');

const spec = JSON.parse(process.argv[2]);
const mount = (...args) => execFileSync('mount', args, { stdio: 'inherit' });
const at = (p) => join(spec.root, p);

mount('--make-rprivate', '/');
mount('--bind', spec.root, spec.root);
for (const dir of ['/usr', '/etc']) {
  mount('--bind', dir, at(dir));
  mount('-o', 'remount,bind,ro', at(dir));
}
// Device nodes (/dev/null for ignored stdio) and /proc, as a container runtime provides them.
mount('--rbind', '/dev', at('/dev'));
mount('--rbind', '/proc', at('/proc'));
for (const path of spec.volumes) mount('-t', 'tmpfs', '-o', 'mode=1777', 'tmpfs', at(path));
mount('--bind', spec.secrets, at(spec.secretsPath));
mount('-o', 'remount,bind,ro', at(spec.secretsPath));
mount('-o', 'remount,bind,ro', spec.root);

const child = spawn(
  'chroot',
  [
    spec.root,
    '/usr/bin/setpriv',
    '--reuid',
    String(spec.user),
    '--regid',
    String(spec.group),
    '--clear-groups',
    '--no-new-privs',
    '--',
    '/usr/bin/env',
    '-i',
    '-C',
    spec.workdir,
    ...Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
    ...spec.command,
  ],
  { stdio: 'inherit' },
);
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
