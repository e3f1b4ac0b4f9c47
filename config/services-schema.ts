import { z } from 'zod';
import { isCanaryWeight } from '../model/canary';
import { isKubernetesNamespace } from '../model/constants';
import { isHttpHeaderName, isHttpHeaderValue } from '../model/http-header';
import { hasNoCredentials } from '../model/urls';
import {
  isDnsLabel,
  isDnsSubdomain,
  isGitRepoUrl,
  isImageRepository,
  isImageTag,
  isIntegerInRange,
  isRepoPath,
} from '../model/validators';
import { all, checked, redactedUrl } from './checked';
import { chartValues } from './inline-secrets';
import { imageUpdatesSchema } from './image-updates-schema';
import { hooksSchema } from './hooks-schema';

/* The schema of `services.<name>`: what a service runs, where, and how traffic reaches it. */

export const imageSchema = z.strictObject({
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
      name: checked(z.string(), isHttpHeaderName),
      value: checked(z.string(), isHttpHeaderValue),
    })
    .optional(),
  /** A rollout controller owns the weights: Git sets the start, and self-heal never reverts them. */
  weightsManagedExternally: z.boolean().default(false),
});

export const serviceSchema = z.strictObject({
  /** Chart directory in the Git repo. @default "charts/<service>" */
  chart: checked(z.string(), isRepoPath).optional(),
  /** Repo holding the chart, when not the platform's; it must be in project.sourceRepos. */
  repoURL: checked(z.string(), all<string>(isGitRepoUrl, hasNoCredentials), redactedUrl).optional(),
  /** Never one Kubernetes keeps for itself; cross-checks.ts keeps Argo CD's and Converge's out too. */
  namespace: checked(
    z.string(),
    all<string>(isDnsLabel, (v) =>
      isKubernetesNamespace(v)
        ? 'Kubernetes keeps it (and every "kube-" namespace) for itself, and the service\'s project would grant access to it; give the service a namespace of its own, e.g. "<env>-<service>" such as "prod-web"'
        : undefined,
    ),
  ),
  image: imageSchema,
  /** How new tags reach this service (with imageUpdater.enabled). @default the environment's (image-updates.ts) */
  imageUpdates: imageUpdatesSchema.optional(),
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
  /**
   * Secrets the service reads as environment variables, made outside Git (kubectl, an ExternalSecret
   * or a SealedSecret). The drift controller pages at once when one is deleted, and restores the
   * copy it last saw. @default none
   */
  envFromSecrets: z.array(checked(z.string(), isDnsSubdomain)).optional(),
  /** Argo CD resource hooks the chart renders, and the response to a failed sync. @default none */
  hooks: hooksSchema.optional(),
  /** Extra chart values, merged over the chart's values-<env>.yaml. */
  values: chartValues.default({}),
});
