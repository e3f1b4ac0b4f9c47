import { ValidationError } from './errors';
import { trustedImagePattern } from './image-reference';
import { isDnsLabel, isDuration, isIntegerInRange, validate } from './validators';

/*
 * Severity-aware drift policy: an ordered list of rules; the first rule that matches a change
 * decides its severity and the action (see classify.ts). Pure data, shared by the config schema,
 * the constructs (which split Applications by what Argo CD may heal on its own) and the drift
 * controller.
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
  // Matched against normalised images (classify.ts), each prefix ending at a path boundary.
  const registry = trustedImagePattern(trustedImagePrefixes);
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

/** Events an audit record can hold; each drift gets one record per event, never updated. */
export const DRIFT_EVENTS = [
  'detected',
  'held',
  'approved',
  'rejected',
  'healing',
  'healed',
  'delegated',
  'paged',
  'restored',
  'heal-failed',
  'recurring',
  'ignored',
  // A failed sync's response (hooks.syncFail), recorded against the Application.
  'sync-failed',
  'rolled-back',
  'rollback-skipped',
  'rollback-failed',
] as const;
export type DriftEvent = (typeof DRIFT_EVENTS)[number];

export const SEVERITY_RANK: Record<Severity, number> = { low: 1, medium: 2, high: 3 };
export const severityRank = (s: Severity) => SEVERITY_RANK[s];

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
