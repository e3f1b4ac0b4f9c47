import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { KubeObject } from '../model/objects';
import { HelmSource, helmTemplateArgs } from './helm';
import { toolPath } from './tools';

/*
 * `helm template` of one Application's chart, synchronously, for `converge validate` (whose command
 * returns its exit code without awaiting), with the arguments `renderApplication` in helm.ts uses.
 */

export interface HelmTemplateResult {
  readonly objects: readonly KubeObject[];
  /** helm's own message when the chart does not render; then there are no objects. */
  readonly error?: string;
}

/** Renders `source` (an Application's `spec.source`) from `chartsRoot`, values written under `workDir`. */
export function helmTemplateSync(
  name: string,
  source: HelmSource,
  namespace: string,
  chartsRoot: string,
  workDir: string,
): HelmTemplateResult {
  const chart = join(chartsRoot, source.path);
  if (!existsSync(join(chart, 'Chart.yaml')))
    return { objects: [], error: `there is no ${source.path}/Chart.yaml` };
  const values = join(workDir, `${name}.values.json`);
  writeFileSync(values, JSON.stringify(source.helm?.valuesObject ?? {}));
  const args = helmTemplateArgs(name, source, namespace, chart, values);
  const helm = toolPath('helm');
  let stdout: string;
  try {
    stdout = execFileSync(helm, args, {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? '').trim();
    return { objects: [], error: stderr.split('\n')[0] || (err as Error).message.split('\n')[0] };
  }
  const docs = parseAllDocuments(stdout);
  const bad = docs.find((d) => d.errors.length > 0);
  if (bad)
    return {
      objects: [],
      error: `it printed YAML that does not parse: ${bad.errors[0].message.split('\n')[0]}`,
    };
  const objects = docs
    .map((doc) => doc.toJSON() as KubeObject | null)
    .filter((o): o is KubeObject => !!o && !!o.kind);
  return { objects };
}
