/** Names, labels, annotations and sync waves shared by every layer, kept in one place. */

export const ARGOCD_NAMESPACE = 'argocd';

/** Environments a `Pulumi.<env>.yaml` may declare. */
export const ENVIRONMENTS = ['dev', 'staging', 'prod'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export function isEnvironment(value: string): value is Environment {
  return (ENVIRONMENTS as readonly string[]).includes(value);
}

/** The key the platform's config sits under in `Pulumi.<env>.yaml`. */
export const PLATFORM_CONFIG_KEY = 'converge:platform';

/** Where `converge synth` writes each environment's manifests in the repo: `manifests/<env>/`. */
export const MANIFESTS_DIR = 'manifests';
/** The rendered file the environment's root Application applies from Git (the rest is bootstrap). */
export const PLATFORM_MANIFEST = '03-platform.yaml';
/**
 * Argo CD's own installation: the pinned upstream objects plus the platform's settings. It is
 * not committed (the repo never carries upstream YAML); Pulumi renders it from the pinned release.
 */
export const ARGOCD_MANIFEST = '01-argocd.yaml';
/** The files Pulumi applies when it bootstraps an environment. */
export const BOOTSTRAP_MANIFESTS = [ARGOCD_MANIFEST, '02-bootstrap.yaml'] as const;

/** The namespace of Converge's own objects: drift records, and the controller when it runs in-cluster. */
export const CONVERGE_NAMESPACE = 'converge-system';

/** Image of the in-cluster drift controller unless the stack file names another. */
export const DEFAULT_CONTROLLER_IMAGE = 'ghcr.io/example-org/converge:0.1.0';

/** Port of the drift controller's `/metrics`. */
export const METRICS_PORT = 9464;

/** Port of the drift controller's approvals page (next to /metrics); loopback unless told otherwise. */
export const APPROVALS_PORT = 9465;

/** The in-cluster API server, as Argo CD names it. */
export const IN_CLUSTER_SERVER = 'https://kubernetes.default.svc';

/**
 * Namespaces Kubernetes keeps for itself. No add-on deploys into them, nor into any other `kube-`
 * namespace, a prefix Kubernetes reserves for its own.
 */
export const KUBERNETES_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'] as const;

export function isKubernetesNamespace(namespace: string): boolean {
  return (KUBERNETES_NAMESPACES as readonly string[]).includes(namespace) || namespace.startsWith('kube-');
}

export const LABELS = {
  partOf: 'app.kubernetes.io/part-of',
  managedBy: 'app.kubernetes.io/managed-by',
  name: 'app.kubernetes.io/name',
  environment: 'converge.dev/environment',
  service: 'converge.dev/service',
  /** Set on the guarded part of a split service (self-heal off, drift waits for approval). */
  part: 'converge.dev/part',
  /** Set on an add-on's Application (`addons.<name>` in the stack file), as `service` is on a service's. */
  addon: 'converge.dev/addon',
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

/** The audit trail's custom resource. */
export const DRIFT_RECORD = {
  group: 'converge.dev',
  version: 'v1alpha1',
  kind: 'DriftRecord',
  plural: 'driftrecords',
} as const;

/** DriftRecord events that are a person's decision on a held drift; all others are the controller's. */
export const DECISION_EVENTS = ['approved', 'rejected'] as const;

/** Prefix of the per-environment Role that may record decisions: `converge-drift-approvers-<env>`. */
export const DRIFT_APPROVERS_ROLE = 'converge-drift-approvers';
/** Prefix of the per-environment Role that may read records only: `converge-drift-viewers-<env>`. */
export const DRIFT_VIEWERS_ROLE = 'converge-drift-viewers';

/** Name of the in-cluster drift controller's ServiceAccount, Deployment and Roles. */
export const DRIFT_CONTROLLER_NAME = 'converge-drift';

/** Field manager of the drift controller's heals. */
export const HEAL_FIELD_MANAGER = 'converge-drift';
