import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { chmodSync, cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:net';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Command } from 'commander';
import { YAMLParseError } from 'yaml';
import { failureReport } from '../../cli/failure';
import { SERVICE_ACCOUNT_TOKEN } from '../../cli/commands/cluster-access';
import { displayPath } from '../../config/stack-file';
import { PlatformConfig } from '../../config/schema';
import { checkKubeConfig } from '../../drift/kube/client';
import { loadKubeConfig } from '../../drift/kube/kubeconfig';
import { DriftMetrics } from '../../drift/metrics';
import { DRIFT_CONTROLLER_NAME } from '../../model/constants';
import { ConvergeError, EXIT } from '../../model/errors';
import { synthesizeEnvironment } from '../../render/environment';
import { cacheRoot } from '../../render/cache';
import { chartsAtRevision } from '../../render/charts';
import {
  cli,
  everythingPrinted,
  expectFailure,
  isRoot,
  scratch,
  SENTINEL_PASSWORD,
  writeKubeconfig,
} from './error-path-helpers';

/*
 * Every failure of the file system, the YAML library, helm, git, a socket or the command line is
 * one line starting `converge: ` with exit 2 — never a stack trace, never exit 70.
 */

const ROOT = join(__dirname, '..', '..');
const STACKS = join(ROOT, 'stacks');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
// Staging: a real stack file that synthesizes, with services whose charts drift renders.
const ENV = 'staging';
const FILE = `Pulumi.${ENV}.yaml`;
const TEXT = readFileSync(join(STACKS, FILE), 'utf8');

let work: string;
beforeEach(() => {
  work = scratch();
});
afterEach(() => {
  // chmod 000 folders cannot be removed by a non-root user otherwise.
  try {
    chmodSync(join(work, 'stacks', FILE), 0o644);
  } catch {
    /* not there */
  }
  rmSync(work, { recursive: true, force: true });
});

/** A stacks folder in the scratch folder holding the stack file with `text`. */
function stacks(text: string | Buffer = TEXT): string {
  const dir = join(work, 'stacks');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, FILE), text);
  return dir;
}

const synth = (dir: string) => cli('synth', '--env', ENV, '--stacks-dir', dir, '--out', join(work, 'out'));
const kubeconfig = (shape: Parameters<typeof writeKubeconfig>[1] = {}) =>
  writeKubeconfig(join(work, 'kubeconfig'), shape);

describe('the stack file and --stacks-dir', () => {
  it('fails when the stack file is a folder', async () => {
    const dir = join(work, 'stacks');
    mkdirSync(join(dir, FILE), { recursive: true });
    expectFailure(await synth(dir), `${FILE}: is a folder, not a stack file;`);
  });

  it('fails when the stack file cannot be read (permission denied)', () => {
    // GIVEN a stack file nobody may read
    const dir = stacks();
    chmodSync(join(dir, FILE), 0o000);
    // root reads it anyway: then the built CLI runs as "nobody", for whom chmod 000 holds.
    const asRoot = isRoot();
    if (asRoot) for (const d of [work, dir]) chmodSync(d, 0o755);
    const r = spawnSync(
      'node',
      [CLI, 'synth', '--env', ENV, '--stacks-dir', dir, '--out', join(work, 'out')],
      {
        encoding: 'utf8',
        ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
      },
    );
    // THEN one line names the file and the fix
    expectFailure(
      { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr.replace(/\n$/, '') },
      `${join(dir, FILE)}: open: is not accessible (permission denied) (EACCES); fix its permissions or run as its owner`,
    );
  });

  it('fails when the stack file is not UTF-8, naming the line', async () => {
    const lines = TEXT.split('\n');
    const at = lines.findIndex((l) => l.includes(`environment: ${ENV}`));
    const bytes = Buffer.concat([
      Buffer.from(lines.slice(0, at).join('\n') + '\n'),
      Buffer.from([0x20, 0x20, 0x23, 0xff, 0xfe, 0x0a]),
      Buffer.from(lines.slice(at).join('\n')),
    ]);
    expectFailure(
      await synth(stacks(bytes)),
      `${FILE}:${at + 1}: is not valid UTF-8 text; save the file as UTF-8`,
    );
  });

  it('reads a stack file that starts with a byte order mark', async () => {
    const result = await synth(stacks(`\uFEFF${TEXT}`));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('fails when --stacks-dir does not exist', async () => {
    const missing = join(work, 'nope');
    expectFailure(
      await synth(missing),
      `--stacks-dir is ${JSON.stringify(missing)}; no such folder. Pass the folder that holds the Pulumi.<env>.yaml files`,
    );
  });

  it('fails when --stacks-dir is a file', async () => {
    const file = join(stacks(), FILE);
    expectFailure(await synth(file), `--stacks-dir is ${JSON.stringify(file)}; it is a file, not a folder.`);
  });

  it('fails when --stacks-dir is missing for validate and status too', async () => {
    const missing = join(work, 'nope');
    expectFailure(await cli('validate', '--env', ENV, '--stacks-dir', missing), '--stacks-dir is');
    expectFailure(await cli('status', '--env', ENV, '--stacks-dir', missing), '--stacks-dir is');
  });

  it('fails when the stack file is a YAML alias bomb ("billion laughs"), within seconds', async () => {
    const levels = 'abcdefghi'.split('');
    const bomb = levels
      .map((name, i) =>
        i === 0
          ? `${name}: &${name} ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]`
          : `${name}: &${name} [${Array(9)
              .fill(`*${levels[i - 1]}`)
              .join(',')}]`,
      )
      .join('\n');
    const started = Date.now();
    const result = await synth(stacks(`${bomb}\n`));
    expect(Date.now() - started).toBeLessThan(5_000);
    expectFailure(result, `${FILE}: not valid for Converge: its aliases expand more than 100 times`);
  });

  it('fails when a key appears twice, naming the key and its line', async () => {
    const text = TEXT.replace(
      `    environment: ${ENV}\n`,
      `    environment: ${ENV}\n    environment: ${ENV}\n`,
    );
    const line = TEXT.split('\n').findIndex((l) => l === `    environment: ${ENV}`) + 2;
    expectFailure(
      await synth(stacks(text)),
      `${FILE}:${line}:5: not valid YAML: the key "environment" appears twice in the same map; keep one of them`,
    );
  });

  it('fails when the file holds several YAML documents', async () => {
    const line = TEXT.split('\n').length + (TEXT.endsWith('\n') ? 0 : 1);
    expectFailure(
      await synth(stacks(`${TEXT.replace(/\n?$/, '\n')}---\nconfig: {}\n`)),
      `${FILE}:${line}:1: not valid YAML: a second document starts here ('---')`,
    );
  });

  it('fails when the file is indented with tabs', async () => {
    expectFailure(
      await synth(stacks(TEXT.replace(/^ {2}converge:platform:/m, '\tconverge:platform:'))),
      'not valid YAML: this line is indented with a tab; YAML indents with spaces only',
    );
  });

  it('fails when a stack file outside the working folder is bad, naming its absolute path (even from /)', async () => {
    const cwd = process.cwd();
    const dir = stacks('config: [\n');
    process.chdir('/');
    try {
      expectFailure(await synth(dir), `${join(dir, FILE)}:`);
      expect(displayPath(join(dir, FILE))).toBe(join(dir, FILE));
    } finally {
      process.chdir(cwd);
    }
    expect(displayPath(join(cwd, 'stacks', 'x.yaml'))).toBe(join('stacks', 'x.yaml'));
  });
});

describe('--charts-dir and helm', () => {
  const drift = (...args: string[]) =>
    cli('drift', '--env', ENV, '--kubeconfig', kubeconfig(), '--stacks-dir', STACKS, ...args);

  it('fails when --charts-dir is a file', async () => {
    const file = join(work, 'charts.txt');
    writeFileSync(file, '');
    expectFailure(await drift('--charts-dir', file), `--charts-dir is ${JSON.stringify(file)}; it is a file`);
  });

  it('fails when --charts-dir does not exist', async () => {
    const missing = join(work, 'none');
    expectFailure(
      await drift('--charts-dir', missing),
      `--charts-dir is ${JSON.stringify(missing)}; no such folder.`,
    );
  });

  it('fails when --charts-dir is empty, naming the chart it lacks', async () => {
    const empty = join(work, 'empty');
    mkdirSync(empty);
    expectFailure(
      await drift('--charts-dir', empty),
      `--charts-dir ${JSON.stringify(empty)} has no app-service/Chart.yaml, the chart of Application ${ENV}-app-service;`,
    );
  });

  it('fails when --charts-dir holds the cache folder, rather than copying the cache into itself', async () => {
    const home = join(work, 'home');
    mkdirSync(join(home, 'cache', 'tools'), { recursive: true });
    symlinkSync(join(cacheRoot(), 'tools', 'bin'), join(home, 'cache', 'tools', 'bin'));
    symlinkSync(join(cacheRoot(), 'upstream'), join(home, 'cache', 'upstream'));
    const before = process.env.CONVERGE_CACHE;
    process.env.CONVERGE_CACHE = join(home, 'cache');
    try {
      expectFailure(
        await drift('--charts-dir', home),
        `--charts-dir is ${JSON.stringify(home)}; it holds Converge's cache folder ${join(home, 'cache')}, which would be copied into itself.`,
      );
    } finally {
      if (before === undefined) delete process.env.CONVERGE_CACHE;
      else process.env.CONVERGE_CACHE = before;
    }
  });

  it("fails when a chart's template does not parse, naming the chart and helm's first error line", async () => {
    const charts = join(work, 'charts');
    cpSync(join(ROOT, 'charts'), charts, { recursive: true });
    writeFileSync(join(charts, 'app-service', 'templates', 'broken.yaml'), 'kind: {{ if }}\n');
    expectFailure(
      await drift('--charts-dir', charts),
      `\`helm template\` of chart charts/app-service (Application ${ENV}-app-service`,
      'failed: Error: parse error at (app-service/templates/broken.yaml:1): missing value for if;',
    );
  });
});

describe('git', () => {
  const config = (repoURL: string, revision: string) => ({ git: { repoURL, revision } }) as PlatformConfig;

  it('fails when git.repoURL is not a git repo and the revision is not in this checkout', () => {
    const notRepo = join(work, 'not-a-repo');
    mkdirSync(notRepo);
    expect(() => chartsAtRevision(config(`file://${notRepo}`, 'no-such-branch'))).toThrow(
      `git revision "no-such-branch" of file://${notRepo} was not found (not reachable, not in this checkout); fetch it, fix git.revision, or pass --charts-dir`,
    );
  });

  it("fails when the revision is unknown to the repo, with git's own first error line", () => {
    const bare = join(work, 'bare.git');
    execFileSync('git', ['init', '--quiet', '--bare', bare]);
    const sha = 'f'.repeat(40);
    let message = '';
    try {
      chartsAtRevision(config(`file://${bare}`, sha));
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(
      /^`git ls-tree` in .* failed: fatal: .+; check the repo and git.revision, or pass --charts-dir$/,
    );
    expect(message.split('\n')).toHaveLength(1);
    // Nothing half-written stays in the cache.
    const snapshots = join(cacheRoot(), 'git-snapshots');
    expect(fs.readdirSync(snapshots).filter((d) => d.includes(sha))).toEqual([]);
  });

  it('snapshots charts into a cache path with a space, $() and ; without running anything', () => {
    // GIVEN a cache folder whose name a shell would run, holding the built tools
    const marker = join(work, 'pwned');
    const cache = join(work, `cache dir $(touch ${marker}) ; touch ${marker}2 ;`);
    mkdirSync(join(cache, 'tools'), { recursive: true });
    symlinkSync(join(cacheRoot(), 'tools', 'bin'), join(cache, 'tools', 'bin'));
    const before = process.env.CONVERGE_CACHE;
    process.env.CONVERGE_CACHE = cache;
    try {
      // WHEN the charts are read from this checkout's HEAD
      const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
      const charts = chartsAtRevision(config(`file://${join(work, 'unreachable')}`, head));
      // THEN they are there, and no shell ran the name
      expect(charts.dir.startsWith(cache)).toBe(true);
      expect(fs.existsSync(join(charts.dir, 'charts', 'app-service', 'Chart.yaml'))).toBe(true);
      expect(fs.existsSync(marker)).toBe(false);
      expect(fs.existsSync(`${marker}2`)).toBe(false);
    } finally {
      if (before === undefined) delete process.env.CONVERGE_CACHE;
      else process.env.CONVERGE_CACHE = before;
    }
  });
});

describe('kubeconfigs and clusters', () => {
  const status = (...args: string[]) => cli('status', '--env', ENV, '--stacks-dir', STACKS, ...args);

  it('fails when --in-cluster runs outside a pod', async () => {
    const host = process.env.KUBERNETES_SERVICE_HOST;
    delete process.env.KUBERNETES_SERVICE_HOST;
    try {
      expectFailure(
        await cli('watch', '--env', ENV, '--in-cluster', '--metrics-port', '-1'),
        "--in-cluster needs a pod's service account, but $KUBERNETES_SERVICE_HOST is unset",
        fs.existsSync(SERVICE_ACCOUNT_TOKEN) ? '' : `${SERVICE_ACCOUNT_TOKEN} does not exist`,
        'or drop --in-cluster and pass --kubeconfig',
      );
    } finally {
      if (host !== undefined) process.env.KUBERNETES_SERVICE_HOST = host;
    }
  });

  it('fails when the kubeconfig is missing', async () => {
    const missing = join(work, 'missing');
    expectFailure(
      await status('--kubeconfig', missing),
      `--kubeconfig is ${JSON.stringify(missing)}; no such file.`,
    );
  });

  it('fails when the kubeconfig is not YAML', async () => {
    const file = join(work, 'kubeconfig');
    writeFileSync(file, 'clusters: [oops\n');
    expectFailure(
      await status('--kubeconfig', file),
      'is not a valid kubeconfig (',
      'pass a kubeconfig file',
    );
  });

  it('fails when the kubeconfig has no current context, listing the ones it has', async () => {
    expectFailure(
      await status('--kubeconfig', kubeconfig({ currentContext: null })),
      'the kubeconfig has no current context; pass --context with one of local, or run `kubectl config use-context <name>`',
    );
  });

  it('fails when the kubeconfig is YAML with no contexts at all', async () => {
    const file = join(work, 'kubeconfig');
    writeFileSync(file, 'foo: bar\n');
    expectFailure(
      await status('--kubeconfig', file),
      'the kubeconfig has no current context; add a context to it, or pass another --kubeconfig',
    );
  });

  it('fails when --context names a context the kubeconfig lacks', async () => {
    expectFailure(
      await status('--kubeconfig', kubeconfig(), '--context', 'prod'),
      '--context is "prod"; the kubeconfig has local. Pass one of them',
    );
  });

  it('fails when the context names a cluster the kubeconfig does not define', async () => {
    expectFailure(
      await status('--kubeconfig', kubeconfig({ contextCluster: 'gone' })),
      'context "local" names cluster "gone", which the kubeconfig does not define;',
    );
  });

  it('fails when the server is not a URL', async () => {
    expectFailure(
      await status('--kubeconfig', kubeconfig({ server: 'not a url' })),
      'cluster "c" of context "local" has server "not a url", which is not an http(s) URL;',
    );
  });

  it('fails when the server is plain http to another machine', async () => {
    expectFailure(
      await status('--kubeconfig', kubeconfig({ server: 'http://10.1.2.3:8080', insecure: true })),
      'has server http://10.1.2.3:8080: plain http to another machine would send the credentials unencrypted;',
    );
  });

  it('fails when the server is plain http to loopback without insecure-skip-tls-verify', async () => {
    expectFailure(
      await status('--kubeconfig', kubeconfig({ server: 'http://127.0.0.1:1' })),
      'client-node sends plain http only with insecure-skip-tls-verify: true;',
    );
  });

  it('fails when nothing listens at the server, naming it and asking whether the cluster is up', async () => {
    expectFailure(
      await status('--kubeconfig', kubeconfig()),
      'cannot reach the cluster at https://127.0.0.1:1 (ECONNREFUSED: nothing listens there); is the cluster up?',
    );
  });

  it('warns once on stderr when a non-loopback cluster skips TLS verification', async () => {
    // 0.0.0.0 is not loopback by name, and connecting to it is refused at once.
    const r = await status('--kubeconfig', kubeconfig({ server: 'https://0.0.0.0:1', insecure: true }));
    const lines = r.stderr.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(
      'converge: warning: local skips TLS verification (insecure-skip-tls-verify: true), so anyone between here and https://0.0.0.0:1 can read and change what converge sends, credentials included; set certificate-authority-data and remove insecure-skip-tls-verify',
    );
    expect(lines[1]).toContain('converge: cannot reach the cluster at https://0.0.0.0:1');
    expect(r.code).toBe(2);
  });

  it('does not warn for a loopback cluster that skips TLS verification', () => {
    const kc = loadKubeConfig({ kubeconfig: kubeconfig({ server: 'http://127.0.0.1:1', insecure: true }) });
    expect(checkKubeConfig(kc)).toEqual([]);
  });
});

describe('converge watch --metrics-port and --metrics-host', () => {
  let busy: Server;
  let port: number;
  beforeEach(async () => {
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    port = (busy.address() as AddressInfo).port;
  });
  afterEach(() => busy.close());

  const watch = (...args: string[]) =>
    cli('watch', '--env', ENV, '--kubeconfig', kubeconfig(), '--stacks-dir', STACKS, ...args);

  it('fails when --metrics-port is in use, naming the port and suggesting -1', async () => {
    expectFailure(
      await watch('--metrics-port', String(port)),
      `--metrics-port ${port}: 127.0.0.1:${port} is already in use (EADDRINUSE);`,
      'pass another --metrics-port, or --metrics-port -1 to serve no metrics',
    );
  });

  it('fails when --metrics-host is not an address of this machine', async () => {
    expectFailure(
      await watch('--metrics-port', '0', '--metrics-host', '203.0.113.7'),
      '--metrics-host is "203.0.113.7"; it is not an address of this machine (EADDRNOTAVAIL);',
    );
  });

  it('serves /metrics on loopback by default, and on the host given', async () => {
    const metrics = new DriftMetrics();
    const loopback = await metrics.serve(0);
    const every = await metrics.serve(0, '0.0.0.0');
    try {
      expect((loopback.address() as AddressInfo).address).toBe('127.0.0.1');
      expect((every.address() as AddressInfo).address).toBe('0.0.0.0');
    } finally {
      loopback.close();
      every.close();
    }
  });

  it('has the in-cluster Deployment serve /metrics on every interface, for Prometheus', () => {
    const { files } = synthesizeEnvironment(ENV, STACKS);
    const deployment = files
      .flatMap((f) => f.objects)
      .find((o) => o.kind === 'Deployment' && o.metadata.name === DRIFT_CONTROLLER_NAME);
    const args = (deployment?.spec as { template: { spec: { containers: { args: string[] }[] } } }).template
      .spec.containers[0].args;
    expect(args.slice(args.indexOf('--metrics-host'), args.indexOf('--metrics-host') + 2)).toEqual([
      '--metrics-host',
      '0.0.0.0',
    ]);
  });

  it('fails when --metrics-host 0.0.0.0 meets a port bound on every interface: the flag reaches the server', async () => {
    const all = createServer();
    await new Promise<void>((resolve) => all.listen(0, '0.0.0.0', resolve));
    const taken = (all.address() as AddressInfo).port;
    try {
      expectFailure(
        await watch('--metrics-port', String(taken), '--metrics-host', '0.0.0.0'),
        `0.0.0.0:${taken} is already in use (EADDRINUSE)`,
      );
    } finally {
      all.close();
    }
  });
});

describe('the command line', () => {
  it('fails when the command is unknown, even with --help', async () => {
    expectFailure(
      await cli('deploy', '--help'),
      "converge: error: unknown command 'deploy'; commands: synth, validate, drift, status, watch, approve, reject, promote, report, eval",
    );
  });

  it('fails when `converge help` is asked about an unknown command', async () => {
    expectFailure(await cli('help', 'deploy'), "converge: error: unknown command 'deploy'; commands: synth,");
  });

  it('fails when the command is misspelt, suggesting the right one', async () => {
    expectFailure(
      await cli('synt', '--env', ENV),
      "unknown command 'synt' (Did you mean synth?); commands: synth,",
    );
  });

  it('fails when an option is unknown, with the usage hint on the same line', async () => {
    expectFailure(
      await cli('synth', '--bogus'),
      "converge: error: unknown option '--bogus'; run `converge synth --help` for usage",
    );
  });

  it('fails when an option has no value', async () => {
    expectFailure(
      await cli('drift', '--env'),
      "converge: error: option '-e, --env <env>' argument missing; run `converge drift --help` for usage",
    );
  });

  it('fails when a required option is missing', async () => {
    expectFailure(
      await cli('status'),
      "converge: error: required option '-e, --env <env>' not specified; run `converge status --help` for usage",
    );
  });

  it('fails when a command gets an argument it does not take', async () => {
    expectFailure(await cli('synth', 'extra'), "error: too many arguments for 'synth'.");
  });

  it('prints the help of a known command and exits 0', async () => {
    const r = await cli('synth', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: converge synth');
  });
});

describe('the catch-all', () => {
  const program = new Command('converge');
  const debug = process.env.CONVERGE_DEBUG;
  afterEach(() => {
    if (debug === undefined) delete process.env.CONVERGE_DEBUG;
    else process.env.CONVERGE_DEBUG = debug;
  });

  it('fails when a system call fails anywhere, as one line with exit 2', () => {
    const err = Object.assign(new Error("ENOTDIR: not a directory, scandir '/x/y'"), {
      code: 'ENOTDIR',
      syscall: 'scandir',
      path: '/x/y',
    });
    expect(failureReport(err, program, [])).toEqual({
      lines: [
        'converge: /x/y: scandir: is not a folder (a part of the path is a file) (ENOTDIR); pass a folder',
      ],
      code: EXIT.badInput,
    });
  });

  it('fails when a socket is refused, naming the address', () => {
    const err = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), {
      code: 'ECONNREFUSED',
      syscall: 'connect',
      address: '127.0.0.1',
      port: 9,
    });
    expect(failureReport(err, program, []).lines).toEqual([
      'converge: 127.0.0.1:9: connect: refused the connection (ECONNREFUSED); is it up? check the address',
    ]);
  });

  it('fails when a program is not installed', () => {
    const err = Object.assign(new Error('spawn helm ENOENT'), {
      code: 'ENOENT',
      syscall: 'spawn helm',
      path: 'helm',
    });
    expect(failureReport(err, program, []).lines).toEqual([
      'converge: helm: the program is not installed or not on PATH (ENOENT); install it or fix PATH',
    ]);
  });

  it('fails when the YAML library throws, as one line with exit 2', () => {
    const err = new YAMLParseError([0, 1], 'BAD_INDENT', 'Bad indentation at line 1, column 1:\n\nx\n^');
    const report = failureReport(err, program, []);
    expect(report.code).toBe(EXIT.badInput);
    expect(report.lines).toEqual([expect.stringMatching(/^converge: not valid YAML: Bad indentation/)]);
  });

  it('fails when a message nobody foresaw carries a URL password, printing it as ***', () => {
    const err = new ConvergeError(`cannot fetch https://bot:${SENTINEL_PASSWORD}@git.example.com/x.git`);
    expect(failureReport(err, program, []).lines).toEqual([
      'converge: cannot fetch https://***@git.example.com/x.git',
    ]);
  });

  it('keeps exit 70 for a bug, with the stack only when CONVERGE_DEBUG=1', () => {
    delete process.env.CONVERGE_DEBUG;
    const bug = new TypeError("Cannot read properties of undefined (reading 'kind')");
    expect(failureReport(bug, program, [])).toEqual({
      lines: [
        "converge: internal error: Cannot read properties of undefined (reading 'kind'); this is a bug in converge: rerun with CONVERGE_DEBUG=1 for the stack trace and report it",
      ],
      code: EXIT.internal,
    });
    process.env.CONVERGE_DEBUG = '1';
    const debugged = failureReport(bug, program, []);
    expect(debugged.lines).toHaveLength(2);
    expect(debugged.lines[1]).toMatch(/\n\s+at /);
  });
});

describe('the sweep: kubeconfig lists, TLS material, credentials in URLs, flag values', () => {
  const status = (...args: string[]) => cli('status', '--env', ENV, '--stacks-dir', STACKS, ...args);
  /** A kubeconfig with cluster `dead` at `server`, user `u` with `user`, context `dead`. */
  const kubeconfigWith = (name: string, server: string, user: string, current = 'dead') =>
    writeFileSync(
      join(work, name),
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{name: dead, cluster: {server: ${JSON.stringify(server)}}}]`,
        `users: [{name: u, user: {${user}}}]`,
        'contexts: [{name: dead, context: {cluster: dead, user: u}}]',
        `current-context: ${current}`,
      ].join('\n'),
    );
  const withKubeconfigEnv = async (value: string, run: () => Promise<unknown>) => {
    const saved = process.env.KUBECONFIG;
    process.env.KUBECONFIG = value;
    try {
      await run();
    } finally {
      if (saved === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = saved;
    }
  };

  it('fails when the server URL carries a password, showing it as ***', async () => {
    const r = await status(
      '--kubeconfig',
      kubeconfig({ server: `https://admin:${SENTINEL_PASSWORD}@127.0.0.1:1` }),
    );
    expectFailure(r, 'cannot reach the cluster at https://***@127.0.0.1:1 (ECONNREFUSED');
    expect(r.stderr).not.toContain(SENTINEL_PASSWORD);
  });

  it('fails when a plain-http server URL carries a password, showing it as ***', async () => {
    const r = await status(
      '--kubeconfig',
      kubeconfig({ server: `http://admin:${SENTINEL_PASSWORD}@10.1.2.3:8080` }),
    );
    expectFailure(r, 'has server http://***@10.1.2.3:8080: plain http to another machine');
  });

  it('fails when the server is not an http(s) URL and carries a password, showing it as ***', async () => {
    const r = await status('--kubeconfig', kubeconfig({ server: `ftp://admin:${SENTINEL_PASSWORD}@host` }));
    expectFailure(r, 'has server "ftp://***@host", which is not an http(s) URL;');
  });

  it('fails when $KUBECONFIG lists two files that both define a cluster, using the first as kubectl does', async () => {
    // GIVEN two kubeconfigs defining cluster, user and context "dead" at different servers
    kubeconfigWith('a.yaml', 'https://127.0.0.1:1', `token: ${SENTINEL_PASSWORD}`);
    kubeconfigWith('b.yaml', 'https://127.0.0.2:1', `token: ${SENTINEL_PASSWORD}`, 'other');
    await withKubeconfigEnv(`${join(work, 'a.yaml')}:${join(work, 'b.yaml')}`, async () => {
      // THEN the first file's cluster is the one tried, and there is no exit 70
      expectFailure(await status(), 'cannot reach the cluster at https://127.0.0.1:1 (ECONNREFUSED');
      const kc = loadKubeConfig();
      expect(kc.getCurrentContext()).toBe('dead');
      expect(kc.getClusters().map((c) => c.server)).toEqual(['https://127.0.0.1:1']);
    });
  });

  it('fails when no file $KUBECONFIG lists exists, naming the list', async () => {
    const list = `${join(work, 'x.yaml')}:${join(work, 'y.yaml')}`;
    await withKubeconfigEnv(list, async () =>
      expectFailure(await status(), `$KUBECONFIG is ${JSON.stringify(list)}; none of its files exists.`),
    );
  });

  it('skips a missing file of $KUBECONFIG, as kubectl does', async () => {
    kubeconfigWith('a.yaml', 'https://127.0.0.1:1', 'token: t');
    await withKubeconfigEnv(`${join(work, 'missing.yaml')}:${join(work, 'a.yaml')}`, async () =>
      expectFailure(await status(), 'cannot reach the cluster at https://127.0.0.1:1'),
    );
  });

  it.each([
    [
      'client-key-data',
      'client-key-data: c3dlZXAta2V5LWRhdGE=',
      'user "u": client-key-data is not a PEM private key in base64',
    ],
    [
      'client-certificate-data',
      'client-certificate-data: bm90IGEgY2VydA==',
      'user "u": client-certificate-data is not a PEM certificate in base64',
    ],
  ])('fails when %s is junk, naming the kubeconfig, the user entry and the key', async (_key, user, part) => {
    kubeconfigWith('junk.yaml', 'https://127.0.0.1:1', user);
    const file = join(work, 'junk.yaml');
    const r = await status('--kubeconfig', file);
    expectFailure(
      r,
      `${file}: ${part}; replace it with the credentials your cluster issued, e.g. \`kubectl config set-credentials u`,
    );
    expect(r.stderr).not.toContain('c3dlZXAta2V5LWRhdGE');
  });

  it('fails when certificate-authority-data is junk, naming the cluster entry', async () => {
    const file = join(work, 'kubeconfig');
    writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1', certificate-authority-data: bm9wZQ==}}]",
        'users: [{name: me, user: {token: t}}]',
        'contexts: [{name: local, context: {cluster: c, user: me}}]',
        'current-context: local',
      ].join('\n'),
    );
    expectFailure(
      await status('--kubeconfig', file),
      `${file}: cluster "c": certificate-authority-data is not a PEM CA certificate in base64; replace it with the cluster's CA`,
    );
  });

  it('fails when client-key names a file that does not exist, naming it', async () => {
    const missing = join(work, 'client.key');
    kubeconfigWith('k.yaml', 'https://127.0.0.1:1', `client-key: ${missing}`);
    expectFailure(
      await status('--kubeconfig', join(work, 'k.yaml')),
      `user "u": client-key ${JSON.stringify(missing)}: open: does not exist (ENOENT)`,
    );
  });

  it.each([
    ['--kubeconfig', 'pass a kubeconfig file, or leave the flag out to use $KUBECONFIG or ~/.kube/config'],
    ['--context', "pass a context name, or leave the flag out to use the kubeconfig's current context"],
  ])('fails when %s is empty, rather than falling back to another kubeconfig', async (flag, fix) => {
    expectFailure(await status('--kubeconfig', kubeconfig(), flag, ''), `${flag} is ""; ${fix}`);
  });

  it('fails when $KUBECONFIG names no file at all', async () => {
    await withKubeconfigEnv(':', async () =>
      expectFailure(await status(), '$KUBECONFIG is ":"; it names no file. Point it at your kubeconfig'),
    );
  });

  it.each(['Pulumi.staging.yml', 'pulumi.staging.yaml'])(
    'fails when the stack file is misnamed %s, naming the file to rename',
    async (misnamed) => {
      const dir = stacks();
      fs.renameSync(join(dir, FILE), join(dir, misnamed));
      expectFailure(
        await synth(dir),
        `${FILE}: file not found, but "${misnamed}" is beside it; rename that to ${FILE} (Pulumi and converge read only that name)`,
      );
    },
  );

  it('fails when --env holds a newline, quoting it on one line', async () => {
    const r = await cli('synth', '--check', '--env', 'dev\nprod', '--stacks-dir', STACKS);
    expectFailure(
      r,
      'environment "dev\\nprod" is unknown; allowed: dev, staging, prod;',
      'add stacks/Pulumi.<env>.yaml',
    );
  });

  const watch = (...args: string[]) =>
    cli('watch', '--env', ENV, '--kubeconfig', kubeconfig(), '--stacks-dir', STACKS, ...args);

  it.each([
    ['empty', ''],
    ['a space', ' '],
    ['hexadecimal', '0x50'],
    ['an exponent', '8e3'],
  ])('fails when --metrics-port is %s', async (_name, value) => {
    expectFailure(
      await watch('--metrics-port', value),
      `option '--metrics-port <port>' argument '${value}' is invalid. it is ${JSON.stringify(value)}; use a whole number (a port 0-65535, -1 for none)`,
    );
  });

  it.each([
    ['empty', ''],
    ['a space', ' '],
    ['words', 'not a host'],
    ['a URL', 'http://127.0.0.1'],
  ])('fails when --metrics-host is %s', async (_name, value) => {
    expectFailure(
      await watch('--metrics-host', value, '--metrics-port', '-1'),
      `option '--metrics-host <host>' argument '${value}' is invalid. it is ${JSON.stringify(value)}; pass an IP address or host name of this machine`,
    );
  });

  it.each([
    ['empty', ''],
    ['a space', ' '],
  ])('fails when --resync is %s', async (_name, value) => {
    expectFailure(
      await watch('--resync', value),
      `it is ${JSON.stringify(value)}; use whole seconds from 1 to 86400`,
    );
  });
});

describe('secrets in output', () => {
  // Runs last in this file: every kubeconfig above carries the sentinel as its token or URL password.
  it('fails when any line printed by the tests above carries the sentinel password', () => {
    expect(everythingPrinted()).not.toBe('');
    expect(everythingPrinted()).not.toContain(SENTINEL_PASSWORD);
  });
});
