import { writeFileSync } from 'node:fs';
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

/**
 * Writes a kubeconfig whose server is port 1 on loopback, where nothing listens, so every
 * connection is refused at once. Returns its path.
 */
export function unreachableKubeconfig(path: string): string {
  writeFileSync(
    path,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{name: local, cluster: {server: "https://127.0.0.1:1"}}]',
      'users: [{name: me, user: {token: t}}]',
      'contexts: [{name: local, context: {cluster: local, user: me}}]',
      'current-context: local',
    ].join('\n'),
  );
  return path;
}
