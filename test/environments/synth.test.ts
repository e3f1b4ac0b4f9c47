import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { synthesizeEnvironment } from '../../render/environment';
import { validateEnvironment } from '../../cli/commands/validate';
import { ENVIRONMENTS } from '../../model/constants';
import { KubeObject } from '../../model/objects';

const CLI = join(__dirname, '..', '..', 'dist', 'cli', 'main.js');
const PLATFORM_CONFIG_MAPS = [
  'argocd-cm',
  'argocd-cmd-params-cm',
  'argocd-rbac-cm',
  'argocd-notifications-cm',
];

/** The Argo CD file is megabytes of upstream objects: snapshot what Converge decides, plus a digest. */
function argoCdSummary(objects: readonly KubeObject[], content: string) {
  return {
    sha256: createHash('sha256').update(content).digest('hex'),
    objects: objects.map((o) => `${o.kind}/${o.metadata.name}`),
    platformSettings: Object.fromEntries(
      objects
        .filter((o) => o.kind === 'ConfigMap' && PLATFORM_CONFIG_MAPS.includes(o.metadata.name))
        .map((o) => [o.metadata.name, o.data]),
    ),
  };
}

describe.each(ENVIRONMENTS)('converge synth --env %s', (env) => {
  const { files, platform, loaded } = synthesizeEnvironment(env);
  const [argocd, bootstrapFile, platformFile] = files;
  const objects = files.flatMap((f) => f.objects);

  it('matches the reviewed manifests', () => {
    expect(files.map((f) => f.name)).toEqual(['01-argocd.yaml', '02-bootstrap.yaml', '03-platform.yaml']);
    expect(argoCdSummary(argocd.objects, argocd.content)).toMatchSnapshot('argocd');
    expect(bootstrapFile.content).toMatchSnapshot('bootstrap');
    expect(platformFile.content).toMatchSnapshot('platform');
  });

  it('splits ownership: Pulumi bootstraps namespaces and the root, Argo CD applies the rest from Git', () => {
    const kinds = new Set(bootstrapFile.objects.map((o) => o.kind));
    expect([...kinds].sort()).toEqual(['AppProject', 'Application', 'Namespace']);
    expect(platformFile.objects.map((o) => o.kind)).not.toContain('Namespace');
    expect(platformFile.objects.map((o) => o.kind)).toEqual(
      expect.arrayContaining(['AppProject', 'ApplicationSet']),
    );
    // The root's project allows exactly the kinds and namespaces the platform file holds.
    const rootProject = bootstrapFile.objects.find((o) => o.kind === 'AppProject')!;
    const spec = rootProject.spec as {
      destinations: { namespace: string }[];
      namespaceResourceWhitelist: { group: string; kind: string }[];
      clusterResourceWhitelist: { group: string; kind: string }[];
    };
    const namespaced = platformFile.objects.filter((o) => o.metadata.namespace);
    expect(spec.destinations.map((d) => d.namespace).sort()).toEqual(
      [...new Set(namespaced.map((o) => o.metadata.namespace!))].sort(),
    );
    const gk = (o: { apiVersion: string; kind: string }) =>
      `${o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : ''}/${o.kind}`;
    expect(spec.namespaceResourceWhitelist.map((k) => `${k.group}/${k.kind}`).sort()).toEqual(
      [...new Set(namespaced.map(gk))].sort(),
    );
    expect(spec.clusterResourceWhitelist.map((k) => `${k.group}/${k.kind}`).sort()).toEqual(
      [...new Set(platformFile.objects.filter((o) => !o.metadata.namespace).map(gk))].sort(),
    );
  });

  it('installs Argo CD from the official manifests, in its namespace, with the HA set only in prod', () => {
    const deployments = argocd.objects.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet');
    expect(deployments.length).toBeGreaterThan(4);
    for (const d of deployments) expect(d.metadata.namespace).toBe('argocd');
    expect(platform.argoCd.ha).toBe(env === 'prod');
    expect(
      argocd.objects.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => o.metadata.name),
    ).toEqual(
      expect.arrayContaining([
        'applications.argoproj.io',
        'applicationsets.argoproj.io',
        'appprojects.argoproj.io',
      ]),
    );
  });

  it("puts every Application in the environment's own project, within its namespaces and repos", () => {
    const project = objects.find((o) => o.kind === 'AppProject' && o.metadata.name === env)!;
    expect(project).toBeDefined();
    const destinations = (project.spec as { destinations: { namespace: string }[] }).destinations.map(
      (d) => d.namespace,
    );
    for (const app of platform.applicationSet.applications) {
      const spec = app.spec as {
        project: string;
        destination: { namespace: string };
        source: { repoURL: string; targetRevision: string };
      };
      expect(spec.project).toBe(env);
      expect(destinations).toContain(spec.destination.namespace);
      expect(spec.source.repoURL).toBe(loaded.config.git.repoURL);
      expect(spec.source.targetRevision).toBe(loaded.config.git.revision);
    }
  });

  it("carries the declared images, replicas and canary weights into each service's values", () => {
    for (const app of platform.applicationSet.applications) {
      const name = (app.metadata.labels as Record<string, string>)['converge.dev/service'];
      const service = loaded.config.services[name];
      const values = (app.spec as { source: { helm: { valuesObject: Record<string, unknown> } } }).source.helm
        .valuesObject;
      expect(values).toMatchObject({
        environment: env,
        image: service.image,
        replicaCount: service.replicas,
        canary: {
          enabled: true,
          weights: { canary: service.canary!.weight, stable: 100 - service.canary!.weight },
        },
      });
    }
  });

  it('tells app-service where model-service answers', () => {
    const app = platform.applicationSet.applications.find((a) => a.metadata.name === `${env}-app-service`)!;
    const modelNs = loaded.config.services['model-service'].namespace;
    expect(app.spec).toMatchObject({
      source: {
        helm: {
          valuesObject: { modelService: { url: `http://model-service.${modelNs}.svc.cluster.local:8080` } },
        },
      },
    });
  });

  it('passes schema validation and every platform invariant', () => {
    const report = validateEnvironment(env);
    expect(report.violations).toEqual([]);
    expect(report.schemaChecked.none).toBe(0);
    expect(report.schemaChecked.crd).toBeGreaterThanOrEqual(4);
  });
});

describe('determinism', () => {
  it('gives byte-identical files when the CLI synthesizes twice', () => {
    const a = mkdtempSync(join(tmpdir(), 'converge-a-'));
    const b = mkdtempSync(join(tmpdir(), 'converge-b-'));
    try {
      execFileSync('node', [CLI, 'synth', '--env', 'prod', '--out', a]);
      execFileSync('node', [CLI, 'synth', '--env', 'prod', '--out', b]);
      const names = readdirSync(a).sort();
      expect(readdirSync(b).sort()).toEqual(names);
      for (const name of names)
        expect(readFileSync(join(b, name)).equals(readFileSync(join(a, name)))).toBe(true);
    } finally {
      rmSync(a, { recursive: true, force: true });
      rmSync(b, { recursive: true, force: true });
    }
  });

  it('gives byte-identical files from another working directory and another locale', () => {
    const root = join(__dirname, '..', '..');
    const here = mkdtempSync(join(tmpdir(), 'converge-here-'));
    const elsewhere = mkdtempSync(join(tmpdir(), 'converge-elsewhere-'));
    try {
      execFileSync('node', [CLI, 'synth', '--env', 'staging', '--out', here], { cwd: root });
      execFileSync('node', [CLI, 'synth', '--env', 'staging', '--out', elsewhere], {
        cwd: tmpdir(),
        env: { ...process.env, LANG: 'sv_SE.UTF-8', LC_ALL: 'sv_SE.UTF-8' },
      });
      const names = readdirSync(here).sort();
      expect(readdirSync(elsewhere).sort()).toEqual(names);
      for (const name of names)
        expect(readFileSync(join(elsewhere, name), 'utf8')).toBe(readFileSync(join(here, name), 'utf8'));
      expect(readFileSync(join(elsewhere, '03-platform.yaml'), 'utf8')).toMatch(
        /^# Generated by `converge synth --env staging` from stacks\/Pulumi\.staging\.yaml\./,
      );
    } finally {
      rmSync(here, { recursive: true, force: true });
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('gives the same content in-process and from the CLI', () => {
    const out = mkdtempSync(join(tmpdir(), 'converge-c-'));
    try {
      execFileSync('node', [CLI, 'synth', '--env', 'dev', '--out', out]);
      for (const file of synthesizeEnvironment('dev').files)
        expect(readFileSync(join(out, file.name), 'utf8')).toBe(file.content);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

describe('manual sync (sync.automated: false)', () => {
  // GIVEN staging's stack file with automated sync off and a progressive rollout
  const stacks = mkdtempSync(join(tmpdir(), 'converge-manual-'));
  afterAll(() => rmSync(stacks, { recursive: true, force: true }));
  cpSync(join(__dirname, '..', '..', 'stacks'), stacks, { recursive: true });
  const file = join(stacks, 'Pulumi.staging.yaml');
  const doc = parseDocument(readFileSync(file, 'utf8'));
  doc.setIn(['config', 'converge:platform', 'sync', 'automated'], false);
  doc.setIn(
    ['config', 'converge:platform', 'applicationSet', 'progressiveSteps'],
    [['model-service'], ['app-service']],
  );
  writeFileSync(file, doc.toString());

  it('synthesizes a RollingSync ApplicationSet whose Applications neither prune nor self-heal', () => {
    // WHEN
    const { files, platform } = synthesizeEnvironment('staging', stacks);
    // THEN
    const appset = files.flatMap((f) => f.objects).find((o) => o.kind === 'ApplicationSet')!;
    const spec = appset.spec as {
      strategy: unknown;
      generators: { list: { elements: { appName: string; syncPolicy: Record<string, unknown> }[] } }[];
    };
    expect(spec.strategy).toEqual({
      type: 'RollingSync',
      rollingSync: {
        steps: [
          { matchExpressions: [{ key: 'converge.dev/service', operator: 'In', values: ['model-service'] }] },
          { matchExpressions: [{ key: 'converge.dev/service', operator: 'In', values: ['app-service'] }] },
        ],
      },
    });
    // Manual sync leaves no self-heal to guard, so services are not split.
    expect(spec.generators[0].list.elements.map((e) => e.appName)).toEqual([
      'staging-app-service',
      'staging-model-service',
    ]);
    for (const element of spec.generators[0].list.elements)
      expect(element.syncPolicy.automated).toBeUndefined();
    for (const app of platform.applicationSet.applications)
      expect((app.spec as { syncPolicy: { automated?: unknown } }).syncPolicy.automated).toBeUndefined();
  });

  it('passes schema validation and every platform invariant', () => {
    expect(validateEnvironment('staging', stacks).violations).toEqual([]);
  });
});
