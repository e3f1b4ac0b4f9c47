import { ApiObject, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { GroupKind } from '../../model/objects';
import {
  APPROVALS_PORT,
  ARGOCD_NAMESPACE,
  CONVERGE_NAMESPACE,
  DRIFT_CONTROLLER_NAME,
  DRIFT_RECORD,
  LABELS,
  METRICS_PORT,
  PART_OF,
} from '../../model/constants';
import { IMAGE_LAYOUT } from '../../model/image-layout';
import { compareCodeUnits } from '../../model/text';
import { isDnsLabel, isIntegerInRange, isNonEmptyString, validate } from '../../model/validators';
import { DriftPolicy } from './drift-policy';
import { DriftPolicySpec } from '../../model/drift-policy';

export interface DriftControllerProps {
  readonly environment: string;
  readonly policy: DriftPolicySpec;
  /** Kinds the controller reads and heals, by namespace. */
  readonly namespacedKinds: Readonly<Record<string, readonly GroupKind[]>>;
  /** Cluster-scoped kinds it reads (never writes). @default none */
  readonly clusterKinds?: readonly GroupKind[];
  /** @default "converge-system" */
  readonly namespace?: string;
  /** Where Argo CD's Applications live: read (never written) to leave self-healing ones to Argo CD. @default "argocd" */
  readonly argocdNamespace?: string;
  /** Image with the `converge` command, helm and git. */
  readonly image: string;
  /** @default 9464 */
  readonly metricsPort?: number;
  /** Port of the approvals page, on the pod's loopback (reached with `kubectl port-forward`). @default 9465 */
  readonly approvalsPort?: number;
  /** The repo and revision the controller reads the desired state from; the env's stack file there says the rest. */
  readonly git: { readonly repoURL: string; readonly revision: string };
  /** Keys of the notifications Secret holding the tokens; a service without a key gets no variable. @default none */
  readonly notificationSecretKeys?: NotificationSecretKeys;
  /** The Secret those keys are in, in the controller's namespace. @default "converge-notifications" */
  readonly notificationsSecret?: string;
}

/** Keys of the notifications Secret, as `notifications.<service>.*SecretKey` names them. */
export interface NotificationSecretKeys {
  readonly slackToken?: string;
  readonly pagerDutyRoutingKey?: string;
  readonly smtpPassword?: string;
}

/** The Secret the controller reads notification tokens from. */
export const NOTIFICATIONS_SECRET = 'converge-notifications';

/** The variables drift/notify/notifier.ts reads each token from. */
const TOKEN_VARIABLES: Record<keyof NotificationSecretKeys, string> = {
  slackToken: 'CONVERGE_SLACK_TOKEN',
  pagerDutyRoutingKey: 'CONVERGE_PAGERDUTY_ROUTING_KEY',
  smtpPassword: 'CONVERGE_SMTP_PASSWORD',
};

/** RBAC kinds are read but never written: healing them would need the escalate and bind verbs. */
const READ_ONLY_GROUPS = new Set(['rbac.authorization.k8s.io']);

const resourceOf = (gk: GroupKind) =>
  kplus.ApiResource.custom({ apiGroup: gk.group, resourceType: `${gk.kind.toLowerCase()}s` });

/**
 * The drift controller running in the cluster (`converge watch --in-cluster`): a Deployment with
 * least-privilege RBAC. It may read and heal exactly the kinds the platform manages, in the
 * namespaces it manages them in; it may create audit records but never change or delete one.
 */
export class DriftController extends Construct {
  public readonly namespace: string;
  public readonly serviceAccount: kplus.ServiceAccount;
  public readonly deployment: kplus.Deployment;

  constructor(scope: Construct, id: string, props: DriftControllerProps) {
    super(scope, id);
    this.namespace = validate('namespace', props.namespace ?? CONVERGE_NAMESPACE, isDnsLabel);
    validate('image', props.image, isNonEmptyString);
    const port = validate(
      'metricsPort',
      props.metricsPort ?? METRICS_PORT,
      isIntegerInRange(1024, 65535, 'use 9464, the usual metrics port'),
    );
    const approvalsPort = validate(
      'approvalsPort',
      props.approvalsPort ?? APPROVALS_PORT,
      isIntegerInRange(1024, 65535, 'use 9465, next to the metrics port'),
    );
    const labels = { [LABELS.partOf]: PART_OF, [LABELS.name]: DRIFT_CONTROLLER_NAME };

    new DriftPolicy(this, 'Policy', { policy: props.policy, namespace: this.namespace });
    this.serviceAccount = new kplus.ServiceAccount(this, 'ServiceAccount', {
      metadata: { name: DRIFT_CONTROLLER_NAME, namespace: this.namespace, labels },
      automountToken: true,
    });

    const own = new kplus.Role(this, 'RecordsRole', {
      metadata: { name: 'converge-drift-records', namespace: this.namespace, labels },
    });
    own.allow(
      ['create', 'get', 'list', 'watch'],
      kplus.ApiResource.custom({ apiGroup: DRIFT_RECORD.group, resourceType: DRIFT_RECORD.plural }),
    );
    own.allow(['get', 'list', 'watch'], kplus.ApiResource.CONFIG_MAPS);
    own.bind(this.serviceAccount);

    // The approvals page asks the API server who a viewer's token is (TokenReview) and what they
    // may do (SubjectAccessReview); the built-in role grants exactly those two creates.
    const delegator = new kplus.ClusterRoleBinding(this, 'AuthDelegator', {
      metadata: { name: `converge-drift-auth-delegator-${props.environment}`, labels },
      role: kplus.ClusterRole.fromClusterRoleName(this, 'AuthDelegatorRole', 'system:auth-delegator'),
    });
    delegator.addSubjects(this.serviceAccount);

    const argocdNamespace = validate(
      'argocdNamespace',
      props.argocdNamespace ?? ARGOCD_NAMESPACE,
      isDnsLabel,
    );
    const apps = new kplus.Role(this, 'ApplicationsRole', {
      metadata: { name: 'converge-drift-applications', namespace: argocdNamespace, labels },
    });
    apps.allow(
      ['get', 'list', 'watch'],
      kplus.ApiResource.custom({ apiGroup: 'argoproj.io', resourceType: 'applications' }),
    );
    apps.bind(this.serviceAccount);

    for (const [namespace, kinds] of Object.entries(props.namespacedKinds).sort(([a], [b]) =>
      compareCodeUnits(a, b),
    )) {
      validate('namespacedKinds', namespace, isDnsLabel);
      const role = new kplus.Role(this, `Role-${namespace}`, {
        metadata: { name: DRIFT_CONTROLLER_NAME, namespace, labels },
      });
      const writable = kinds.filter((gk) => !READ_ONLY_GROUPS.has(gk.group));
      const readOnly = kinds.filter((gk) => READ_ONLY_GROUPS.has(gk.group));
      if (writable.length)
        role.allow(['get', 'list', 'watch', 'create', 'patch', 'delete'], ...writable.map(resourceOf));
      if (readOnly.length) role.allow(['get', 'list', 'watch'], ...readOnly.map(resourceOf));
      role.allow(['create', 'patch'], kplus.ApiResource.EVENTS);
      role.bind(this.serviceAccount);
    }
    if (props.clusterKinds?.length) {
      const read = new kplus.ClusterRole(this, 'ClusterRead', {
        metadata: { name: `converge-drift-${props.environment}`, labels },
      });
      read.allow(['get', 'list', 'watch'], ...props.clusterKinds.map(resourceOf));
      read.bind(this.serviceAccount);
    }

    const layout = IMAGE_LAYOUT;
    const secret = kplus.Secret.fromSecretName(
      this,
      'Notifications',
      validate('notificationsSecret', props.notificationsSecret ?? NOTIFICATIONS_SECRET, isDnsLabel),
    );
    // Optional: a Secret or key not (yet) created leaves the variable unset, and that service's
    // notifications fail with a reason the audit records, instead of the pod never starting.
    const tokens = Object.entries(props.notificationSecretKeys ?? {})
      .filter((e): e is [keyof NotificationSecretKeys, string] => e[1] !== undefined)
      .map(([name, key]) => [
        TOKEN_VARIABLES[name],
        kplus.EnvValue.fromSecretValue(
          { secret, key: validate(`notificationSecretKeys.${name}`, key, isNonEmptyString) },
          { optional: true },
        ),
      ]);
    this.deployment = new kplus.Deployment(this, 'Deployment', {
      metadata: { name: DRIFT_CONTROLLER_NAME, namespace: this.namespace, labels },
      replicas: 1,
      serviceAccount: this.serviceAccount,
      automountServiceAccountToken: true,
      securityContext: {
        ensureNonRoot: true,
        user: layout.user,
        group: layout.group,
        fsGroup: layout.group,
      },
      containers: [
        {
          name: 'controller',
          image: props.image,
          command: [layout.command],
          workingDir: layout.workdir,
          // Every interface: Prometheus and the probes reach /metrics on the pod IP (the CLI defaults to loopback).
          // The desired state comes from Git (cloned into the cache volume), not from a stack file in the image.
          args: [
            'watch',
            '--env',
            props.environment,
            '--in-cluster',
            '--repo-url',
            validate('git.repoURL', props.git.repoURL, isNonEmptyString),
            '--revision',
            validate('git.revision', props.git.revision, isNonEmptyString),
            '--metrics-port',
            String(port),
            '--metrics-host',
            '0.0.0.0',
            // Loopback only: a viewer reaches the page with `kubectl port-forward`, which the API server authorises.
            '--approvals-port',
            String(approvalsPort),
            '--approvals-host',
            '127.0.0.1',
          ],
          // The root filesystem is read-only: the Git clone, rendered charts and caches go to the volumes.
          envVariables: Object.fromEntries([
            ...Object.entries({ ...layout.env, PATH: layout.path }).map(([k, v]) => [
              k,
              kplus.EnvValue.fromValue(v),
            ]),
            ...tokens,
          ]),
          ports: [{ name: 'metrics', number: port }],
          securityContext: {
            ensureNonRoot: true,
            readOnlyRootFilesystem: true,
            allowPrivilegeEscalation: false,
            privileged: false,
            user: layout.user,
            group: layout.group,
          },
          resources: {
            cpu: { request: kplus.Cpu.millis(50), limit: kplus.Cpu.millis(500) },
            memory: { request: Size.mebibytes(128), limit: Size.mebibytes(512) },
          },
          liveness: kplus.Probe.fromHttpGet('/metrics', { port }),
          readiness: kplus.Probe.fromHttpGet('/metrics', { port }),
          volumeMounts: layout.volumes.map((v) => ({
            path: v.path,
            volume: kplus.Volume.fromEmptyDir(this, `Volume-${v.name}`, v.name),
          })),
        },
      ],
    });
    // Pod Security "restricted" also wants these, which cdk8s-plus-28 does not expose.
    ApiObject.of(this.deployment).addJsonPatch(
      JsonPatch.add('/spec/template/spec/securityContext/seccompProfile', { type: 'RuntimeDefault' }),
      JsonPatch.add('/spec/template/spec/containers/0/securityContext/capabilities', { drop: ['ALL'] }),
    );
  }
}
