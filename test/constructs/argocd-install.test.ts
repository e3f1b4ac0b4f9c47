import { parse } from 'yaml';
import {
  ArgoCdInstall,
  CONFIG_CHECKSUM_ANNOTATION,
  VIRTUAL_SERVICE_HEALTH_LUA,
} from '../../constructs/argocd/argocd-install';
import { KubeObject } from '../../model/objects';
import { MINI_ARGOCD } from '../fixtures/argocd-mini';
import { ofKind, synthObjects } from '../helpers';

const configMap = (objects: KubeObject[], name: string) =>
  objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name)!.data as Record<string, string>;

describe('ArgoCdInstall', () => {
  it('installs the given official objects plus a namespace, with the platform defaults', () => {
    // GIVEN / WHEN
    const objects = synthObjects((chart) => new ArgoCdInstall(chart, 'ArgoCd', { manifests: MINI_ARGOCD }));
    // THEN
    expect(objects).toMatchSnapshot();
    expect(objects).toHaveLength(MINI_ARGOCD.objects.length + 1);
    expect(ofKind(objects, 'Namespace')[0].metadata.name).toBe('argocd');
  });

  it('puts namespaced objects and RBAC subjects in the chosen namespace, and leaves cluster-scoped ones alone', () => {
    const objects = synthObjects(
      (chart) => new ArgoCdInstall(chart, 'ArgoCd', { manifests: MINI_ARGOCD, namespace: 'gitops' }),
    );
    expect(ofKind(objects, 'ServiceAccount')[0].metadata.namespace).toBe('gitops');
    expect(ofKind(objects, 'CustomResourceDefinition')[0].metadata.namespace).toBeUndefined();
    const binding = ofKind(objects, 'ClusterRoleBinding')[0];
    expect(binding.metadata.namespace).toBeUndefined();
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: 'argocd-application-controller', namespace: 'gitops' },
    ]);
  });

  it('merges reconciliation, health checks and global ignoreDifferences into argocd-cm', () => {
    const objects = synthObjects(
      (chart) =>
        new ArgoCdInstall(chart, 'ArgoCd', {
          manifests: MINI_ARGOCD,
          reconciliationTimeout: '60s',
          reconciliationJitter: '5s',
          ignoreDifferences: { apps_Deployment: { jsonPointers: ['/spec/replicas'] } },
        }),
    );
    const cm = configMap(objects, 'argocd-cm');
    expect(cm['timeout.reconciliation']).toBe('60s');
    expect(cm['timeout.reconciliation.jitter']).toBe('5s');
    expect(cm['resource.customizations.health.networking.istio.io_VirtualService']).toBe(
      VIRTUAL_SERVICE_HEALTH_LUA,
    );
    expect(parse(cm['resource.customizations.ignoreDifferences.apps_Deployment'])).toEqual({
      jsonPointers: ['/spec/replicas'],
    });
  });

  it('appends resource exclusions to upstream ones instead of replacing them', () => {
    const objects = synthObjects(
      (chart) =>
        new ArgoCdInstall(chart, 'ArgoCd', {
          manifests: MINI_ARGOCD,
          resourceExclusions: [{ apiGroups: ['cilium.io'], kinds: ['CiliumIdentity'] }],
        }),
    );
    expect(parse(configMap(objects, 'argocd-cm')['resource.exclusions'])).toEqual([
      { apiGroups: ['coordination.k8s.io'], kinds: ['Lease'] },
      { apiGroups: ['cilium.io'], kinds: ['CiliumIdentity'] },
    ]);
  });

  it('sets the self-heal backoff and enables progressive syncs in argocd-cmd-params-cm', () => {
    const objects = synthObjects(
      (chart) =>
        new ArgoCdInstall(chart, 'ArgoCd', {
          manifests: MINI_ARGOCD,
          selfHealBackoff: '1s',
          selfHealBackoffFactor: 2,
          selfHealBackoffCap: '1m',
          progressiveSyncs: true,
        }),
    );
    expect(configMap(objects, 'argocd-cmd-params-cm')).toEqual({
      'controller.self.heal.backoff.timeout.seconds': '1',
      'controller.self.heal.backoff.factor': '2',
      'controller.self.heal.backoff.cap.seconds': '60',
      'applicationsetcontroller.enable.progressive.syncs': 'true',
    });
  });

  it('writes RBAC defaults and notification services, templates and triggers', () => {
    const objects = synthObjects(
      (chart) =>
        new ArgoCdInstall(chart, 'ArgoCd', {
          manifests: MINI_ARGOCD,
          rbacPolicies: ['g, platform-admins, role:admin'],
          notifications: {
            slack: { tokenSecretKey: 'slack-token' },
            webhooks: { audit: { url: 'http://audit:8080' } },
          },
        }),
    );
    // No default role unless asked for, as upstream: every signed-in user would get it.
    expect(configMap(objects, 'argocd-rbac-cm')).toEqual({
      'policy.csv': 'g, platform-admins, role:admin\n',
    });
    const notifications = configMap(objects, 'argocd-notifications-cm');
    expect(parse(notifications['service.slack'])).toEqual({ token: '$slack-token' });
    expect(parse(notifications['service.webhook.audit'])).toMatchObject({ url: 'http://audit:8080' });
    expect(parse(notifications['trigger.on-sync-failed'])).toEqual([
      expect.objectContaining({ send: ['app-sync-failed'] }),
    ]);
    expect(parse(notifications['template.app-sync-failed'])).toMatchObject({
      webhook: { audit: { method: 'POST' } },
    });
  });

  it('gives signed-in users a default role only when the stack file names one', () => {
    const rbac = (rbacDefaultPolicy?: string) =>
      configMap(
        synthObjects(
          (chart) => new ArgoCdInstall(chart, 'ArgoCd', { manifests: MINI_ARGOCD, rbacDefaultPolicy }),
        ),
        'argocd-rbac-cm',
      );
    expect(rbac()).not.toHaveProperty('policy.default');
    expect(rbac('role:readonly')).toEqual({ 'policy.default': 'role:readonly' });
  });

  it('fails when no official objects are given', () => {
    expect(() =>
      synthObjects(
        (chart) => new ArgoCdInstall(chart, 'ArgoCd', { manifests: { ...MINI_ARGOCD, objects: [] } }),
      ),
    ).toThrow("'manifests' is 0; pass the official install objects");
  });

  it('fails when the namespace is not a DNS label', () => {
    expect(() =>
      synthObjects(
        (chart) => new ArgoCdInstall(chart, 'ArgoCd', { manifests: MINI_ARGOCD, namespace: 'Argo_CD' }),
      ),
    ).toThrow(`'namespace' is "Argo_CD"; it must be a DNS label`);
  });

  it('fails when a health check key has no group/Kind form', () => {
    expect(() =>
      synthObjects(
        (chart) =>
          new ArgoCdInstall(chart, 'ArgoCd', {
            manifests: MINI_ARGOCD,
            healthChecks: { Deployment: 'return {}' },
          }),
      ),
    ).toThrow('keys must be "group/Kind"');
  });
});

describe('ArgoCdInstall start-up settings', () => {
  const workload: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'argocd-application-controller' },
    spec: { template: { metadata: { labels: { a: 'b' } }, spec: { containers: [] } } },
  };
  const checksum = (selfHealBackoff: string) => {
    const objects = synthObjects(
      (chart) =>
        new ArgoCdInstall(chart, 'ArgoCd', {
          manifests: { ...MINI_ARGOCD, objects: [...MINI_ARGOCD.objects, workload] },
          selfHealBackoff,
        }),
    );
    const sts = objects.find((o) => o.kind === 'StatefulSet')!;
    return (sts.spec as { template: { metadata: { annotations: Record<string, string> } } }).template.metadata
      .annotations[CONFIG_CHECKSUM_ANNOTATION];
  };

  it('rolls Argo CD workloads when the settings it reads at start change', () => {
    expect(checksum('2s')).toMatch(/^[0-9a-f]{64}$/);
    expect(checksum('2s')).toBe(checksum('2s'));
    expect(checksum('5s')).not.toBe(checksum('2s'));
  });
});
