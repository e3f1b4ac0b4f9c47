import { Chart } from 'cdk8s';
import { KubeObject } from '../model/objects';
import { toYaml } from '../model/yaml';
import { renderedYaml } from './upstream-render-cache';

/** One manifest file: a chart's objects as a multi-document YAML stream. */
export interface ManifestFile {
  /** File name with an order prefix, e.g. `01-argocd.yaml`; apply files in name order. */
  readonly name: string;
  readonly objects: readonly KubeObject[];
  readonly content: string;
}

/**
 * Renders charts to YAML files, one per chart, in the order given. Keys are sorted by cdk8s and
 * nothing depends on time or randomness, so the same input gives byte-identical output.
 */
export function synthesizeCharts(charts: readonly Chart[], header?: string): ManifestFile[] {
  return charts.map((chart, i) => {
    const objects = chart.toJson() as KubeObject[];
    // Objects from the upstream render cache carry their YAML text already.
    const docs = objects.map((obj) => renderedYaml(obj) ?? toYaml(obj));
    const prefix = header ? `# ${header}\n` : '';
    return {
      name: `${String(i + 1).padStart(2, '0')}-${chart.node.id}.yaml`,
      objects,
      content: prefix + docs.map((doc) => `---\n${doc}`).join(''),
    };
  });
}
