import { createHash } from 'node:crypto';
import {
  ApiObject,
  App,
  ImplicitTokenResolver,
  JsonPatch,
  LazyResolver,
  NumberStringUnionResolver,
} from 'cdk8s';
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
  /** The objects installed as upstream ships them, already synthesized once. @default none: synthesize all */
  readonly rendered?: PassThroughRendering;
}

/**
 * Upstream objects that `ArgoCdInstall` passes through unchanged (namespace aside), synthesized
 * once and cached (render/ keeps them beside the upstream files). Only a shortcut: an object whose
 * metadata, patches or app resolvers differ from when it was cached is synthesized as usual.
 */
export interface PassThroughRendering {
  /** The object `Kind/name` as synthesized when placed in `namespace`; none when not cached. */
  lookup(namespace: string, key: string): RenderedObject | undefined;
  /**
   * Gives a synthesized object (one the platform changed) its YAML text from a cache by content,
   * so the writer need not render it again. Returns the object itself.
   */
  withText?(json: unknown): unknown;
}

export interface RenderedObject {
  /** `JSON.stringify` of the object's `metadata.toJson()` when it was synthesized. */
  readonly metadata: string;
  /** What `toJson()` returned, as a fresh copy on each call. */
  json(): unknown;
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
  /** Role every signed-in user gets, e.g. "role:readonly". @default none, as upstream: roles come by group */
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
  /** Keys of the objects installed exactly as upstream ships them, namespace aside. */
  public readonly passThrough: readonly string[];

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
        ...(props.rbacDefaultPolicy ? { 'policy.default': props.rbacDefaultPolicy } : {}),
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
    const passThrough: string[] = [];
    for (const upstream of props.manifests.objects) {
      let obj = this.inNamespace(upstream);
      const extra = obj.kind === 'ConfigMap' ? configData[obj.metadata.name] : undefined;
      if (extra) obj = withData(obj, extra, props.resourceExclusions);
      const workload = obj.kind === 'Deployment' || obj.kind === 'StatefulSet';
      if (workload) obj = withPodAnnotation(obj, CONFIG_CHECKSUM_ANNOTATION, checksum);
      const key = `${obj.kind}/${obj.metadata.name}`;
      const rendered = extra || workload ? undefined : props.manifests.rendered?.lookup(this.namespace, key);
      if (!extra && !workload) passThrough.push(key);
      const cache = props.manifests.rendered;
      objects.set(
        key,
        rendered
          ? new RenderedApiObject(this, key, obj, rendered)
          : cache?.withText
            ? new TextCachedApiObject(this, key, obj, cache)
            : new ApiObject(this, key, obj),
      );
    }
    this.objects = objects;
    this.passThrough = passThrough;
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

/**
 * An upstream object whose synthesized form is cached: `toJson()` returns the cached copy while
 * nothing that shapes the output changed since, else synthesizes as any ApiObject does.
 */
class RenderedApiObject extends ApiObject {
  private patched = false;

  constructor(
    scope: Construct,
    id: string,
    props: KubeObject,
    private readonly rendered: RenderedObject,
  ) {
    super(scope, id, props);
  }

  public override addJsonPatch(...ops: JsonPatch[]): void {
    this.patched = true;
    super.addJsonPatch(...ops);
  }

  public override toJson(): unknown {
    const builtIn = (r: object) =>
      r instanceof LazyResolver ||
      r instanceof ImplicitTokenResolver ||
      r instanceof NumberStringUnionResolver;
    if (
      !this.patched &&
      App.of(this).resolvers.every(builtIn) &&
      JSON.stringify(this.metadata.toJson()) === this.rendered.metadata
    )
      return this.rendered.json();
    return super.toJson();
  }
}

/** An upstream object the platform changed: synthesized as usual, its YAML text cached by content. */
class TextCachedApiObject extends ApiObject {
  constructor(
    scope: Construct,
    id: string,
    props: KubeObject,
    private readonly cache: PassThroughRendering,
  ) {
    super(scope, id, props);
  }

  public override toJson(): unknown {
    return this.cache.withText!(super.toJson());
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
