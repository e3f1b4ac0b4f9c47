import { DesiredObject, KubeObject, objectKey, ObjectRef } from '../../model/objects';

/*
 * Secrets the desired workloads need but Git does not hold: made with kubectl, an ExternalSecret
 * or a SealedSecret. Their deletion stops new pods from starting, so it is drift of the Secret
 * (policy rule `secret-deleted`, paged at once), though no Application owns it.
 */

/** A Secret a desired workload reads, and the first workload that reads it. */
export interface ReferencedSecret {
  readonly ref: ObjectRef;
  readonly application?: string;
  readonly referencedBy: string;
}

interface SecretUse {
  readonly name?: string;
  readonly optional?: boolean;
}
interface ContainerLike {
  readonly env?: readonly { valueFrom?: { secretKeyRef?: SecretUse & { key?: string } } }[];
  readonly envFrom?: readonly { secretRef?: SecretUse }[];
}
interface PodSpecLike {
  readonly containers?: readonly ContainerLike[];
  readonly initContainers?: readonly ContainerLike[];
  readonly volumes?: readonly { secret?: { secretName?: string; optional?: boolean } }[];
  readonly imagePullSecrets?: readonly { name?: string }[];
}

/** The pod spec of a workload (Deployment, StatefulSet, DaemonSet, Job, CronJob, Pod), if any. */
function podSpecOf(obj: KubeObject): PodSpecLike | undefined {
  const spec = obj.spec as Record<string, any> | undefined; // eslint-disable-line @typescript-eslint/no-explicit-any
  if (!spec) return undefined;
  if (obj.kind === 'Pod') return spec as PodSpecLike;
  if (obj.kind === 'CronJob') return spec.jobTemplate?.spec?.template?.spec;
  return spec.template?.spec;
}

/** Names of the Secrets a pod spec cannot start without (optional references left out). */
export function requiredSecretNames(pod: PodSpecLike): string[] {
  const names = new Set<string>();
  const use = (u?: SecretUse) => {
    if (u?.name && u.optional !== true) names.add(u.name);
  };
  for (const c of [...(pod.containers ?? []), ...(pod.initContainers ?? [])]) {
    for (const e of c.env ?? []) use(e.valueFrom?.secretKeyRef);
    for (const e of c.envFrom ?? []) use(e.secretRef);
  }
  for (const v of pod.volumes ?? []) use({ name: v.secret?.secretName, optional: v.secret?.optional });
  for (const p of pod.imagePullSecrets ?? []) use({ name: p.name });
  return [...names].sort();
}

/** The Secrets desired workloads need that are not desired objects themselves, by key. */
export function referencedSecrets(desired: readonly DesiredObject[]): Map<string, ReferencedSecret> {
  const desiredKeys = new Set(desired.map((d) => objectKey(d.object)));
  const out = new Map<string, ReferencedSecret>();
  for (const { object, application } of desired) {
    const pod = podSpecOf(object);
    const namespace = object.metadata.namespace;
    if (!pod || !namespace) continue;
    for (const name of requiredSecretNames(pod)) {
      const ref = { apiVersion: 'v1', kind: 'Secret', namespace, name };
      const key = objectKey(ref);
      if (desiredKeys.has(key) || out.has(key)) continue;
      out.set(key, { ref, application, referencedBy: `${object.kind}/${object.metadata.name}` });
    }
  }
  return out;
}

/**
 * What a restore of a deleted referenced Secret applies: the copy last seen, without what the API
 * server sets. Kept in memory only; never logged, recorded or sent.
 */
export function restorableCopy(live: KubeObject): KubeObject {
  const { name, namespace, labels, annotations } = live.metadata as Record<string, unknown>;
  const kept = Object.fromEntries(
    Object.entries({ labels, annotations }).filter(([, v]) => v !== undefined && v !== null),
  );
  const rest = Object.fromEntries(
    Object.entries(live).filter(([k]) => !['apiVersion', 'kind', 'metadata', 'status'].includes(k)),
  );
  return {
    apiVersion: live.apiVersion,
    kind: live.kind,
    metadata: { name, namespace, ...kept } as KubeObject['metadata'],
    ...rest,
  } as KubeObject;
}
