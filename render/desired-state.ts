import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DesiredObject } from '../model/objects';
import { cacheRoot } from './cache';
import { ChartsSource, chartsAtRevision, localCharts } from './charts';
import { synthesizeEnvironment, SynthesizedEnvironment } from './environment';
import { renderApplication } from './helm';

/*
 * The desired state, rendered by Converge itself rather than read from Argo CD: the synthesized
 * platform objects, plus `helm template` of each service chart with exactly the values its
 * Application passes, at the Git revision in the config. It needs neither Argo CD nor Pulumi.
 */

export interface DesiredState {
  readonly environment: SynthesizedEnvironment;
  readonly objects: readonly DesiredObject[];
  /** Where the charts were read from, and at which commit. */
  readonly charts: ChartsSource;
}

export interface DesiredStateOptions {
  readonly stacksDir?: string;
  /** Read charts from this folder instead of Git (e.g. a working tree). */
  readonly chartsDir?: string;
}

export async function desiredState(env: string, options: DesiredStateOptions = {}): Promise<DesiredState> {
  const environment = synthesizeEnvironment(env, options.stacksDir);
  const charts = options.chartsDir ? { dir: options.chartsDir } : chartsAtRevision(environment.loaded.config);
  const workDir = join(cacheRoot(), 'tmp', `drift-${process.pid}`);
  mkdirSync(workDir, { recursive: true });
  try {
    const chartsRoot = options.chartsDir ? localCharts(options.chartsDir, workDir) : charts.dir;
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
