import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { cacheRoot } from '../../render/cache';
import { synthesizeEnvironment } from '../../render/environment';

/*
 * Another repo's view: `npm pack` this package, install the tarball into a fresh project,
 * import the constructs with TypeScript, and synthesize a service of the consumer's own.
 */

jest.setTimeout(300_000);

const ROOT = join(__dirname, '..', '..');
const run = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

const CONSUMER_SOURCE = `
import { App, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { HelmApplication, IstioCanary, SyncPolicy, canaryWeights, argo } from 'converge';

const app = new App();
const chart = new Chart(app, 'orders', { namespace: 'orders' });
new kplus.Deployment(chart, 'orders', {
  containers: [{ image: 'ghcr.io/acme/orders:2.1.0', portNumber: 8080, securityContext: { user: 10001 } }],
  podMetadata: { labels: { version: 'stable' } },
});
const routing = new IstioCanary(chart, 'routing', { host: 'orders', weight: 15, header: { name: 'x-canary', value: 'always' } });
new HelmApplication(chart, 'orders-staging', {
  project: 'team-orders',
  repoURL: 'https://github.com/acme/orders.git',
  chartPath: 'deploy/chart',
  targetRevision: 'v2.1.0',
  destinationNamespace: 'orders',
  syncPolicy: SyncPolicy.forEnvironment('staging'),
  externalCanaryWeights: true,
});
const weights: { stable: number; canary: number } = canaryWeights(15);
const kind: string = argo.Application.GVK.kind;
if (routing.weights.stable !== weights.stable || kind !== 'Application') throw new Error('unexpected exports');
process.stdout.write(app.synthYaml());
`;

describe('a consumer repo', () => {
  let work: string;
  let project: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'converge-consumer-'));
    run('npm', ['pack', '--silent', '--pack-destination', work], ROOT);
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'))!;
    project = join(work, 'orders');
    execFileSync('mkdir', ['-p', project]);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'orders-deploy', private: true, version: '1.0.0' }),
    );
    writeFileSync(join(project, 'main.ts'), CONSUMER_SOURCE);
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          target: 'ES2022',
          module: 'commonjs',
          esModuleInterop: true,
          skipLibCheck: true,
          types: ['node'],
          ignoreDeprecations: '6.0',
        },
      }),
    );
    const typescript = (
      JSON.parse(readFileSync(join(ROOT, 'node_modules', 'typescript', 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
    run(
      'npm',
      [
        'install',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        join(work, tarball),
        'cdk8s-plus-28@2.5.6',
        `typescript@${typescript}`,
        '@types/node@20',
      ],
      project,
    );
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('runs the bundled converge bin from the installed package: the same bytes as from source, cold and warm', () => {
    // GIVEN the bin as npm installed it, and an empty code cache
    const bin = join(project, 'node_modules', '.bin', 'converge');
    expect(readFileSync(bin, 'utf8')).toContain("require('./loader.js')");
    const env = { ...process.env, CONVERGE_CACHE: join(work, 'cache') };
    // The upstream files stay where `npm run setup` put them; only the code cache starts empty.
    execFileSync('mkdir', ['-p', join(work, 'cache')]);
    symlinkSync(join(cacheRoot(), 'upstream'), join(work, 'cache', 'upstream'));
    const expected = synthesizeEnvironment('prod').files;
    for (const round of ['cold', 'warm']) {
      // WHEN it synthesizes prod from this checkout's stack files
      const out = join(work, `manifests-${round}`);
      execFileSync(bin, ['synth', '--env', 'prod', '--stacks-dir', join(ROOT, 'stacks'), '--out', out], {
        cwd: project,
        env,
        stdio: 'pipe',
      });
      // THEN every file is byte-identical to synthesizing in process from source
      expect(readdirSync(out).sort()).toEqual(expected.map((f) => f.name));
      for (const f of expected) expect(readFileSync(join(out, f.name), 'utf8')).toBe(f.content);
      // and the first run left a code cache for the next
      expect(readdirSync(join(work, 'cache', 'code-cache')).some((f) => f.startsWith('converge.js-'))).toBe(
        true,
      );
    }
  });

  it('installs the packed package, type-checks against it and synthesizes its own service', () => {
    // Importing has no side effects: nothing printed, nothing thrown.
    expect(run('node', ['-e', "require('converge')"], project)).toBe('');
    run(join(project, 'node_modules', '.bin', 'tsc'), ['-p', '.'], project);
    const objects = (
      parseAllDocuments(run('node', ['main.js'], project)).map((d) => d.toJSON()) as {
        kind: string;
        metadata: { name: string };
        spec: Record<string, unknown>;
      }[]
    ).filter(Boolean);

    expect(objects.map((o) => o.kind).sort()).toEqual([
      'Application',
      'Deployment',
      'DestinationRule',
      'VirtualService',
    ]);
    const application = objects.find((o) => o.kind === 'Application')!;
    expect(application.spec).toMatchObject({
      project: 'team-orders',
      source: {
        repoURL: 'https://github.com/acme/orders.git',
        path: 'deploy/chart',
        targetRevision: 'v2.1.0',
      },
      ignoreDifferences: [
        {
          group: 'networking.istio.io',
          kind: 'VirtualService',
          jqPathExpressions: ['.spec.http[].route[].weight'],
        },
      ],
    });
    const vs = objects.find((o) => o.kind === 'VirtualService')!;
    expect(JSON.stringify(vs.spec)).toContain('"weight":85');
  });
});
