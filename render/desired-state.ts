import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { loadStackConfig, stackConfigFromText, stackFileLabel } from '../config/stack-file';
import { ARGOCD_MANIFEST, BOOTSTRAP_MANIFESTS, MANIFESTS_DIR, PLATFORM_MANIFEST } from '../model/constants';
import { UsageError } from '../model/errors';
import { DesiredObject, KubeObject } from '../model/objects';
import { cacheRoot } from './cache';
import { ChartsSource, chartsAtRevision, localCharts } from './charts';
import { synthesizeEnvironment, synthesizeLoaded, SynthesizedEnvironment } from './environment';
import { renderApplication } from './helm';

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
    const pointer = loadStackConfig(env, { dir: options.stacksDir });
    const charts = chartsAtRevision(pointer.config);
    const environment = fromGit(env, charts);
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
function fromGit(env: string, charts: ChartsSource): SynthesizedEnvironment {
  const label = stackFileLabel(env);
  const path = join(charts.dir, label);
  if (!existsSync(path))
    throw new UsageError(
      `${label} is not in Git at ${at(charts)}; commit and push it (with its manifests), or pass --charts-dir to compare against this checkout`,
    );
  return synthesizeLoaded(stackConfigFromText(env, readFileSync(path, 'utf8'), `${label}@${at(charts)}`));
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
