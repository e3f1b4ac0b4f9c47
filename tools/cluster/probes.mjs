// Liveness probes of endpoints that are not the Kubernetes API (etcd, kwok, the components'
// healthz and metrics ports, redis, git): one plain request each, never throwing.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';

/** GET a URL; resolves { status, body }, status 0 when nothing answered. */
export function httpGet(url, { token, ca, insecure } = {}) {
  return new Promise((resolve) => {
    const u = new URL(url);
    const tls = u.protocol === 'https:';
    const req = (tls ? httpsRequest : httpRequest)(
      u,
      {
        method: 'GET',
        timeout: 3000,
        headers: token ? { Authorization: `Bearer ${token}` } : {},
        ...(tls ? (ca ? { ca } : { rejectUnauthorized: !insecure }) : {}),
      },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode, body }));
      },
    );
    req.on('error', (err) => resolve({ status: 0, body: err.message }));
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

/** True when GET answers 200. */
export const answers200 = async (url, options) => (await httpGet(url, options)).status === 200;

/**
 * Connects to a loopback port; without `say`, true once connected; with it, true once the reply
 * includes `expect`.
 */
export function tcpProbe(port, say, expect) {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    let got = '';
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(2000, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => (say ? sock.write(say) : done(true)));
    sock.on('data', (d) => {
      got += d;
      if (got.includes(expect)) done(true);
    });
  });
}
