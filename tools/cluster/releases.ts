import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { toolPath } from '../../render/tools';
import { performance } from 'node:perf_hooks';
import { BARE_REPO, Clients, GIT_URL, ROOT, waitFor } from './harness';

export { BARE_REPO };

/*
 * Releases as a developer makes them: edit a stack file, render its manifests with `converge
 * synth`, commit both, push to the Git server. The process has no kubeconfig: after the bootstrap,
 * Git is the only way in. Shared by the end-to-end suite and the cluster benchmarks.
 */

/** Key paths under `converge:platform` (e.g. `services.app-service.image.tag`) and their new values; `undefined` removes the key. */
export type StackEdits = Readonly<Record<string, unknown>>;

const withoutCluster = (): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  delete env.KUBECONFIG;
  return env;
};

export interface ReleaseOptions {
  /**
   * Push, which runs the Git server's post-receive hook (a webhook to Argo CD). `false` lands the
   * commit without any hook, as on a Git host with no webhook set up: Argo CD sees it when it polls.
   * @default true
   */
  readonly webhook?: boolean;
}

/** git in `dir` as `who`, needing no Git identity or signing setup on the machine. */
export function gitIn(dir: string, who: string, env: NodeJS.ProcessEnv = process.env) {
  return (...args: string[]): string =>
    execFileSync(
      'git',
      [
        '-C',
        dir,
        '-c',
        `user.name=${who}`,
        '-c',
        `user.email=${who.replace(/\W+/g, '-')}@localhost`,
        '-c',
        'commit.gpgsign=false',
        ...args,
      ],
      { encoding: 'utf8', env },
    ).trim();
}

/** Runs `fn` in a fresh clone of the Git server's main branch and lands what it committed. */
function inClone<T>(
  fn: (git: (...args: string[]) => string, work: string) => T,
  { webhook = true }: ReleaseOptions = {},
): T {
  const work = mkdtempSync(join(tmpdir(), 'converge-release-'));
  const env = withoutCluster();
  const git = gitIn(work, 'converge e2e', env);
  try {
    execFileSync('git', ['clone', '--quiet', '--branch', 'main', BARE_REPO, work], { env });
    const result = fn(git, work);
    if (webhook) git('push', '--quiet', 'origin', 'main');
    // A fetch into the served repo runs no receive hooks; main only fast-forwards.
    else execFileSync('git', ['--git-dir', BARE_REPO, 'fetch', '--quiet', work, 'main:main'], { env });
    return result;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Commits a stack-file change with its rendered manifests to the Git server; returns the commit
 * (main as it was when the edits change nothing).
 */
export function release(
  env: string,
  edits: StackEdits,
  message: string,
  options: ReleaseOptions = {},
): string {
  return inClone((git, work) => {
    const file = join(work, 'stacks', `Pulumi.${env}.yaml`);
    const doc = parseDocument(readFileSync(file, 'utf8'));
    for (const [path, value] of Object.entries(edits)) {
      const at = ['config', 'converge:platform', ...path.split('.')];
      if (value === undefined) doc.deleteIn(at);
      else doc.setIn(at, value);
    }
    writeFileSync(file, doc.toString());
    execFileSync(
      'node',
      [join(ROOT, 'dist', 'cli', 'main.js'), 'synth', '--env', env, '--stacks-dir', join(work, 'stacks')],
      { cwd: work, env: withoutCluster(), stdio: ['ignore', 'ignore', 'inherit'] },
    );
    git('add', '--all', 'stacks', 'manifests');
    // Already released (the same edits landed before): nothing to commit, main as it is.
    if (git('status', '--porcelain', '--', 'stacks', 'manifests') !== '')
      git('commit', '--quiet', '-m', message);
    return git('rev-parse', 'HEAD');
  }, options);
}

/** `git revert` of a commit on the Git server's main branch, pushed; returns the revert commit. */
export function revert(commit: string, options: ReleaseOptions = {}): string {
  return inClone((git) => {
    git('revert', '--no-edit', commit);
    return git('rev-parse', 'HEAD');
  }, options);
}

/** The stack file of an environment as committed on the Git server's main branch, as data. */
export function platformOnServer(env: string): Record<string, unknown> {
  const text = execFileSync('git', ['--git-dir', BARE_REPO, 'show', `main:stacks/Pulumi.${env}.yaml`], {
    encoding: 'utf8',
  });
  return (parseDocument(text).toJSON() as { config: Record<string, Record<string, unknown>> }).config[
    'converge:platform'
  ];
}

/**
 * A second repo on the Git server holding a third-party chart: Helm's own starter chart
 * (`helm create`), as a platform team would keep a vendor's chart. Returns its URL; the chart is
 * at `charts/<chart>` on main. Made once per control plane.
 */
export function serveStarterChart(repo: string, chart: string): string {
  const bare = join(BARE_REPO, '..', `${repo}.git`);
  const url = GIT_URL.replace(/converge\.git$/, `${repo}.git`);
  if (existsSync(bare)) return url;
  const env = withoutCluster();
  const work = mkdtempSync(join(tmpdir(), 'converge-chart-'));
  try {
    const git = gitIn(work, 'vendor', env);
    git('init', '--quiet', '--initial-branch', 'main');
    mkdirSync(join(work, 'charts'));
    execFileSync(toolPath('helm'), ['create', join(work, 'charts', chart)], { env, stdio: 'ignore' });
    git('add', '--all');
    git('commit', '--quiet', '-m', `${chart}: helm create`);
    execFileSync('git', ['init', '--quiet', '--bare', bare], { env });
    git('push', '--quiet', bare, 'main');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return url;
}

/** What dev's cluster runs of the values a release changes. */
export interface Observed {
  readonly image: string;
  readonly modelReplicas: number;
  readonly weight: number;
}

export const sameObserved = (a: Observed, b: Observed) =>
  a.image === b.image && a.modelReplicas === b.modelReplicas && a.weight === b.weight;

export async function observeDev(c: Clients): Promise<Observed> {
  const app = await c.apps.readNamespacedDeployment({ name: 'app-service', namespace: 'dev-web' });
  const model = await c.apps.readNamespacedDeployment({ name: 'model-service', namespace: 'dev-ml' });
  const vs = (await c.custom.getNamespacedCustomObject({
    group: 'networking.istio.io',
    version: 'v1',
    namespace: 'dev-web',
    plural: 'virtualservices',
    name: 'app-service',
  })) as { spec: { http: { name: string; route: { destination: { subset: string }; weight: number }[] }[] } };
  const weighted = vs.spec.http.find((h) => h.name === 'weighted')!;
  return {
    image: app.spec?.template.spec?.containers[0].image ?? '',
    modelReplicas: model.spec?.replicas ?? -1,
    weight: weighted.route.find((r) => r.destination.subset === 'canary')?.weight ?? -1,
  };
}

export interface TimedReleases {
  /** Push (or land) → every changed value running, per commit, in ms. */
  readonly latencies: number[];
  readonly last: { readonly commit: string; readonly before: Observed; readonly after: Observed };
}

/**
 * `count` dev releases, each changing app-service's image tag, model-service's replicas and
 * app-service's canary weight; each waits until the cluster runs all three. With `webhook: false`
 * Argo CD learns of a commit only when it polls.
 */
export async function timedReleases(
  c: Clients,
  label: string,
  count: number,
  { webhook = true, timeoutMs = 600_000 }: ReleaseOptions & { timeoutMs?: number } = {},
): Promise<TimedReleases> {
  const latencies: number[] = [];
  let last: TimedReleases['last'] | undefined;
  for (let i = 1; i <= count; i++) {
    const before = await observeDev(c);
    const tag = `1.5.1-${label}.${i}`;
    const after: Observed = {
      image: `ghcr.io/example-org/app-service:${tag}`,
      modelReplicas: before.modelReplicas === 1 ? 2 : 1,
      weight: before.weight === 30 ? 40 : 30,
    };
    const started = performance.now();
    const commit = release(
      'dev',
      {
        'services.app-service.image.tag': tag,
        'services.model-service.replicas': after.modelReplicas,
        'services.app-service.canary.weight': after.weight,
      },
      `dev: app-service ${tag}, model-service x${after.modelReplicas}, canary ${after.weight}%`,
      { webhook },
    );
    await waitFor(
      `commit ${commit.slice(0, 7)} running`,
      async () => sameObserved(await observeDev(c), after),
      {
        timeoutMs,
        intervalMs: 100,
      },
    );
    latencies.push(performance.now() - started);
    last = { commit, before, after };
  }
  return { latencies, last: last! };
}
