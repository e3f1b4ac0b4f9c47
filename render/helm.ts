import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { firstLine, UsageError } from '../model/errors';
import { DesiredObject, isClusterScoped, KubeObject } from '../model/objects';
import { isHook } from '../model/hooks';
import { toolErrorLine } from './charts';
import { toolPath } from './tools';

const run = promisify(execFile);

/** An Application's `spec.source` for a Helm chart in Git. */
export interface HelmSource {
  readonly path: string;
  readonly helm?: {
    releaseName?: string;
    valueFiles?: string[];
    ignoreMissingValueFiles?: boolean;
    valuesObject?: Record<string, unknown>;
  };
}

interface AppSpec {
  source: HelmSource;
  destination: { namespace: string };
}

/** `helm template`'s arguments as Argo CD renders an Application: its release name, value files and values. */
export function helmTemplateArgs(
  name: string,
  source: HelmSource,
  namespace: string,
  chart: string,
  valuesFile: string,
): string[] {
  const args = ['template', source.helm?.releaseName ?? name, chart, '--namespace', namespace];
  for (const f of source.helm?.valueFiles ?? []) {
    // As Argo CD does: a value file not in Git yet (Image Updater's, before its first commit) is skipped.
    if (source.helm?.ignoreMissingValueFiles && !existsSync(join(chart, f))) continue;
    args.push('--values', join(chart, f));
  }
  args.push('--values', valuesFile);
  return args;
}

/**
 * `helm template` of one Application's chart, as Argo CD renders it: the same release name, value
 * files and values, in the destination namespace. `chartsRoot` holds the Application's `source.path`.
 */
export async function renderApplication(
  app: KubeObject,
  chartsRoot: string,
  workDir: string,
  /** How messages name where the charts come from, e.g. `--charts-dir "x"` or `Git at 1a2b3c4d5e6f`. */
  chartsLabel = chartsRoot,
): Promise<DesiredObject[]> {
  const spec = app.spec as AppSpec;
  const chart = join(chartsRoot, spec.source.path);
  const name = app.metadata.name;
  if (!existsSync(join(chart, 'Chart.yaml')))
    throw new UsageError(
      `${chartsLabel} has no ${spec.source.path.replace(/^charts\//, '')}/Chart.yaml, the chart of Application ${name}; pass the folder that holds app-service/ and model-service/ (this repo's charts/)`,
    );
  const values = join(workDir, `${app.metadata.name}.values.json`);
  writeFileSync(values, JSON.stringify(spec.source.helm?.valuesObject ?? {}));
  const args = helmTemplateArgs(name, spec.source, spec.destination.namespace, chart, values);
  let stdout: string;
  try {
    ({ stdout } = await run(toolPath('helm'), args, { maxBuffer: 64 * 1024 * 1024 }));
  } catch (err) {
    if (!('stderr' in (err as object))) throw err;
    throw new UsageError(
      `\`helm template\` of chart ${spec.source.path} (Application ${name}, from ${chartsLabel}) failed: ${toolErrorLine(err)}; fix the chart's templates or the values it is given`,
    );
  }
  const docs = parseAllDocuments(stdout);
  const bad = docs.find((d) => d.errors.length > 0);
  if (bad)
    throw new UsageError(
      `\`helm template\` of chart ${spec.source.path} (Application ${name}, from ${chartsLabel}) printed YAML that does not parse: ${firstLine(bad.errors[0].message)}; fix the chart's templates`,
    );
  return (
    docs
      .map((doc) => doc.toJSON() as KubeObject | null)
      .filter((o): o is KubeObject => !!o && !!o.kind)
      // Hooks run at a sync and are deleted at the next: Argo CD keeps them out of the diff, and so does drift.
      .filter((o) => !isHook(o))
      .map((o) => ({
        application: app.metadata.name,
        object:
          isClusterScoped(o.kind) || o.metadata.namespace
            ? o
            : { ...o, metadata: { ...o.metadata, namespace: spec.destination.namespace } },
      }))
  );
}
