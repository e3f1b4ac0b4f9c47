import { App, Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { KubeObject } from '../model/objects';

/** Builds a chart with `build`, then returns its synthesized objects. */
export function synthObjects(build: (chart: Chart) => void): KubeObject[] {
  const chart = new Chart(new App(), 'test');
  build(chart);
  return chart.toJson() as KubeObject[];
}

export function ofKind(objects: readonly KubeObject[], kind: string): KubeObject[] {
  return objects.filter((o) => o.kind === kind);
}

export function only(objects: readonly KubeObject[], kind: string): KubeObject {
  const found = ofKind(objects, kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
  return found[0];
}

export type Scope = Construct;
