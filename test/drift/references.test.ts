import { referencedSecrets, requiredSecretNames, restorableCopy } from '../../drift/engine/references';
import { KubeObject } from '../../model/objects';

/* Which Secrets the desired workloads cannot start without, when Git holds none of them. */

const workload = (kind: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: kind === 'CronJob' ? 'batch/v1' : 'apps/v1',
  kind,
  metadata: { name: 'w', namespace: 'prod-ml' },
  spec,
});

describe('referencedSecrets', () => {
  it('collects envFrom, secretKeyRef, volume and pull-secret references, leaving optional ones out', () => {
    expect(
      requiredSecretNames({
        containers: [
          {
            envFrom: [{ secretRef: { name: 'a' } }, { secretRef: { name: 'opt', optional: true } }],
            env: [{ valueFrom: { secretKeyRef: { name: 'b', key: 'k' } } }],
          },
        ],
        initContainers: [{ envFrom: [{ secretRef: { name: 'c' } }] }],
        volumes: [{ secret: { secretName: 'd' } }, { secret: { secretName: 'opt2', optional: true } }],
        imagePullSecrets: [{ name: 'e' }],
      }),
    ).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('names each needed Secret once, by key, with the workload that needs it, and skips desired Secrets', () => {
    const pod = { template: { spec: { containers: [{ envFrom: [{ secretRef: { name: 'api-key' } }] }] } } };
    const desiredSecret: KubeObject = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'in-git', namespace: 'prod-ml' },
    };
    const withGitSecret = {
      template: { spec: { containers: [{ envFrom: [{ secretRef: { name: 'in-git' } }] }] } },
    };
    const cron = {
      jobTemplate: { spec: { template: { spec: { volumes: [{ secret: { secretName: 'api-key' } }] } } } },
    };
    const found = referencedSecrets([
      { object: workload('Deployment', pod), application: 'prod-model-service' },
      { object: workload('CronJob', cron) },
      { object: workload('StatefulSet', withGitSecret) },
      { object: desiredSecret },
    ]);
    expect([...found.keys()]).toEqual(['/Secret/prod-ml/api-key']);
    expect(found.get('/Secret/prod-ml/api-key')).toEqual({
      ref: { apiVersion: 'v1', kind: 'Secret', namespace: 'prod-ml', name: 'api-key' },
      application: 'prod-model-service',
      referencedBy: 'Deployment/w',
    });
  });

  it('restores a copy without what the API server sets', () => {
    const live: KubeObject = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 'api-key',
        namespace: 'prod-ml',
        labels: { a: 'b' },
        uid: 'u',
        resourceVersion: '9',
        creationTimestamp: 't',
        managedFields: [],
      },
      type: 'Opaque',
      data: { k: 'dg==' },
    };
    expect(restorableCopy(live)).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'api-key', namespace: 'prod-ml', labels: { a: 'b' } },
      type: 'Opaque',
      data: { k: 'dg==' },
    });
  });
});
