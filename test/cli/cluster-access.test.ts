import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheRoot } from '../../render/cache';
import { unreachableKubeconfig } from '../helpers';

/*
 * The commands that talk to a cluster (drift, watch, approve, reject) with a kubeconfig, context,
 * cluster or charts folder that cannot work: one line naming it and the fix, exit code 2, no trace.
 */

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const converge = (...args: string[]) => spawnSync('node', [CLI, ...args], { encoding: 'utf8', cwd: ROOT });

describe('converge against a cluster it cannot use', () => {
  let dir: string;
  let unreachable: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'converge-access-'));
    unreachable = join(dir, 'kubeconfig');
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    unreachableKubeconfig(unreachable);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const oneLine = (r: ReturnType<typeof converge>) => {
    expect(r.status).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    return lines[0];
  };

  it('fails when --kubeconfig names no file', () => {
    expect(oneLine(converge('drift', '--env', 'dev', '--kubeconfig', join(dir, 'missing')))).toBe(
      `converge: --kubeconfig is ${JSON.stringify(join(dir, 'missing'))}; no such file. Pass an existing kubeconfig, or leave the flag out to use $KUBECONFIG or ~/.kube/config`,
    );
  });

  it('fails when no kubeconfig is given and none is found, rather than trying localhost:8080', () => {
    // GIVEN no --kubeconfig, no $KUBECONFIG, no ~/.kube/config and no pod around it
    const home = mkdtempSync(join(tmpdir(), 'converge-home-'));
    const env = {
      ...process.env,
      HOME: home,
      CONVERGE_CACHE: cacheRoot(),
      KUBECONFIG: '',
      KUBERNETES_SERVICE_HOST: '',
    };
    try {
      const r = spawnSync('node', [CLI, 'drift', '--env', 'dev', '--charts-dir', 'charts'], {
        encoding: 'utf8',
        cwd: ROOT,
        env,
      });
      // THEN one line says where it looked and what to pass
      expect(oneLine(r)).toBe(
        'converge: no kubeconfig: $KUBECONFIG is unset and ~/.kube/config does not exist; pass --kubeconfig <file>, set KUBECONFIG, or run in the cluster',
      );
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('fails when --context is not in the kubeconfig', () => {
    expect(oneLine(converge('drift', '--env', 'dev', '--kubeconfig', unreachable, '--context', 'prod'))).toBe(
      'converge: --context is "prod"; the kubeconfig has local. Pass one of them',
    );
  });

  it('fails when the cluster cannot be reached, naming the server', () => {
    expect(
      oneLine(converge('drift', '--env', 'dev', '--kubeconfig', unreachable, '--charts-dir', 'charts')),
    ).toBe(
      'converge: cannot reach the cluster at https://127.0.0.1:1 (ECONNREFUSED: nothing listens there); is the cluster up? check --kubeconfig and --context, or start the cluster',
    );
  });

  it('fails when --charts-dir is not a folder', () => {
    expect(
      oneLine(
        converge('drift', '--env', 'dev', '--kubeconfig', unreachable, '--charts-dir', join(dir, 'nope')),
      ),
    ).toContain(`--charts-dir is ${JSON.stringify(join(dir, 'nope'))}; no such folder.`);
  });

  it('fails when watch is given a resync of 0 seconds', () => {
    const r = converge('watch', '--env', 'dev', '--resync', '0');
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(
      "converge: error: option '--resync <seconds>' argument '0' is invalid. it is \"0\"; use whole seconds from 1 to 86400; run `converge watch --help` for usage",
    );
  });
});
