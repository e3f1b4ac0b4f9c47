import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { bindOrExplain } from '../../cli/commands/watch';
import { synthesizeEnvironment } from '../../render/environment';
import { APPROVALS_PORT, DRIFT_CONTROLLER_NAME } from '../../model/constants';
import { UsageError } from '../../model/errors';
import { cli, expectFailure, scratch, writeKubeconfig } from './error-path-helpers';

/* `converge watch --approvals-port / --approvals-host`: the page's bind errors, as one line each, exit 2. */

const ROOT = join(__dirname, '..', '..');
const STACKS = join(ROOT, 'stacks');
const kubeconfig = writeKubeconfig(join(scratch('converge-approvals-'), 'kubeconfig'));
const watch = (...args: string[]) =>
  cli(
    'watch',
    '--env',
    'staging',
    '--kubeconfig',
    kubeconfig,
    '--stacks-dir',
    STACKS,
    '--metrics-port',
    '-1',
    ...args,
  );

describe('converge watch --approvals-port and --approvals-host', () => {
  let busy: Server;
  let port: number;
  beforeEach(async () => {
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    port = (busy.address() as AddressInfo).port;
  });
  afterEach(() => busy.close());

  it('fails when --approvals-port is in use, naming the port and suggesting -1', async () => {
    expectFailure(
      await watch('--approvals-port', String(port)),
      `--approvals-port ${port}: 127.0.0.1:${port} is already in use (EADDRINUSE); stop what listens there, pass another --approvals-port, or --approvals-port -1 to serve no page`,
    );
  });

  it('fails when the default port 9465 is in use, so the page is on by default, on loopback', async () => {
    const taken = createServer();
    // Something else may hold 9465 already; either way the page's bind must say so.
    await new Promise<void>((resolve) => {
      taken.once('error', () => resolve());
      taken.listen(APPROVALS_PORT, '127.0.0.1', resolve);
    });
    try {
      expectFailure(await watch(), `--approvals-port 9465: 127.0.0.1:9465 is already in use (EADDRINUSE);`);
    } finally {
      taken.close();
    }
  });

  it('fails when --approvals-host is not an address of this machine', async () => {
    expectFailure(
      await watch('--approvals-port', '0', '--approvals-host', '203.0.113.7'),
      '--approvals-host is "203.0.113.7"; it is not an address of this machine (EADDRNOTAVAIL); pass 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)',
    );
  });

  it.each([
    ['empty', ''],
    ['hexadecimal', '0x50'],
    ['below -1', '-2'],
  ])('fails when --approvals-port is %s', async (_name, value) => {
    expectFailure(
      await watch('--approvals-port', value),
      `option '--approvals-port <port>' argument '${value}' is invalid. it is ${JSON.stringify(value)}; use a whole number (a port 0-65535, -1 for none)`,
    );
  });

  it.each([
    ['empty', ''],
    ['a URL', 'http://127.0.0.1'],
  ])('fails when --approvals-host is %s', async (_name, value) => {
    expectFailure(
      await watch('--approvals-host', value, '--approvals-port', '-1'),
      `option '--approvals-host <host>' argument '${value}' is invalid. it is ${JSON.stringify(value)}; pass an IP address or host name of this machine`,
    );
  });

  it('fails when binding is not permitted (EACCES), saying to pick a port from 1024 up', async () => {
    // These tests run as root, which may bind any port: the bind error is given as Node raises it.
    const eacces = Object.assign(new Error('listen EACCES: permission denied 127.0.0.1:80'), {
      code: 'EACCES',
      syscall: 'listen',
    });
    const bind = bindOrExplain(() => Promise.reject(eacces), 'approvals', 80, '127.0.0.1', 'serve no page');
    await expect(bind).rejects.toThrow(UsageError);
    await expect(bind).rejects.toThrow(
      '--approvals-port 80: binding 127.0.0.1:80 is not permitted (EACCES; ports below 1024 need privileges); pass a port from 1024 up',
    );
  });

  it('has the in-cluster Deployment serve the page on loopback only, for kubectl port-forward', () => {
    const { files } = synthesizeEnvironment('staging', STACKS);
    const deployment = files
      .flatMap((f) => f.objects)
      .find((o) => o.kind === 'Deployment' && o.metadata.name === DRIFT_CONTROLLER_NAME);
    const args = (deployment?.spec as { template: { spec: { containers: { args: string[] }[] } } }).template
      .spec.containers[0].args;
    expect(args.slice(args.indexOf('--approvals-port'), args.indexOf('--approvals-port') + 4)).toEqual([
      '--approvals-port',
      String(APPROVALS_PORT),
      '--approvals-host',
      '127.0.0.1',
    ]);
  });
});
