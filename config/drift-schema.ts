import { z } from 'zod';
import { DEFAULT_CONTROLLER_IMAGE, CONVERGE_NAMESPACE } from '../model/constants';
import { CHANGE_TYPES, DRIFT_ACTIONS, SEVERITIES } from '../model/drift-policy';
import { isIntegerInRange, isNonEmptyString } from '../model/validators';
import { checked, dnsLabel, duration } from './checked';

/* The schema of `drift`: the policy rules, their notifications, and the in-cluster controller. */

const pointer = checked(z.string(), (v) =>
  v.startsWith('/') ? undefined : 'it must be a JSON pointer starting with "/", e.g. "/spec/replicas"',
);
const regex = checked(z.string(), (v) => {
  try {
    new RegExp(v);
    return undefined;
  } catch (err) {
    return `it is not a valid regular expression (${(err as Error).message}); fix or escape it`;
  }
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

export const driftSchema = z.strictObject({
  /** Ordered rules; the first match decides. @default Converge's rules for the two services */
  rules: z.array(driftRuleSchema).optional(),
  /** Image prefixes a Deployment may run; others are "unknown registry". @default the declared images' prefixes */
  trustedImagePrefixes: z.array(checked(z.string(), isNonEmptyString)).min(1).optional(),
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
  /** Run the drift controller in the cluster (a Deployment with least-privilege RBAC). */
  controller: z
    .strictObject({
      enabled: z.boolean().default(false),
      namespace: dnsLabel.default(CONVERGE_NAMESPACE),
      image: checked(z.string(), isNonEmptyString).default(DEFAULT_CONTROLLER_IMAGE),
    })
    .prefault({}),
});
