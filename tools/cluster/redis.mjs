// redis-server, Argo CD's cache: the Debian package, installed only when we may (root, no terminal).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG } from './config.mjs';
import { tcpProbe } from './probes.mjs';
import { spawnComponent, StartError } from './processes.mjs';

const port = CONFIG.ports.redis;

function redisBinary() {
  for (const p of (process.env.PATH || '').split(':').concat(['/usr/bin', '/usr/sbin'])) {
    if (p && existsSync(join(p, 'redis-server'))) return join(p, 'redis-server');
  }
  // Only as root and with no terminal to ask on: install the Debian package ourselves.
  if (process.getuid?.() === 0 && !process.stdin.isTTY) {
    console.log('  redis-server missing: installing the Debian package redis-server (apt-get)');
    const aptEnv = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const install = () =>
      spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'redis-server'], {
        env: aptEnv,
        encoding: 'utf8',
      });
    let r = install();
    if (r.status !== 0) {
      spawnSync('apt-get', ['update', '-q'], { env: aptEnv, encoding: 'utf8' });
      r = install();
    }
    if (r.status === 0 && existsSync('/usr/bin/redis-server')) return '/usr/bin/redis-server';
    const why = (r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' ');
    throw new StartError('redis', `apt-get install redis-server failed: ${why}`);
  }
  throw new StartError(
    'redis',
    'redis-server not found; install the Debian package: sudo apt-get install -y redis-server',
  );
}

export function startRedis() {
  spawnComponent(
    'redis',
    redisBinary(),
    [
      ...['--bind', '127.0.0.1', '--port', String(port)],
      ...['--save', '', '--appendonly', 'no'], // a cache: nothing to keep
      ...['--protected-mode', 'yes', '--dir', CONFIG.runDir],
    ],
    { endpoint: `redis://127.0.0.1:${port}` },
  );
}

export const redisReady = () => tcpProbe(port, 'PING\r\n', '+PONG');
