import { KubeObject } from '../../model/objects';
import { kubernetesOpenApiDir, loadCrds, upstreamPin } from '../../render/upstream';
import { synthesizeEnvironment } from '../../render/environment';
import { formatTable } from '../../model/text';
import { DriftPolicySpec } from '../../model/drift-policy';
import { policyTable } from '../../drift/report';
import { checkInvariants, INVARIANTS, objectRef, Violation } from '../validate/invariants';
import { SchemaValidator } from '../validate/schema-validator';
import { validateCharts } from '../validate/charts';

export interface ValidateOptions {
  readonly env: string;
  readonly stacksDir?: string;
  readonly output?: 'table' | 'json';
  /** Folder of the service charts to render (default: this repo's charts/). */
  readonly chartsDir?: string;
}

type Counts = { readonly kubernetes: number; readonly crd: number; readonly none: number };

export interface ValidationReport {
  readonly environment: string;
  readonly objects: number;
  readonly generatedApplications: number;
  /** Synthesized and generated objects by schema source; `charts`: the objects the service charts render. */
  readonly schemaChecked: Counts & { readonly charts: Counts };
  readonly invariants: readonly string[];
  readonly violations: readonly Violation[];
  readonly driftPolicy: DriftPolicySpec;
  /** Kinds whose drift waits for approval, so their Applications do not self-heal. */
  readonly guardedKinds: readonly string[];
}

// Compiled schemas are reused across environments: compiling the ApplicationSet CRD takes seconds.
let schemas: SchemaValidator | undefined;

/**
 * Validates every synthesized object, the Applications the ApplicationSet will generate, and what
 * each service's chart renders with the values its Application passes.
 */
export function validateEnvironment(
  env: string,
  stacksDir?: string,
  options: { chartsDir?: string } = {},
): ValidationReport {
  const environment = synthesizeEnvironment(env, stacksDir);
  const { files, platform, loaded } = environment;
  const synthesized = files.flatMap((f) => f.objects);
  const generated = platform.applicationSet.applications;
  const all: KubeObject[] = [...synthesized, ...generated];
  schemas ??= new SchemaValidator(kubernetesOpenApiDir(), [
    ...loadCrds('argo-cd'),
    ...loadCrds('istio-api'),
    ...loadCrds('prometheus-operator'),
    ...loadCrds('argocd-image-updater'),
  ]);
  const counts = { kubernetes: 0, crd: 0, none: 0 };
  const violations: Violation[] = [];
  for (const obj of all) {
    const result = schemas.validate(obj);
    counts[result.source]++;
    if (result.source === 'none') {
      violations.push({
        object: objectRef(obj),
        rule: 'schema',
        message: `no schema for ${obj.apiVersion} ${obj.kind}`,
      });
    }
    for (const p of result.problems) {
      violations.push({ object: objectRef(obj), rule: 'schema', message: `${p.path}: ${p.message}` });
    }
  }
  violations.push(...checkInvariants(all, loaded.config));
  const charts = validateCharts(environment, schemas, options.chartsDir);
  violations.push(...charts.violations);
  return {
    environment: loaded.environment,
    objects: synthesized.length,
    generatedApplications: generated.length,
    schemaChecked: { ...counts, charts: charts.checked },
    invariants: [...INVARIANTS],
    violations,
    driftPolicy: platform.driftPolicy,
    guardedKinds: platform.guardedKinds,
  };
}

export function validate(options: ValidateOptions): number {
  const report = validateEnvironment(options.env, options.stacksDir, { chartsDir: options.chartsDir });
  if (options.output === 'json') {
    console.log(JSON.stringify(report, null, 2));
  } else {
    const { kubernetes, crd, charts } = report.schemaChecked;
    console.log(
      `${report.environment}: ${report.objects} objects and ${report.generatedApplications} generated Applications; ` +
        `${kubernetes} checked against Kubernetes ${upstreamPin('kubernetes').version} schemas, ${crd} against CRD schemas; ` +
        `${charts.kubernetes + charts.crd + charts.none} objects rendered from the service charts (${charts.kubernetes} Kubernetes, ${charts.crd} CRD); ` +
        `invariants: ${report.invariants.join(', ')}`,
    );
    if (report.violations.length === 0) console.log('no violations');
    else
      console.log(
        formatTable(
          ['OBJECT', 'RULE', 'PROBLEM'],
          report.violations.map((v) => [v.object, v.rule, v.message]),
        ),
      );
    const managers = report.driftPolicy.ignoreManagers.join(', ') || 'none';
    console.log(`\nDrift policy (the first matching rule decides; fields of ${managers} are never drift):`);
    console.log(policyTable(report.driftPolicy));
    console.log(
      report.guardedKinds.length
        ? `Guarded kinds (their Applications do not self-heal; the drift controller applies the policy): ${report.guardedKinds.join(', ')}`
        : 'No kind waits for approval: Argo CD self-heals every kind.',
    );
  }
  return report.violations.length === 0 ? 0 : 1;
}
