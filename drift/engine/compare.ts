import { FieldChange } from '../../model/drift-policy';
import { findSuffix, quantityToScalar } from '@kubernetes/client-node/dist/util.js';
import { KubeObject } from '../../model/objects';
import { escapePointer } from '../../model/pointer';

/*
 * Desired against live, field by field. Only what Git declares is compared, so fields the server
 * defaults (and `status`) never count as drift; fields owned by ignored field managers
 * (managedFields) are skipped; lists of named items (containers, ports, env) match by name.
 */

export interface ManagedFieldsEntry {
  readonly manager?: string;
  readonly operation?: string;
  readonly time?: string;
  readonly fieldsV1?: Record<string, unknown>;
}

/** Metadata the API server or other tools add or own; never drift. */
const IGNORED_METADATA = new Set([
  'creationTimestamp',
  'generation',
  'managedFields',
  'resourceVersion',
  'selfLink',
  'uid',
  'ownerReferences',
  'finalizers',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
]);

/** JSON pointers of every leaf a field manager owns, resolved against the live object. */
export function ownedPaths(live: KubeObject, managers: readonly string[]): Set<string> {
  const owned = new Set<string>();
  const entries = (live.metadata.managedFields ?? []) as ManagedFieldsEntry[];
  for (const entry of entries) {
    if (entry.manager && managers.includes(entry.manager) && entry.fieldsV1)
      walkFields(entry.fieldsV1, live, '', owned);
  }
  return owned;
}

function walkFields(fields: Record<string, unknown>, node: unknown, path: string, out: Set<string>): void {
  for (const [key, sub] of Object.entries(fields)) {
    if (key === '.') {
      out.add(path);
      continue;
    }
    let childPath: string | undefined;
    let child: unknown;
    if (key.startsWith('f:')) {
      const name = key.slice(2);
      childPath = `${path}/${escapePointer(name)}`;
      child = node && typeof node === 'object' ? (node as Record<string, unknown>)[name] : undefined;
    } else if (key.startsWith('k:') && Array.isArray(node)) {
      const match = JSON.parse(key.slice(2)) as Record<string, unknown>;
      const index = node.findIndex((item) =>
        Object.entries(match).every(([k, v]) => (item as Record<string, unknown>)?.[k] === v),
      );
      if (index < 0) continue;
      childPath = `${path}/${index}`;
      child = node[index];
    } else if (key.startsWith('v:') && Array.isArray(node)) {
      const value = JSON.parse(key.slice(2));
      const index = node.findIndex((item) => JSON.stringify(item) === JSON.stringify(value));
      if (index < 0) continue;
      childPath = `${path}/${index}`;
      child = node[index];
    }
    if (childPath === undefined) continue;
    if (sub && typeof sub === 'object' && Object.keys(sub).length > 0)
      walkFields(sub as Record<string, unknown>, child, childPath, out);
    else out.add(childPath);
  }
}

const isUnder = (path: string, owned: ReadonlySet<string>) => {
  if (owned.size === 0) return false;
  for (let p = path; ; p = p.slice(0, p.lastIndexOf('/'))) {
    if (owned.has(p)) return true;
    if (p === '') return false;
  }
};

/** Lists whose items all carry a string `name` (containers, ports, env, volumes) match by name. */
function namedItems(list: unknown[]): boolean {
  return (
    list.length > 0 &&
    list.every(
      (item) => item && typeof item === 'object' && typeof (item as { name?: unknown }).name === 'string',
    )
  );
}

/**
 * A resource quantity's value by client-node's parser ("500m", "1Gi", "1e3", "5n"), or undefined
 * when the value is not a quantity. Its parser takes only whole numbers before a suffix of k or
 * more ("1.5Gi" throws), so a fraction is scaled by the suffix's own value.
 */
function quantityValue(value: string | number): number | undefined {
  const text = String(value).trim();
  if (text === '') return undefined;
  try {
    return Number(quantityToScalar(text));
  } catch {
    const suffix = findSuffix(text);
    const mantissa = Number(text.slice(0, text.length - suffix.length));
    if (!suffix || Number.isNaN(mantissa)) return undefined;
    try {
      return mantissa * Number(quantityToScalar(`1${suffix}`));
    } catch {
      return undefined;
    }
  }
}

/** Equal values, where "0.5" and "500m" (resource quantities) or 8080 and "8080" count as equal. */
function sameScalar(desired: unknown, live: unknown): boolean {
  if (desired === live) return true;
  if (
    (typeof desired === 'number' || typeof desired === 'string') &&
    (typeof live === 'number' || typeof live === 'string')
  ) {
    const a = quantityValue(desired);
    const b = quantityValue(live);
    if (a !== undefined && b !== undefined)
      return a === b || Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a));
  }
  return false;
}

function compare(
  desired: unknown,
  live: unknown,
  path: string,
  owned: ReadonlySet<string>,
  out: FieldChange[],
): void {
  if (desired === undefined || desired === null || isUnder(path, owned)) return;
  if (Array.isArray(desired)) {
    if (!Array.isArray(live)) {
      out.push({ path, from: desired, to: live });
    } else if (namedItems(desired) && (live.length === 0 || namedItems(live))) {
      const liveByName = new Map(live.map((item, i) => [(item as { name: string }).name, i]));
      desired.forEach((item) => {
        const i = liveByName.get((item as { name: string }).name);
        if (i === undefined) out.push({ path: `${path}/-`, from: item, to: undefined });
        else compare(item, live[i], `${path}/${i}`, owned, out);
      });
      const wanted = new Set(desired.map((item) => (item as { name: string }).name));
      live.forEach((item, i) => {
        if (!wanted.has((item as { name: string }).name) && !isUnder(`${path}/${i}`, owned))
          out.push({ path: `${path}/${i}`, from: undefined, to: item });
      });
    } else if (desired.length !== live.length || desired.some((d, i) => !deepSubset(d, live[i]))) {
      out.push({ path, from: desired, to: live });
    }
    return;
  }
  if (typeof desired === 'object') {
    if (!live || typeof live !== 'object' || Array.isArray(live)) {
      out.push({ path, from: desired, to: live });
      return;
    }
    for (const [key, value] of Object.entries(desired as Record<string, unknown>)) {
      compare(value, (live as Record<string, unknown>)[key], `${path}/${escapePointer(key)}`, owned, out);
    }
    return;
  }
  // The API server drops empty strings of omitempty fields (a ServiceAccount subject's apiGroup):
  // absent and "" read the same to Kubernetes, so that is no drift.
  if (desired === '' && live === undefined) return;
  if (!sameScalar(desired, live)) out.push({ path, from: desired, to: live });
}

function deepSubset(desired: unknown, live: unknown): boolean {
  const out: FieldChange[] = [];
  compare(desired, live, '', new Set(), out);
  return out.length === 0;
}

/**
 * The fields where live differs from desired, as JSON pointers with Git's value (`from`) and the
 * live one (`to`). Status, server-set metadata and fields owned by `ignoreManagers` are skipped.
 */
export function diffObject(
  desired: KubeObject,
  live: KubeObject,
  ignoreManagers: readonly string[] = [],
): FieldChange[] {
  const owned = ownedPaths(live, ignoreManagers);
  const out: FieldChange[] = [];
  for (const [key, value] of Object.entries(desired)) {
    if (key === 'status' || key === 'apiVersion' || key === 'kind') continue;
    if (key === 'metadata') {
      const meta = value as Record<string, unknown>;
      const liveMeta = live.metadata as Record<string, unknown>;
      for (const [mk, mv] of Object.entries(meta)) {
        if (IGNORED_METADATA.has(mk) || mk === 'name' || mk === 'namespace') continue;
        compare(mv, liveMeta[mk], `/metadata/${mk}`, owned, out);
      }
      continue;
    }
    compare(value, (live as Record<string, unknown>)[key], `/${escapePointer(key)}`, owned, out);
  }
  return out;
}

/** The field manager that last wrote a path (most specific owner), and when: who made a drift. */
export function ownerOf(live: KubeObject, path: string): ManagedFieldsEntry | undefined {
  let best: { entry: ManagedFieldsEntry; depth: number } | undefined;
  for (const entry of (live.metadata.managedFields ?? []) as ManagedFieldsEntry[]) {
    if (!entry.fieldsV1) continue;
    const owned = new Set<string>();
    walkFields(entry.fieldsV1, live, '', owned);
    for (const p of owned) {
      if (path === p || path.startsWith(`${p}/`) || p.startsWith(`${path}/`)) {
        const depth = p.split('/').length;
        if (
          !best ||
          depth > best.depth ||
          (depth === best.depth && (entry.time ?? '') > (best.entry.time ?? ''))
        )
          best = { entry, depth };
      }
    }
  }
  return best?.entry;
}
