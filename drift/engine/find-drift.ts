import { createHash } from 'node:crypto';
import {
  ChangeType,
  Classification,
  DriftPolicySpec,
  FieldChange,
  Severity,
  severityRank,
} from '../../model/drift-policy';
import { classifyFields } from '../../model/classify';
import {
  describeRef,
  DesiredObject,
  groupOf,
  isClusterScoped,
  KubeObject,
  objectKey,
  ObjectRef,
  refOf,
} from '../../model/objects';
import { diffObject, ManagedFieldsEntry, ownerOf } from './compare';
import { redactFields } from './redact';
import { ReferencedSecret, referencedSecrets } from './references';

/*
 * Turns desired and live objects into drift findings: what changed (field paths, Git's value and
 * the live one), who changed it and since when, its severity and what the policy will do.
 * Pure: the caller brings both states, so it is tested without a cluster.
 */

export interface DriftFinding extends Classification {
  /** Stable id: the same drift found twice (or after a restart) has the same id. */
  readonly id: string;
  readonly object: ObjectRef;
  readonly application?: string;
  readonly change: ChangeType;
  readonly fields: readonly FieldChange[];
  /** Field manager (or user) that made the change, when the cluster records it. */
  readonly who: string;
  /** When the drift started, from managedFields (modifications) or the object (additions). */
  readonly onset?: string;
}

/**
 * Field managers that apply the desired state (Argo CD, Pulumi, Converge). A difference whose
 * value they wrote is the API server normalizing what they sent, not drift.
 */
export const PLATFORM_MANAGERS = [
  'argocd-controller',
  'argocd-application-controller',
  'pulumi-kubernetes',
  'converge',
];
export const isPlatformManager = (manager?: string) =>
  !!manager && PLATFORM_MANAGERS.some((m) => manager === m || manager.startsWith(`${m}-`));

/** Who wrote a field last; for a field that is gone, the object's latest writer. */
function writerOf(live: KubeObject, f: FieldChange): ManagedFieldsEntry | undefined {
  const owner = f.to !== undefined ? ownerOf(live, f.path) : undefined;
  if (owner) return owner;
  const entries = (live.metadata.managedFields ?? []) as ManagedFieldsEntry[];
  return [...entries].sort((a, b) => (b.time ?? '').localeCompare(a.time ?? ''))[0];
}

export interface FindDriftOptions {
  /** Namespaces whose unexpected objects count as `added` drift. @default none */
  readonly managedNamespaces?: ReadonlySet<string>;
  /** Kinds checked for additions. @default the kinds desired in those namespaces */
  readonly addedKinds?: ReadonlySet<string>;
  /** Last resourceVersion of deleted objects, by key (from watch DELETED events). */
  readonly tombstones?: ReadonlyMap<string, string>;
  /** Secrets desired workloads need though Git holds none of them. @default those of `desired` */
  readonly referenced?: ReadonlyMap<string, ReferencedSecret>;
}

/**
 * A drift's id: the object, the change, the drifted values and when they were written. The same
 * drift seen twice, or after a restart, keeps its id; the same change made again later is a new
 * drift with a new id.
 */
export function driftId(
  ref: ObjectRef,
  change: ChangeType,
  fields: readonly FieldChange[],
  occurrence = '',
): string {
  const h = createHash('sha256');
  h.update(objectKey(ref));
  h.update(change);
  h.update(occurrence);
  for (const f of [...fields].sort((a, b) => a.path.localeCompare(b.path)))
    h.update(`${f.path}=${JSON.stringify(f.to) ?? ''}`);
  return `d-${h.digest('hex').slice(0, 12)}`;
}

function who(live: KubeObject | undefined, fields: readonly FieldChange[]): { who: string; onset?: string } {
  if (!live) return { who: 'unknown (object deleted)' };
  let latest: ManagedFieldsEntry | undefined;
  for (const f of fields) {
    const owner = writerOf(live, f);
    if (owner && (!latest || (owner.time ?? '') > (latest.time ?? ''))) latest = owner;
  }
  if (!latest) return { who: 'unknown' };
  return { who: latest.manager ?? 'unknown', onset: latest.time };
}

export function findDrift(
  desired: readonly DesiredObject[],
  live: ReadonlyMap<string, KubeObject>,
  policy: DriftPolicySpec,
  options: FindDriftOptions = {},
): DriftFinding[] {
  const findings: DriftFinding[] = [];
  const wanted = new Set<string>();
  const add = (
    ref: ObjectRef,
    application: string | undefined,
    change: ChangeType,
    fields: FieldChange[],
    liveObj?: KubeObject,
  ) => {
    const classification = classifyFields(policy, {
      group: groupOf(ref.apiVersion),
      kind: ref.kind,
      namespace: ref.namespace,
      name: ref.name,
      change,
      fields,
    });
    if (classification.action === 'ignore' && change !== 'modified') return;
    const origin =
      change === 'added'
        ? {
            who: ((liveObj?.metadata.managedFields ?? []) as ManagedFieldsEntry[])[0]?.manager ?? 'unknown',
            onset: liveObj?.metadata.creationTimestamp as string | undefined,
          }
        : who(liveObj, fields);
    // When the drifted fields were written (or the object made or deleted): unrelated later
    // writes, such as an approval annotation, keep the id; the same change made again changes it.
    // Writes through /scale carry no time, so the object's generation stands in for it.
    const generation = liveObj?.metadata.generation as number | undefined;
    const occurrence =
      change === 'deleted'
        ? (options.tombstones?.get(objectKey(ref)) ?? '')
        : (origin.onset ?? (generation !== undefined ? `generation ${generation}` : ''));
    // Classified on the real values; shown, recorded and sent only redacted.
    const shown = redactFields(ref, fields, liveObj?.metadata.uid as string | undefined);
    findings.push({
      id: driftId(ref, change, shown, occurrence),
      object: ref,
      application,
      change,
      fields: shown,
      ...classification,
      ...origin,
    });
  };

  for (const { object, application } of desired) {
    const key = objectKey(object);
    wanted.add(key);
    const liveObj = live.get(key);
    const ref = refOf(object);
    if (!liveObj || liveObj.metadata.deletionTimestamp) {
      add(ref, application, 'deleted', [{ path: '', from: 'present', to: 'absent' }]);
      continue;
    }
    const fields = diffObject(object, liveObj, policy.ignoreManagers).filter(
      (f) => !isPlatformManager(writerOf(liveObj, f)?.manager),
    );
    if (fields.length > 0) add(ref, application, 'modified', fields, liveObj);
  }

  // A needed Secret made outside Git: never compared (Git holds no values), drift only when gone.
  // No Application owns it, so none is named: Argo CD would not restore it.
  for (const [key, { ref }] of options.referenced ?? referencedSecrets(desired)) {
    if (wanted.has(key)) continue;
    wanted.add(key);
    const liveObj = live.get(key);
    if (!liveObj || liveObj.metadata.deletionTimestamp)
      add(ref, undefined, 'deleted', [{ path: '', from: 'present', to: 'absent' }]);
  }

  const namespaces = options.managedNamespaces ?? new Set<string>();
  const kinds =
    options.addedKinds ??
    new Set(
      desired
        .filter((d) => d.object.metadata.namespace && namespaces.has(d.object.metadata.namespace))
        .map((d) => d.object.kind),
    );
  for (const [key, obj] of live) {
    if (
      wanted.has(key) ||
      isClusterScoped(obj.kind) ||
      !obj.metadata.namespace ||
      !namespaces.has(obj.metadata.namespace)
    )
      continue;
    if (!kinds.has(obj.kind) || (obj.metadata.ownerReferences as unknown[] | undefined)?.length) continue;
    // Objects the cluster itself makes in every namespace (kube-root-ca.crt, the default ServiceAccount).
    const creator = ((obj.metadata.managedFields ?? []) as ManagedFieldsEntry[])[0]?.manager;
    if (
      creator === 'kube-controller-manager' ||
      (obj.kind === 'ServiceAccount' && obj.metadata.name === 'default')
    )
      continue;
    // Helm's own release records, on clusters still deployed by hand with Helm.
    if (obj.kind === 'Secret' && obj.type === 'helm.sh/release.v1') continue;
    add(refOf(obj), undefined, 'added', [{ path: '', from: 'absent', to: 'present' }], obj);
  }
  return findings.sort(
    (a, b) =>
      severityRank(b.severity) - severityRank(a.severity) ||
      describeRef(a.object).localeCompare(describeRef(b.object)),
  );
}

export function highestSeverity(findings: readonly DriftFinding[]): Severity | undefined {
  let worst: Severity | undefined;
  for (const f of findings) {
    if (f.action === 'ignore') continue;
    if (!worst || severityRank(f.severity) > severityRank(worst)) worst = f.severity;
  }
  return worst;
}

/** Exit codes of `converge drift`: 0 none, 1 low, 3 medium, 4 high (2 stays "bad input"). */
export const DRIFT_EXIT: Record<Severity | 'none', number> = { none: 0, low: 1, medium: 3, high: 4 };
