import { z } from 'zod';
import { ARGOCD_NAMESPACE, ENVIRONMENTS, IN_CLUSTER_SERVER, isKubernetesNamespace } from '../model/constants';
import { isTimeZone } from '../model/time-zone';
import { hasNoCredentials, isClusterServerUrl } from '../model/urls';
import {
  durationSeconds,
  isApiGroup,
  isCronSchedule,
  isDnsLabel,
  isDuration,
  isDurationUpTo,
  isGitRepoUrl,
  isGitRevision,
  isIntegerInRange,
  isKind,
  isNonEmptyString,
  isProjectSourceRepo,
} from '../model/validators';
import { addonSchema } from './addons-schema';
import { all, checked, dnsLabel, redactedUrl } from './checked';
import { crossChecks } from './cross-checks';
import { driftSchema } from './drift-schema';
import { imageUpdaterSchema } from './image-updates-schema';
import { notificationsSchema } from './notifications-schema';
import { observabilitySchema } from './observability-schema';
import { serviceSchema } from './services-schema';

/*
 * The schema of `converge:platform` in `Pulumi.<env>.yaml`: every per-environment choice,
 * declared once. Everything else is derived from it by GitOpsPlatform.
 */

const EXCLUSION_FIX = (what: string) =>
  `a wildcard hides every matching ${what} from Argo CD, drift checks included; list each group and kind to exclude, e.g. cilium.io and CiliumIdentity`;

/** A duration of at most `max`: each key has its own sensible ceiling, far below Go's overflow. */
const durationUpTo = (max: string, why: string) => checked(z.string(), isDurationUpTo(max, why));

const retrySchema = z.strictObject({
  limit: checked(z.number(), isIntegerInRange(0, 100, 'use 0 for no retries')).optional(),
  backoffDuration: durationUpTo('1h', 'the first wait before a failed sync is retried').optional(),
  backoffFactor: checked(z.number(), isIntegerInRange(1, 10, 'use 2 to double the wait')).optional(),
  backoffMaxDuration: durationUpTo(
    '24h',
    'the longest wait between retries; a failed sync would wait longer to be retried',
  ).optional(),
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

/** A Git repo URL with no credentials in it; errors show it with the userinfo as `***`. */
export const gitRepoUrl = checked(z.string(), all<string>(isGitRepoUrl, hasNoCredentials), redactedUrl);

const syncWindowSchema = z.strictObject({
  kind: z.enum(['allow', 'deny']),
  schedule: checked(z.string(), isCronSchedule),
  /** How long the window stays open; a window of 0s never holds anything. */
  duration: checked(
    z.string(),
    all<string>(
      isDuration,
      (v) =>
        durationSeconds(v) > 0 ? undefined : 'a window of no time never opens; give it a length, e.g. "1h"',
      isDurationUpTo('8760h', 'a window longer than a year never closes'),
    ),
  ),
  applications: z.array(checked(z.string(), isNonEmptyString)).default(['*']),
  manualSync: z.boolean().default(false),
  /** IANA zone the schedule is read in. */
  timeZone: checked(z.string(), isTimeZone).default('UTC'),
});

/** A group and kind a project allows, named exactly: a wildcard would void least privilege. */
const exactGroupKind = (fix: string) =>
  z.strictObject({
    group: checked(z.string(), isApiGroup(`wildcards allow every group; ${fix}`)),
    kind: checked(z.string(), isKind(`wildcards allow every kind; ${fix}`)),
  });

/** Argo CD's `role:<name>`, the role every authenticated user gets. */
const rbacPolicy = checked(z.string(), (v) =>
  !(/^role:[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(v) && v.length <= 68)
    ? 'it must be "role:<name>" with a DNS label as the name, e.g. "role:readonly"; leave it out to give users no default role'
    : v === 'role:admin'
      ? 'it would make every user who can log in an Argo CD admin; use "role:readonly", or leave it out and grant roles by group'
      : undefined,
);

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
      repoURL: gitRepoUrl,
      revision: checked(z.string(), all<string>(isNonEmptyString, isGitRevision)),
    }),
    destination: z
      .strictObject({
        server: checked(z.string(), isClusterServerUrl, redactedUrl).default(IN_CLUSTER_SERVER),
      })
      .prefault({}),
    argocd: z
      .strictObject({
        namespace: checked(
          z.string(),
          all<string>(isDnsLabel, (v) =>
            isKubernetesNamespace(v)
              ? 'Kubernetes keeps it (and every "kube-" namespace) for itself, and Argo CD would share it with everything there; use a namespace of its own, e.g. "argocd"'
              : undefined,
          ),
        ).default(ARGOCD_NAMESPACE),
        ha: z.boolean().default(false),
        reconciliationTimeout: durationUpTo(
          '24h',
          'how often Argo CD polls Git; for rarer polls, add a Git webhook',
        ).default('180s'),
        reconciliationJitter: durationUpTo('1h', 'a random delay added to each poll').default('60s'),
        /** First wait before self-heal retries; Argo CD's backoff grows from it. */
        selfHealBackoff: durationUpTo('1h', 'the first wait before a repeated self-heal').default('2s'),
        /** Multiplier of the self-heal wait after each heal of the same Application. */
        selfHealBackoffFactor: checked(
          z.number(),
          isIntegerInRange(1, 10, 'use 1 for a constant wait'),
        ).default(3),
        /** Longest self-heal wait; keeps drift short-lived when heals repeat. */
        selfHealBackoffCap: durationUpTo(
          '24h',
          'the longest wait between self-heals; drift would outlive it unhealed',
        ).default('300s'),
        resourceExclusions: z
          .array(
            z.strictObject({
              apiGroups: z.array(checked(z.string(), isApiGroup(EXCLUSION_FIX('group')))).min(1),
              kinds: z.array(checked(z.string(), isKind(EXCLUSION_FIX('kind')))).min(1),
            }),
          )
          .default([]),
        /** policy.default of argocd-rbac-cm: the role every user gets. @default none, as upstream */
        rbacDefaultPolicy: rbacPolicy.optional(),
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
        sourceRepos: z
          .array(checked(z.string(), all<string>(isProjectSourceRepo, hasNoCredentials), redactedUrl))
          .min(1)
          .optional(),
        clusterResources: z
          .array(
            exactGroupKind(
              'list each group and kind the project needs, e.g. { group: apiextensions.k8s.io, kind: CustomResourceDefinition }',
            ),
          )
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
    /** Alert rules, scrape targets and the Grafana dashboard; defaults per environment (config/observability.ts). */
    observability: observabilitySchema.prefault({}),
    /** Argo CD Image Updater for the environment: images move by each service's imageUpdates policy. */
    imageUpdater: imageUpdaterSchema.prefault({}),
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
