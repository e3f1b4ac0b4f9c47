import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../config/package-root';
import { LABELS } from '../../model/constants';
import { KubeObject } from '../../model/objects';
import { cacheRoot } from '../../render/cache';
import { localCharts } from '../../render/charts';
import { SynthesizedEnvironment } from '../../render/environment';
import { HelmSource } from '../../render/helm';
import { helmTemplateSync } from '../../render/helm-template';
import { Violation } from './invariants';
import { SchemaSource, SchemaValidator } from './schema-validator';

/*
 * The charts' rendered output against the same schemas as the synthesized objects: each service's
 * chart from the working tree (as `--charts-dir` renders it), with the values its generated
 * Application passes, so a bad field in a template shows before Argo CD fails to sync it.
 */

export interface ChartsCheck {
  /** Objects rendered from the charts and checked, by schema source. */
  readonly checked: Record<SchemaSource | 'none', number>;
  readonly violations: readonly Violation[];
}

interface AppSpec {
  source: HelmSource;
  destination: { namespace: string };
}

/** The chart's values without the guarded split, so one render gives every object of the service. */
function wholeChart(source: HelmSource): HelmSource {
  const values = source.helm?.valuesObject;
  const converge = values?.converge as Record<string, unknown> | undefined;
  if (!converge) return source;
  const { renderKinds: _only, skipKinds: _skip, ...rest } = converge;
  void _only;
  void _skip;
  const valuesObject = { ...values };
  if (Object.keys(rest).length) valuesObject.converge = rest;
  else delete valuesObject.converge;
  return { ...source, helm: { ...source.helm, valuesObject } };
}

/** One generated Application per service: a guarded split renders the same chart twice. */
function onePerService(applications: readonly KubeObject[]): [string, KubeObject][] {
  const seen = new Map<string, KubeObject>();
  for (const app of applications) {
    const service = app.metadata.labels?.[LABELS.service] ?? app.metadata.name;
    if (!seen.has(service)) seen.set(service, app);
  }
  return [...seen.entries()];
}

/** Renders each service's chart once and validates every object; `chartsDir` defaults to this repo's charts/. */
export function validateCharts(
  environment: SynthesizedEnvironment,
  schemas: SchemaValidator,
  chartsDir: string = join(packageRoot(), 'charts'),
): ChartsCheck {
  const workDir = join(cacheRoot(), 'tmp', `validate-${process.pid}`);
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  const checked = { kubernetes: 0, crd: 0, none: 0 };
  const violations: Violation[] = [];
  try {
    const chartsRoot = localCharts(chartsDir, workDir);
    for (const [service, app] of onePerService(environment.platform.applicationSet.applications)) {
      const spec = app.spec as unknown as AppSpec;
      const source = wholeChart(spec.source);
      const rendered = helmTemplateSync(service, source, spec.destination.namespace, chartsRoot, workDir);
      if (rendered.error)
        violations.push({
          object: `${service}/chart/${source.path}`,
          rule: 'chart-schema',
          message: `helm template failed: ${rendered.error}`,
        });
      for (const obj of rendered.objects) {
        const ref = `${service}/${obj.kind}/${obj.metadata?.name ?? '(no name)'}`;
        const result = schemas.validate(obj);
        checked[result.source]++;
        if (result.source === 'none')
          violations.push({
            object: ref,
            rule: 'chart-schema',
            message: `no schema for ${obj.apiVersion} ${obj.kind}`,
          });
        for (const p of result.problems)
          violations.push({ object: ref, rule: 'chart-schema', message: `${p.path}: ${p.message}` });
      }
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
  return { checked, violations };
}
