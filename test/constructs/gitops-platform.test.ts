import { App } from 'cdk8s';
import { GitOpsPlatform } from '../../constructs/platform/gitops-platform';
import { loadStackConfig } from '../../config/stack-file';
import { MINI_ARGOCD } from '../fixtures/argocd-mini';
import { KubeObject } from '../../model/objects';

const platformFor = (
  env: string,
  edit: (c: ReturnType<typeof loadStackConfig>['config']) => void = () => undefined,
) => {
  const config = structuredClone(loadStackConfig(env).config);
  edit(config);
  return new GitOpsPlatform(new App(), env, {
    config,
    argoCdManifests: { ...MINI_ARGOCD, ha: config.argocd.ha },
  });
};
const syncOf = (a: KubeObject) =>
  (a.spec as { syncPolicy: { automated: { selfHeal: boolean }; syncOptions: string[] } }).syncPolicy;

describe('GitOpsPlatform', () => {
  it('keeps one self-healing Application per service when the policy holds nothing (dev)', () => {
    const dev = platformFor('dev');
    expect(dev.guardedKinds).toEqual([]);
    expect(dev.applicationSet.applications.map((a) => a.metadata.name)).toEqual([
      'dev-app-service',
      'dev-model-service',
    ]);
    for (const app of dev.applicationSet.applications) expect(syncOf(app).automated.selfHeal).toBe(true);
  });

  it('splits each service into a self-healing and a guarded Application when the policy holds kinds (staging)', () => {
    const staging = platformFor('staging');
    expect(staging.guardedKinds).toEqual(['Service', 'Deployment']);
    const apps = Object.fromEntries(staging.applicationSet.applications.map((a) => [a.metadata.name, a]));
    expect(Object.keys(apps)).toEqual([
      'staging-app-service',
      'staging-app-service-guarded',
      'staging-model-service',
      'staging-model-service-guarded',
    ]);
    const guarded = apps['staging-app-service-guarded'];
    expect(syncOf(guarded).automated.selfHeal).toBe(false);
    expect(guarded.metadata.labels).toMatchObject({
      'converge.dev/part': 'guarded',
      'converge.dev/service': 'app-service',
    });
    expect(guarded.spec).toMatchObject({
      source: { helm: { valuesObject: { converge: { renderKinds: ['Service', 'Deployment'] } } } },
    });
    expect(apps['staging-app-service'].spec).toMatchObject({
      source: { helm: { valuesObject: { converge: { skipKinds: ['Service', 'Deployment'] } } } },
    });
    expect(guarded.metadata.annotations).toEqual({
      'notifications.argoproj.io/subscribe.on-sync-failed.slack': 'deploys-staging',
      'notifications.argoproj.io/subscribe.on-health-degraded.slack': 'deploys-staging',
      'notifications.argoproj.io/subscribe.on-deployed.slack': 'deploys-staging',
      'notifications.argoproj.io/subscribe.on-out-of-sync.slack': 'deploys-staging',
    });
    expect(syncOf(guarded).syncOptions).not.toContain('Prune=confirm');
  });

  it('confirms pruning and deletion of guarded objects by hand in prod', () => {
    const guarded = platformFor('prod').applicationSet.applications.find(
      (a) => a.metadata.name === 'prod-app-service-guarded',
    )!;
    expect(syncOf(guarded).syncOptions).toEqual(expect.arrayContaining(['Prune=confirm', 'Delete=confirm']));
  });

  it('lets an autoscaler own the replica count', () => {
    const dev = platformFor('dev', (c) => {
      c.services['app-service'].autoscaling = { minReplicas: 2, maxReplicas: 6, cpuUtilization: 70 };
    });
    const app = dev.applicationSet.applications.find((a) => a.metadata.name === 'dev-app-service')!;
    expect(app.spec).toMatchObject({
      source: { helm: { valuesObject: { autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 6 } } } },
      ignoreDifferences: [
        { group: 'apps', kind: 'Deployment', name: 'app-service', jsonPointers: ['/spec/replicas'] },
      ],
      syncPolicy: { syncOptions: expect.arrayContaining(['RespectIgnoreDifferences=true']) },
    });
  });

  it('runs the drift controller in the cluster only when asked to', () => {
    expect(platformFor('dev').driftController).toBeUndefined();
    expect(platformFor('staging').driftController?.namespace).toBe('converge-system');
    const prod = platformFor('prod');
    expect(prod.driftController?.namespace).toBe('converge-system');
  });

  it('lets the in-cluster controller read, but never write, its own RBAC in the service namespaces', () => {
    // GIVEN staging, whose controller's Role and RoleBinding live in each service namespace
    const objects = platformFor('staging').platformChart.toJson() as KubeObject[];
    // WHEN its Role there is read
    const role = objects.find(
      (o) =>
        o.kind === 'Role' && o.metadata.name === 'converge-drift' && o.metadata.namespace === 'staging-web',
    )!;
    const rules = (
      role as unknown as { rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] }
    ).rules;
    const rbac = rules.filter((r) => r.apiGroups.includes('rbac.authorization.k8s.io'));
    // THEN roles and rolebindings are readable, not writable
    expect(rbac.flatMap((r) => r.resources).sort()).toEqual(['rolebindings', 'roles']);
    for (const r of rbac) expect(r.verbs.sort()).toEqual(['get', 'list', 'watch']);
  });

  it('fails when the Argo CD manifests do not match the HA setting', () => {
    const config = loadStackConfig('prod').config;
    expect(() => new GitOpsPlatform(new App(), 'prod', { config, argoCdManifests: MINI_ARGOCD })).toThrow(
      `'argoCdManifests.ha' is false; config.argocd.ha is true; load the matching manifests with loadArgoCdManifests({ ha: true })`,
    );
  });
});
