import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadAll } from 'js-yaml';
import { PlatformConfig } from '../constructs/config/platform-config';
import { isClusterScoped, KubeObject } from '../constructs/private/kube-object';
import { synthesizeEnvironment, SynthesizedEnvironment } from '../cli/environment';
import { UsageError } from '../cli/errors';
import { toolPath } from '../loaders/tools';
import { convergeCacheDir, packageRoot } from '../loaders/upstream';
import { DesiredObject } from './engine';

/*
 * The desired state, rendered by Converge itself rather than read from Argo CD: the synthesized
 * platform objects, plus `helm template` of each service chart with exactly the values its
 * Application passes, at the Git revision in the config. It needs neither Argo CD nor Pulumi.
 */

const run = promisify(execFile);

export interface DesiredState {
  readonly environment: SynthesizedEnvironment;
  readonly objects: readonly DesiredObject[];
  /** Where the charts were read from, and at which commit. */
  readonly charts: { readonly dir: string; readonly commit?: string; readonly note?: string };
}

export interface DesiredStateOptions {
  readonly stacksDir?: string;
  /** Read charts from this folder instead of Git (e.g. a working tree). */
  readonly chartsDir?: string;
}

function git(args: string[], cwd?: string): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
    // A repo that wants credentials fails at once instead of waiting for a prompt nobody answers.
    env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
  }).trim();
}

/** The repo's `charts/` at the configured revision, cached by commit outside the repo. */
export function chartsAtRevision(config: PlatformConfig): { dir: string; commit?: string; note?: string } {
  const { repoURL, revision } = config.git;
  const root = packageRoot();
  let commit: string | undefined;
  let note: string | undefined;
  try {
    const line = git([
      'ls-remote',
      repoURL,
      revision,
      `refs/heads/${revision}`,
      `refs/tags/${revision}`,
    ]).split('\n')[0];
    commit = line?.split(/\s+/)[0] || (/^[0-9a-f]{40}$/.test(revision) ? revision : undefined);
  } catch {
    note = `could not reach ${repoURL}; charts come from this checkout's ${revision}`;
  }
  commit ??= (() => {
    try {
      return git(['rev-parse', '--verify', '--quiet', `${revision}^{commit}`], root);
    } catch {
      return undefined;
    }
  })();
  if (!commit) {
    throw Object.assign(
      new Error(
        `git revision "${revision}" of ${repoURL} was not found (not reachable, and not in this checkout); fetch it or pass --charts-dir`,
      ),
      {
        name: 'UsageError',
      },
    );
  }
  const dir = join(
    convergeCacheDir(),
    'charts',
    `${createHash('sha256').update(repoURL).digest('hex').slice(0, 12)}-${commit}`,
  );
  if (!existsSync(dir)) {
    const tmp = `${dir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    let hasCommit = true;
    try {
      git(['cat-file', '-e', `${commit}^{commit}`], root);
    } catch {
      hasCommit = false;
    }
    if (hasCommit) {
      execFileSync('sh', ['-c', `git -C "${root}" archive "${commit}" charts | tar -x -C "${tmp}"`]);
    } else {
      const clone = `${tmp}-clone`;
      git(['clone', '--quiet', '--no-checkout', repoURL, clone]);
      git(['-C', clone, 'checkout', '--quiet', commit, '--', 'charts']);
      renameSync(join(clone, 'charts'), join(tmp, 'charts'));
      rmSync(clone, { recursive: true, force: true });
    }
    buildChartDependencies(join(tmp, 'charts'));
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  }
  return { dir, commit, note };
}

/** `helm dependency build` of every chart in a folder that declares dependencies (service-base). */
function buildChartDependencies(chartsDir: string): void {
  for (const chart of readdirSync(chartsDir)) {
    const path = join(chartsDir, chart);
    const manifest = join(path, 'Chart.yaml');
    if (existsSync(manifest) && /dependencies:/.test(readFileSync(manifest, 'utf8')))
      execFileSync(toolPath('helm'), ['dependency', 'build', path], { stdio: 'ignore' });
  }
}

interface AppSpec {
  source: {
    path: string;
    helm?: { releaseName?: string; valueFiles?: string[]; valuesObject?: Record<string, unknown> };
  };
  destination: { namespace: string };
}

/** `helm template` of one Application's chart, as Argo CD would render it. */
async function renderApplication(
  app: KubeObject,
  chartsRoot: string,
  workDir: string,
): Promise<DesiredObject[]> {
  const spec = app.spec as AppSpec;
  const chart = join(chartsRoot, spec.source.path);
  const values = join(workDir, `${app.metadata.name}.values.json`);
  writeFileSync(values, JSON.stringify(spec.source.helm?.valuesObject ?? {}));
  const args = [
    'template',
    spec.source.helm?.releaseName ?? app.metadata.name,
    chart,
    '--namespace',
    spec.destination.namespace,
  ];
  for (const f of spec.source.helm?.valueFiles ?? []) args.push('--values', join(chart, f));
  args.push('--values', values);
  const { stdout } = await run(toolPath('helm'), args, { maxBuffer: 64 * 1024 * 1024 });
  return (loadAll(stdout) as KubeObject[])
    .filter((o) => o && o.kind)
    .map((o) => ({
      application: app.metadata.name,
      object:
        isClusterScoped(o.kind) || o.metadata.namespace
          ? o
          : { ...o, metadata: { ...o.metadata, namespace: spec.destination.namespace } },
    }));
}

export async function desiredState(env: string, options: DesiredStateOptions = {}): Promise<DesiredState> {
  const environment = synthesizeEnvironment(env, options.stacksDir);
  const charts = options.chartsDir ? { dir: options.chartsDir } : chartsAtRevision(environment.loaded.config);
  const workDir = join(convergeCacheDir(), 'tmp', `drift-${process.pid}`);
  mkdirSync(workDir, { recursive: true });
  try {
    let chartsRoot = charts.dir;
    if (options.chartsDir) {
      if (!existsSync(options.chartsDir))
        throw new UsageError(
          `--charts-dir is ${JSON.stringify(options.chartsDir)}; no such folder. Pass the folder that holds app-service/ and model-service/ (this repo's charts/)`,
        );
      // A copy, so dependencies are built without writing Chart.lock or archives into the user's tree.
      cpSync(options.chartsDir, join(workDir, 'charts'), { recursive: true });
      buildChartDependencies(join(workDir, 'charts'));
      chartsRoot = workDir;
    }
    const rendered = await Promise.all(
      environment.platform.applicationSet.applications.map((app) =>
        renderApplication(app, chartsRoot, workDir),
      ),
    );
    const platform = environment.files.flatMap((f) => f.objects.map((object) => ({ object })));
    return { environment, objects: [...platform, ...rendered.flat()], charts };
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}
