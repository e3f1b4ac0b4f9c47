import { createHash } from 'node:crypto';
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { ARGOCD_NAMESPACE, LABELS, PART_OF } from '../../model/constants';
import { isClusterScoped, KubeObject } from '../../model/objects';
import { toYaml } from '../../model/yaml';
import { durationSeconds, isDnsLabel, isDuration, isIntegerInRange, validate } from '../../model/validators';
import { ValidationError } from '../../model/errors';
import { NotificationsSettings } from '../../model/notifications';
import { notificationsConfigData } from './notifications';

/** The official install manifests of one Argo CD release, as read from the pinned cache. */
export interface ArgoCdManifests {
  /** Release, e.g. `v3.6.1`. */
  readonly version: string;
  /** Whether these are the high-availability manifests (`manifests/ha/install.yaml`). */
  readonly ha: boolean;
  readonly objects: readonly KubeObject[];
}

/** API groups and kinds Argo CD should neither watch nor manage. */
export interface ResourceFilter {
  readonly apiGroups: readonly string[];
  readonly kinds: readonly string[];
}

/** Fields Argo CD ignores when comparing, for every Application (`resource.customizations.ignoreDifferences`). */
export interface IgnoreRule {
  readonly jsonPointers?: readonly string[];
  readonly jqPathExpressions?: readonly string[];
  readonly managedFieldsManagers?: readonly string[];
}

export interface ArgoCdInstallProps {
  /** The official objects to install; read them with `loadArgoCdManifests()`. */
  readonly manifests: ArgoCdManifests;
  /** Namespace Argo CD runs in. @default "argocd" */
  readonly namespace?: string;
  /** How often Argo CD re-reads Git when no webhook arrives (`timeout.reconciliation`). @default "180s" */
  readonly reconciliationTimeout?: string;
  /** Random spread added to the reconciliation timeout. @default "60s" */
  readonly reconciliationJitter?: string;
  /** First wait of the self-heal backoff. @default "2s" */
  readonly selfHealBackoff?: string;
  /** Growth of the self-heal wait after each heal of the same Application. @default 3 */
  readonly selfHealBackoffFactor?: number;
  /** Longest self-heal wait. @default "300s" */
  readonly selfHealBackoffCap?: string;
  /** Kinds excluded on top of upstream's own exclusions (Events, Leases, ...). @default none */
  readonly resourceExclusions?: readonly ResourceFilter[];
  /** Lua health checks by `group/Kind`. @default a VirtualService check that its route weights sum to 100 */
  readonly healthChecks?: Readonly<Record<string, string>>;
  /** Global ignoreDifferences by `group_Kind` or `all`. @default webhook `caBundle` fields, which cert injectors own */
  readonly ignoreDifferences?: Readonly<Record<string, IgnoreRule>>;
  /** Notification services, triggers and templates. @default triggers and templates only, no services */
  readonly notifications?: NotificationsSettings;
  /** Default RBAC role for signed-in users. @default "role:readonly" */
  readonly rbacDefaultPolicy?: string;
  /** Extra `policy.csv` lines. @default none */
  readonly rbacPolicies?: readonly string[];
  /** Let ApplicationSets roll out step by step (RollingSync). @default false */
  readonly progressiveSyncs?: boolean;
}

/** A VirtualService is degraded when a split route's weights do not add up to 100. */
export const VIRTUAL_SERVICE_HEALTH_LUA = `hs = { status = "Healthy", message = "route weights add up to 100" }
if obj.spec ~= nil and obj.spec.http ~= nil then
  for i, http in ipairs(obj.spec.http) do
    if http.route ~= nil and #http.route > 1 then
      local total = 0
      for _, destination in ipairs(http.route) do
        total = total + (destination.weight or 0)
      end
      if total ~= 100 then
        hs.status = "Degraded"
        hs.message = "http[" .. (i - 1) .. "] weights add up to " .. total .. ", not 100"
      end
    end
  end
end
return hs
`;

const DEFAULT_IGNORE_DIFFERENCES: Record<string, IgnoreRule> = {
  'admissionregistration.k8s.io_MutatingWebhookConfiguration': {
    jqPathExpressions: ['.webhooks[]?.clientConfig.caBundle'],
  },
  'admissionregistration.k8s.io_ValidatingWebhookConfiguration': {
    jqPathExpressions: ['.webhooks[]?.clientConfig.caBundle'],
  },
};

/**
 * Argo CD, installed from the official manifests of a pinned release, with the platform's settings
 * merged into its ConfigMaps (`argocd-cm`, `argocd-cmd-params-cm`, `argocd-rbac-cm`,
 * `argocd-notifications-cm`). Nothing upstream is copied into this repository: the objects come
 * from the pinned cache at synth time.
 */
export class ArgoCdInstall extends Construct {
  public readonly namespace: string;
  public readonly version: string;
  public readonly ha: boolean;
  /** Every object installed, by `Kind/name`. */
  public readonly objects: ReadonlyMap<string, ApiObject>;

  constructor(scope: Construct, id: string, props: ArgoCdInstallProps) {
    super(scope, id);
    if (!props.manifests || props.manifests.objects.length === 0) {
      throw new ValidationError(
        'manifests',
        props.manifests?.objects.length ?? undefined,
        'pass the official install objects, e.g. loadArgoCdManifests({ ha: false }); run `npm run setup` to cache them',
      );
    }
    this.namespace = validate('namespace', props.namespace ?? ARGOCD_NAMESPACE, isDnsLabel);
    this.version = props.manifests.version;
    this.ha = props.manifests.ha;
    const reconciliation = validate(
      'reconciliationTimeout',
      props.reconciliationTimeout ?? '180s',
      isDuration,
    );
    const jitter = validate('reconciliationJitter', props.reconciliationJitter ?? '60s', isDuration);
    const selfHealBackoff = validate('selfHealBackoff', props.selfHealBackoff ?? '2s', isDuration);
    const backoffFactor = validate(
      'selfHealBackoffFactor',
      props.selfHealBackoffFactor ?? 3,
      isIntegerInRange(1, 10, 'use 1 for a constant wait'),
    );
    const backoffCap = validate('selfHealBackoffCap', props.selfHealBackoffCap ?? '300s', isDuration);

    const configData: Record<string, Record<string, string>> = {
      'argocd-cm': {
        'timeout.reconciliation': reconciliation,
        'timeout.reconciliation.jitter': jitter,
        ...healthCheckData(
          props.healthChecks ?? { 'networking.istio.io/VirtualService': VIRTUAL_SERVICE_HEALTH_LUA },
        ),
        ...ignoreDifferencesData(props.ignoreDifferences ?? DEFAULT_IGNORE_DIFFERENCES),
      },
      'argocd-cmd-params-cm': {
        'controller.self.heal.backoff.timeout.seconds': seconds(selfHealBackoff),
        'controller.self.heal.backoff.factor': String(backoffFactor),
        'controller.self.heal.backoff.cap.seconds': seconds(backoffCap),
        ...(props.progressiveSyncs ? { 'applicationsetcontroller.enable.progressive.syncs': 'true' } : {}),
      },
      'argocd-rbac-cm': {
        'policy.default': props.rbacDefaultPolicy ?? 'role:readonly',
        ...(props.rbacPolicies?.length ? { 'policy.csv': `${props.rbacPolicies.join('\n')}\n` } : {}),
      },
      'argocd-notifications-cm': notificationsConfigData(props.notifications ?? {}),
    };

    new ApiObject(this, 'Namespace', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: this.namespace, labels: { [LABELS.partOf]: PART_OF } },
    });

    // Argo CD reads argocd-cmd-params-cm (and some argocd-cm keys) only when it starts: a checksum
    // in its pod templates rolls the workloads when those settings change.
    const checksum = createHash('sha256')
      .update(JSON.stringify([configData['argocd-cmd-params-cm'], reconciliation, jitter]))
      .digest('hex');
    const objects = new Map<string, ApiObject>();
    for (const upstream of props.manifests.objects) {
      let obj = this.inNamespace(upstream);
      const extra = obj.kind === 'ConfigMap' ? configData[obj.metadata.name] : undefined;
      if (extra) obj = withData(obj, extra, props.resourceExclusions);
      if (obj.kind === 'Deployment' || obj.kind === 'StatefulSet')
        obj = withPodAnnotation(obj, CONFIG_CHECKSUM_ANNOTATION, checksum);
      const key = `${obj.kind}/${obj.metadata.name}`;
      objects.set(key, new ApiObject(this, key, obj));
    }
    this.objects = objects;
  }

  /** Places a namespaced upstream object in our namespace, and points RBAC subjects at it. */
  private inNamespace(obj: KubeObject): KubeObject {
    const subjects = obj.subjects as { namespace?: string }[] | undefined;
    return {
      ...obj,
      metadata: isClusterScoped(obj.kind) ? obj.metadata : { ...obj.metadata, namespace: this.namespace },
      ...(subjects
        ? { subjects: subjects.map((s) => (s.namespace ? { ...s, namespace: this.namespace } : s)) }
        : {}),
    };
  }
}

/** Pod-template annotation that changes whenever Argo CD's start-up settings change. */
export const CONFIG_CHECKSUM_ANNOTATION = 'converge.dev/argocd-config-checksum';

function withPodAnnotation(obj: KubeObject, key: string, value: string): KubeObject {
  const spec = obj.spec as { template?: { metadata?: { annotations?: Record<string, string> } } };
  const template = spec.template ?? {};
  return {
    ...obj,
    spec: {
      ...spec,
      template: {
        ...template,
        metadata: { ...template.metadata, annotations: { ...template.metadata?.annotations, [key]: value } },
      },
    },
  };
}

/** Argo CD takes these durations as whole seconds, at least 1. */
const seconds = (duration: string) => String(Math.max(1, Math.round(durationSeconds(duration))));

function withData(
  obj: KubeObject,
  extra: Record<string, string>,
  exclusions?: readonly ResourceFilter[],
): KubeObject {
  const data = { ...((obj.data as Record<string, string> | undefined) ?? {}), ...extra };
  if (obj.metadata.name === 'argocd-cm' && exclusions?.length) {
    // Append to upstream's list, so its default exclusions stay.
    const upstream = data['resource.exclusions'] ?? '';
    data['resource.exclusions'] =
      `${upstream}${upstream.endsWith('\n') || upstream === '' ? '' : '\n'}${toYaml(exclusions)}`;
  }
  return { ...obj, data };
}

function healthCheckData(checks: Readonly<Record<string, string>>): Record<string, string> {
  const data: Record<string, string> = {};
  for (const [groupKind, lua] of Object.entries(checks)) {
    const slash = groupKind.lastIndexOf('/');
    if (slash < 0) {
      throw new ValidationError(
        `healthChecks.${groupKind}`,
        groupKind,
        'keys must be "group/Kind", e.g. "networking.istio.io/VirtualService"',
      );
    }
    const group = groupKind.slice(0, slash);
    const kind = groupKind.slice(slash + 1);
    data[`resource.customizations.health.${group ? `${group}_${kind}` : kind}`] = lua;
  }
  return data;
}

function ignoreDifferencesData(rules: Readonly<Record<string, IgnoreRule>>): Record<string, string> {
  const data: Record<string, string> = {};
  for (const [key, rule] of Object.entries(rules)) {
    data[`resource.customizations.ignoreDifferences.${key}`] = toYaml(rule);
  }
  return data;
}
