/** Names, labels, annotations and sync waves shared by every construct, kept in one place. */

export const ARGOCD_NAMESPACE = 'argocd';

/** Environments a `Pulumi.<env>.yaml` may declare. */
export const ENVIRONMENTS = ['dev', 'staging', 'prod'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** The in-cluster API server, as Argo CD names it. */
export const IN_CLUSTER_SERVER = 'https://kubernetes.default.svc';

export const LABELS = {
  partOf: 'app.kubernetes.io/part-of',
  managedBy: 'app.kubernetes.io/managed-by',
  name: 'app.kubernetes.io/name',
  environment: 'converge.dev/environment',
  service: 'converge.dev/service',
  /** Set on the guarded part of a split service (self-heal off, drift waits for approval). */
  part: 'converge.dev/part',
} as const;

export const PART_OF = 'converge';

export const ANNOTATIONS = {
  syncWave: 'argocd.argoproj.io/sync-wave',
  syncOptions: 'argocd.argoproj.io/sync-options',
  notificationsPrefix: 'notifications.argoproj.io/subscribe',
} as const;

/** Sync waves order what Argo CD applies inside one Application. */
export const SYNC_WAVES = {
  config: '-1',
  workload: '0',
  routing: '1',
} as const;

/** Finalizer that makes deleting an Application delete its resources too (cascading delete). */
export const RESOURCES_FINALIZER = 'resources-finalizer.argocd.argoproj.io';

/** Field manager a rollout controller uses when it moves canary weights outside Git. */
export const ROLLOUT_FIELD_MANAGER = 'rollout-controller';
