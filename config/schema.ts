import { z } from 'zod';
import { ARGOCD_NAMESPACE, ENVIRONMENTS, IN_CLUSTER_SERVER } from '../model/constants';
import {
  isCronSchedule,
  isDnsLabel,
  isGitRepoUrl,
  isIntegerInRange,
  isNonEmptyString,
  isProjectSourceRepo,
} from '../model/validators';
import { addonSchema } from './addons-schema';
import { checked, dnsLabel, duration } from './checked';
import { crossChecks } from './cross-checks';
import { driftSchema } from './drift-schema';
import { notificationsSchema } from './notifications-schema';
import { serviceSchema } from './services-schema';

/*
 * The schema of `converge:platform` in `Pulumi.<env>.yaml`: every per-environment choice,
 * declared once. Everything else is derived from it by GitOpsPlatform.
 */

const retrySchema = z.strictObject({
  limit: checked(z.number(), isIntegerInRange(0, 100, 'use 0 for no retries')).optional(),
  backoffDuration: duration.optional(),
  backoffFactor: checked(z.number(), isIntegerInRange(1, 10, 'use 2 to double the wait')).optional(),
  backoffMaxDuration: duration.optional(),
});

const syncSchema = z.strictObject({
  automated: z.boolean().optional(),
  prune: z.boolean().optional(),
  selfHeal: z.boolean().optional(),
  allowEmpty: z.boolean().optional(),
  retry: z.union([retrySchema, z.literal(false)]).optional(),
  serverSideApply: z.boolean().optional(),
  pruneLast: z.boolean().optional(),
  applyOutOfSyncOnly: z.boolean().optional(),
  respectIgnoreDifferences: z.boolean().optional(),
});

const syncWindowSchema = z.strictObject({
  kind: z.enum(['allow', 'deny']),
  schedule: checked(z.string(), isCronSchedule),
  duration: duration,
  applications: z.array(checked(z.string(), isNonEmptyString)).default(['*']),
  manualSync: z.boolean().default(false),
  timeZone: z.string().default('UTC'),
});

const roleSchema = z.strictObject({
  name: dnsLabel,
  description: z.string().optional(),
  groups: z.array(checked(z.string(), isNonEmptyString)).default([]),
  actions: z.array(z.enum(['get', 'sync', 'override', 'action', 'delete', 'update'])).min(1),
});

export const platformConfigSchema = z
  .strictObject({
    /** Must equal the stack: `converge:platform.environment` in `Pulumi.prod.yaml` is `prod`. */
    environment: z.enum(ENVIRONMENTS),
    git: z.strictObject({
      repoURL: checked(z.string(), isGitRepoUrl),
      revision: checked(z.string(), isNonEmptyString),
    }),
    destination: z
      .strictObject({
        server: checked(z.string(), isNonEmptyString).default(IN_CLUSTER_SERVER),
      })
      .prefault({}),
    argocd: z
      .strictObject({
        namespace: dnsLabel.default(ARGOCD_NAMESPACE),
        ha: z.boolean().default(false),
        reconciliationTimeout: duration.default('180s'),
        reconciliationJitter: duration.default('60s'),
        /** First wait before self-heal retries; Argo CD's backoff grows from it. */
        selfHealBackoff: duration.default('2s'),
        /** Multiplier of the self-heal wait after each heal of the same Application. */
        selfHealBackoffFactor: checked(
          z.number(),
          isIntegerInRange(1, 10, 'use 1 for a constant wait'),
        ).default(3),
        /** Longest self-heal wait; keeps drift short-lived when heals repeat. */
        selfHealBackoffCap: duration.default('300s'),
        resourceExclusions: z
          .array(z.strictObject({ apiGroups: z.array(z.string()).min(1), kinds: z.array(z.string()).min(1) }))
          .default([]),
      })
      .prefault({}),
    project: z
      .strictObject({
        name: checked(z.string(), (v) =>
          v === 'default'
            ? 'the default project allows everything; name it after the environment, e.g. "prod"'
            : isDnsLabel(v),
        ).optional(),
        description: z.string().optional(),
        sourceRepos: z.array(checked(z.string(), isProjectSourceRepo)).min(1).optional(),
        clusterResources: z
          .array(z.strictObject({ group: z.string(), kind: checked(z.string(), isNonEmptyString) }))
          .default([]),
        roles: z.array(roleSchema).default([]),
        syncWindows: z.array(syncWindowSchema).default([]),
      })
      .prefault({}),
    sync: syncSchema.prefault({}),
    applicationSet: z
      .strictObject({
        /** RollingSync steps, each a list of services; Argo CD then syncs step by step. */
        progressiveSteps: z.array(z.array(dnsLabel).min(1)).optional(),
      })
      .prefault({}),
    notifications: notificationsSchema.prefault({}),
    drift: driftSchema.prefault({}),
    /** By name: a DNS label, since it names the service's Kubernetes Service and Helm release. */
    services: z
      .record(dnsLabel, serviceSchema)
      .refine((services) => Object.keys(services).length > 0, { message: 'declare at least one service' }),
    /** Third-party charts the platform runs (a mesh, cert-manager), by name: each in a project of its own. */
    addons: z.record(dnsLabel, addonSchema).default({}),
  })
  .superRefine(crossChecks);

/** The validated, defaulted platform configuration of one environment. */
export type PlatformConfig = z.infer<typeof platformConfigSchema>;
/** What a `Pulumi.<env>.yaml` may hold under `converge:platform`, before defaults. */
export type PlatformConfigInput = z.input<typeof platformConfigSchema>;
export type ServiceConfig = PlatformConfig['services'][string];
export type AddonConfig = PlatformConfig['addons'][string];
export type NotificationsConfig = PlatformConfig['notifications'];
export type DriftConfig = PlatformConfig['drift'];
export type SyncConfig = z.infer<typeof syncSchema>;
