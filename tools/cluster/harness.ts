import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  Watch,
} from '@kubernetes/client-node';
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parse, stringify } from 'yaml';
import { packageRoot } from '../../config/package-root';
import { ARGOCD_NAMESPACE } from '../../model/constants';
import { resultsDir, runDir } from '../../render/cache';
import { toolsBinDir } from '../../render/tools';
import { pulumiHome } from '../pulumi-home';

/*
 * Shared by the end-to-end suite and the cluster benchmarks: where the local control plane lives
 * (tools/cluster/main.mjs), API clients for it, the real Pulumi CLI, and a local Git remote.
 */

/** The test users (carol, an approver; dave, in no approver group) and their bearer tokens. */
export { TEST_USERS, userToken } from './test-users';

export const ROOT = packageRoot();
export const RUN_DIR = runDir();
export const KUBECONFIG = join(RUN_DIR, 'kubeconfig');
export const GIT_URL = `git://127.0.0.1:${process.env.CONVERGE_GIT_PORT ?? 29418}/converge.git`;
export const BARE_REPO = join(RUN_DIR, 'git', 'converge.git');
/** The loopback OCI registry (plain http): image references start with it. */
export const REGISTRY = `127.0.0.1:${process.env.CONVERGE_REGISTRY_PORT ?? 25000}`;
export const ARGOCD_NS = ARGOCD_NAMESPACE;
/** Where the suite writes measured times. */
export const RESULTS_DIR = resultsDir();

export function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(KUBECONFIG);
  return kc;
}

export interface Clients {
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly custom: CustomObjectsApi;
  readonly objects: KubernetesObjectApi;
  readonly watch: Watch;
}

export function clients(kc = kubeConfig()): Clients {
  return {
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    objects: KubernetesObjectApi.makeApiClient(kc),
    watch: new Watch(kc),
  };
}

/** Environment for the real Pulumi CLI: local plugins on PATH, a file backend, no downloads. */
export function pulumiEnv(backendDir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: `${toolsBinDir()}:${process.env.PATH}`,
    PULUMI_BACKEND_URL: `file://${backendDir}`,
    PULUMI_CONFIG_PASSPHRASE: 'converge-e2e',
    PULUMI_SKIP_UPDATE_CHECK: 'true',
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: 'true',
    PULUMI_HOME: pulumiHome(join(backendDir, '.pulumi-home')),
    PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: 'true',
    KUBECONFIG,
  };
}

export interface PulumiResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** Runs `pulumi <args>` in a project directory and resolves with its output. */
export function pulumi(args: string[], env: NodeJS.ProcessEnv, cwd = ROOT): Promise<PulumiResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(
      'pulumi',
      [...args, '--non-interactive', '--color', 'never'],
      { cwd, env, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        resolve({
          code: err ? ((err as { code?: number }).code ?? 1) : 0,
          stdout,
          stderr,
          ms: performance.now() - started,
        });
      },
    );
  });
}

/**
 * A scratch Pulumi project around this repo's compiled program: a file backend and the stack's
 * config file live in a temp dir, so tests never write into stacks/.
 */
export class PulumiWorkspace {
  public readonly dir: string;
  public readonly env: NodeJS.ProcessEnv;
  public readonly configFile: string;

  /** A new workspace, or with `dir` the one an earlier test file made (its stack and state kept). */
  constructor(
    public readonly stack: string,
    dir?: string,
  ) {
    this.dir = dir ?? mkdtempSync(join(tmpdir(), 'converge-pulumi-'));
    this.env = pulumiEnv(this.dir);
    this.configFile = join(this.dir, `Pulumi.${stack}.yaml`);
    if (dir) return;
    writeFileSync(
      join(this.dir, 'Pulumi.yaml'),
      stringify({
        name: 'converge',
        runtime: { name: 'nodejs', options: { typescript: false } },
        main: join(ROOT, 'dist', 'stacks', 'index.js'),
      }),
    );
  }

  /** Writes the stack file from an environment's committed one, pointed at the local Git server and cluster. */
  public writeConfig(stackYaml: string, extra: Record<string, unknown> = {}): void {
    const doc = parse(stackYaml) as { config: Record<string, unknown> };
    const platform = doc.config['converge:platform'] as { git: { repoURL: string } };
    platform.git.repoURL = GIT_URL;
    const previous = this.readConfig();
    writeFileSync(
      this.configFile,
      stringify({
        ...(previous.encryptionsalt ? { encryptionsalt: previous.encryptionsalt } : {}),
        config: { ...doc.config, 'kubernetes:kubeconfig': KUBECONFIG, ...extra },
      }),
    );
  }

  private readConfig(): { encryptionsalt?: string } {
    try {
      return (parse(readFileSync(this.configFile, 'utf8')) as { encryptionsalt?: string }) ?? {};
    } catch {
      return {};
    }
  }

  public run(args: string[]): Promise<PulumiResult> {
    return pulumi([...args, '--stack', this.stack], this.env, this.dir);
  }

  public async init(): Promise<void> {
    const r = await pulumi(['stack', 'init', this.stack], this.env, this.dir);
    if (r.code !== 0) throw new Error(`pulumi stack init failed: ${r.stderr}${r.stdout}`);
  }

  public remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Polls until `check` returns a value (not undefined/false); resolves with it and the elapsed ms. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  { timeoutMs = 120_000, intervalMs = 100 } = {},
): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false)
        return { value: value as T, ms: performance.now() - started };
    } catch (err) {
      last = err;
    }
    if (performance.now() - started > timeoutMs) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface ApplicationStatus {
  readonly sync?: { status?: string; revision?: string };
  readonly health?: { status?: string };
  readonly operationState?: { phase?: string; message?: string };
  readonly conditions?: { type: string; message: string }[];
}

export async function application(
  c: Clients,
  name: string,
): Promise<KubernetesObject & { spec: Record<string, unknown>; status?: ApplicationStatus }> {
  return (await c.custom.getNamespacedCustomObject({
    group: 'argoproj.io',
    version: 'v1alpha1',
    namespace: ARGOCD_NS,
    plural: 'applications',
    name,
  })) as KubernetesObject & { spec: Record<string, unknown>; status?: ApplicationStatus };
}

/** Merge-patches an Argo CD Application. */
export async function patchApplication(c: Clients, name: string, body: object): Promise<void> {
  await c.custom.patchNamespacedCustomObject(
    { group: 'argoproj.io', version: 'v1alpha1', namespace: ARGOCD_NS, plural: 'applications', name, body },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

/** Asks Argo CD to re-read Git now, as a Git webhook would. */
export async function refresh(c: Clients, name: string): Promise<void> {
  await patchApplication(c, name, { metadata: { annotations: { 'argocd.argoproj.io/refresh': 'normal' } } });
}

/**
 * Commits files to the Git server's repo (as a developer's push would) and returns the new commit;
 * a file given `null` is removed.
 */
export function commitToServer(files: Record<string, string | null>, message: string): string {
  const work = mkdtempSync(join(tmpdir(), 'converge-git-'));
  try {
    const git = (...args: string[]) =>
      execFileSync('git', ['-C', work, ...args], { encoding: 'utf8' }).trim();
    execFileSync('git', ['clone', '--quiet', '--branch', 'main', BARE_REPO, work]);
    git('config', 'user.email', 'e2e@converge.local');
    git('config', 'user.name', 'converge e2e');
    for (const [path, content] of Object.entries(files)) {
      if (content === null) {
        git('rm', '--quiet', '--ignore-unmatch', '--', path);
        continue;
      }
      mkdirSync(dirname(join(work, path)), { recursive: true }); // e.g. a chart's first images/<env>.yaml
      writeFileSync(join(work, path), content);
      git('add', '--', path);
    }
    git('commit', '--quiet', '-m', message);
    git('push', '--quiet', 'origin', 'main');
    return git('rev-parse', 'HEAD');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** A file as committed on the Git server's main branch. */
export function fileOnServer(path: string): string {
  return execFileSync('git', ['--git-dir', BARE_REPO, 'show', `main:${path}`], { encoding: 'utf8' });
}

/**
 * The dev stack's app-service as committed on the Git server's main branch (stacks/Pulumi.dev.yaml):
 * the state self-heal must restore.
 */
export function devGitState(): { namespace: string; image: string; replicas: number } {
  const stack = parse(fileOnServer('stacks/Pulumi.dev.yaml')) as {
    config: {
      'converge:platform': {
        services: Record<
          string,
          { namespace: string; image: { repository: string; tag: string }; replicas: number }
        >;
      };
    };
  };
  const app = stack.config['converge:platform'].services['app-service'];
  return {
    namespace: app.namespace,
    image: `${app.image.repository}:${app.image.tag}`,
    replicas: app.replicas,
  };
}

/** A Kubernetes object recorded in a Pulumi stack's state. */
export interface StackKubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
}

interface StateResource {
  readonly type: string;
  readonly custom?: boolean;
  readonly id?: string;
  readonly outputs?: { metadata?: { name?: unknown; namespace?: unknown } };
}

/**
 * Every Kubernetes API object in `pulumi stack export` output: the provider's custom resources,
 * typed `kubernetes:<group>/<version>:<Kind>`. Providers (`pulumi:providers:kubernetes`), the stack
 * (`pulumi:pulumi:Stack`), components and Helm releases (not API objects) are left out.
 */
export function stackKubeObjects(exported: string): StackKubeObject[] {
  const state = JSON.parse(exported) as { deployment?: { resources?: StateResource[] } };
  const objects: StackKubeObject[] = [];
  for (const r of state.deployment?.resources ?? []) {
    const token = /^kubernetes:([^:]+\/[^:]+):([^:]+)$/.exec(r.type);
    if (!r.custom || !token || token[1].startsWith('helm.sh/')) continue;
    const apiVersion = token[1].startsWith('core/') ? token[1].slice('core/'.length) : token[1];
    const meta = r.outputs?.metadata;
    // The provider's id is `namespace/name`, or `name` when cluster-scoped.
    const [idNamespace, idName] = (r.id ?? '').includes('/') ? r.id!.split('/', 2) : [undefined, r.id];
    const name = typeof meta?.name === 'string' ? meta.name : idName;
    const namespace = typeof meta?.namespace === 'string' ? meta.namespace : idNamespace;
    if (!name) throw new Error(`no name for ${r.type} in the stack state`);
    objects.push({ apiVersion, kind: token[2], ...(namespace ? { namespace } : {}), name });
  }
  return objects;
}

/**
 * Restarts the local Argo CD application-controller so it reads argocd-cm and
 * argocd-cmd-params-cm again, as the controller's pods would be rolled after a config change.
 */
export function restartArgoCdController(extraEnv: NodeJS.ProcessEnv = {}): void {
  restartComponent('application-controller', extraEnv);
}

/**
 * After a `pulumi up` changed argocd-cm: the repo-server, then the application-controller, start
 * again and read it, as the real install's pods would be rolled (the repo-server takes
 * `timeout.reconciliation` as its revision cache's lifetime, which bounds polling).
 */
export function applyArgoCdConfig(): void {
  restartComponent('repo-server');
  restartComponent('application-controller');
}

function restartComponent(name: string, extraEnv: NodeJS.ProcessEnv = {}): void {
  execFileSync('node', [join(ROOT, 'tools', 'cluster', 'main.mjs'), 'restart', name], {
    env: { ...process.env, ...extraEnv },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/**
 * Argo CD as the control plane's `up` installed it (CRDs, base config, default project, processes),
 * for a file that applies Applications itself: a stack's `pulumi destroy` before it takes them away.
 * Quick when nothing is missing.
 */
export function restoreArgoCd(): void {
  execFileSync('node', [join(ROOT, 'tools', 'cluster', 'main.mjs'), 'restore-argocd'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/**
 * What the secret-init container of Argo CD's redis pod does once the install is applied: makes the
 * argocd-redis Secret (a random password) its Deployments read. kwok runs no containers, so without
 * this the Secret a real install has is missing. Its output names no password; it is dropped anyway.
 */
export function runArgoCdRedisSecretInit(): void {
  execFileSync(
    join(toolsBinDir(), 'argocd'),
    ['admin', 'redis-initial-password', '--namespace', ARGOCD_NS, '--kubeconfig', KUBECONFIG],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
}

/** Runs `kubectl` (built by tools/build.mjs) against the local cluster. */
export function kubectl(args: string[], input?: string): string {
  return execFileSync(join(toolsBinDir(), 'kubectl'), ['--kubeconfig', KUBECONFIG, ...args], {
    encoding: 'utf8',
    input,
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}
