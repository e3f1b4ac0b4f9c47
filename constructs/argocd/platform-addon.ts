import { Construct } from 'constructs';
import { ARGOCD_NAMESPACE, Environment, IN_CLUSTER_SERVER, LABELS } from '../../model/constants';
import { ValidationError } from '../../model/errors';
import { NotificationSubscription } from '../../model/notifications';
import { GroupKind } from '../../model/objects';
import { SyncPolicy } from '../../model/sync-policy';
import { isDnsLabel, validate } from '../../model/validators';
import { ArgoCdProject } from './argocd-project';
import { HelmApplication, IgnoreDifference } from './helm-application';

export interface PlatformAddonProps {
  readonly environment: Environment;
  /** The add-on's name, e.g. "istio-base": its Helm release, and `<env>-addon-<name>` names its project and Application. */
  readonly name: string;
  /** Namespace of Argo CD, where the project and the Application live. @default "argocd" */
  readonly namespace?: string;
  /** The Helm repo holding `chart`, or the Git repo holding `chartPath`; the only repo the project allows. */
  readonly repoURL: string;
  /** Chart name in the Helm repo. Set this or `chartPath`. */
  readonly chart?: string;
  /** Chart folder in the Git repo. Set this or `chart`. */
  readonly chartPath?: string;
  /** Chart version for `chart`; branch, tag or commit for `chartPath`. */
  readonly revision: string;
  /** Namespace the chart is installed into: the only destination the project allows. */
  readonly destinationNamespace: string;
  /** @default "https://kubernetes.default.svc" */
  readonly destinationServer?: string;
  /** Chart values. @default none */
  readonly values?: Readonly<Record<string, unknown>>;
  /** Cluster-scoped kinds the chart renders; `*` is refused. @default none */
  readonly clusterResources?: readonly GroupKind[];
  /** Namespaced kinds the chart may render; `*` is refused. @default any kind, in destinationNamespace only */
  readonly namespaceResources?: readonly GroupKind[];
  /**
   * With `createNamespace: true`, Argo CD creates the namespace, and the project allows Namespace
   * for it; without (the default), whoever deploys the add-on creates the namespace.
   * @default SyncPolicy.forEnvironment(environment, { createNamespace: false })
   */
  readonly syncPolicy?: SyncPolicy;
  /** @default none */
  readonly ignoreDifferences?: readonly IgnoreDifference[];
  /** @default none */
  readonly notifications?: readonly NotificationSubscription[];
}

/** Argo CD's longest project name. */
const NAME_MAX = 63;
const NAMESPACE_KIND: GroupKind = { group: '', kind: 'Namespace' };
/** Any namespaced kind: the project's destinations keep it to the add-on's namespace. */
const ANY_KIND: GroupKind = { group: '*', kind: '*' };

/**
 * A third-party chart the platform runs (a mesh, cert-manager, monitoring): a HelmApplication in an
 * AppProject of its own, `<env>-addon-<name>`, that allows exactly the add-on's repo, its one
 * namespace and the cluster-scoped kinds it declares (plus Namespace only when Argo CD must create
 * it). The Application carries the environment's label, so `converge status` gates on it too.
 */
export class PlatformAddon extends Construct {
  /** The add-on's name, as declared. */
  public readonly name: string;
  /** `<env>-addon-<name>`: the project's name and the Application's. */
  public readonly fullName: string;
  public readonly project: ArgoCdProject;
  public readonly application: HelmApplication;

  constructor(scope: Construct, id: string, props: PlatformAddonProps) {
    super(scope, id);
    this.name = validate('name', props.name, isDnsLabel);
    this.fullName = `${props.environment}-addon-${this.name}`;
    if (this.fullName.length > NAME_MAX) {
      throw new ValidationError(
        'name',
        this.name,
        `it names the project "${this.fullName}", ${this.fullName.length} characters; Argo CD allows ${NAME_MAX}; shorten the name`,
      );
    }
    const clusterKinds = exactKinds('clusterResources', props.clusterResources ?? []);
    const namespacedKinds = props.namespaceResources
      ? exactKinds('namespaceResources', props.namespaceResources)
      : [ANY_KIND];
    const syncPolicy =
      props.syncPolicy ?? SyncPolicy.forEnvironment(props.environment, { createNamespace: false });
    // Argo CD creates the namespace under the project's rules only when the policy says so.
    const createsNamespace = syncPolicy.syncOptions.includes('CreateNamespace=true');
    const server = props.destinationServer ?? IN_CLUSTER_SERVER;
    const namespace = props.namespace ?? ARGOCD_NAMESPACE;

    this.project = new ArgoCdProject(this, 'Project', {
      name: this.fullName,
      namespace,
      description: `Converge ${props.environment} add-on ${this.name}`,
      sourceRepos: [props.repoURL],
      destinations: [{ server, namespace: props.destinationNamespace }],
      clusterResources:
        createsNamespace && !clusterKinds.some((gk) => sameKind(gk, NAMESPACE_KIND))
          ? [...clusterKinds, NAMESPACE_KIND]
          : clusterKinds,
      namespaceResources: namespacedKinds,
    });
    // Given the project itself, HelmApplication checks the two agree (repo, destination, Namespace).
    this.application = new HelmApplication(this, 'Application', {
      name: this.fullName,
      namespace,
      project: this.project,
      repoURL: props.repoURL,
      chart: props.chart,
      chartPath: props.chartPath,
      targetRevision: props.revision,
      releaseName: this.name,
      values: props.values,
      destinationNamespace: props.destinationNamespace,
      destinationServer: server,
      syncPolicy,
      ignoreDifferences: props.ignoreDifferences,
      notifications: props.notifications,
      labels: { [LABELS.environment]: props.environment, [LABELS.addon]: this.name },
    });
  }
}

const sameKind = (a: GroupKind, b: GroupKind) => a.group === b.group && a.kind === b.kind;

/** The kinds as listed, each once; a wildcard would allow more than the add-on declared. */
function exactKinds(path: string, kinds: readonly GroupKind[]): GroupKind[] {
  kinds.forEach((gk, i) => {
    if (gk.group.includes('*') || gk.kind.includes('*')) {
      throw new ValidationError(
        `${path}[${i}]`,
        gk,
        'wildcards allow more than the add-on needs; list each group and kind',
      );
    }
  });
  return kinds
    .filter((gk, i) => kinds.findIndex((o) => sameKind(o, gk)) === i)
    .map((gk) => ({ group: gk.group, kind: gk.kind }));
}
