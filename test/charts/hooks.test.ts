import { App } from 'cdk8s';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadStackConfig } from '../../config/stack-file';
import { GitOpsPlatform } from '../../constructs/platform/gitops-platform';
import { KubeObject } from '../../model/objects';
import { renderApplication } from '../../render/helm';
import { helmTemplate } from './hooks-helpers';
import { MINI_ARGOCD } from '../fixtures/argocd-mini';

/*
 * The hooks the stack file declares, rendered by the real helm with the values Argo CD passes:
 * Jobs Argo CD runs at PreSync, PostSync and SyncFail, in the Application that rolls out the image.
 */

const CHARTS = join(__dirname, '..', '..', 'charts');
let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'converge-hooks-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const prod = () => {
  const config = structuredClone(loadStackConfig('prod').config);
  config.services['app-service'].hooks!.syncFail = {
    command: ['/app/bin/report'],
    timeout: '1m',
    labels: { 'converge.dev/test-outcome': 'fail' },
    notify: true,
    rollback: false,
  };
  return new GitOpsPlatform(new App(), 'prod', {
    config,
    argoCdManifests: { ...MINI_ARGOCD, ha: config.argocd.ha },
  });
};

const jobs = (objects: readonly KubeObject[]) => objects.filter((o) => o.kind === 'Job');

describe('hooks in the charts', () => {
  it('renders a Job per declared phase, in the part that renders the Deployment', () => {
    // GIVEN prod's app-service with all three hooks, split into a self-healing and a guarded part
    const platform = prod();
    const apps = platform.applicationSet.applications.filter((a) =>
      a.metadata.name.startsWith('prod-app-service'),
    );
    const rendered = Object.fromEntries(apps.map((a) => [a.metadata.name, helmTemplate(a, CHARTS, work)]));
    // THEN only the guarded part (the Deployment's) carries the hooks
    expect(jobs(rendered['prod-app-service'])).toEqual([]);
    const hooks = jobs(rendered['prod-app-service-guarded']);
    expect(hooks.map((j) => [j.metadata.name, j.metadata.annotations])).toEqual([
      [
        'app-service-pre-sync',
        {
          'argocd.argoproj.io/hook': 'PreSync',
          'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation',
        },
      ],
      [
        'app-service-post-sync',
        {
          'argocd.argoproj.io/hook': 'PostSync',
          'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation',
        },
      ],
      [
        'app-service-sync-fail',
        {
          'argocd.argoproj.io/hook': 'SyncFail',
          'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation',
        },
      ],
    ]);
    // AND each runs the stable image with its command, deadline and extra pod labels, never as a Service endpoint
    const post = hooks[1].spec as {
      activeDeadlineSeconds: number;
      backoffLimit: number;
      template: {
        metadata: { labels: Record<string, string> };
        spec: { restartPolicy: string; containers: { image: string; command: string[] }[] };
      };
    };
    expect(post.activeDeadlineSeconds).toBe(120);
    expect(post.backoffLimit).toBe(0);
    expect(post.template.spec.restartPolicy).toBe('Never');
    expect(post.template.spec.containers[0]).toMatchObject({
      image: 'ghcr.io/example-org/app-service:1.4.2',
      command: ['/app/bin/smoke-test', '--url', '$(SERVICE_URL)'],
    });
    expect(post.template.metadata.labels).not.toHaveProperty('app.kubernetes.io/name');
    // AND each pod names the version it tests, so one release's smoke test can be singled out
    expect(
      hooks.map((j) => (j.spec as typeof post).template.metadata.labels['converge.dev/version']),
    ).toEqual(['1.4.2', '1.4.2', '1.4.2']);
    const fail = hooks[2].spec as typeof post;
    expect(fail.template.metadata.labels).toMatchObject({
      'converge.dev/hook': 'sync-fail',
      'converge.dev/test-outcome': 'fail',
    });
  });

  it("lets prod's project run Jobs, and keeps hooks out of the desired state drift compares", async () => {
    const platform = prod();
    const project = platform.project.resource.toJson() as {
      spec: { namespaceResourceWhitelist: { group: string; kind: string }[] };
    };
    expect(project.spec.namespaceResourceWhitelist).toContainEqual({ group: 'batch', kind: 'Job' });
    const guarded = platform.applicationSet.applications.find(
      (a) => a.metadata.name === 'prod-app-service-guarded',
    )!;
    const desired = await renderApplication(guarded, join(CHARTS, '..'), work);
    expect(desired.map((d) => d.object.kind)).not.toContain('Job');
    expect(desired.map((d) => d.object.kind)).toContain('Deployment');
  });

  it('renders no Job where no hook is declared (dev)', () => {
    const config = loadStackConfig('dev').config;
    const platform = new GitOpsPlatform(new App(), 'dev', {
      config,
      argoCdManifests: { ...MINI_ARGOCD, ha: config.argocd.ha },
    });
    for (const app of platform.applicationSet.applications)
      expect(jobs(helmTemplate(app, CHARTS, work))).toEqual([]);
  });
});
