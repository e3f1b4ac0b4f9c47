import { Construct } from 'constructs';
import { ARGOCD_NAMESPACE, IN_CLUSTER_SERVER, LABELS, PART_OF } from '../../model/constants';
import { AppProject, AppProjectSpecSyncWindows } from '../imports/argoproj.io';
import {
  isCronSchedule,
  isDnsLabel,
  isDuration,
  isNonEmptyString,
  isProjectSourceRepo,
  validate,
} from '../../model/validators';
import { ValidationError } from '../../model/errors';
import { GroupKind, SERVICE_KINDS } from '../../model/objects';

/** A place Applications of the project may deploy to. */
export interface ProjectDestination {
  /** API server URL. @default "https://kubernetes.default.svc" */
  readonly server?: string;
  readonly namespace: string;
}

export type ProjectAction = 'get' | 'sync' | 'override' | 'action' | 'delete' | 'update';

export interface ProjectRole {
  readonly name: string;
  readonly description?: string;
  /** SSO groups that hold the role. @default none */
  readonly groups?: readonly string[];
  /** What the role may do to the project's Applications; `action` runs any resource action (`action/*`). */
  readonly actions: readonly ProjectAction[];
}

export interface SyncWindow {
  /** `allow` opens a window for syncs; `deny` closes one. */
  readonly kind: 'allow' | 'deny';
  /** Cron schedule of the window's start, five fields. */
  readonly schedule: string;
  readonly duration: string;
  /** Application name globs the window applies to. @default ["*"] */
  readonly applications?: readonly string[];
  /** Let humans sync by hand while automated syncs are blocked. @default false */
  readonly manualSync?: boolean;
  /** @default "UTC" */
  readonly timeZone?: string;
}

export interface ArgoCdProjectProps {
  /** Project name; never `default`. @default the construct id */
  readonly name?: string;
  /** Namespace of Argo CD. @default "argocd" */
  readonly namespace?: string;
  /** @default none */
  readonly description?: string;
  /** Git repos Applications may read from; `*` is refused. */
  readonly sourceRepos: readonly string[];
  /** Where Applications may deploy; namespace globs are refused. */
  readonly destinations: readonly ProjectDestination[];
  /**
   * Cluster-scoped kinds Applications may manage. @default none
   *
   * Namespace included: an Application whose sync policy has `CreateNamespace=true` needs it, since
   * Argo CD then creates the namespace under the project's rules. HelmApplication leaves that option
   * off unless told, so a project without Namespace works with it by default.
   */
  readonly clusterResources?: readonly GroupKind[];
  /** Namespaced kinds Applications may manage. @default SERVICE_KINDS */
  readonly namespaceResources?: readonly GroupKind[];
  /** @default none */
  readonly roles?: readonly ProjectRole[];
  /** @default none: syncs are allowed at any time */
  readonly syncWindows?: readonly SyncWindow[];
}

/**
 * An AppProject with least privilege: named source repos, destinations limited to the
 * environment's namespaces, no cluster-scoped kinds unless listed, and a whitelist of namespaced kinds.
 */
export class ArgoCdProject extends Construct {
  public readonly name: string;
  public readonly namespace: string;
  public readonly sourceRepos: readonly string[];
  public readonly destinations: readonly Required<ProjectDestination>[];
  /** The cluster-scoped kinds the project allows. */
  public readonly clusterResources: readonly GroupKind[];
  public readonly resource: AppProject;

  constructor(scope: Construct, id: string, props: ArgoCdProjectProps) {
    super(scope, id);
    this.name = validate('name', props.name ?? id, isDnsLabel);
    if (this.name === 'default') {
      throw new ValidationError(
        'name',
        this.name,
        'the default project allows everything; name the project after its environment, e.g. "prod"',
      );
    }
    this.namespace = validate('namespace', props.namespace ?? ARGOCD_NAMESPACE, isDnsLabel);
    if (props.sourceRepos.length === 0) {
      throw new ValidationError('sourceRepos', [], 'list at least one Git repo Applications may read from');
    }
    props.sourceRepos.forEach((repo, i) => validate(`sourceRepos[${i}]`, repo, isProjectSourceRepo));
    this.sourceRepos = [...new Set(props.sourceRepos)].sort();
    if (props.destinations.length === 0) {
      throw new ValidationError('destinations', [], 'list at least one namespace Applications may deploy to');
    }
    this.destinations = props.destinations.map((d, i) => ({
      server: d.server ?? IN_CLUSTER_SERVER,
      namespace: validate(`destinations[${i}].namespace`, d.namespace, isDnsLabel),
    }));
    this.clusterResources = (props.clusterResources ?? []).map((gk) => ({ group: gk.group, kind: gk.kind }));

    const roles = (props.roles ?? []).map((role, i) => {
      validate(`roles[${i}].name`, role.name, isDnsLabel);
      if (role.actions.length === 0) {
        throw new ValidationError(
          `roles[${i}].actions`,
          [],
          'list what the role may do, e.g. ["get", "sync"]',
        );
      }
      return {
        name: role.name,
        description: role.description,
        groups: role.groups ? [...role.groups] : undefined,
        policies: role.actions.map(
          (action) =>
            `p, proj:${this.name}:${role.name}, applications, ${rbacAction(action)}, ${this.name}/*, allow`,
        ),
      };
    });

    this.resource = new AppProject(this, 'Resource', {
      metadata: { name: this.name, namespace: this.namespace, labels: { [LABELS.partOf]: PART_OF } },
      spec: {
        description: props.description,
        sourceRepos: [...this.sourceRepos],
        destinations: this.destinations.map((d) => ({ ...d })),
        clusterResourceWhitelist: this.clusterResources.map((gk) => ({ ...gk })),
        namespaceResourceWhitelist: (props.namespaceResources ?? SERVICE_KINDS).map((gk) => ({ ...gk })),
        orphanedResources: { warn: true },
        roles: roles.length ? roles : undefined,
        syncWindows: props.syncWindows?.length ? props.syncWindows.map(syncWindowSpec) : undefined,
      },
    });
  }

  /** Whether an Application may deploy to this server and namespace. */
  public allowsDestination(server: string, namespace: string): boolean {
    return this.destinations.some((d) => d.server === server && d.namespace === namespace);
  }

  /** Whether Applications of the project may manage a cluster-scoped kind ("" is the core group). */
  public allowsClusterKind(group: string, kind: string): boolean {
    return this.clusterResources.some((gk) => gk.group === group && gk.kind === kind);
  }
}

/**
 * The RBAC action of a project permission. Argo CD names resource actions
 * `action/<group>/<kind>/<action-name>`, so `action` grants all of them.
 */
function rbacAction(action: ProjectAction): string {
  return action === 'action' ? 'action/*' : action;
}

function syncWindowSpec(window: SyncWindow, i: number): AppProjectSpecSyncWindows {
  validate(`syncWindows[${i}].schedule`, window.schedule, isCronSchedule);
  validate(`syncWindows[${i}].duration`, window.duration, isDuration);
  const applications = window.applications ?? ['*'];
  applications.forEach((app, j) => validate(`syncWindows[${i}].applications[${j}]`, app, isNonEmptyString));
  return {
    kind: window.kind,
    schedule: window.schedule,
    duration: window.duration,
    applications: [...applications],
    manualSync: window.manualSync ?? false,
    timeZone: window.timeZone ?? 'UTC',
  };
}
