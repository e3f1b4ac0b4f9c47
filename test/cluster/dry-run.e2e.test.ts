import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { synthesizeEnvironment } from '../../render/environment';
import { ENVIRONMENTS } from '../../model/constants';
import { isClusterScoped, KubeObject } from '../../model/objects';
import { KubeClient } from '../../drift/kube/client';
import { loadKubeConfig } from '../../drift/kube/kubeconfig';
import { toolPath } from '../../render/tools';
import { loadCrds } from '../../render/upstream';
import { KUBECONFIG, kubectl, ROOT } from '../../tools/cluster/harness';

/*
 * d. The real API server accepts everything Converge produces: every object `converge synth`
 * writes for dev, staging and prod, and every object the charts render for them, each applied as
 * a server-side dry run (nothing is persisted) with the Argo CD and Istio CRDs installed.
 */

const client = new KubeClient(loadKubeConfig({ kubeconfig: KUBECONFIG }));
const created: string[] = [];
let work: string;

async function dryRunApply(obj: KubeObject): Promise<string | undefined> {
  try {
    const path = await client.path(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name);
    await client.request(
      'PATCH',
      `${path}?dryRun=All&fieldManager=converge-dry-run&force=true&fieldValidation=Strict`,
      obj,
      'application/apply-patch+yaml',
    );
    return undefined;
  } catch (err) {
    return `${obj.kind}/${obj.metadata.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata.name}: ${(err as Error).message}`;
  }
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'converge-dry-run-'));
  // The CRDs the objects need, from the pinned upstream cache: Argo CD's (Pulumi installs them
  // with the platform; the suite may have destroyed it) and Istio's (a cluster prerequisite).
  kubectl(
    ['apply', '--server-side', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [...loadCrds('argo-cd'), ...loadCrds('istio-api'), ...loadCrds('prometheus-operator')],
    }),
  );
  kubectl([
    'wait',
    '--for=condition=Established',
    'crd/applications.argoproj.io',
    'crd/virtualservices.networking.istio.io',
    'crd/prometheusrules.monitoring.coreos.com',
    '--timeout=60s',
  ]);
  // Namespaced objects can only be dry-run into namespaces that exist: make the missing ones.
  const namespaces = new Set<string>();
  for (const env of ENVIRONMENTS) {
    const { files } = synthesizeEnvironment(env);
    for (const o of files.flatMap((f) => f.objects)) {
      if (o.kind === 'Namespace') namespaces.add(o.metadata.name);
      if (o.metadata.namespace) namespaces.add(o.metadata.namespace);
    }
  }
  for (const ns of namespaces) {
    try {
      await client.request('POST', '/api/v1/namespaces', {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: ns, labels: { 'converge.dev/e2e': 'dry-run' } },
      });
      created.push(ns);
    } catch {
      /* exists already */
    }
  }
});

afterAll(async () => {
  for (const ns of created) await client.request('DELETE', `/api/v1/namespaces/${ns}`).catch(() => undefined);
  // Wait until they are gone, so a later stack can create them again.
  for (const ns of created) {
    for (let i = 0; i < 600; i++) {
      try {
        await client.request('GET', `/api/v1/namespaces/${ns}`);
        await new Promise((r) => setTimeout(r, 200));
      } catch {
        break;
      }
    }
  }
  rmSync(work, { recursive: true, force: true });
});

describe.each(ENVIRONMENTS)('the API server accepts what Converge produces for %s', (env) => {
  const { files, platform } = synthesizeEnvironment(env);

  it('every synthesized object, as a server-side dry run with strict field validation', async () => {
    const objects = files.flatMap((f) => f.objects);
    const failures = (await Promise.all(objects.map(dryRunApply))).filter(Boolean);
    expect(failures).toEqual([]);
    expect(objects.length).toBeGreaterThan(60);
  });

  it('every object the charts render for its Applications', async () => {
    const rendered: KubeObject[] = [];
    for (const app of platform.applicationSet.applications) {
      const spec = app.spec as {
        source: { path: string; helm: { releaseName: string; valueFiles: string[]; valuesObject: object } };
        destination: { namespace: string };
      };
      const values = join(work, `${app.metadata.name}.json`);
      writeFileSync(values, JSON.stringify(spec.source.helm.valuesObject));
      const chart = join(ROOT, spec.source.path);
      execFileSync(toolPath('helm'), ['dependency', 'build', chart], { stdio: 'ignore' });
      const out = execFileSync(
        toolPath('helm'),
        [
          'template',
          spec.source.helm.releaseName,
          chart,
          '-n',
          spec.destination.namespace,
          ...spec.source.helm.valueFiles.flatMap((f) => ['-f', join(chart, f)]),
          '-f',
          values,
        ],
        { encoding: 'utf8' },
      );
      for (const o of (parseAllDocuments(out).map((d) => d.toJSON()) as KubeObject[]).filter(Boolean)) {
        rendered.push(
          isClusterScoped(o.kind)
            ? o
            : { ...o, metadata: { ...o.metadata, namespace: spec.destination.namespace } },
        );
      }
    }
    const failures = (await Promise.all(rendered.map(dryRunApply))).filter(Boolean);
    expect(failures).toEqual([]);
    expect(rendered.map((o) => o.kind)).toEqual(
      expect.arrayContaining([
        'Deployment',
        'Service',
        'VirtualService',
        'DestinationRule',
        'PodDisruptionBudget',
      ]),
    );
  });
});

describe('the dry run itself', () => {
  it('fails when an object carries a field the schema does not know', async () => {
    const bad: KubeObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'converge-dry-run-probe', namespace: 'default' },
      data: { a: 'b' },
      dataa: {},
    } as never;
    expect(await dryRunApply(bad)).toMatch(
      /ConfigMap\/default\/converge-dry-run-probe: .*\.dataa: field not declared in schema/,
    );
  });
});
