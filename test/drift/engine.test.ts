import { defaultDriftPolicy } from '../../model/drift-policy';
import { KubeObject, objectKey } from '../../model/objects';
import { DRIFT_EXIT, findDrift, highestSeverity } from '../../drift/engine/find-drift';

const policy = defaultDriftPolicy();
const svc = (type: string, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'web', namespace: 'dev', ...extra },
  spec: { type, ports: [{ name: 'http', port: 8080 }] },
});
const secret: KubeObject = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'dev' } };
const map = (...objs: KubeObject[]) => new Map(objs.map((o) => [objectKey(o), o]));

describe('findDrift', () => {
  it('finds nothing when live matches Git', () => {
    expect(
      findDrift([{ object: svc('ClusterIP') }, { object: secret }], map(svc('ClusterIP'), secret), policy),
    ).toEqual([]);
  });

  it('reports modified, deleted and added objects with severity, action, who and onset', () => {
    const changed = svc('LoadBalancer', {
      resourceVersion: '9',
      managedFields: [
        {
          manager: 'kubectl-patch',
          operation: 'Update',
          time: '2026-11-23T10:00:00Z',
          fieldsV1: { 'f:spec': { 'f:type': {} } },
        },
      ],
    });
    const extra: KubeObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'debug', namespace: 'dev', managedFields: [{ manager: 'kubectl-create' }] as never },
    };
    const findings = findDrift(
      [{ object: svc('ClusterIP'), application: 'dev-web' }, { object: secret }],
      map(changed, extra),
      policy,
      {
        managedNamespaces: new Set(['dev']),
        addedKinds: new Set(['ConfigMap']),
      },
    );
    expect(findings).toMatchObject([
      {
        change: 'deleted',
        object: { kind: 'Secret', name: 'db' },
        severity: 'high',
        action: 'heal-and-page',
        who: 'unknown (object deleted)',
      },
      {
        change: 'added',
        object: { kind: 'ConfigMap', name: 'debug' },
        severity: 'medium',
        action: 'hold-for-approval',
        who: 'kubectl-create',
      },
      {
        change: 'modified',
        application: 'dev-web',
        fields: [{ path: '/spec/type', from: 'ClusterIP', to: 'LoadBalancer' }],
        severity: 'medium',
        action: 'hold-for-approval',
        who: 'kubectl-patch',
        onset: '2026-11-23T10:00:00Z',
      },
    ]);
    expect(highestSeverity(findings)).toBe('high');
    expect(DRIFT_EXIT[highestSeverity(findings)!]).toBe(4);
  });

  it("treats values the platform's own appliers wrote as normalization, not drift", () => {
    const normalized = svc('NodePort', {
      managedFields: [
        {
          manager: 'argocd-controller',
          operation: 'Apply',
          time: '2026-11-23T10:00:00Z',
          fieldsV1: { 'f:spec': { 'f:type': {} } },
        },
      ],
    });
    expect(findDrift([{ object: svc('ClusterIP') }], map(normalized), policy)).toEqual([]);
  });

  it('skips objects the cluster makes in every namespace, and objects other objects own', () => {
    const rootCa: KubeObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'kube-root-ca.crt',
        namespace: 'dev',
        managedFields: [{ manager: 'kube-controller-manager' }] as never,
      },
    };
    const owned: KubeObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'lock', namespace: 'dev', ownerReferences: [{ uid: 'x' }] as never },
    };
    expect(
      findDrift([], map(rootCa, owned), policy, {
        managedNamespaces: new Set(['dev']),
        addedKinds: new Set(['ConfigMap']),
      }),
    ).toEqual([]);
  });

  it('gives the same drift the same id, and the same change made again later a new one', () => {
    const at = (time: string, annotatedAt?: string) =>
      findDrift(
        [{ object: svc('ClusterIP') }],
        map(
          svc('NodePort', {
            resourceVersion: annotatedAt ? '2' : '1',
            managedFields: [
              {
                manager: 'kubectl-patch',
                operation: 'Update',
                time,
                fieldsV1: { 'f:spec': { 'f:type': {} } },
              },
              ...(annotatedAt
                ? [
                    {
                      manager: 'kubectl-annotate',
                      operation: 'Update',
                      time: annotatedAt,
                      fieldsV1: { 'f:metadata': { 'f:annotations': { 'f:note': {} } } },
                    },
                  ]
                : []),
            ],
          }),
        ),
        policy,
      )[0].id;
    const first = at('2026-11-23T10:00:00Z');
    expect(first).toMatch(/^d-[0-9a-f]{12}$/);
    expect(at('2026-11-23T10:00:00Z')).toBe(first);
    // An unrelated later write (an approval annotation, say) is still the same drift.
    expect(at('2026-11-23T10:00:00Z', '2026-11-23T10:05:00Z')).toBe(first);
    // The same change made again later is a new drift.
    expect(at('2026-11-23T11:00:00Z')).not.toBe(first);
  });

  it('gives a scale made again a new id, though the scale subresource records no time', () => {
    // The API server keeps no time on managedFields entries written through /scale.
    const deployment = (replicas: number, generation: number): KubeObject => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'web',
        namespace: 'dev',
        generation,
        ...(replicas !== 2
          ? {
              managedFields: [
                {
                  manager: 'kubectl',
                  operation: 'Update',
                  subresource: 'scale',
                  fieldsV1: { 'f:spec': { 'f:replicas': {} } },
                },
              ],
            }
          : {}),
      },
      spec: { replicas },
    });
    const idAt = (generation: number) =>
      findDrift([{ object: deployment(2, 1) }], map(deployment(6, generation)), policy)[0].id;
    expect(idAt(3)).toBe(idAt(3));
    // Healed (generation 4), then scaled to the same count again (generation 5): a new drift.
    expect(idAt(5)).not.toBe(idAt(3));
  });
});
