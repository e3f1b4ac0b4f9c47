import { createHash } from 'node:crypto';
import { FieldChange } from '../../model/drift-policy';
import { groupOf, ObjectRef } from '../../model/objects';
import { escapePointer, pointerSegments } from '../../model/pointer';
import { redactCredentials } from '../../model/urls';

/*
 * Secret values never leave Converge: a drift of a Secret's data says which key changed and a
 * short hash of each value, never the value. Every output (tables, JSON, DriftRecords,
 * notifications, logs) is built from findings, so redacting the finding redacts them all.
 */

/** How a redacted value reads: `<redacted sha256:1a2b3c4d>`. */
const MARKER = /^<redacted sha256:[0-9a-f]{8}>$/;

const isSecret = (ref: ObjectRef) => ref.kind === 'Secret' && groupOf(ref.apiVersion) === '';

/**
 * A value as a redacted marker. The hash is salted with the object (its uid when known), so equal
 * values of one object compare equal across restarts while a table of common passwords' hashes
 * does not apply; 32 bits tell values apart without identifying them.
 */
function marker(value: unknown, salt: string): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return `<redacted sha256:${createHash('sha256').update(`${salt}\0${text}`).digest('hex').slice(0, 8)}>`;
}

function redactValue(value: unknown, salt: string): unknown {
  if (value === undefined || value === null) return value;
  if (typeof value === 'string' && MARKER.test(value)) return value;
  // A whole map (`/data` added or removed): keep its keys, hide each value.
  if (typeof value === 'object' && !Array.isArray(value))
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [
        k,
        redactValue(v, `${salt}/${escapePointer(k)}`),
      ]),
    );
  return marker(value, salt);
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * A Secret's field as it may be shown: its data (and kubectl's last-applied copy of the whole
 * object, wherever the change holds it) as markers; other metadata as it is.
 */
function redactSecretValue(path: readonly string[], value: unknown, salt: string): unknown {
  const [top, ...rest] = path;
  if (top === 'data' || top === 'stringData') return redactValue(value, salt);
  if (top === 'metadata' && path.length <= 2 && value && typeof value === 'object' && !Array.isArray(value)) {
    // `/metadata` or `/metadata/annotations`, whole: hide the last-applied copy inside it.
    const child = rest.length === 0 ? 'annotations' : LAST_APPLIED;
    const map = value as Record<string, unknown>;
    return child in map
      ? {
          ...map,
          [child]: redactSecretValue([...path, child], map[child], `${salt}/${escapePointer(child)}`),
        }
      : value;
  }
  if (top === 'metadata' && rest[0] === 'annotations' && rest[1] === LAST_APPLIED)
    return redactValue(value, salt);
  return value;
}

function redactUrls(value: unknown): unknown {
  if (typeof value === 'string') return redactCredentials(value);
  if (Array.isArray(value)) return value.map(redactUrls);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, redactUrls(v)]),
    );
  return value;
}

/**
 * The changes as they may be shown: a Secret's values replaced by markers, and credentials in
 * any URL hidden. `uid` salts the markers; idempotent, so stored findings can pass through again.
 */
export function redactFields(ref: ObjectRef, fields: readonly FieldChange[], uid?: string): FieldChange[] {
  const secret = isSecret(ref);
  const salt = uid ?? `${ref.namespace ?? ''}/${ref.name}`;
  return fields.map((f) => {
    const hide = (v: unknown) =>
      redactUrls(secret ? redactSecretValue(pointerSegments(f.path), v, `${salt}${f.path}`) : v);
    return { ...f, from: hide(f.from), to: hide(f.to) };
  });
}
