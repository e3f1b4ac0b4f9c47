import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { LABELS, PART_OF } from '../constants';
import { toYamlBlock } from '../private/yaml';
import { isDnsLabel, isDuration, isIntegerInRange, validate, ValidationError } from '../validators';

/*
 * Severity-aware drift policy: an ordered list of rules; the first rule that matches a change
 * decides its severity and the action. Pure data and pure functions, shared by the constructs
 * (which split Applications by what Argo CD may heal on its own) and the drift controller.
 */

export const SEVERITIES = ['low', 'medium', 'high'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const DRIFT_ACTIONS = ['heal', 'hold-for-approval', 'heal-and-page', 'ignore'] as const;
export type DriftAction = (typeof DRIFT_ACTIONS)[number];
export const CHANGE_TYPES = ['modified', 'deleted', 'added'] as const;
/** `added`: an object in a managed namespace that Git does not declare (created out of band). */
export type ChangeType = (typeof CHANGE_TYPES)[number];

export interface DriftMatch {
  /** API group; "" is the core group. @default any group */
  readonly group?: string;
  /** Kind, or a `*` glob. @default any kind */
  readonly kind?: string;
  /** Namespace glob. @default any namespace */
  readonly namespace?: string;
  /** Object name glob. @default any name */
  readonly name?: string;
  /** JSON pointers (`*` matches one segment); a change matches when it is at, under or above one. @default any field */
  readonly fields?: readonly string[];
  /** @default every change type */
  readonly change?: readonly ChangeType[];
  /** Matches only when the new value of a matched field does not match this regular expression. */
  readonly valueNotMatching?: string;
}

export interface DriftRule {
  readonly name: string;
  readonly match: DriftMatch;
  readonly severity: Severity;
  readonly action: DriftAction;
}

/** Where notifications of each severity go: `slack:<channel>`, `pagerduty`, `email:<address>`, `webhook:<name>`. */
export type SeverityRouting = Readonly<Record<Severity, readonly string[]>>;

export interface DriftPolicySpec {
  readonly rules: readonly DriftRule[];
  /** What applies when no rule matches. */
  readonly fallback: { readonly severity: Severity; readonly action: DriftAction };
  /** Field managers that own fields legitimately (autoscalers, rollout controllers): their fields are never drift. */
  readonly ignoreManagers: readonly string[];
  readonly notify: SeverityRouting;
  /** Heals of a drift that keeps coming back wait longer each time, and alert once. */
  readonly backoff: { readonly initial: string; readonly max: string; readonly alertAfter: number };
}

/** One changed field, or the whole object for deletions and additions (path ""). */
export interface FieldChange {
  readonly path: string;
  readonly from?: unknown;
  readonly to?: unknown;
}

export interface DriftSubject {
  readonly group: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  readonly change: ChangeType;
  readonly fields: readonly FieldChange[];
}

export interface Classification {
  readonly severity: Severity;
  readonly action: DriftAction;
  /** Name of the deciding rule, or "fallback". */
  readonly rule: string;
}

/** Defaults for app-service and model-service: heal the harmless, hold the risky, page on the dangerous. */
export function defaultDriftPolicy(
  trustedImagePrefixes: readonly string[] = ['ghcr.io/example-org/'],
): DriftPolicySpec {
  const registry = `^(${trustedImagePrefixes.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`;
  return {
    rules: [
      {
        name: 'image-from-unknown-registry',
        match: {
          group: 'apps',
          kind: 'Deployment',
          fields: ['/spec/template/spec/containers/*/image', '/spec/template/spec/initContainers/*/image'],
          valueNotMatching: registry,
        },
        severity: 'high',
        action: 'heal-and-page',
      },
      {
        name: 'secret-deleted',
        match: { group: '', kind: 'Secret', change: ['deleted'] },
        severity: 'high',
        action: 'heal-and-page',
      },
      {
        name: 'rbac-changed',
        match: { group: 'rbac.authorization.k8s.io', kind: '*' },
        severity: 'high',
        action: 'heal-and-page',
      },
      {
        name: 'replicas-scaled',
        match: { group: 'apps', kind: 'Deployment', fields: ['/spec/replicas'], change: ['modified'] },
        severity: 'low',
        action: 'heal',
      },
      {
        name: 'service-exposure-changed',
        match: {
          group: '',
          kind: 'Service',
          fields: [
            '/spec/type',
            '/spec/externalIPs',
            '/spec/loadBalancerSourceRanges',
            '/spec/externalTrafficPolicy',
          ],
          change: ['modified'],
        },
        severity: 'medium',
        action: 'hold-for-approval',
      },
      {
        name: 'resources-changed',
        match: {
          group: 'apps',
          kind: 'Deployment',
          fields: ['/spec/template/spec/containers/*/resources'],
          change: ['modified'],
        },
        severity: 'medium',
        action: 'hold-for-approval',
      },
      {
        name: 'created-out-of-band',
        match: { change: ['added'] },
        severity: 'medium',
        action: 'hold-for-approval',
      },
    ],
    fallback: { severity: 'low', action: 'heal' },
    ignoreManagers: ['rollout-controller', 'horizontal-pod-autoscaler', 'vpa-updater'],
    notify: { low: [], medium: [], high: [] },
    backoff: { initial: '5s', max: '5m', alertAfter: 3 },
  };
}

const SEVERITY_RANK: Record<Severity, number> = { low: 1, medium: 2, high: 3 };
export const severityRank = (s: Severity) => SEVERITY_RANK[s];
export const maxSeverity = (a: Severity, b: Severity): Severity =>
  SEVERITY_RANK[a] >= SEVERITY_RANK[b] ? a : b;

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

const segments = (pointer: string) => (pointer === '' ? [] : pointer.split('/').slice(1));

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
            .flatMap((p) => nodesAt(p, f.path, f.to).flatMap(leafStrings))
        : leafStrings(f.to),
    );
    if (!values.some((v) => !re.test(v))) return false;
  }
  return true;
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

/** Checks a policy's values; throws a ValidationError naming the rule and field. */
export function validateDriftPolicy(policy: DriftPolicySpec, path = 'drift'): DriftPolicySpec {
  const names = new Set<string>();
  policy.rules.forEach((rule, i) => {
    const at = `${path}.rules[${i}]`;
    validate(`${at}.name`, rule.name, isDnsLabel);
    if (names.has(rule.name))
      throw new ValidationError(`${at}.name`, rule.name, 'rule names must be unique; rename one of them');
    names.add(rule.name);
    if (!SEVERITIES.includes(rule.severity))
      throw new ValidationError(`${at}.severity`, rule.severity, `allowed: ${SEVERITIES.join(', ')}`);
    if (!DRIFT_ACTIONS.includes(rule.action))
      throw new ValidationError(`${at}.action`, rule.action, `allowed: ${DRIFT_ACTIONS.join(', ')}`);
    rule.match.fields?.forEach((f, j) => {
      if (!f.startsWith('/'))
        throw new ValidationError(
          `${at}.match.fields[${j}]`,
          f,
          'it must be a JSON pointer starting with "/", e.g. "/spec/replicas"',
        );
    });
    if (rule.match.valueNotMatching !== undefined) {
      try {
        new RegExp(rule.match.valueNotMatching);
      } catch (err) {
        throw new ValidationError(
          `${at}.match.valueNotMatching`,
          rule.match.valueNotMatching,
          `it is not a valid regular expression (${(err as Error).message}); fix or escape it`,
        );
      }
    }
  });
  validate(`${path}.backoff.initial`, policy.backoff.initial, isDuration);
  validate(`${path}.backoff.max`, policy.backoff.max, isDuration);
  validate(
    `${path}.backoff.alertAfter`,
    policy.backoff.alertAfter,
    isIntegerInRange(1, 100, 'alert after a few failed heals, e.g. 3'),
  );
  return policy;
}

export interface DriftPolicyProps {
  readonly policy: DriftPolicySpec;
  /** Namespace the drift controller runs in. @default "converge-system" */
  readonly namespace?: string;
  /** @default "converge-drift-policy" */
  readonly name?: string;
}

/** The policy as a ConfigMap, which the in-cluster drift controller reads. */
export class DriftPolicy extends Construct {
  public readonly policy: DriftPolicySpec;
  public readonly resource: ApiObject;

  constructor(scope: Construct, id: string, props: DriftPolicyProps) {
    super(scope, id);
    this.policy = validateDriftPolicy(props.policy);
    this.resource = new ApiObject(this, 'Resource', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: props.name ?? 'converge-drift-policy',
        namespace: validate('namespace', props.namespace ?? 'converge-system', isDnsLabel),
        labels: { [LABELS.partOf]: PART_OF },
      },
      data: { 'policy.yaml': toYamlBlock(this.policy) },
    });
  }
}
