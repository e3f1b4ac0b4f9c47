import { ApiObject, Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { ArgoCdInstall, ArgoCdManifests } from '../argocd/argocd-install';
import { ArgoCdProject } from '../argocd/argocd-project';
import { PlatformAddon } from '../argocd/platform-addon';
import { EnvironmentApplicationSet, ServiceApplication } from '../argocd/environment-application-set';
import { SyncPolicy } from '../../model/sync-policy';
import { canaryWeights } from '../../model/canary';
import { PlatformConfig, ServiceConfig } from '../../config/schema';
import { LABELS, MANIFESTS_DIR, PART_OF, PLATFORM_MANIFEST } from '../../model/constants';
import { SERVICE_KINDS } from '../../model/objects';
import { subscriptionFor } from '../../model/notifications';
import type { DriftController } from '../drift/drift-controller';
import { argoMaySelfHeal } from '../../model/classify';
import { DriftPolicySpec } from '../../model/drift-policy';
import { DriftRecordCrd } from '../drift/drift-record-crd';
import { DriftApprovalPolicy } from '../drift/approval-policy';
import { DriftApproverRole } from '../drift/approver-role';
import { DriftViewerRole } from '../drift/viewer-role';
import { PlatformRoot } from '../argocd/platform-root';
import { driftPolicyFor } from '../../config/drift-policy';
import { ValidationError } from '../../model/errors';
import { observabilityFor } from '../../config/observability';
import { AlertRules } from '../observability/alert-rules';
import { ServiceMonitors } from '../observability/service-monitors';
import { GrafanaDashboard } from '../observability/grafana-dashboard';
import { ImageUpdater } from '../argocd/image-updater';
import { imageUpdatePolicy } from '../../config/image-updates';
import { declaresHookJobs } from '../../config/hooks';
import { durationSeconds } from '../../model/validators';
import { imageWriteBackFile } from '../../model/image-updates';

export interface GitOpsPlatformProps {
  /** One environment's validated config (see `parsePlatformConfig`). */
  readonly config: PlatformConfig;
  /** Official Argo CD objects for `config.argocd.ha`; read them with `loadArgoCdManifests()`. */
  readonly argoCdManifests: ArgoCdManifests;
}

/** Namespace labels enforcing Pod Security "restricted", at the pinned API server's minor (tools/versions.json, kube). */
const POD_SECURITY_RESTRICTED = {
  'pod-security.kubernetes.io/enforce': 'restricted',
  'pod-security.kubernetes.io/enforce-version': 'v1.36',
};

/** Port the services' charts expose; app-service's default URL for model-service uses it. */
export const SERVICE_PORT = 8080;

/** Values the platform owns; declaring them again under `values` would make two sources of truth. */
const PLATFORM_VALUE_KEYS = [
  'environment',
  'image',
  'replicaCount',
  'canary',
  'autoscaling',
  'converge',
  'envFromSecrets',
  'updatedImage',
  'hooks',
] as const;

/**
 * One environment of the platform, from its PlatformConfig: Argo CD with the platform's settings,
 * the service namespaces, a least-privilege AppProject, and an ApplicationSet that generates a
 * Helm Application per service. Two charts, so manifests split into reviewable files.
 */
export class GitOpsPlatform extends Construct {
  public readonly config: PlatformConfig;
  public readonly argoCdChart: Chart;
  /** Namespaces and the root Application: what `pulumi up` applies besides Argo CD. */
  public readonly bootstrapChart: Chart;
  /** Everything Argo CD applies from `manifests/<env>/03-platform.yaml`. */
  public readonly platformChart: Chart;
  public readonly root: PlatformRoot;
  public readonly argoCd: ArgoCdInstall;
  public readonly project: ArgoCdProject;
  public readonly applicationSet: EnvironmentApplicationSet;
  /** The environment's drift policy, as declared or by default. */
  public readonly driftPolicy: DriftPolicySpec;
  /** Kinds whose drift waits for approval: their Argo CD Applications do not self-heal. */
  public readonly guardedKinds: readonly string[];
  public readonly driftController?: DriftController;
  /** The add-ons (`addons.<name>`), by name: each an Application in a project of its own. */
  public readonly addons: readonly PlatformAddon[];
  /** Alert rules, scrape targets and dashboard, with `observability.enabled` (staging, prod). */
  public readonly alertRules?: AlertRules;
  public readonly serviceMonitors?: ServiceMonitors;
  public readonly dashboard?: GrafanaDashboard;
  /** One per service whose image moves by policy (`imageUpdater.enabled`), by service name. */
  public readonly imageUpdaters: Readonly<Record<string, ImageUpdater>>;

  constructor(scope: Construct, id: string, props: GitOpsPlatformProps) {
    super(scope, id);
    const config = props.config;
    this.config = config;
    const env = config.environment;
    if (props.argoCdManifests.ha !== config.argocd.ha) {
      throw new ValidationError(
        'argoCdManifests.ha',
        props.argoCdManifests.ha,
        `config.argocd.ha is ${config.argocd.ha}; load the matching manifests with loadArgoCdManifests({ ha: ${config.argocd.ha} })`,
      );
    }
    const argocdNs = config.argocd.namespace;
    const services = Object.keys(config.services).sort();
    const namespaces = [...new Set(services.map((s) => config.services[s].namespace))].sort();

    this.argoCdChart = new Chart(this, 'argocd');
    this.argoCd = new ArgoCdInstall(this.argoCdChart, 'ArgoCd', {
      manifests: props.argoCdManifests,
      namespace: argocdNs,
      reconciliationTimeout: config.argocd.reconciliationTimeout,
      reconciliationJitter: config.argocd.reconciliationJitter,
      selfHealBackoff: config.argocd.selfHealBackoff,
      selfHealBackoffFactor: config.argocd.selfHealBackoffFactor,
      selfHealBackoffCap: config.argocd.selfHealBackoffCap,
      resourceExclusions: config.argocd.resourceExclusions,
      rbacDefaultPolicy: config.argocd.rbacDefaultPolicy,
      notifications: config.notifications,
      progressiveSyncs: config.applicationSet.progressiveSteps !== undefined,
    });

    this.driftPolicy = driftPolicyFor(config);
    this.guardedKinds = SERVICE_KINDS.filter(
      (gk) => !argoMaySelfHeal(this.driftPolicy, gk.group, gk.kind),
    ).map((gk) => gk.kind);

    // Pulumi applies the bootstrap chart; Argo CD applies the platform chart from Git.
    this.bootstrapChart = new Chart(this, 'bootstrap');
    this.platformChart = new Chart(this, 'platform');
    new DriftRecordCrd(this.platformChart, 'DriftRecords');
    const convergeNs = config.drift.controller.namespace;
    // Decisions on held drifts: who may record one, and the API server's check of who it names.
    new DriftApprovalPolicy(this.platformChart, 'DriftDecisions', {
      environment: env,
      namespace: convergeNs,
    });
    new DriftApproverRole(this.platformChart, 'DriftApprovers', {
      environment: env,
      namespace: convergeNs,
      ...config.drift.approvers,
    });
    new DriftViewerRole(this.platformChart, 'DriftViewers', {
      environment: env,
      namespace: convergeNs,
      ...config.drift.viewers,
    });
    for (const ns of new Set([...namespaces, convergeNs])) {
      new ApiObject(this.bootstrapChart, `Namespace-${ns}`, {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: {
          name: ns,
          labels: {
            [LABELS.partOf]: PART_OF,
            [LABELS.environment]: env,
            // The controller's pods must meet Pod Security "restricted"; the API server refuses others.
            ...(ns === convergeNs ? POD_SECURITY_RESTRICTED : { 'istio-injection': 'enabled' }),
          },
        },
      });
    }

    const repoURL = config.git.repoURL;
    this.project = new ArgoCdProject(this.platformChart, 'Project', {
      name: config.project.name ?? env,
      namespace: argocdNs,
      description: config.project.description ?? `Converge ${env} services`,
      sourceRepos: config.project.sourceRepos ?? [repoURL],
      destinations: namespaces.map((namespace) => ({ server: config.destination.server, namespace })),
      // Hooks are Jobs Argo CD creates, so the project must allow them where a service declares one.
      namespaceResources: declaresHookJobs(config)
        ? [...SERVICE_KINDS, { group: 'batch', kind: 'Job' }]
        : undefined,
      clusterResources: config.project.clusterResources,
      roles: config.project.roles,
      syncWindows: config.project.syncWindows,
    });

    // The platform creates the namespaces, so Argo CD need not (one owner per object).
    const syncPolicy = SyncPolicy.forEnvironment(env, { ...config.sync, createNamespace: false });
    this.applicationSet = new EnvironmentApplicationSet(this.platformChart, 'Services', {
      environment: env,
      project: this.project.name,
      namespace: argocdNs,
      destinationServer: config.destination.server,
      syncPolicy,
      notifications: config.notifications.subscriptions,
      progressiveSteps: config.applicationSet.progressiveSteps,
      services: services.flatMap((name) =>
        serviceApplications(name, config, syncPolicy, this.guardedKinds, this.driftPolicy),
      ),
    });

    // ---- Image updates (imageUpdater.enabled): an ImageUpdater per service that moves. ----
    // It targets the Application that renders the Deployment (the guarded part when split) and
    // commits new tags to the write-back file both parts read, on the branch Argo CD follows.
    const updaters: Record<string, ImageUpdater> = {};
    for (const name of services) {
      const policy = imageUpdatePolicy(config, name);
      if (!policy) continue;
      const service = config.services[name];
      const app = this.applicationSet.applications.find((a) => {
        const labels = a.metadata.labels ?? {};
        const values = (
          a.spec as { source: { helm?: { valuesObject?: { converge?: { skipKinds?: string[] } } } } }
        ).source.helm?.valuesObject;
        return labels[LABELS.service] === name && !values?.converge?.skipKinds?.includes('Deployment');
      });
      updaters[name] = new ImageUpdater(this.platformChart, `ImageUpdater-${name}`, {
        application: app!.metadata.name,
        name: `${env}-${name}`,
        namespace: argocdNs,
        branch: config.git.revision,
        writeBackFile: `${service.chart ?? `charts/${name}`}/${imageWriteBackFile(env)}`,
        labels: { [LABELS.environment]: env, [LABELS.service]: name },
        images: [{ alias: name, repository: service.image.repository, tag: service.image.tag, ...policy }],
      });
    }
    this.imageUpdaters = updaters;

    if (config.drift.controller.enabled) {
      // Required here, not imported: it brings cdk8s-plus-28, which only the controller needs.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { DriftController: Controller } = require('../drift/drift-controller') as {
        DriftController: typeof DriftController;
      };
      this.driftController = new Controller(this.platformChart, 'DriftController', {
        environment: env,
        policy: this.driftPolicy,
        namespace: convergeNs,
        argocdNamespace: config.argocd.namespace,
        image: config.drift.controller.image,
        git: config.git,
        notificationSecretKeys: {
          slackToken: config.notifications.slack?.tokenSecretKey,
          pagerDutyRoutingKey: config.notifications.pagerduty?.routingKeySecretKey,
          smtpPassword: config.notifications.email?.passwordSecretKey,
        },
        // The service kinds, plus reading its own Role and RoleBinding there (RBAC drift pages).
        namespacedKinds: Object.fromEntries(
          namespaces.map((ns) => [
            ns,
            [
              ...SERVICE_KINDS,
              { group: 'rbac.authorization.k8s.io', kind: 'Role' },
              { group: 'rbac.authorization.k8s.io', kind: 'RoleBinding' },
            ],
          ]),
        ),
        clusterKinds: [{ group: '', kind: 'Namespace' }],
      });
    }

    // ---- Observability: needs the Prometheus Operator's CRDs in the cluster, as Istio's are. ----
    const observability = observabilityFor(config);
    if (observability.enabled) {
      this.alertRules = new AlertRules(this.platformChart, 'AlertRules', {
        environment: env,
        namespace: convergeNs,
        thresholds: observability.alerts,
        driftController: this.driftController !== undefined,
        controllerNamespace: convergeNs,
      });
      this.serviceMonitors = new ServiceMonitors(this.platformChart, 'ServiceMonitors', {
        environment: env,
        namespace: convergeNs,
        argocdNamespace: argocdNs,
        controllerPodLabels: this.driftController?.deployment.matchLabels,
      });
      this.dashboard = new GrafanaDashboard(this.platformChart, 'Dashboard', {
        environment: env,
        namespace: convergeNs,
      });
    }

    // ---- Add-ons (config.addons): third-party charts such as a mesh or cert-manager. ----
    // Each is an Application in its own project, `<env>-addon-<name>`, allowing exactly its repo,
    // its namespace and the cluster kinds it declares. The platform creates the add-ons' namespaces
    // with the services' (unless an add-on says createNamespace: false), so Argo CD's
    // CreateNamespace stays off and no project needs the Namespace kind: one owner per namespace.
    // The add-ons follow the environment's sync policy, with their own prune and selfHeal if set.
    const addonNames = Object.keys(config.addons).sort();
    const addonNamespaces = addonNames
      .filter((name) => config.addons[name].createNamespace)
      .map((name) => config.addons[name].namespace)
      .filter((ns, i, all) => all.indexOf(ns) === i);
    for (const ns of addonNamespaces) {
      new ApiObject(this.bootstrapChart, `Namespace-${ns}`, {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: ns, labels: { [LABELS.partOf]: PART_OF, [LABELS.environment]: env } },
      });
    }
    this.addons = addonNames.map((name) => {
      const addon = config.addons[name];
      return new PlatformAddon(this.platformChart, `Addon-${name}`, {
        environment: env,
        name,
        namespace: argocdNs,
        repoURL: addon.repoURL,
        chart: addon.chart,
        chartPath: addon.path,
        revision: addon.revision,
        destinationNamespace: addon.namespace,
        destinationServer: config.destination.server,
        values: addon.values,
        clusterResources: addon.clusterResources,
        namespaceResources: addon.namespaceResources,
        syncPolicy: syncPolicy.with(
          Object.fromEntries(Object.entries(addon.sync).filter(([, v]) => v !== undefined)),
        ),
        ignoreDifferences: addon.ignoreDifferences,
        notifications: config.notifications.subscriptions,
      });
    });
    // ---- End of add-ons. ----

    // Last, so the root's project sees every object the platform chart holds.
    this.root = new PlatformRoot(this.bootstrapChart, 'Root', {
      environment: env,
      namespace: argocdNs,
      repoURL,
      revision: config.git.revision,
      path: `${MANIFESTS_DIR}/${env}`,
      file: PLATFORM_MANIFEST,
      owned: this.platformChart,
      destinationServer: config.destination.server,
    });
  }

  /** The charts in file order: Argo CD, the bootstrap Pulumi applies, the platform Argo CD applies. */
  public get charts(): readonly Chart[] {
    return [this.argoCdChart, this.bootstrapChart, this.platformChart];
  }
}

/**
 * A service's Applications. When the drift policy holds some kinds for approval, the service is
 * split: one Application self-heals everything else, a "guarded" one renders the held kinds with
 * self-heal off (and, with drift.confirmDeletion, prune and delete confirmed by hand), and notifies the policy's medium-severity targets
 * when it drifts. The drift controller heals the harmless fields of the guarded kinds itself.
 */
export function serviceApplications(
  name: string,
  config: PlatformConfig,
  syncPolicy: SyncPolicy,
  guardedKinds: readonly string[],
  policy: DriftPolicySpec,
): ServiceApplication[] {
  const base = serviceApplication(name, config);
  if (guardedKinds.length === 0 || !syncPolicy.automated) return [base];
  return [
    { ...base, values: { ...base.values, converge: { skipKinds: [...guardedKinds] } } },
    {
      ...base,
      part: 'guarded',
      values: { ...base.values, converge: { renderKinds: [...guardedKinds] } },
      syncPolicy: syncPolicy.with({
        selfHeal: false,
        extraSyncOptions: [
          ...(syncPolicy.toProps().extraSyncOptions ?? []),
          ...(config.drift.confirmDeletion ? ['Prune=confirm', 'Delete=confirm'] : []),
        ],
      }),
      notifications: policy.notify.medium.map((target) => subscriptionFor('on-out-of-sync', target)),
    },
  ];
}

/** The Application inputs of one service: its chart, revision and the values the platform sets. */
export function serviceApplication(name: string, config: PlatformConfig): ServiceApplication {
  const service = config.services[name];
  const moves = imageUpdatePolicy(config, name) !== undefined;
  return {
    name,
    namespace: service.namespace,
    // Image Updater's write-back file: missing until its first update, then over the stack's tag.
    optionalValueFiles: moves ? [imageWriteBackFile(config.environment)] : undefined,
    repoURL: service.repoURL ?? config.git.repoURL,
    targetRevision: config.git.revision,
    chartPath: service.chart ?? `charts/${name}`,
    values: serviceValues(name, service, config),
    externalCanaryWeights: service.canary?.weightsManagedExternally ?? false,
    // An autoscaler owns the stable replica count.
    ignoreDifferences: service.autoscaling
      ? [{ group: 'apps', kind: 'Deployment', name, jsonPointers: ['/spec/replicas'] }]
      : undefined,
  };
}

/** Chart values derived from the config; `values` may add to them but not redeclare them. */
export function serviceValues(
  name: string,
  service: ServiceConfig,
  config: PlatformConfig,
): Record<string, unknown> {
  for (const key of PLATFORM_VALUE_KEYS) {
    if (key in service.values) {
      throw new ValidationError(
        `services.${name}.values.${key}`,
        service.values[key],
        `'${key}' is set by the platform from services.${name}; remove it from values`,
      );
    }
  }
  const canary = service.canary;
  const policy = imageUpdatePolicy(config, name);
  const derived: Record<string, unknown> = {
    environment: config.environment,
    image: {
      repository: service.image.repository,
      tag: service.image.tag,
      // The chart then runs the write-back file's tag, never below this floor under semver.
      ...(policy ? { updates: policy.strategy } : {}),
    },
    replicaCount: service.replicas,
    canary: canary
      ? {
          enabled: true,
          image: { tag: canary.tag },
          replicaCount: canary.replicas,
          weights: canaryWeights(canary.weight, `services.${name}.canary.weight`),
          header: canary.header,
        }
      : { enabled: false },
    ...(service.autoscaling ? { autoscaling: { enabled: true, ...service.autoscaling } } : {}),
    ...(service.envFromSecrets?.length ? { envFromSecrets: service.envFromSecrets } : {}),
    ...(service.hooks ? { hooks: hookValues(service.hooks) } : {}),
  };
  const model = config.services['model-service'];
  if (name === 'app-service' && model && !('modelService' in service.values)) {
    derived.modelService = {
      url: `http://model-service.${model.namespace}.svc.cluster.local:${SERVICE_PORT}`,
    };
  }
  return { ...derived, ...service.values };
}

/** The chart's `hooks` values: each Job's command, image, deadline in seconds and pod labels. */
function hookValues(hooks: NonNullable<ServiceConfig['hooks']>): Record<string, unknown> {
  const job = (h: {
    command?: readonly string[];
    image?: string;
    timeout: string;
    labels: Record<string, string>;
  }) =>
    h.command
      ? {
          command: [...h.command],
          ...(h.image ? { image: h.image } : {}),
          activeDeadlineSeconds: durationSeconds(h.timeout),
          labels: h.labels,
        }
      : undefined;
  return Object.fromEntries(
    Object.entries({
      preSync: hooks.preSync && job(hooks.preSync),
      postSync: hooks.postSync && job(hooks.postSync),
      syncFail: hooks.syncFail && job(hooks.syncFail),
    }).filter(([, v]) => v !== undefined),
  );
}
