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
import {
  isDnsLabel,
  isDnsSubdomain,
  isGitRepoUrl,
  isHelmChartName,
  isHelmRepoUrl,
  isRepoPath,
  validate,
} from '../../model/validators';
import { ValidationError } from '../../model/errors';
import { NotificationSubscription } from '../../model/notifications';
import { notificationAnnotations } from './notifications';
import { SyncPolicy } from '../../model/sync-policy';
import { ArgoCdProject } from './argocd-project';

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
  /** Git repo holding the chart at `chartPath`, or the https URL of the Helm repo holding `chart`. */
  readonly repoURL: string;
  /** Directory of the chart in a Git repo, e.g. `charts/app-service`. Set this or `chart`. */
  readonly chartPath?: string;
  /** Name of the chart in a Helm repo, e.g. `base`. Set this or `chartPath`. */
  readonly chart?: string;
  /** Branch, tag or commit to deploy; the chart's version for `chart`. @default "HEAD" (required for `chart`) */
  readonly targetRevision?: string;
  /** Value files inside the chart directory, in order. @default none */
  readonly valueFiles?: readonly string[];
  /**
   * Render without the value files that are not in Git yet, e.g. an Image Updater write-back file
   * before the first update. @default false: a missing value file fails the render
   */
  readonly ignoreMissingValueFiles?: boolean;
  /** Values set by the platform, applied over the value files. @default none */
  readonly values?: Readonly<Record<string, unknown>>;
  /** Helm release name. @default the Application's name */
  readonly releaseName?: string;
  /** Namespace the chart is installed into. */
  readonly destinationNamespace: string;
  /** @default "https://kubernetes.default.svc" */
  readonly destinationServer?: string;
  /**
   * @default automated, prune, self-heal, retries, and no `CreateNamespace`: Argo CD creates the
   * destination namespace only when a policy with `createNamespace: true` is passed, and then the
   * project must allow the Namespace kind (ArgoCdProject's `clusterResources`). A project made with
   * ArgoCdProject's defaults allows no cluster kinds, so the default works with it.
   */
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

export interface HelmApplicationProps extends Omit<HelmApplicationOptions, 'project'> {
  /**
   * AppProject the Application belongs to, by name or as the ArgoCdProject itself; never `default`.
   * Given the construct, the Application is checked against it when built: its repo, its
   * destination and, with `CreateNamespace=true`, the Namespace kind must be allowed.
   */
  readonly project: string | ArgoCdProject;
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

/**
 * HelmApplication's sync policy unless one is passed: Argo CD does not create the destination
 * namespace, so the Application needs no cluster-scoped kind from its project.
 */
export const DEFAULT_HELM_SYNC_POLICY = new SyncPolicy({ createNamespace: false });

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
  const chart = options.chart;
  if ((chart === undefined) === (options.chartPath === undefined)) {
    throw chart === undefined
      ? new ValidationError(
          'chartPath',
          undefined,
          "set chartPath (the chart's folder in a Git repo) or chart (the chart's name in a Helm repo)",
        )
      : new ValidationError(
          'chart',
          chart,
          'chartPath is set too; set chart for a chart in a Helm repo, or chartPath for a chart folder in Git, not both',
        );
  }
  if (!template) {
    validate('name', name, isDnsSubdomain);
    validate('destinationNamespace', options.destinationNamespace, isDnsLabel);
    validate('repoURL', options.repoURL, chart === undefined ? isGitRepoUrl : isHelmRepoUrl);
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
  if (chart === undefined) validate('chartPath', options.chartPath!, isRepoPath);
  else {
    validate('chart', chart, isHelmChartName);
    if (options.targetRevision === undefined) {
      throw new ValidationError(
        'targetRevision',
        undefined,
        'a chart from a Helm repo is installed at a version; set targetRevision to it, e.g. "1.24.3"',
      );
    }
  }
  const ignore = [...(options.ignoreDifferences ?? [])];
  let syncPolicy = options.syncPolicy ?? DEFAULT_HELM_SYNC_POLICY;
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
        chart,
        helm: {
          releaseName: options.releaseName ?? name,
          valueFiles: options.valueFiles?.length ? [...options.valueFiles] : undefined,
          ignoreMissingValueFiles: options.ignoreMissingValueFiles || undefined,
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
 * An Argo CD Application for a Helm chart, in a Git repo (`chartPath`) or a Helm repo (`chart`), at
 * a revision: per-environment value files, platform values, sync policy, ignoreDifferences, the
 * resources finalizer and notification subscriptions.
 *
 * Its defaults agree with ArgoCdProject's: Argo CD does not create the destination namespace
 * (no `CreateNamespace=true`, which a project must allow the Namespace kind for). Create the
 * namespace alongside, or pass a sync policy with `createNamespace: true` and a project that
 * lists Namespace in `clusterResources`. Pass the ArgoCdProject as `project` to have that checked.
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
    const project = props.project;
    this.manifest = helmApplicationManifest(this.name, this.namespace, {
      ...props,
      project: typeof project === 'string' ? project : project.name,
    });
    if (typeof project !== 'string') checkAllowedBy(project, this.namespace, this.manifest.spec);
    this.resource = new Application(this, 'Resource', this.manifest);
  }
}

/** Throws unless the project allows what the Application deploys, so Argo CD would not refuse it. */
function checkAllowedBy(project: ArgoCdProject, namespace: string, spec: ApplicationSpec): void {
  const source = spec.source!;
  const { server, namespace: destination } = spec.destination as { server: string; namespace: string };
  if (project.namespace !== namespace) {
    throw new ValidationError(
      'namespace',
      namespace,
      `project ${project.name} is in namespace ${project.namespace}; Argo CD reads projects from its own namespace, and ArgoCdProject lets in Applications from that namespace only; put the Application and the project both in Argo CD's`,
    );
  }
  if (!project.sourceRepos.includes(source.repoUrl)) {
    throw new ValidationError(
      'repoURL',
      source.repoUrl,
      `project ${project.name} does not list it in sourceRepos (${project.sourceRepos.join(', ')}); add it there or use one of those`,
    );
  }
  if (!project.allowsDestination(server, destination)) {
    throw new ValidationError(
      'destinationNamespace',
      destination,
      `project ${project.name} does not allow ${server} ${destination}; add it to the project's destinations or deploy to one of those`,
    );
  }
  if (
    spec.syncPolicy?.syncOptions?.includes('CreateNamespace=true') &&
    !project.allowsClusterKind('', 'Namespace')
  ) {
    throw new ValidationError(
      'syncPolicy',
      'CreateNamespace=true',
      `project ${project.name} does not allow the Namespace kind, so Argo CD could not create the namespace; create it yourself and leave createNamespace off (the default), or list { group: "", kind: "Namespace" } in the project's clusterResources`,
    );
  }
}
