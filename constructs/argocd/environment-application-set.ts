import { Construct } from 'constructs';
import { ARGOCD_NAMESPACE, Environment, IN_CLUSTER_SERVER, LABELS, PART_OF } from '../constants';
import { ApplicationSet, ApplicationSetSpecTemplate } from '../imports/argoproj.io';
import { isDnsLabel, isDnsSubdomain, validate, ValidationError } from '../validators';
import { KubeObject } from '../private/kube-object';
import {
  applicationObject,
  EXTERNAL_CANARY_WEIGHTS_IGNORE,
  helmApplicationManifest,
  IgnoreDifference,
  ignoreDifferenceSpec,
} from './helm-application';
import { NotificationSubscription } from './notifications';
import { SyncPolicy } from './sync-policy';

/** One service the ApplicationSet generates an Application for. */
export interface ServiceApplication {
  /** Service name; the Application is named `<environment>-<name>`. */
  readonly name: string;
  /** Namespace the service is deployed to. */
  readonly namespace: string;
  readonly repoURL: string;
  /** Branch, tag or commit. */
  readonly targetRevision: string;
  /** Chart directory in the repo. */
  readonly chartPath: string;
  /** Values set by the platform over the chart's value files. @default none */
  readonly values?: Readonly<Record<string, unknown>>;
  /** A rollout controller owns the canary weights. @default false */
  readonly externalCanaryWeights?: boolean;
  /** @default none */
  readonly ignoreDifferences?: readonly IgnoreDifference[];
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
  readonly ignoreDifferences: readonly unknown[];
}

/** Per-service values and ignore rules go in through the patch, typed as JSON rather than strings. */
export const SERVICE_TEMPLATE_PATCH = `{{- if or .values .ignoreDifferences }}
spec:
{{- if .values }}
  source:
    helm:
      valuesObject: {{ toJson .values }}
{{- end }}
{{- if .ignoreDifferences }}
  ignoreDifferences: {{ toJson .ignoreDifferences }}
{{- end }}
{{- end }}
`;

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
    const services = [...props.services].sort((a, b) => a.name.localeCompare(b.name));
    services.forEach((s, i) => {
      validate(`services[${i}].name`, s.name, isDnsLabel);
      if (services.findIndex((o) => o.name === s.name) !== i) {
        throw new ValidationError(
          `services[${i}].name`,
          s.name,
          'service names must be unique; rename one of them',
        );
      }
    });

    let policy = props.syncPolicy ?? SyncPolicy.forEnvironment(props.environment);
    if (
      services.some((s) => s.externalCanaryWeights) &&
      !policy.syncOptions.includes('RespectIgnoreDifferences=true')
    ) {
      policy = policy.with({ respectIgnoreDifferences: true });
    }
    const steps = props.progressiveSteps;
    if (steps?.length && policy.automated) {
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
            `it is not a service here; use one of: ${services.map((s) => s.name).join(', ')}`,
          );
        }
      }),
    );
    this.syncPolicy = policy;

    const valueFiles = props.valueFiles ?? [`values-${props.environment}.yaml`];
    const common = {
      project: props.project,
      destinationServer: props.destinationServer ?? IN_CLUSTER_SERVER,
      syncPolicy: policy,
      notifications: props.notifications,
      valueFiles,
    };
    const labels = (service: string) => ({
      [LABELS.environment]: props.environment,
      [LABELS.service]: service,
    });

    this.applications = services.map((s) =>
      applicationObject(this.appName(s.name), this.namespace, {
        ...common,
        repoURL: s.repoURL,
        targetRevision: s.targetRevision,
        chartPath: s.chartPath,
        destinationNamespace: s.namespace,
        releaseName: s.name,
        values: s.values,
        externalCanaryWeights: s.externalCanaryWeights,
        ignoreDifferences: s.ignoreDifferences,
        labels: labels(s.name),
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

    const elements: Element[] = services.map((s) => ({
      service: s.name,
      appName: this.appName(s.name),
      namespace: s.namespace,
      repoURL: s.repoURL,
      targetRevision: s.targetRevision,
      chartPath: s.chartPath,
      values: s.values ?? {},
      ignoreDifferences: [
        ...(s.ignoreDifferences ?? []),
        ...(s.externalCanaryWeights ? [EXTERNAL_CANARY_WEIGHTS_IGNORE] : []),
      ].map(ignoreDifferenceSpec),
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
        template: template as unknown as ApplicationSetSpecTemplate,
        templatePatch: SERVICE_TEMPLATE_PATCH,
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

  private appName(service: string): string {
    return `${this.environment}-${service}`;
  }
}
