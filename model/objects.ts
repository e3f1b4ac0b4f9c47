/** Kubernetes objects as plain data, and the ways Converge refers to them. */

/** A Kubernetes object as plain data: what upstream manifests and synthesized output hold. */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Record<string, string>;
    readonly annotations?: Record<string, string>;
    readonly [key: string]: unknown;
  };
  readonly [key: string]: unknown;
}

/** An object of the desired state, with the Argo CD Application that renders it. */
export interface DesiredObject {
  readonly object: KubeObject;
  /** Argo CD Application that renders the object, or undefined for platform objects. */
  readonly application?: string;
}

export interface GroupKind {
  /** API group; "" for the core group. */
  readonly group: string;
  readonly kind: string;
}

/** Where an object is, whatever its content: what drift findings and audit records name. */
export interface ObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
}

/** Namespaced kinds the services' charts render: the project's whitelist, and what drift watches. */
export const SERVICE_KINDS: readonly GroupKind[] = [
  { group: '', kind: 'ConfigMap' },
  { group: '', kind: 'Secret' },
  { group: '', kind: 'Service' },
  { group: '', kind: 'ServiceAccount' },
  { group: 'apps', kind: 'Deployment' },
  { group: 'policy', kind: 'PodDisruptionBudget' },
  { group: 'autoscaling', kind: 'HorizontalPodAutoscaler' },
  { group: 'networking.istio.io', kind: 'VirtualService' },
  { group: 'networking.istio.io', kind: 'DestinationRule' },
  { group: 'networking.istio.io', kind: 'Gateway' },
];

/** The API version Converge reads each group of the service kinds at. */
export const servedVersion = (group: string): string =>
  group === '' ? 'v1' : group === 'autoscaling' ? 'autoscaling/v2' : `${group}/v1`;

/** Kinds that live outside namespaces, among those Converge synthesizes or installs. */
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'CustomResourceDefinition',
  'ClusterRole',
  'ClusterRoleBinding',
  'PriorityClass',
  'StorageClass',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
  'APIService',
  'PersistentVolume',
  'Node',
]);

export function isClusterScoped(kind: string): boolean {
  return CLUSTER_SCOPED.has(kind);
}

/** `group/version` split; the core group is "". */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash === -1 ? '' : apiVersion.slice(0, slash);
}

export const refOf = (obj: KubeObject): ObjectRef => ({
  apiVersion: obj.apiVersion,
  kind: obj.kind,
  namespace: obj.metadata.namespace,
  name: obj.metadata.name,
});

/** `group/Kind/namespace/name`: the same key for an object whatever API version it is read at. */
export const objectKey = (obj: ObjectRef | KubeObject): string => {
  const { namespace, name } = 'metadata' in obj ? obj.metadata : obj;
  return `${groupOf(obj.apiVersion)}/${obj.kind}/${namespace ?? ''}/${name}`;
};

/** `Kind/namespace/name`, for tables and messages. */
export const describeRef = (ref: ObjectRef): string =>
  `${ref.kind}/${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
