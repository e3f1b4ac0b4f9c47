import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { synthesizeEnvironment } from '../../render/environment';
import { SchemaValidator } from '../../cli/validate/schema-validator';
import { ENVIRONMENTS } from '../../model/constants';
import { KubeObject } from '../../model/objects';
import { isHook } from '../../model/hooks';
import { toolPath } from '../../render/tools';
import { kubernetesOpenApiDir, loadCrds } from '../../render/upstream';

/* The service charts, rendered by the real helm with exactly the values Argo CD will pass. */

const CHARTS = join(__dirname, '..', '..', 'charts');
const SERVICES = ['app-service', 'model-service'];
const helm = (args: string[], cwd?: string) =>
  execFileSync(toolPath('helm'), args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

let work: string;
const schemas = new SchemaValidator(kubernetesOpenApiDir(), loadCrds('istio-api'));
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'converge-charts-'));
  for (const service of SERVICES) helm(['dependency', 'build', join(CHARTS, service)]);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function render(
  service: string,
  label: string,
  values: object,
  namespace: string,
  env = label,
): KubeObject[] {
  const file = join(work, `${service}-${label}.json`);
  writeFileSync(file, JSON.stringify(values));
  const out = helm([
    'template',
    service,
    join(CHARTS, service),
    '-n',
    namespace,
    '-f',
    join(CHARTS, service, `values-${env}.yaml`),
    '-f',
    file,
  ]);
  return (parseAllDocuments(out).map((d) => d.toJSON()) as KubeObject[]).filter(Boolean);
}

describe.each(ENVIRONMENTS)('charts in %s', (env) => {
  const { platform, loaded } = synthesizeEnvironment(env);
  const projectKinds = (
    platform.project.resource.toJson() as {
      spec: { namespaceResourceWhitelist: { group: string; kind: string }[] };
    }
  ).spec.namespaceResourceWhitelist.map((gk) => `${gk.group}/${gk.kind}`);

  describe.each(SERVICES)('%s', (service) => {
    const app = platform.applicationSet.applications.find((a) => a.metadata.name === `${env}-${service}`)!;
    const spec = app.spec as {
      destination: { namespace: string };
      source: { helm: { valuesObject: Record<string, unknown>; valueFiles: string[] } };
    };
    const config = loaded.config.services[service];
    // A split service has a guarded part too; together the parts render the whole chart.
    const parts = platform.applicationSet.applications.filter(
      (a) => a.metadata.labels?.['converge.dev/service'] === service,
    );
    let objects: KubeObject[];
    let byPart: KubeObject[][];
    beforeAll(() => {
      byPart = parts.map((part) => {
        const p = part.spec as typeof spec;
        return render(
          service,
          `${env}-${part.metadata.name}`,
          p.source.helm.valuesObject,
          p.destination.namespace,
          env,
        );
      });
      objects = byPart.flat();
    });

    it('splits into parts that render disjoint kinds, guarded ones where the drift policy holds', () => {
      // Hooks (hooks.test.ts) run with the Deployment's part; the kept objects split disjointly.
      const kinds = byPart.map((objs) => new Set(objs.filter((o) => !isHook(o)).map((o) => o.kind)));
      for (let i = 0; i < kinds.length; i++)
        for (let j = i + 1; j < kinds.length; j++)
          for (const k of kinds[i]) expect(kinds[j].has(k)).toBe(false);
      const guarded = parts.findIndex((p) => p.metadata.labels?.['converge.dev/part'] === 'guarded');
      expect(guarded >= 0).toBe(platform.guardedKinds.length > 0);
      if (guarded >= 0) expect([...kinds[guarded]].sort()).toEqual([...platform.guardedKinds].sort());
    });
    const byKind = (kind: string) => objects.filter((o) => o.kind === kind);

    it("passes helm lint --strict with the environment's values", () => {
      const file = join(work, `${service}-${env}-lint.json`);
      writeFileSync(file, JSON.stringify(spec.source.helm.valuesObject));
      expect(
        helm([
          'lint',
          '--strict',
          join(CHARTS, service),
          '-f',
          join(CHARTS, service, `values-${env}.yaml`),
          '-f',
          file,
        ]),
      ).toContain('0 chart(s) failed');
    });

    it('renders stable and canary Deployments, Service, ServiceAccount, ConfigMap, PDB and Istio routing', () => {
      const kept = objects.filter((o) => !isHook(o));
      expect(kept.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(
        [
          `ConfigMap/${service}`,
          `DestinationRule/${service}`,
          `Deployment/${service}`,
          `Deployment/${service}-canary`,
          `PodDisruptionBudget/${service}`,
          `Service/${service}`,
          `ServiceAccount/${service}`,
          `VirtualService/${service}`,
        ].sort(),
      );
    });

    it('uses only kinds the project allows, each valid against its schema', () => {
      for (const obj of objects) {
        const group = obj.apiVersion.includes('/') ? obj.apiVersion.split('/')[0] : '';
        expect(projectKinds).toContain(`${group}/${obj.kind}`);
        expect(schemas.validate(obj).problems).toEqual([]);
      }
    });

    it('runs the declared images and replica counts', () => {
      const [stable, canary] = [
        byKind('Deployment').find((d) => !d.metadata.name.endsWith('-canary'))!,
        byKind('Deployment').find((d) => d.metadata.name.endsWith('-canary'))!,
      ];
      const image = (d: KubeObject) =>
        (d.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]
          .image;
      expect(image(stable)).toBe(`${config.image.repository}:${config.image.tag}`);
      expect(image(canary)).toBe(`${config.image.repository}:${config.canary!.tag}`);
      expect((stable.spec as { replicas: number }).replicas).toBe(config.replicas);
      expect((canary.spec as { replicas: number }).replicas).toBe(config.canary!.replicas);
    });

    it('runs restricted: non-root, read-only root filesystem, no privilege escalation, probes, requests and limits', () => {
      for (const d of byKind('Deployment')) {
        const pod = (d.spec as { template: { spec: Record<string, unknown> } }).template.spec as {
          securityContext: Record<string, unknown>;
          containers: Record<string, { [k: string]: unknown }>[];
        };
        expect(pod.securityContext).toMatchObject({
          runAsNonRoot: true,
          seccompProfile: { type: 'RuntimeDefault' },
        });
        for (const c of pod.containers) {
          expect(c.securityContext).toMatchObject({
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          });
          expect(c.readinessProbe).toBeDefined();
          expect(c.livenessProbe).toBeDefined();
          expect(c.resources).toMatchObject({
            requests: { cpu: expect.anything(), memory: expect.anything() },
            limits: { cpu: expect.anything(), memory: expect.anything() },
          });
        }
      }
    });

    it('splits traffic by the weights declared in the stack file', () => {
      const vs = byKind('VirtualService')[0].spec as {
        http: { name: string; route: { destination: { subset: string }; weight?: number }[] }[];
      };
      const weighted = vs.http.find((h) => h.name === 'weighted')!;
      expect(weighted.route.map((r) => [r.destination.subset, r.weight])).toEqual([
        ['stable', 100 - config.canary!.weight],
        ['canary', config.canary!.weight],
      ]);
      expect(vs.http.some((h) => h.name === 'canary-header')).toBe(config.canary!.header !== undefined);
    });

    it('keeps platform-owned values out of values-<env>.yaml, so they are declared once', () => {
      const envValues = parse(readFileSync(join(CHARTS, service, `values-${env}.yaml`), 'utf8')) as Record<
        string,
        unknown
      >;
      for (const key of ['image', 'replicaCount', 'canary', 'environment'])
        expect(envValues).not.toHaveProperty(key);
    });
  });

  it('points app-service at model-service through the configured URL', () => {
    const app = platform.applicationSet.applications.find((a) => a.metadata.name === `${env}-app-service`)!;
    const spec = app.spec as {
      destination: { namespace: string };
      source: { helm: { valuesObject: Record<string, unknown> } };
    };
    const cm = render('app-service', env, spec.source.helm.valuesObject, spec.destination.namespace).find(
      (o) => o.kind === 'ConfigMap',
    )!;
    expect((cm.data as Record<string, string>).MODEL_SERVICE_URL).toBe(
      `http://model-service.${loaded.config.services['model-service'].namespace}.svc.cluster.local:8080`,
    );
  });
});

describe('chart guards', () => {
  const base = {
    image: { tag: '1.0.0' },
    canary: { enabled: true, image: { tag: '1.1.0' }, weights: { stable: 90, canary: 10 } },
  };
  const renderError = (values: object) => {
    try {
      render('app-service', 'dev', values, 'dev-web');
    } catch (err) {
      return String((err as { stderr?: string }).stderr);
    }
    return '';
  };

  it('fails when canary weights do not split 100', () => {
    expect(
      renderError({ ...base, canary: { ...base.canary, weights: { stable: 90, canary: 20 } } }),
    ).toContain('canary.weights: stable 90 + canary 20 must be 100 (stable gets 100 - canary)');
  });

  it('fails when a weight is out of range', () => {
    expect(
      renderError({ ...base, canary: { ...base.canary, weights: { stable: -50, canary: 150 } } }),
    ).toContain('canary.weights.canary is 150; it must be between 0 and 100');
  });

  it('fails when the canary has no tag', () => {
    expect(renderError({ ...base, canary: { ...base.canary, image: { tag: '' } } })).toContain(
      'canary.image.tag is empty while canary.enabled is true',
    );
  });

  it('renders only the stable Deployment and a single route when the canary is off', () => {
    const objects = render(
      'app-service',
      'dev',
      { image: { tag: '1.0.0' }, canary: { enabled: false } },
      'dev-web',
    );
    expect(objects.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name)).toEqual([
      'app-service',
    ]);
    const vs = objects.find((o) => o.kind === 'VirtualService')!.spec as { http: { route: unknown[] }[] };
    expect(vs.http).toHaveLength(1);
    expect(vs.http[0].route).toHaveLength(1);
  });
});

describe('a service that needs Secrets made outside Git', () => {
  it('reads each as envFrom, after its ConfigMap (services.<svc>.envFromSecrets)', () => {
    const { platform } = synthesizeEnvironment('staging');
    const app = platform.applicationSet.applications.find(
      (a) => a.metadata.name === 'staging-model-service-guarded',
    )!;
    const values = (app.spec as { source: { helm: { valuesObject: Record<string, unknown> } } }).source.helm
      .valuesObject;
    const [plain, needing] = [values, { ...values, envFromSecrets: ['model-service-api-key'] }].map(
      (v, i) =>
        render('model-service', `needed-${i}`, v, 'staging-ml', 'staging').find(
          (o) => o.kind === 'Deployment' && o.metadata.name === 'model-service',
        ) as unknown as { spec: { template: { spec: { containers: { envFrom: unknown[] }[] } } } },
    );
    expect(plain.spec.template.spec.containers[0].envFrom).toEqual([
      { configMapRef: { name: 'model-service' } },
    ]);
    expect(needing.spec.template.spec.containers[0].envFrom).toEqual([
      { configMapRef: { name: 'model-service' } },
      { secretRef: { name: 'model-service-api-key' } },
    ]);
  });
});
