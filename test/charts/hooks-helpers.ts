import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { KubeObject } from '../../model/objects';
import { helmTemplateArgs, HelmSource } from '../../render/helm';
import { toolPath } from '../../render/tools';

const built = new Set<string>();

/** Every object `helm template` renders for an Application, hooks included (renderApplication drops them). */
export function helmTemplate(app: KubeObject, charts: string, work: string): KubeObject[] {
  const spec = app.spec as { source: HelmSource; destination: { namespace: string } };
  const chart = join(charts, spec.source.path.replace(/^charts\//, ''));
  // Once per chart: the packaged service-base must carry this checkout's templates.
  if (!built.has(chart)) execFileSync(toolPath('helm'), ['dependency', 'build', chart], { stdio: 'ignore' });
  built.add(chart);
  const values = join(work, `${app.metadata.name}.json`);
  writeFileSync(values, JSON.stringify(spec.source.helm?.valuesObject ?? {}));
  const out = execFileSync(
    toolPath('helm'),
    helmTemplateArgs(app.metadata.name, spec.source, spec.destination.namespace, chart, values),
    { encoding: 'utf8' },
  );
  return (parseAllDocuments(out).map((d) => d.toJSON()) as KubeObject[]).filter(Boolean);
}
