import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesizeEnvironment } from '../../render/environment';
import { toolPath } from '../../render/tools';
import { DRIFT_EXIT } from '../../drift/engine/find-drift';
import { KUBECONFIG, kubectl, ROOT } from '../../tools/cluster/harness';

/*
 * `converge drift` on a cluster still deployed by hand with Helm, before any GitOps: no Argo CD,
 * no Pulumi. Converge renders the desired state itself, so the report still works.
 */

const NAMESPACES = ['dev-web', 'dev-ml'];
let work: string;
const converge = (...args: string[]) =>
  spawnSync(
    'node',
    [join(ROOT, 'dist', 'cli', 'main.js'), 'drift', '--env', 'dev', '--kubeconfig', KUBECONFIG, ...args],
    { encoding: 'utf8' },
  );

interface Report {
  findings: {
    object: { kind: string; namespace?: string; name: string };
    change: string;
    severity: string;
    action: string;
    fields: { path: string; from: unknown; to: unknown }[];
    who: string;
  }[];
  argocd: Record<string, unknown>;
  highestSeverity: string;
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'converge-helm-'));
  const { platform } = synthesizeEnvironment('dev');
  for (const ns of NAMESPACES) kubectl(['create', 'namespace', ns]);
  // What an operator would have run by hand: helm install with the same values.
  for (const app of platform.applicationSet.applications) {
    const spec = app.spec as {
      source: { path: string; helm: { releaseName: string; valueFiles: string[]; valuesObject: object } };
      destination: { namespace: string };
    };
    const chart = join(ROOT, spec.source.path);
    const values = join(work, `${app.metadata.name}.json`);
    writeFileSync(values, JSON.stringify(spec.source.helm.valuesObject));
    execFileSync(toolPath('helm'), ['dependency', 'build', chart], { stdio: 'ignore' });
    execFileSync(
      toolPath('helm'),
      [
        'install',
        spec.source.helm.releaseName,
        chart,
        '--kubeconfig',
        KUBECONFIG,
        '-n',
        spec.destination.namespace,
        ...spec.source.helm.valueFiles.flatMap((f) => ['-f', join(chart, f)]),
        '-f',
        values,
      ],
      { stdio: 'ignore' },
    );
  }
});

afterAll(() => {
  for (const ns of NAMESPACES) kubectl(['delete', 'namespace', ns, '--wait=true', '--timeout=120s']);
  rmSync(work, { recursive: true, force: true });
});

describe('converge drift on a hand-deployed Helm cluster', () => {
  it('finds the services as Git says, and the platform not installed yet', () => {
    const result = converge('--output', 'json');
    const report = JSON.parse(result.stdout) as Report;
    const services = report.findings.filter((f) => NAMESPACES.includes(f.object.namespace ?? ''));
    expect(services).toEqual([]);
    expect(report.argocd).toEqual({});
    // The platform is not installed: its objects are missing, a missing Secret most severely. (Which
    // Secrets exist depends on what ran before on this cluster: the local control plane makes some.)
    expect(report.findings.find((f) => f.object.kind === 'ApplicationSet')).toMatchObject({
      change: 'deleted',
    });
    for (const f of report.findings.filter((x) => x.object.kind === 'Secret' && x.change === 'deleted'))
      expect(f.severity).toBe('high');
    expect(result.status).toBe(DRIFT_EXIT[report.highestSeverity as keyof typeof DRIFT_EXIT]);
    expect(result.status).toBeGreaterThan(0);
  });

  it('reports a hand-made change with the field, both values, who made it and what the policy would do', () => {
    kubectl(['scale', 'deployment', 'app-service', '-n', 'dev-web', '--replicas=4']);
    kubectl(['patch', 'service', 'model-service', '-n', 'dev-ml', '-p', '{"spec":{"type":"NodePort"}}']);
    const report = JSON.parse(converge('--output', 'json').stdout) as Report;
    const services = report.findings.filter((f) => NAMESPACES.includes(f.object.namespace ?? ''));
    expect(services).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          object: expect.objectContaining({ kind: 'Deployment', name: 'app-service' }),
          change: 'modified',
          fields: [{ path: '/spec/replicas', from: 1, to: 4 }],
          who: expect.stringMatching(/^kubectl/),
          action: 'heal',
        }),
        expect.objectContaining({
          object: expect.objectContaining({ kind: 'Service', name: 'model-service' }),
          fields: [{ path: '/spec/type', from: 'ClusterIP', to: 'NodePort' }],
          who: 'kubectl-patch',
        }),
      ]),
    );
    const table = converge().stdout;
    expect(table).toMatch(/Deployment\/dev-web\/app-service +modified +\/spec\/replicas: 1 → 4/);
  });
});
