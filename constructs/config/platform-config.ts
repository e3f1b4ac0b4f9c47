import { z } from 'zod';
import { ARGOCD_SERVICE_NAMES, NOTIFICATION_TRIGGER_NAMES } from '../argocd/notifications';
import { SyncPolicy } from '../argocd/sync-policy';
import { isCanaryWeight } from '../canary/canary-weights';
import { Environment, ENVIRONMENTS } from '../constants';
import { CHANGE_TYPES, DRIFT_ACTIONS, SEVERITIES } from '../drift/drift-policy';
import {
  Check,
  isCronSchedule,
  isDnsLabel,
  isDuration,
  isGitRepoUrl,
  isImageRepository,
  isImageTag,
  isIntegerInRange,
  isNonEmptyString,
  isProjectSourceRepo,
  isRepoPath,
  ValidationError,
} from '../validators';

/*
 * The schema of `converge:platform` in `Pulumi.<env>.yaml`: every per-environment choice,
 * declared once. Everything else is derived from it by GitOpsPlatform.
 */

/** A string or number checked by one of the shared validators, so constructs and config agree. */
const checked = <T extends z.ZodType>(schema: T, check: Check<z.infer<T>>) =>
  schema.superRefine((value, ctx) => {
    const rule = check(value);
    if (rule !== undefined) ctx.addIssue({ code: 'custom', message: rule, input: value });
  });

const dnsLabel = checked(z.string(), isDnsLabel);
const duration = checked(z.string(), isDuration);

const imageSchema = z.strictObject({
  repository: checked(z.string(), isImageRepository),
  tag: checked(z.string(), isImageTag),
});

const canarySchema = z.strictObject({
  /** Percent of traffic to the canary; stable gets the rest. 0 keeps the canary Deployment but sends it nothing. */
  weight: checked(z.number(), isCanaryWeight),
  /** Tag the canary runs; the repository is the service's. */
  tag: checked(z.string(), isImageTag),
  replicas: checked(z.number(), isIntegerInRange(1, 100, 'one or two canary replicas are usual')).default(1),
  /** Requests carrying this header go to the canary whatever the weight. */
  header: z
    .strictObject({
      name: checked(z.string(), isNonEmptyString),
      value: checked(z.string(), isNonEmptyString),
    })
    .optional(),
  /** A rollout controller owns the weights: Git sets the start, and self-heal never reverts them. */
  weightsManagedExternally: z.boolean().default(false),
});

const serviceSchema = z.strictObject({
  /** Chart directory in the Git repo. @default "charts/<service>" */
  chart: checked(z.string(), isRepoPath).optional(),
  /** Repo holding the chart, when not the platform's; it must be in project.sourceRepos. */
  repoURL: checked(z.string(), isGitRepoUrl).optional(),
  namespace: dnsLabel,
  image: imageSchema,
  replicas: checked(z.number(), isIntegerInRange(0, 1000, 'use 0 to scale the service down')),
  canary: canarySchema.optional(),
  /** A HorizontalPodAutoscaler owns the replica count; Argo CD and drift checks leave it alone. */
  autoscaling: z
    .strictObject({
      minReplicas: checked(z.number(), isIntegerInRange(1, 1000, 'keep at least one replica')),
      maxReplicas: checked(z.number(), isIntegerInRange(1, 1000, 'cap the replicas the autoscaler may add')),
      cpuUtilization: checked(
        z.number(),
        isIntegerInRange(1, 100, 'target average CPU use in percent, e.g. 70'),
      ).default(70),
    })
    .refine((a) => a.maxReplicas >= a.minReplicas, {
      message: 'maxReplicas must be at least minReplicas; raise maxReplicas',
      path: ['maxReplicas'],
    })
    .optional(),
  /** Extra chart values, merged over the chart's values-<env>.yaml. */
  values: z.record(z.string(), z.unknown()).default({}),
});

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

const notificationServiceName = z.enum(['slack', 'pagerduty', 'email', 'webhook']);

const notificationsSchema = z.strictObject({
  slack: z.strictObject({ tokenSecretKey: z.string().default('slack-token') }).optional(),
  pagerduty: z.strictObject({ routingKeySecretKey: z.string().default('pagerduty-routing-key') }).optional(),
  email: z
    .strictObject({
      host: checked(z.string(), isNonEmptyString),
      port: checked(z.number(), isIntegerInRange(1, 65535, 'use 587 for SMTP with STARTTLS')).default(587),
      from: checked(z.string(), isNonEmptyString),
      passwordSecretKey: z.string().default('email-password'),
    })
    .optional(),
  /** Argo CD addresses a webhook by its name, so it may not take the name of another service. */
  webhooks: z
    .record(
      checked(z.string(), (name) =>
        (Object.values(ARGOCD_SERVICE_NAMES) as string[]).includes(name)
          ? `Argo CD addresses webhooks by name, and ${Object.values(ARGOCD_SERVICE_NAMES).join(', ')} name its other services; rename the webhook, e.g. "${name}-hook"`
          : isDnsLabel(name),
      ),
      z.strictObject({ url: checked(z.string(), isNonEmptyString) }),
    )
    .default({}),
  subscriptions: z
    .array(
      z.strictObject({
        trigger: z.enum(NOTIFICATION_TRIGGER_NAMES),
        service: notificationServiceName,
        recipients: z.array(checked(z.string(), isNonEmptyString)).min(1),
      }),
    )
    .default([]),
});

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

const driftSchema = z.strictObject({
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
      namespace: dnsLabel.default('converge-system'),
      image: checked(z.string(), isNonEmptyString).default('ghcr.io/example-org/converge:0.1.0'),
    })
    .prefault({}),
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
        server: checked(z.string(), isNonEmptyString).default('https://kubernetes.default.svc'),
      })
      .prefault({}),
    argocd: z
      .strictObject({
        namespace: dnsLabel.default('argocd'),
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
  })
  .superRefine((config, ctx) => {
    // An empty project.sourceRepos has its own error; every repo would be outside it.
    const repos = config.project.sourceRepos ?? [config.git.repoURL];
    const onDefaultRepo: string[] = [];
    for (const [name, service] of Object.entries(config.services)) {
      const repo = service.repoURL;
      if (repo === undefined) onDefaultRepo.push(name);
      else if (repos.length > 0 && !repos.includes(repo)) {
        ctx.addIssue({
          code: 'custom',
          path: ['services', name, 'repoURL'],
          input: repo,
          message: `it is outside the project; allowed repos: ${repos.join(', ')}; add it to project.sourceRepos or use one of those`,
        });
      }
    }
    if (onDefaultRepo.length > 0 && repos.length > 0 && !repos.includes(config.git.repoURL)) {
      ctx.addIssue({
        code: 'custom',
        path: ['git', 'repoURL'],
        input: config.git.repoURL,
        message: `it is outside the project, and ${onDefaultRepo.join(', ')} read their charts from it; allowed repos: ${repos.join(', ')}; add it to project.sourceRepos, or set those services' repoURL to an allowed repo`,
      });
    }
    // The sync policy's own rules (e.g. prune only acts on automated syncs), reported at sync.<key>.
    const syncProblem = syncPolicyProblem(config.environment, config.sync);
    if (syncProblem) {
      ctx.addIssue({
        code: 'custom',
        path: ['sync', ...syncProblem.path.split('.')],
        input: syncProblem.value,
        message: syncProblem.rule,
      });
    }
    for (const [i, step] of (config.applicationSet.progressiveSteps ?? []).entries()) {
      for (const [j, name] of step.entries()) {
        if (!(name in config.services)) {
          ctx.addIssue({
            code: 'custom',
            path: ['applicationSet', 'progressiveSteps', i, j],
            input: name,
            message: `it is not a declared service; use one of: ${Object.keys(config.services).join(', ')}`,
          });
        }
      }
    }
    if (config.applicationSet.progressiveSteps && config.sync.automated !== false) {
      ctx.addIssue({
        code: 'custom',
        path: ['applicationSet', 'progressiveSteps'],
        input: config.applicationSet.progressiveSteps,
        message:
          'RollingSync turns automated sync off on generated Applications, so prune and self-heal would silently stop; set sync.automated: false to accept that, or drop progressiveSteps',
      });
    }
    for (const severity of ['low', 'medium', 'high'] as const) {
      for (const [i, target] of config.drift.notify[severity].entries()) {
        const [service, name] = target.split(':');
        // Malformed targets already have their own error.
        if (!['webhook', 'slack', 'pagerduty', 'email'].includes(service)) continue;
        const missing =
          service === 'webhook'
            ? !(name in config.notifications.webhooks)
            : !config.notifications[service as 'slack' | 'pagerduty' | 'email'];
        if (missing) {
          ctx.addIssue({
            code: 'custom',
            path: ['drift', 'notify', severity, i],
            input: target,
            message: `it names a ${service} ${service === 'webhook' ? 'webhook that is not declared' : 'service that is not configured'}; declare it under notifications or pick another target`,
          });
        }
      }
    }
    for (const [i, sub] of config.notifications.subscriptions.entries()) {
      const configured =
        sub.service === 'webhook'
          ? Object.keys(config.notifications.webhooks).length > 0
          : config.notifications[sub.service];
      if (!configured) {
        ctx.addIssue({
          code: 'custom',
          path: ['notifications', 'subscriptions', i, 'service'],
          input: sub.service,
          message: `no ${sub.service} service is configured; add notifications.${sub.service === 'webhook' ? 'webhooks.<name>' : sub.service} or subscribe another service`,
        });
      }
      if (sub.service === 'webhook') {
        for (const [j, recipient] of sub.recipients.entries()) {
          if (!(recipient in config.notifications.webhooks)) {
            ctx.addIssue({
              code: 'custom',
              path: ['notifications', 'subscriptions', i, 'recipients', j],
              input: recipient,
              message: `it is not a declared webhook; use one of: ${Object.keys(config.notifications.webhooks).join(', ')}`,
            });
          }
        }
      }
    }
  });

/** The ValidationError SyncPolicy raises for an environment's `sync` settings, if any. */
function syncPolicyProblem(
  environment: Environment,
  sync: z.infer<typeof syncSchema>,
): ValidationError | undefined {
  if (!ENVIRONMENTS.includes(environment)) return undefined;
  try {
    SyncPolicy.forEnvironment(environment, sync);
    return undefined;
  } catch (err) {
    if (err instanceof ValidationError) return err;
    throw err;
  }
}

/** The validated, defaulted platform configuration of one environment. */
export type PlatformConfig = z.infer<typeof platformConfigSchema>;
/** What a `Pulumi.<env>.yaml` may hold under `converge:platform`, before defaults. */
export type PlatformConfigInput = z.input<typeof platformConfigSchema>;
export type ServiceConfig = PlatformConfig['services'][string];
export type NotificationsConfig = PlatformConfig['notifications'];
export type DriftConfig = PlatformConfig['drift'];
