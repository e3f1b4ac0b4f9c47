import { Construct } from 'constructs';
import { KubeObject } from '../../model/objects';
import { VIRTUAL_SERVICE_WEIGHT_PATHS } from '../../model/canary';
import {
  ARGOCD_NAMESPACE,
  IN_CLUSTER_SERVER,
  LABELS,
  PART_OF,
  RESOURCES_FINALIZER,
} from '../../model/constants';
import { Application, ApplicationSpec, ApplicationSpecIgnoreDifferences } from '../imports/argoproj.io';
import { isDnsLabel, isDnsSubdomain, isGitRepoUrl, isRepoPath, validate } from '../../model/validators';
import { ValidationError } from '../../model/errors';
import { NotificationSubscription } from '../../model/notifications';
import { notificationAnnotations } from './notifications';
import { SyncPolicy } from '../../model/sync-policy';

/** Fields of live objects Argo CD should not compare (and, with RespectIgnoreDifferences, not sync). */
export interface IgnoreDifference {
  /** API group; omit for the core group. */
  readonly group?: string;
  readonly kind: string;
  /** @default every object of the kind */
  readonly name?: string;
  /** @default every namespace */
  readonly namespace?: string;
  readonly jsonPointers?: readonly string[];
  readonly jqPathExpressions?: readonly string[];
  /** Ignore the fields these field managers own. */
  readonly managedFieldsManagers?: readonly string[];
}

export interface HelmApplicationOptions {
  /** AppProject the Application belongs to; never `default`. */
  readonly project: string;
  /** Git repo holding the chart. */
  readonly repoURL: string;
  /** Directory of the chart in the repo, e.g. `charts/app-service`. */
  readonly chartPath: string;
  /** Branch, tag or commit to deploy. @default "HEAD" */
  readonly targetRevision?: string;
  /** Value files inside the chart directory, in order. @default none */
  readonly valueFiles?: readonly string[];
  /** Values set by the platform, applied over the value files. @default none */
  readonly values?: Readonly<Record<string, unknown>>;
  /** Helm release name. @default the Application's name */
  readonly releaseName?: string;
  /** Namespace the chart is installed into. */
  readonly destinationNamespace: string;
  /** @default "https://kubernetes.default.svc" */
  readonly destinationServer?: string;
  /** @default new SyncPolicy(): automated, prune, self-heal, retries */
  readonly syncPolicy?: SyncPolicy;
  /** @default none */
  readonly ignoreDifferences?: readonly IgnoreDifference[];
  /**
   * Canary weights are moved by a rollout controller: ignore exactly the VirtualService weight
   * fields, and respect that on sync, so self-heal never fights the controller.
   * @default false
   */
  readonly externalCanaryWeights?: boolean;
  /** Delete the Application's resources when the Application is deleted (resources finalizer). @default true */
  readonly cascadeDelete?: boolean;
  /** @default none */
  readonly notifications?: readonly NotificationSubscription[];
  /** Labels on the Application object. @default part-of label only */
  readonly labels?: Readonly<Record<string, string>>;
}

export interface HelmApplicationProps extends HelmApplicationOptions {
  /** Application name. @default the construct id */
  readonly name?: string;
  /** Namespace of Argo CD. @default "argocd" */
  readonly namespace?: string;
}

/** The Application object's plain form, shared by HelmApplication and the ApplicationSet template. */
export interface ApplicationManifest {
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly labels: Record<string, string>;
    readonly annotations?: Record<string, string>;
    readonly finalizers?: string[];
  };
  readonly spec: ApplicationSpec;
}

/** The ignore rule that lets a rollout controller own canary weights. */
export const EXTERNAL_CANARY_WEIGHTS_IGNORE: IgnoreDifference = {
  group: 'networking.istio.io',
  kind: 'VirtualService',
  jqPathExpressions: [...VIRTUAL_SERVICE_WEIGHT_PATHS],
};

/**
 * Builds an Application for a Helm chart in Git. `template` skips the checks of values that are
 * go-template placeholders in an ApplicationSet (they are checked per generated Application).
 */
export function helmApplicationManifest(
  name: string,
  namespace: string,
  options: HelmApplicationOptions,
  template = false,
): ApplicationManifest {
  if (!template) {
    validate('name', name, isDnsSubdomain);
    validate('destinationNamespace', options.destinationNamespace, isDnsLabel);
    validate('repoURL', options.repoURL, isGitRepoUrl);
  }
  validate('namespace', namespace, isDnsLabel);
  validate('project', options.project, isDnsLabel);
  if (options.project === 'default') {
    throw new ValidationError(
      'project',
      'default',
      'the default project allows everything; use the environment\'s project, e.g. "prod"',
    );
  }
  validate('chartPath', options.chartPath, isRepoPath);
  const ignore = [...(options.ignoreDifferences ?? [])];
  let syncPolicy = options.syncPolicy ?? new SyncPolicy();
  if (options.externalCanaryWeights) {
    ignore.push(EXTERNAL_CANARY_WEIGHTS_IGNORE);
    if (!syncPolicy.syncOptions.includes('RespectIgnoreDifferences=true')) {
      syncPolicy = syncPolicy.with({ respectIgnoreDifferences: true });
    }
  }
  const annotations = notificationAnnotations(options.notifications ?? []);
  return {
    metadata: {
      name,
      namespace,
      labels: { [LABELS.partOf]: PART_OF, ...(options.labels ?? {}) },
      annotations: Object.keys(annotations).length ? annotations : undefined,
      finalizers: (options.cascadeDelete ?? true) ? [RESOURCES_FINALIZER] : undefined,
    },
    spec: {
      project: options.project,
      source: {
        repoUrl: options.repoURL,
        targetRevision: options.targetRevision ?? 'HEAD',
        path: options.chartPath,
        helm: {
          releaseName: options.releaseName ?? name,
          valueFiles: options.valueFiles?.length ? [...options.valueFiles] : undefined,
          valuesObject: options.values && Object.keys(options.values).length ? options.values : undefined,
        },
      },
      destination: {
        server: options.destinationServer ?? IN_CLUSTER_SERVER,
        namespace: options.destinationNamespace,
      },
      syncPolicy: syncPolicy.toJson(),
      ignoreDifferences: ignore.length ? ignore.map(ignoreDifferenceSpec) : undefined,
    },
  };
}

/** The Application as Kubernetes stores it (wire names such as `repoURL`). */
export function applicationObject(
  name: string,
  namespace: string,
  options: HelmApplicationOptions,
): KubeObject {
  return Application.manifest(helmApplicationManifest(name, namespace, options)) as KubeObject;
}

export function ignoreDifferenceSpec(rule: IgnoreDifference): ApplicationSpecIgnoreDifferences {
  if (!rule.jsonPointers?.length && !rule.jqPathExpressions?.length && !rule.managedFieldsManagers?.length) {
    throw new ValidationError(
      `ignoreDifferences[${rule.kind}]`,
      rule,
      'name what to ignore: jsonPointers, jqPathExpressions or managedFieldsManagers',
    );
  }
  return {
    group: rule.group,
    kind: rule.kind,
    name: rule.name,
    namespace: rule.namespace,
    jsonPointers: rule.jsonPointers ? [...rule.jsonPointers] : undefined,
    jqPathExpressions: rule.jqPathExpressions ? [...rule.jqPathExpressions] : undefined,
    managedFieldsManagers: rule.managedFieldsManagers ? [...rule.managedFieldsManagers] : undefined,
  };
}

/**
 * An Argo CD Application for a Helm chart in a Git repo at a revision: per-environment value
 * files, platform values, sync policy, ignoreDifferences, the resources finalizer and
 * notification subscriptions.
 */
export class HelmApplication extends Construct {
  public readonly name: string;
  public readonly namespace: string;
  public readonly manifest: ApplicationManifest;
  public readonly resource: Application;

  constructor(scope: Construct, id: string, props: HelmApplicationProps) {
    super(scope, id);
    this.name = props.name ?? id;
    this.namespace = props.namespace ?? ARGOCD_NAMESPACE;
    this.manifest = helmApplicationManifest(this.name, this.namespace, props);
    this.resource = new Application(this, 'Resource', this.manifest);
  }
}
