import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { DesiredObject, isClusterScoped, KubeObject } from '../model/objects';
import { toolPath } from './tools';

const run = promisify(execFile);

interface AppSpec {
  source: {
    path: string;
    helm?: { releaseName?: string; valueFiles?: string[]; valuesObject?: Record<string, unknown> };
  };
  destination: { namespace: string };
}

/**
 * `helm template` of one Application's chart, as Argo CD renders it: the same release name, value
 * files and values, in the destination namespace. `chartsRoot` holds the Application's `source.path`.
 */
export async function renderApplication(
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
  return parseAllDocuments(stdout)
    .map((doc) => doc.toJSON() as KubeObject | null)
    .filter((o): o is KubeObject => !!o && !!o.kind)
    .map((o) => ({
      application: app.metadata.name,
      object:
        isClusterScoped(o.kind) || o.metadata.namespace
          ? o
          : { ...o, metadata: { ...o.metadata, namespace: spec.destination.namespace } },
    }));
}
