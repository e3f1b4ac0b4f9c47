import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { synthesizeLoaded } from '../../render/environment';
import { loadStackConfig } from '../../config/stack-file';
import { toolPath } from '../../render/tools';
import { KubeObject } from '../../model/objects';
import {
  application,
  ARGOCD_NS,
  clients,
  commitToServer,
  GIT_URL,
  KUBECONFIG,
  kubectl,
  REGISTRY,
  restoreArgoCd,
  RESULTS_DIR,
  ROOT,
  waitFor,
} from '../../tools/cluster/harness';

/*
 * Issue 12's real parts in the local control plane: app-service's versions pushed with crane to the
 * loopback registry `up` starts, and ImageUpdater objects checked by the real API server against
 * Image Updater v1.1.0's own CRD (applied at `up`). Image Updater's controller cannot be built
 * here yet (tools/versions.json "blocked"), so nothing in this file waits for it to act.
 */

const REPO = `${REGISTRY}/app-service`;
const TAGS = ['1.0.6', '1.1.0', '2.0.0', '1.0.7-rc.1'];
const CRD = 'imageupdaters.argocd-image-updater.argoproj.io';
let work: string;

const crane = (...args: string[]): string =>
  execFileSync(toolPath('crane'), [...args, '--insecure'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();

/** A one-file layer holding the tag, so each version is its own image (its own digest). */
function pushVersion(tag: string): { ref: string; ms: number } {
  const dir = join(work, tag);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'VERSION'), `app-service ${tag}\n`);
  const tar = join(work, `${tag}.tar`);
  execFileSync('tar', ['-cf', tar, '-C', dir, 'VERSION']);
  const started = performance.now();
  // No base image: crane starts from an empty one, so no container runtime and no download.
  const ref = crane('append', '-f', tar, '-t', `${REPO}:${tag}`);
  return { ref, ms: performance.now() - started };
}

/** The API server's answer to a server-side dry-run apply with strict field validation. */
function dryRun(objects: object[]): { ok: boolean; out: string } {
  try {
    const out = kubectl(
      [
        'apply',
        '--server-side',
        '--dry-run=server',
        '--validate=strict',
        '--field-manager=converge-e2e',
        '-f',
        '-',
      ],
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
    );
    return { ok: true, out };
  } catch (err) {
    return { ok: false, out: String((err as { stderr?: string }).stderr ?? err) };
  }
}

/** An environment as its committed stack file declares it, with `imageUpdater.enabled` switched on. */
function withUpdater(env: string) {
  const loaded = loadStackConfig(env);
  return synthesizeLoaded({
    ...loaded,
    config: { ...loaded.config, imageUpdater: { ...loaded.config.imageUpdater, enabled: true } },
  });
}

/** An ImageUpdater as Image Updater v1.1.0 documents it: one Application, one image, git write-back. */
function imageUpdater(
  env: string,
  constraint: string,
  settings: Record<string, unknown>,
  method = 'git',
): object {
  return {
    apiVersion: 'argocd-image-updater.argoproj.io/v1alpha1',
    kind: 'ImageUpdater',
    metadata: { name: `${env}-app-service`, namespace: ARGOCD_NS },
    spec: {
      namespace: ARGOCD_NS,
      applicationRefs: [
        {
          namePattern: `${env}-app-service`,
          images: [
            {
              alias: 'app-service',
              // v1.x reads the semver constraint from the image name's tag part.
              imageName: `${REPO}:${constraint}`,
              commonUpdateSettings: settings,
              manifestTargets: { helm: { name: 'image.repository', tag: 'image.tag' } },
            },
          ],
          writeBackConfig: {
            method,
            gitConfig: {
              branch: 'main',
              writeBackTarget: `helmvalues:/charts/app-service/images/${env}.yaml`,
            },
          },
        },
      ],
    },
  };
}

beforeAll(() => {
  restoreArgoCd();
  work = mkdtempSync(join(tmpdir(), 'converge-image-updates-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('app-service versions in the loopback registry', () => {
  const pushed = new Map<string, string>();

  test('crane pushes 1.0.6, 1.1.0, 2.0.0 and 1.0.7-rc.1; the registry lists exactly those, each its own image', () => {
    const samples: { tag: string; ms: number }[] = [];
    for (const tag of TAGS) {
      const { ref, ms } = pushVersion(tag);
      expect(ref).toMatch(new RegExp(`^${REPO.replace(/[.]/g, '\\.')}@sha256:[0-9a-f]{64}$`));
      pushed.set(tag, ref);
      samples.push({ tag, ms: Math.round(ms) });
    }
    expect(crane('ls', REPO).split('\n').sort()).toEqual([...TAGS].sort());
    expect(new Set(pushed.values()).size).toBe(TAGS.length);
    for (const tag of TAGS) expect(`${REPO}@${crane('digest', `${REPO}:${tag}`)}`).toBe(pushed.get(tag));
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(
      join(RESULTS_DIR, 'image-push-times.json'),
      `${JSON.stringify({ registry: REGISTRY, client: 'crane append', samples }, null, 2)}\n`,
    );
  });

  test('a pushed image reads back with the layer crane wrote', () => {
    const config = JSON.parse(crane('config', `${REPO}:1.0.6`)) as { rootfs: { diff_ids: string[] } };
    expect(config.rootfs.diff_ids).toHaveLength(1);
    const manifest = JSON.parse(crane('manifest', `${REPO}:2.0.0`)) as { layers: unknown[] };
    expect(manifest.layers).toHaveLength(1);
  });
});

describe("Image Updater v1.1.0's CRD in the API server", () => {
  test('is served', () => {
    expect(
      kubectl(['get', 'crd', CRD, '-o', 'jsonpath={.status.conditions[?(@.type=="Established")].status}']),
    ).toBe('True');
  });

  test('accepts the ImageUpdater objects `converge synth` writes for each environment, with strict validation', () => {
    const synthesized = ['dev', 'staging'].flatMap((env) =>
      withUpdater(env).files.flatMap((f) => f.objects.filter((o) => o.kind === 'ImageUpdater')),
    );
    // Dev and staging with the updater switched on (prod follows a release tag).
    expect(synthesized.map((o) => o.metadata.name).sort()).toEqual([
      'dev-app-service',
      'dev-model-service',
      'staging-app-service',
      'staging-model-service',
    ]);
    const r = dryRun(synthesized);
    expect(r.out).toMatch(/dev-app-service serverside-applied \(server dry run\)/);
    expect(r.ok).toBe(true);
  });

  test("accepts prod's policy as the issue states it: ~1.0, stable tags only, git write-back", () => {
    const r = dryRun([
      imageUpdater('prod', '~1.0', { updateStrategy: 'semver', ignoreTags: ['*-rc*', '*-dev*'] }),
    ]);
    expect(r).toEqual({ ok: true, out: expect.stringMatching(/prod-app-service serverside-applied/) });
  });

  test('refuses a write-back method the CRD does not allow, and a field it does not know', () => {
    const badMethod = dryRun([imageUpdater('dev', '*', { updateStrategy: 'semver' }, 'svn')]);
    expect(badMethod.ok).toBe(false);
    expect(badMethod.out).toMatch(/writeBackConfig\.method.*should match/);
    const unknown = dryRun([imageUpdater('dev', '*', { updateStrategy: 'semver', constraint: '~1.0' })]);
    expect(unknown.ok).toBe(false);
    expect(unknown.out).toMatch(
      /unknown field "constraint" in io\.argoproj\.argocd-image-updater\.v1alpha1\.ImageUpdater/,
    );
  });
});

/*
 * The write-back half, end to end: the test makes the commit Image Updater's helmvalues writer
 * makes (same file, same shape) to the served repo, and Argo CD, the chart and `converge drift`
 * take it from there. Which tag the updater would pick is covered by the unit tests only.
 */
describe('a write-back commit reaches the Deployment', () => {
  const NS = 'dev-web';
  const APP_NAME = 'dev-app-service';
  const WRITE_BACK = 'charts/app-service/images/dev.yaml';
  const c = clients();
  const deploymentImage = async () =>
    (await c.apps.readNamespacedDeployment({ name: 'app-service', namespace: NS })).spec?.template.spec
      ?.containers[0]?.image;
  let app: KubeObject;
  let floor: string;
  let repository: string;

  beforeAll(async () => {
    // The Application dev's ApplicationSet generates, pointed at the served repo (no Pulumi, no AppProject).
    const generated = withUpdater('dev').platform.applicationSet.applications.find(
      (a) => a.metadata.name === APP_NAME,
    )!;
    app = JSON.parse(JSON.stringify(generated)) as KubeObject;
    const spec = app.spec as {
      project: string;
      source: { repoURL: string; helm: { valuesObject: { image: { tag: string; repository: string } } } };
    };
    spec.project = 'default';
    spec.source.repoURL = GIT_URL;
    floor = spec.source.helm.valuesObject.image.tag;
    repository = spec.source.helm.valuesObject.image.repository;
    kubectl(['create', 'namespace', NS]);
    kubectl(['apply', '--server-side', '--field-manager=converge-e2e', '-f', '-'], JSON.stringify(app));
    await waitFor(
      `${APP_NAME} Synced and Healthy`,
      async () => {
        const s = (await application(c, APP_NAME)).status;
        return s?.sync?.status === 'Synced' && s.health?.status === 'Healthy';
      },
      { timeoutMs: 180_000, intervalMs: 500 },
    );
    expect(await deploymentImage()).toBe(`${repository}:${floor}`);
  });

  afterAll(() => {
    kubectl(['delete', 'application', APP_NAME, '-n', ARGOCD_NS, '--wait=true', '--timeout=120s']);
    kubectl(['delete', 'namespace', NS, '--wait=true', '--timeout=120s']);
  });

  /** Image Updater's helmvalues write-back for dev's app-service, as a commit on main. */
  const writeBack = (tag: string) =>
    commitToServer(
      {
        [WRITE_BACK]: `# auto generated by argocd image updater\nupdatedImage:\n  repository: ${REPO}\n  tag: ${tag}\n`,
      },
      `build: automatic update of ${APP_NAME} to ${tag}`,
    );

  test('each write-back commit moves the Deployment to the written tag (5 samples, p50 and p95 recorded)', async () => {
    const tags = ['2.0.0', '2.0.1', '2.0.2', '2.0.3', '2.0.4'];
    for (const tag of tags.filter((t) => !TAGS.includes(t))) pushVersion(tag);
    const samples: { tag: string; commit: string; ms: number }[] = [];
    for (const tag of tags) {
      const started = performance.now();
      const commit = writeBack(tag);
      await waitFor(
        `Deployment app-service at ${tag}`,
        async () => (await deploymentImage()) === `${repository}:${tag}`,
        { timeoutMs: 180_000, intervalMs: 100 },
      );
      samples.push({ tag, commit, ms: Math.round(performance.now() - started) });
    }
    const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
    const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
    writeFileSync(
      join(RESULTS_DIR, 'image-write-back-times.json'),
      `${JSON.stringify({ what: 'write-back commit pushed -> Deployment image changed', samples, p50: pct(50), p95: pct(95) }, null, 2)}\n`,
    );
    expect(samples).toHaveLength(5);
  });

  test('a written tag below the stack file floor never runs: the floor does', async () => {
    const commit = writeBack('1.0.6');
    await waitFor(
      `${APP_NAME} synced to ${commit.slice(0, 7)}`,
      async () => {
        const s = (await application(c, APP_NAME)).status;
        return s?.sync?.revision === commit && s.sync.status === 'Synced';
      },
      { timeoutMs: 180_000, intervalMs: 200 },
    );
    await waitFor('the floor tag', async () => (await deploymentImage()) === `${repository}:${floor}`);
  });

  test('converge drift then finds nothing in the service namespace', async () => {
    writeBack('2.0.4');
    await waitFor(
      'Deployment app-service at 2.0.4',
      async () => (await deploymentImage()) === `${repository}:2.0.4`,
    );
    const stacks = join(work, 'stacks');
    cpSync(join(ROOT, 'stacks'), stacks, { recursive: true });
    const file = join(stacks, 'Pulumi.dev.yaml');
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace('https://github.com/example-org/converge.git', GIT_URL),
    );
    const r = spawnSync(
      'node',
      [
        join(ROOT, 'dist', 'cli', 'main.js'),
        'drift',
        '--env',
        'dev',
        '--kubeconfig',
        KUBECONFIG,
        '--stacks-dir',
        stacks,
        '--output',
        'json',
      ],
      { encoding: 'utf8' },
    );
    const report = JSON.parse(r.stdout) as { findings: { object: { namespace?: string } }[] };
    expect(report.findings.filter((f) => f.object.namespace === NS)).toEqual([]);
  });
});
