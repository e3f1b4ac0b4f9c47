// redis-server, Argo CD's cache: the Debian package, installed only when we may (root, no terminal).
import { DebianError, debianProgram } from '../debian.mjs';
import { CONFIG } from './config.mjs';
import { tcpProbe } from './probes.mjs';
import { spawnComponent, StartError } from './processes.mjs';

const port = CONFIG.ports.redis;

function redisBinary() {
  try {
    return debianProgram('redis-server');
  } catch (err) {
    if (err instanceof DebianError) throw new StartError('redis', err.message);
    throw err;
  }
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
