import { Construct } from 'constructs';
import { ARGOCD_NAMESPACE, Environment, IN_CLUSTER_SERVER, LABELS, PART_OF } from '../../model/constants';
import { ApplicationSet, ApplicationSetSpecTemplate } from '../imports/argoproj.io';
import { KubeObject } from '../../model/objects';
import { compareCodeUnits } from '../../model/text';
import { isDnsLabel, isDnsSubdomain, validate } from '../../model/validators';
import { ValidationError } from '../../model/errors';
import {
  applicationObject,
  EXTERNAL_CANARY_WEIGHTS_IGNORE,
  helmApplicationManifest,
  IgnoreDifference,
  ignoreDifferenceSpec,
} from './helm-application';
import { NotificationSubscription } from '../../model/notifications';
import { notificationAnnotations } from './notifications';
import { SyncPolicy } from '../../model/sync-policy';

/** One Application the ApplicationSet generates: a service, or one part of a split service. */
export interface ServiceApplication {
  /** Service name: the Helm release and the `converge.dev/service` label. */
  readonly name: string;
  /** Application name suffix for a part of a split service, e.g. "guarded". @default none */
  readonly part?: string;
  /** Namespace the service is deployed to. */
  readonly namespace: string;
  readonly repoURL: string;
  /** Branch, tag or commit. */
  readonly targetRevision: string;
  /** Chart directory in the repo. */
  readonly chartPath: string;
  /** Values set by the platform over the chart's value files. @default none */
  readonly values?: Readonly<Record<string, unknown>>;
  /**
   * Value files of this service after the ApplicationSet's, which may be missing from Git (Argo CD
   * then renders without them): e.g. the file Image Updater writes new tags to. @default none
   */
  readonly optionalValueFiles?: readonly string[];
  /** A rollout controller owns the canary weights. @default false */
  readonly externalCanaryWeights?: boolean;
  /** @default none */
  readonly ignoreDifferences?: readonly IgnoreDifference[];
  /** This Application's own sync policy. @default the ApplicationSet's */
  readonly syncPolicy?: SyncPolicy;
  /** Notifications on top of the ApplicationSet's. @default none */
  readonly notifications?: readonly NotificationSubscription[];
}

export interface EnvironmentApplicationSetProps {
  readonly environment: Environment;
  /** AppProject of the generated Applications. */
  readonly project: string;
  readonly services: readonly ServiceApplication[];
  /** @default "<environment>-services" */
  readonly name?: string;
  /** Namespace of Argo CD. @default "argocd" */
  readonly namespace?: string;
  /** @default "https://kubernetes.default.svc" */
  readonly destinationServer?: string;
  /** @default SyncPolicy.forEnvironment(environment) */
  readonly syncPolicy?: SyncPolicy;
  /** @default none */
  readonly notifications?: readonly NotificationSubscription[];
  /** Value files of every chart, over its values.yaml. @default ["values-<environment>.yaml"] */
  readonly valueFiles?: readonly string[];
  /**
   * Progressive rollout (RollingSync): each step is a list of service names, synced only after
   * the previous step is healthy. Argo CD then turns automated sync off on the generated
   * Applications, so the sync policy must not be automated.
   * @default none: all Applications update at once
   */
  readonly progressiveSteps?: readonly (readonly string[])[];
}

/** Template parameters each list element carries; the template reads them with go templates. */
interface Element {
  readonly service: string;
  readonly appName: string;
  readonly namespace: string;
  readonly repoURL: string;
  readonly targetRevision: string;
  readonly chartPath: string;
  readonly values: Readonly<Record<string, unknown>>;
  /** Every value file, when some service has optional ones (the patch then sets the list). */
  readonly valueFiles?: readonly string[];
  readonly ignoreMissingValueFiles?: boolean;
  readonly ignoreDifferences: readonly unknown[];
  readonly syncPolicy: unknown;
  readonly annotations: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
}

const PATCH_METADATA = `{{- if or .annotations .labels }}
metadata:
{{- if .annotations }}
  annotations: {{ toJson .annotations }}
{{- end }}
{{- if .labels }}
  labels: {{ toJson .labels }}
{{- end }}
{{- end }}
spec:
  syncPolicy: {{ toJson .syncPolicy }}
`;
const PATCH_IGNORE = `{{- if .ignoreDifferences }}
  ignoreDifferences: {{ toJson .ignoreDifferences }}
{{- end }}
`;

/** Per-Application parts go in through the patch, typed as JSON rather than strings. */
export const SERVICE_TEMPLATE_PATCH = `${PATCH_METADATA}{{- if .values }}
  source:
    helm:
      valuesObject: {{ toJson .values }}
{{- end }}
${PATCH_IGNORE}`;

/**
 * The patch when some service has optional value files: every element then carries its whole list
 * (a patch replaces a list), and the missing ones are skipped by Argo CD. The plain patch stays for
 * environments without, so their output does not change.
 */
export const SERVICE_TEMPLATE_PATCH_WITH_VALUE_FILES = `${PATCH_METADATA}  source:
    helm:
      valueFiles: {{ toJson .valueFiles }}
{{- if .ignoreMissingValueFiles }}
      ignoreMissingValueFiles: true
{{- end }}
{{- if .values }}
      valuesObject: {{ toJson .values }}
{{- end }}
${PATCH_IGNORE}`;

/**
 * One ApplicationSet per environment that generates an Application per service from a list
 * generator, with go templates and, optionally, a progressive RollingSync rollout.
 */
export class EnvironmentApplicationSet extends Construct {
  public readonly name: string;
  public readonly namespace: string;
  public readonly environment: Environment;
  public readonly syncPolicy: SyncPolicy;
  /** The Applications Argo CD will generate, as this construct predicts them (wire format). */
  public readonly applications: readonly KubeObject[];
  public readonly resource: ApplicationSet;

  constructor(scope: Construct, id: string, props: EnvironmentApplicationSetProps) {
    super(scope, id);
    this.environment = props.environment;
    this.name = validate('name', props.name ?? `${props.environment}-services`, isDnsSubdomain);
    this.namespace = validate('namespace', props.namespace ?? ARGOCD_NAMESPACE, isDnsLabel);
    if (props.services.length === 0) {
      throw new ValidationError('services', [], 'list at least one service to generate an Application for');
    }
    const services = [...props.services].sort((a, b) => compareCodeUnits(this.appName(a), this.appName(b)));
    // A set, not a search per service: a fleet of thousands made this check quadratic.
    const seen = new Set<string>();
    services.forEach((s, i) => {
      validate(`services[${i}].name`, s.name, isDnsLabel);
      if (s.part !== undefined) validate(`services[${i}].part`, s.part, isDnsLabel);
      const appName = this.appName(s);
      if (seen.has(appName)) {
        throw new ValidationError(
          `services[${i}].name`,
          s.name,
          'service names must be unique; rename one of them',
        );
      }
      seen.add(appName);
    });

    const basePolicy = props.syncPolicy ?? SyncPolicy.forEnvironment(props.environment);
    const policyOf = (s: ServiceApplication) => {
      const policy = s.syncPolicy ?? basePolicy;
      return s.externalCanaryWeights && !policy.syncOptions.includes('RespectIgnoreDifferences=true')
        ? policy.with({ respectIgnoreDifferences: true })
        : policy;
    };
    const steps = props.progressiveSteps;
    if (steps?.length && services.some((s) => policyOf(s).automated)) {
      throw new ValidationError(
        'progressiveSteps',
        steps,
        'RollingSync turns automated sync off on generated Applications; pass a SyncPolicy with automated: false, or drop progressiveSteps',
      );
    }
    steps?.forEach((step, i) =>
      step.forEach((name, j) => {
        if (!services.some((s) => s.name === name)) {
          throw new ValidationError(
            `progressiveSteps[${i}][${j}]`,
            name,
            `it is not a service here; use one of: ${[...new Set(services.map((s) => s.name))].join(', ')}`,
          );
        }
      }),
    );
    this.syncPolicy = basePolicy;

    const valueFiles = props.valueFiles ?? [`values-${props.environment}.yaml`];
    const common = {
      project: props.project,
      destinationServer: props.destinationServer ?? IN_CLUSTER_SERVER,
      valueFiles,
    };
    const labels = (service: string) => ({
      [LABELS.environment]: props.environment,
      [LABELS.service]: service,
    });
    const partLabel = (s: ServiceApplication): Record<string, string> =>
      s.part ? { [LABELS.part]: s.part } : {};
    const subscriptions = (s: ServiceApplication) => [
      ...(props.notifications ?? []),
      ...(s.notifications ?? []),
    ];
    const ignoreOf = (s: ServiceApplication) => [
      ...(s.ignoreDifferences ?? []),
      ...(s.externalCanaryWeights ? [EXTERNAL_CANARY_WEIGHTS_IGNORE] : []),
    ];

    const withOptional = services.some((s) => (s.optionalValueFiles?.length ?? 0) > 0);
    const filesOf = (s: ServiceApplication) => [...valueFiles, ...(s.optionalValueFiles ?? [])];
    this.applications = services.map((s) =>
      applicationObject(this.appName(s), this.namespace, {
        ...common,
        valueFiles: filesOf(s),
        ignoreMissingValueFiles: (s.optionalValueFiles?.length ?? 0) > 0,
        repoURL: s.repoURL,
        targetRevision: s.targetRevision,
        chartPath: s.chartPath,
        destinationNamespace: s.namespace,
        releaseName: s.name,
        values: s.values,
        syncPolicy: policyOf(s),
        ignoreDifferences: ignoreOf(s),
        notifications: subscriptions(s),
        labels: { ...labels(s.name), ...partLabel(s) },
      }),
    );

    const template = helmApplicationManifest(
      '{{ .appName }}',
      this.namespace,
      {
        ...common,
        repoURL: '{{ .repoURL }}',
        targetRevision: '{{ .targetRevision }}',
        chartPath: '{{ .chartPath }}',
        destinationNamespace: '{{ .namespace }}',
        releaseName: '{{ .service }}',
        labels: labels('{{ .service }}'),
      },
      true,
    );
    // Each element brings its own sync policy (a guarded part has self-heal off) and annotations.
    const { syncPolicy: _policy, ...templateSpec } = template.spec;
    void _policy;

    const elements: Element[] = services.map((s) => ({
      service: s.name,
      appName: this.appName(s),
      namespace: s.namespace,
      repoURL: s.repoURL,
      targetRevision: s.targetRevision,
      chartPath: s.chartPath,
      values: s.values ?? {},
      ...(withOptional
        ? { valueFiles: filesOf(s), ignoreMissingValueFiles: (s.optionalValueFiles?.length ?? 0) > 0 }
        : {}),
      ignoreDifferences: ignoreOf(s).map(ignoreDifferenceSpec),
      syncPolicy: policyOf(s).toJson(),
      annotations: notificationAnnotations(subscriptions(s)),
      labels: partLabel(s),
    }));

    this.resource = new ApplicationSet(this, 'Resource', {
      metadata: {
        name: this.name,
        namespace: this.namespace,
        labels: { [LABELS.partOf]: PART_OF, [LABELS.environment]: props.environment },
      },
      spec: {
        goTemplate: true,
        goTemplateOptions: ['missingkey=error'],
        generators: [{ list: { elements: elements.map((e) => ({ ...e })) } }],
        template: {
          metadata: { ...template.metadata, annotations: undefined },
          spec: templateSpec,
        } as unknown as ApplicationSetSpecTemplate,
        templatePatch: withOptional ? SERVICE_TEMPLATE_PATCH_WITH_VALUE_FILES : SERVICE_TEMPLATE_PATCH,
        strategy: steps?.length
          ? {
              type: 'RollingSync',
              rollingSync: {
                steps: steps.map((step) => ({
                  matchExpressions: [{ key: LABELS.service, operator: 'In', values: [...step] }],
                })),
              },
            }
          : undefined,
      },
    });
  }

  private appName(s: Pick<ServiceApplication, 'name' | 'part'>): string {
    return `${this.environment}-${s.name}${s.part ? `-${s.part}` : ''}`;
  }
}
