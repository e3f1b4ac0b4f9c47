import {
  Classification,
  DriftAction,
  DriftMatch,
  DriftPolicySpec,
  DriftRule,
  DriftSubject,
  FieldChange,
  SEVERITY_RANK,
} from './drift-policy';
import { normaliseImage } from './image-reference';
import { pointerSegments } from './pointer';

/*
 * How a policy decides: the first rule that matches a change gives its severity and action.
 */

function glob(pattern: string | undefined, value: string | undefined): boolean {
  if (pattern === undefined || pattern === '*') return true;
  if (value === undefined) return false;
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return re.test(value);
}

const segments = pointerSegments;

/** A change path matches a field pattern when one is a prefix of the other (segment-wise, `*` = any). */
export function pointerOverlaps(pattern: string, path: string): boolean {
  const a = segments(pattern);
  const b = segments(path);
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== '*' && a[i] !== b[i]) return false;
  }
  return true;
}

function ruleMatches(rule: DriftRule, subject: DriftSubject): boolean {
  const m = rule.match;
  if (m.group !== undefined && m.group !== '*' && m.group !== subject.group) return false;
  if (!glob(m.kind, subject.kind) || !glob(m.namespace, subject.namespace) || !glob(m.name, subject.name))
    return false;
  if (m.change && !m.change.includes(subject.change)) return false;
  let fields = subject.fields;
  if (m.fields) {
    if (subject.change !== 'modified') return false;
    fields = fields.filter((f) => m.fields!.some((p) => fieldMatches(p, f)));
    if (fields.length === 0) return false;
  }
  if (m.valueNotMatching !== undefined) {
    const re = new RegExp(m.valueNotMatching);
    // Only the values at the rule's own paths: an added container's name is no image.
    const values = fields.flatMap((f) =>
      m.fields
        ? m.fields
            .filter((p) => fieldMatches(p, f))
            .flatMap((p) => {
              const found = nodesAt(p, f.path, f.to).flatMap(leafStrings);
              // `nginx` runs docker.io/library/nginx: match what the runtime pulls, not the shorthand.
              return isImagePointer(p) ? found.map(normaliseImage) : found;
            })
        : leafStrings(f.to),
    );
    if (!values.some((v) => !re.test(v))) return false;
  }
  return true;
}

/** A pointer at a container's image, e.g. `/spec/template/spec/containers/*\/image`. */
function isImagePointer(pattern: string): boolean {
  const segs = segments(pattern);
  return (
    segs.at(-1) === 'image' &&
    ['containers', 'initContainers', 'ephemeralContainers'].includes(segs.at(-3) ?? '')
  );
}

/**
 * A changed field matches a rule's pointer when one contains the other; when the change is a
 * parent (a whole container added), only if something sits at the rule's path inside it.
 */
function fieldMatches(pattern: string, f: FieldChange): boolean {
  if (!pointerOverlaps(pattern, f.path)) return false;
  if (segments(f.path).length >= segments(pattern).length) return true;
  return nodesAt(pattern, f.path, f.to).length > 0 || nodesAt(pattern, f.path, f.from).length > 0;
}

/** What `pattern`, a pointer at least as long as `path`, points at inside `value` (found at `path`). */
function nodesAt(pattern: string, path: string, value: unknown): unknown[] {
  const rest = segments(pattern).slice(segments(path).length);
  let nodes = [value];
  for (const seg of rest) {
    nodes = nodes.flatMap((n) => {
      if (!n || typeof n !== 'object') return [];
      if (seg === '*') return Object.values(n);
      return seg in n ? [(n as Record<string, unknown>)[seg]] : [];
    });
  }
  return nodes.filter((n) => n !== undefined);
}

function leafStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(leafStrings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(leafStrings);
  return [];
}

/** The first matching rule decides; with no match, the policy's fallback applies. */
export function classify(policy: DriftPolicySpec, subject: DriftSubject): Classification {
  const rule = policy.rules.find((r) => ruleMatches(r, subject));
  return rule
    ? { severity: rule.severity, action: rule.action, rule: rule.name }
    : { ...policy.fallback, rule: 'fallback' };
}

/**
 * Classifies a modification field by field (each field can fall under a different rule) and
 * returns the most severe outcome, so one risky field is never hidden by a harmless one.
 */
export function classifyFields(policy: DriftPolicySpec, subject: DriftSubject): Classification {
  if (subject.change !== 'modified' || subject.fields.length <= 1) return classify(policy, subject);
  let worst: Classification | undefined;
  for (const field of subject.fields) {
    const c = classify(policy, { ...subject, fields: [field] });
    if (
      !worst ||
      SEVERITY_RANK[c.severity] > SEVERITY_RANK[worst.severity] ||
      (c.severity === worst.severity && actionRank(c.action) > actionRank(worst.action))
    ) {
      worst = c;
    }
  }
  return worst!;
}

const ACTION_RANK: Record<DriftAction, number> = {
  ignore: 0,
  heal: 1,
  'hold-for-approval': 2,
  'heal-and-page': 3,
};
const actionRank = (a: DriftAction) => ACTION_RANK[a];

/**
 * Whether Argo CD may self-heal every change to a kind on its own: true when no rule that can
 * apply to the kind holds for approval. Kinds that need a human are put in an Application with
 * self-heal off, and the drift controller heals their harmless fields itself.
 */
export function argoMaySelfHeal(policy: DriftPolicySpec, group: string, kind: string): boolean {
  const holds = (r: { action: DriftAction }) => r.action === 'hold-for-approval';
  const applies = (m: DriftMatch) =>
    (m.group === undefined || m.group === '*' || m.group === group) &&
    glob(m.kind, kind) &&
    !(m.change?.length === 1 && m.change[0] === 'added');
  if (policy.rules.some((r) => holds(r) && applies(r.match))) return false;
  return !holds(policy.fallback);
}
