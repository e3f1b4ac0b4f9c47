import { ApiObject, Chart } from 'cdk8s';
import { Construct } from 'constructs';
import {
  ANNOTATIONS,
  IN_CLUSTER_SERVER,
  LABELS,
  PART_OF,
  RESOURCES_FINALIZER,
  SYNC_WAVES,
} from '../../model/constants';
import { compareCodeUnits } from '../../model/text';
import { GroupKind, isClusterScoped } from '../../model/objects';
import { isDnsLabel, validate } from '../../model/validators';
import { Application } from '../imports/argoproj.io';
import { ArgoCdProject } from './argocd-project';

export interface PlatformRootProps {
  readonly environment: string;
  /** Argo CD's namespace, where the root Application and its project live. */
  readonly namespace: string;
  readonly repoURL: string;
  readonly revision: string;
  /** Folder of the environment's rendered manifests in the repo, e.g. `manifests/dev`. */
  readonly path: string;
  /** The one file of that folder Argo CD applies, e.g. `03-platform.yaml`. */
  readonly file: string;
  /** The chart whose objects the file holds: the project allows exactly their kinds and namespaces. */
  readonly owned: Chart;
  readonly destinationServer?: string;
}

/**
 * The app of apps: one Application per environment that applies the environment's rendered
 * platform manifests from Git (projects, ApplicationSet, drift controller), in a project that
 * allows exactly the kinds and namespaces those manifests hold, derived from the objects themselves.
 */
export class PlatformRoot extends Construct {
  /** The root Application's name, `<env>-root`; its project is `<env>-platform`. */
  public readonly name: string;
  public readonly project: ArgoCdProject;
  public readonly application: Application;

  constructor(scope: Construct, id: string, props: PlatformRootProps) {
    super(scope, id);
    const env = props.environment;
    this.name = validate('name', `${env}-root`, isDnsLabel);
    const server = props.destinationServer ?? IN_CLUSTER_SERVER;
    const owned = ownedKinds(props.owned);
    orderForSyncAndDeletion(props.owned);
    this.project = new ArgoCdProject(this, 'Project', {
      name: `${env}-platform`,
      namespace: props.namespace,
      description: `Converge ${env} platform, applied from ${props.path}/${props.file}`,
      sourceRepos: [props.repoURL],
      destinations: owned.namespaces.map((namespace) => ({ server, namespace })),
      clusterResources: owned.cluster,
      namespaceResources: owned.namespaced,
    });
    this.application = new Application(this, 'Application', {
      metadata: {
        name: this.name,
        namespace: props.namespace,
        labels: { [LABELS.partOf]: PART_OF, [LABELS.environment]: env },
        // Deleting the root (pulumi destroy) removes what it applied, not just the pointer.
        finalizers: [RESOURCES_FINALIZER],
      },
      spec: {
        project: this.project.name,
        source: {
          repoUrl: props.repoURL,
          targetRevision: props.revision,
          path: props.path,
          directory: { include: props.file },
        },
        // Objects name their own namespaces; Argo CD's is where one without would land.
        destination: { server, namespace: props.namespace },
        // The platform's own objects always converge to Git; the services follow their sync policy.
        syncPolicy: {
          automated: { prune: true, selfHeal: true },
          retry: { limit: 5, backoff: { duration: '5s', factor: 2, maxDuration: '3m' } },
        },
      },
    });
  }
}

/** Kinds others depend on: an Application needs its project, a custom resource its CRD. */
const FOUNDATION_KINDS = new Set(['AppProject', 'CustomResourceDefinition']);

/**
 * Argo CD applies an Application's objects in sync-wave order and deletes them in reverse, a wave
 * at a time. Projects and CRDs go first, so they exist before what uses them, and are deleted
 * last: a project deleted before its Applications leaves them unable to finalize, and the root's
 * cascading delete (pulumi destroy) would never end.
 */
function orderForSyncAndDeletion(chart: Chart): void {
  for (const obj of chart.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject))
    if (FOUNDATION_KINDS.has(obj.kind)) obj.metadata.addAnnotation(ANNOTATIONS.syncWave, SYNC_WAVES.config);
}

/** The namespaces, namespaced kinds and cluster-scoped kinds of a chart's objects, sorted. */
function ownedKinds(chart: Chart): {
  namespaces: string[];
  namespaced: GroupKind[];
  cluster: GroupKind[];
} {
  const namespaces = new Set<string>();
  const namespaced = new Map<string, GroupKind>();
  const cluster = new Map<string, GroupKind>();
  for (const obj of chart.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject)) {
    const slash = obj.apiVersion.indexOf('/');
    const gk = { group: slash < 0 ? '' : obj.apiVersion.slice(0, slash), kind: obj.kind };
    const key = `${gk.group}/${gk.kind}`;
    if (isClusterScoped(obj.kind)) cluster.set(key, gk);
    else {
      namespaced.set(key, gk);
      if (obj.metadata.namespace) namespaces.add(obj.metadata.namespace);
    }
  }
  const sorted = (m: Map<string, GroupKind>) =>
    [...m.entries()].sort(([a], [b]) => compareCodeUnits(a, b)).map(([, gk]) => gk);
  return {
    namespaces: [...namespaces].sort(compareCodeUnits),
    namespaced: sorted(namespaced),
    cluster: sorted(cluster),
  };
}
