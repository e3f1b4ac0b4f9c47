import { safeRegex } from 'safe-regex2';
import { z } from 'zod';
import { ApiKinds } from '../model/api-kinds';
import { DEFAULT_CONTROLLER_IMAGE, CONVERGE_NAMESPACE } from '../model/constants';
import { CHANGE_TYPES, DRIFT_ACTIONS, SEVERITIES } from '../model/drift-policy';
import {
  isApiGroup,
  isImageRepository,
  isIntegerInRange,
  isKind,
  isNonEmptyString,
} from '../model/validators';
import { all, checked, dnsLabel, duration } from './checked';

/* The schema of `drift`: the policy rules, their notifications, and the in-cluster controller. */

const pointer = checked(z.string(), (v) =>
  v.startsWith('/') ? undefined : 'it must be a JSON pointer starting with "/", e.g. "/spec/replicas"',
);
/** A rule's regular expression: it compiles, and cannot take exponential time on a hostile value. */
const regex = checked(z.string(), (v) => {
  try {
    new RegExp(v);
  } catch (err) {
    return `it is not a valid regular expression (${(err as Error).message}); fix or escape it`;
  }
  return safeRegex(v)
    ? undefined
    : 'it can take exponential time on some values (a repeated group inside a repetition, such as "(a+)+", or more than 25 repetitions); the controller matches every live value with it, so rewrite it without nested repetition, e.g. "^ghcr\\.io/example-org/"';
});

/** A trusted image prefix: a registry, a path under it, or a repository, as an image names them. */
const imagePrefix = checked(
  z.string(),
  all<string>(isNonEmptyString, (v) =>
    v.includes('*')
      ? 'a prefix already trusts everything under it; write it without wildcards, e.g. "ghcr.io/example-org/"'
      : isImageRepository(v.endsWith('/') ? v.slice(0, -1) : v) === undefined
        ? undefined
        : 'it must be an image prefix such as "ghcr.io/example-org/" (a registry, a path ending in "/", or a repository without tag)',
  ),
);

/**
 * A group or user that may decide on held drifts: one exact name. Kubernetes' built-in groups
 * (`system:masters`, `system:authenticated`, all service accounts...) would let far more people
 * approve than anyone reading the stack file expects, and RBAC knows no wildcards.
 */
const BROAD_GROUPS = [
  'system:masters',
  'system:authenticated',
  'system:unauthenticated',
  'system:serviceaccounts',
];
export function approverProblem(
  kind: 'group' | 'user',
  value: string,
  purpose: 'approve' | 'view' = 'approve',
): string | undefined {
  const who = purpose === 'approve' ? 'approve' : 'read held drifts';
  if (isNonEmptyString(value) !== undefined || value !== value.trim())
    return `it must be a non-empty ${kind} name without surrounding spaces, e.g. ${kind === 'group' ? '"platform-oncall"' : '"alice@example.org"'}`;
  if (value.includes('*'))
    return `RBAC matches ${kind} names exactly, so "*" is no wildcard; list each ${kind} by name`;
  if (kind === 'group' && BROAD_GROUPS.includes(value))
    return `${value} is a Kubernetes built-in group far wider than a team; name the group of the people who ${who}, e.g. "platform-oncall"`;
  if (kind === 'user' && (value === 'system:anonymous' || value.startsWith('system:node:')))
    return `${value} is not a person; name the people who ${who}, e.g. "alice@example.org"`;
  return undefined;
}

/** `{groups, users}` of people, each name checked for `purpose`. */
const peopleSchema = (purpose: 'approve' | 'view') =>
  z
    .strictObject({
      groups: z.array(checked(z.string(), (v) => approverProblem('group', v, purpose))).default([]),
      users: z.array(checked(z.string(), (v) => approverProblem('user', v, purpose))).default([]),
    })
    .prefault({});

/** A kind the user's cluster has besides the platform's: a CRD the drift rules may name. */
const customResourceSchema = z.strictObject({
  group: checked(z.string(), isApiGroup('name the one group the CRD is in, without wildcards')),
  kind: checked(z.string(), isKind('name the CRD\'s kind without wildcards, e.g. "Certificate"')),
});

const driftRuleSchema = z.strictObject({
  name: dnsLabel,
  match: z
    .strictObject({
      group: z.string().optional(),
      kind: z.string().optional(),
      namespace: z.string().optional(),
      name: z.string().optional(),
      fields: z.array(pointer).min(1).optional(),
      change: z.array(z.enum(CHANGE_TYPES)).min(1).optional(),
      valueNotMatching: regex.optional(),
    })
    .prefault({}),
  severity: z.enum(SEVERITIES),
  action: z.enum(DRIFT_ACTIONS),
});

const notifyTarget = checked(z.string(), (v) =>
  /^(slack:.+|pagerduty|email:.+@.+|webhook:[a-z0-9-]+)$/.test(v)
    ? undefined
    : 'it must be "slack:<channel>", "pagerduty", "email:<address>" or "webhook:<name>"',
);

export const driftSchema = z
  .strictObject({
    /** Ordered rules; the first match decides. @default Converge's rules for the two services */
    rules: z.array(driftRuleSchema).optional(),
    /** Image prefixes a Deployment may run; others are "unknown registry". @default the declared images' prefixes */
    trustedImagePrefixes: z.array(imagePrefix).min(1).optional(),
    /** Kinds besides Kubernetes', Argo CD's, Istio's and Converge's that drift rules may name, e.g. cert-manager's. */
    customResources: z.array(customResourceSchema).default([]),
    fallback: z
      .strictObject({ severity: z.enum(SEVERITIES), action: z.enum(DRIFT_ACTIONS) })
      .default({ severity: 'low', action: 'heal' }),
    ignoreManagers: z.array(checked(z.string(), isNonEmptyString)).optional(),
    notify: z
      .strictObject({
        low: z.array(notifyTarget).default([]),
        medium: z.array(notifyTarget).default([]),
        high: z.array(notifyTarget).default([]),
      })
      .prefault({}),
    backoff: z
      .strictObject({
        initial: duration.default('5s'),
        max: duration.default('5m'),
        alertAfter: checked(
          z.number(),
          isIntegerInRange(1, 100, 'alert after a few failed heals, e.g. 3'),
        ).default(3),
      })
      .prefault({}),
    /**
     * Guarded Applications prune and delete only with a human's confirmation (Prune=confirm,
     * Delete=confirm). Deleting them, `pulumi destroy` included, then waits for that approval.
     */
    confirmDeletion: z.boolean().default(false),
    /**
     * Who may approve or reject held drifts (`converge approve|reject`): bound to the Role
     * `converge-drift-approvers-<env>`. None declared, only cluster admins decide.
     */
    approvers: peopleSchema('approve'),
    /**
     * Who may read held and recent drifts (the approvals page, the DriftRecords) without deciding:
     * bound to the Role `converge-drift-viewers-<env>`. None declared, only approvers and admins read.
     */
    viewers: peopleSchema('view'),
    /** Run the drift controller in the cluster (a Deployment with least-privilege RBAC). */
    controller: z
      .strictObject({
        enabled: z.boolean().default(false),
        namespace: dnsLabel.default(CONVERGE_NAMESPACE),
        image: checked(z.string(), isNonEmptyString).default(DEFAULT_CONTROLLER_IMAGE),
      })
      .prefault({}),
  })
  .superRefine((drift, ctx) => {
    const known = new ApiKinds(drift.customResources);
    for (const [i, rule] of (drift.rules ?? []).entries()) {
      const { group, kind } = rule.match;
      const at = (key: string, input: string, message: string) =>
        ctx.addIssue({ code: 'custom', path: ['rules', i, 'match', key], input, message });
      const groupProblem = group === undefined ? undefined : known.groupProblem(group);
      if (groupProblem) at('group', group!, groupProblem);
      else if (kind !== undefined) {
        const kindProblem = known.kindProblem(kind, group);
        if (kindProblem) at('kind', kind, kindProblem);
      }
    }
  });
