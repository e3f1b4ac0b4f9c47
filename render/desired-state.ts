import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { App } from 'cdk8s';
import {
  LoadedStackConfig,
  loadStackConfig,
  stackConfigFromText,
  stackFileLabel,
} from '../config/stack-file';
import { GitOpsPlatform } from '../constructs/platform/gitops-platform';
import {
  ARGOCD_MANIFEST,
  BOOTSTRAP_MANIFESTS,
  MANIFESTS_DIR,
  PLATFORM_CONFIG_KEY,
  PLATFORM_MANIFEST,
} from '../model/constants';
import { ConfigError, showValue, UsageError, ValidationError } from '../model/errors';
import { DesiredObject, KubeObject } from '../model/objects';
import { cacheRoot } from './cache';
import { ChartsSource, chartsAtRevision, localCharts } from './charts';
import { synthesizeEnvironment, synthesizeLoaded, SynthesizedEnvironment } from './environment';
import { renderApplication } from './helm';
import { upstreamPin } from './upstream';

/*
 * The desired state, rendered by Converge itself rather than read from Argo CD: what Git holds at
 * the configured revision — the committed manifests, the stack file they came from, and
 * `helm template` of each service chart with exactly the values its Application passes. The local
 * stack file only says where to look (git.repoURL and git.revision). Needs neither Argo CD nor Pulumi.
 */

export interface DesiredState {
  /** The environment as its stack file in Git declares it (the local one with `chartsDir`). */
  readonly environment: SynthesizedEnvironment;
  readonly objects: readonly DesiredObject[];
  /** Where the charts and manifests were read from, and at which commit. */
  readonly charts: ChartsSource;
}

export interface DesiredStateOptions {
  readonly stacksDir?: string;
  /** Read charts from this folder and the stack file from `stacksDir`, not Git (e.g. a working tree). */
  readonly chartsDir?: string;
  /** Read this repo at this revision, with no local stack file (the in-cluster controller has none). @default the local stack file's `git` */
  readonly git?: { readonly repoURL: string; readonly revision: string };
  /**
   * Leave Argo CD's installation out (its namespace is not watched), so the pinned upstream files,
   * which the controller's image does not ship, are not read. @default false
   */
  readonly withoutArgoCd?: boolean;
}

export async function desiredState(env: string, options: DesiredStateOptions = {}): Promise<DesiredState> {
  const workDir = join(cacheRoot(), 'tmp', `drift-${process.pid}`);
  mkdirSync(workDir, { recursive: true });
  try {
    if (options.chartsDir) {
      const environment = synthesizeEnvironment(env, options.stacksDir);
      const chartsRoot = localCharts(options.chartsDir, workDir);
      const platform = environment.files.flatMap((f) => f.objects);
      return {
        environment,
        objects: [
          ...platform.map((object) => ({ object })),
          ...(await render(
            environment,
            chartsRoot,
            workDir,
            `--charts-dir ${JSON.stringify(options.chartsDir)}`,
          )),
        ],
        charts: { dir: options.chartsDir },
      };
    }
    const charts = chartsAtRevision(
      options.git ? { git: options.git } : loadStackConfig(env, { dir: options.stacksDir }).config,
    );
    const environment = fromGit(env, charts, options.withoutArgoCd ?? false);
    const committed = committedManifests(env, charts);
    // Argo CD's installation is never committed (upstream YAML): it comes from the Git stack file.
    const argocd = environment.files.find((f) => f.name === ARGOCD_MANIFEST)?.objects ?? [];
    return {
      environment,
      objects: [
        ...[...argocd, ...committed].map((object) => ({ object })),
        ...(await render(environment, charts.dir, workDir, `Git at ${at(charts)}`)),
      ],
      charts,
    };
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

function render(environment: SynthesizedEnvironment, chartsRoot: string, workDir: string, label: string) {
  return Promise.all(
    environment.platform.applicationSet.applications.map((app) =>
      renderApplication(app, chartsRoot, workDir, label),
    ),
  ).then((r) => r.flat());
}

const at = (charts: ChartsSource) => `${charts.commit ? charts.commit.slice(0, 12) : charts.dir}`;

/** The environment as the stack file committed at that revision declares it. */
function fromGit(env: string, charts: ChartsSource, withoutArgoCd: boolean): SynthesizedEnvironment {
  const label = stackFileLabel(env);
  const path = join(charts.dir, label);
  if (!existsSync(path))
    throw new UsageError(
      `${label} is not in Git at ${at(charts)}; commit and push it (with its manifests), or pass --charts-dir to compare against this checkout`,
    );
  const loaded = stackConfigFromText(env, readFileSync(path, 'utf8'), `${label}@${at(charts)}`);
  return withoutArgoCd ? platformWithoutArgoCd(loaded) : synthesizeLoaded(loaded);
}

/**
 * The platform's constructs (its config and Applications) without Argo CD's official objects: a
 * stand-in ConfigMap takes their place and no file is synthesized, so nothing upstream is read.
 * The committed stack file passed `converge synth` already; a construct's complaint still names it.
 */
function platformWithoutArgoCd(loaded: LoadedStackConfig): SynthesizedEnvironment {
  const config = loaded.config;
  const standIn = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'argocd-cm' } };
  try {
    const platform = new GitOpsPlatform(new App(), loaded.environment, {
      config,
      argoCdManifests: { version: upstreamPin('argo-cd').version, ha: config.argocd.ha, objects: [standIn] },
    });
    return { loaded, platform, files: [] };
  } catch (err) {
    if (err instanceof ValidationError)
      throw new ConfigError([
        `${loaded.file}: ${PLATFORM_CONFIG_KEY}.${err.path} is ${showValue(err.value)}; ${err.rule}`,
      ]);
    throw err;
  }
}

/** The objects of `manifests/<env>/` as committed: what Pulumi bootstrapped and the root applies. */
function committedManifests(env: string, charts: ChartsSource): KubeObject[] {
  const dir = join(charts.dir, MANIFESTS_DIR, env);
  const files = [BOOTSTRAP_MANIFESTS[1], PLATFORM_MANIFEST].map((f) => join(dir, f));
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length)
    throw new UsageError(
      `${MANIFESTS_DIR}/${env}/ has no ${missing.map((f) => f.slice(dir.length + 1)).join(', ')} in Git at ${at(charts)}; run \`converge synth --env ${env}\`, commit and push`,
    );
  return files.flatMap((f) =>
    parseAllDocuments(readFileSync(f, 'utf8'))
      .map((d) => d.toJSON() as KubeObject | null)
      .filter((o): o is KubeObject => !!o && !!o.kind),
  );
}
