import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import * as monitoring from '../imports/monitoring.coreos.com';
import { LABELS, METRICS_PORT, PART_OF } from '../../model/constants';
import { DRIFT_CONTROLLER_JOB } from './alert-rules';

/**
 * Argo CD's metrics Services in its official install, by `app.kubernetes.io/name`; each exposes a
 * port named `metrics`, and Prometheus names the job after the Service.
 */
export const ARGOCD_METRICS_SERVICES = [
  'argocd-applicationset-controller',
  'argocd-dex-server',
  'argocd-metrics',
  'argocd-notifications-controller-metrics',
  'argocd-repo-server',
  'argocd-server-metrics',
] as const;

export interface ServiceMonitorsProps {
  readonly environment: string;
  /** Where the drift controller runs; the ServiceMonitors live there too. */
  readonly namespace: string;
  readonly argocdNamespace: string;
  /** The controller's pod labels, to select its pods; none when it does not run. @default none */
  readonly controllerPodLabels?: Readonly<Record<string, string>>;
  /** @default 9464 */
  readonly metricsPort?: number;
  /** @default "30s" */
  readonly interval?: string;
}

/**
 * What Prometheus scrapes: the drift controller (through a metrics Service of its own, whose name
 * is the job the alert rules select) and Argo CD's metrics Services.
 */
export class ServiceMonitors extends Construct {
  public readonly interval: string;

  constructor(scope: Construct, id: string, props: ServiceMonitorsProps) {
    super(scope, id);
    this.interval = props.interval ?? '30s';
    const labels = { [LABELS.partOf]: PART_OF, [LABELS.environment]: props.environment };
    if (props.controllerPodLabels) {
      const port = props.metricsPort ?? METRICS_PORT;
      const serviceLabels = { ...labels, [LABELS.name]: DRIFT_CONTROLLER_JOB };
      new ApiObject(this, 'ControllerService', {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: DRIFT_CONTROLLER_JOB, namespace: props.namespace, labels: serviceLabels },
        spec: {
          selector: { ...props.controllerPodLabels },
          ports: [{ name: 'metrics', port, targetPort: port, protocol: 'TCP' }],
        },
      });
      new monitoring.ServiceMonitor(this, 'Controller', {
        metadata: { name: DRIFT_CONTROLLER_JOB, namespace: props.namespace, labels },
        spec: {
          selector: { matchLabels: { [LABELS.name]: DRIFT_CONTROLLER_JOB } },
          namespaceSelector: { matchNames: [props.namespace] },
          // The controller's own `namespace`, `name` and `kind` labels name drifted objects; keep them.
          endpoints: [{ port: 'metrics', path: '/metrics', interval: this.interval, honorLabels: true }],
        },
      });
    }
    new monitoring.ServiceMonitor(this, 'ArgoCd', {
      metadata: { name: `converge-${props.environment}-argocd`, namespace: props.namespace, labels },
      spec: {
        selector: {
          matchExpressions: [{ key: LABELS.name, operator: 'In', values: [...ARGOCD_METRICS_SERVICES] }],
        },
        namespaceSelector: { matchNames: [props.argocdNamespace] },
        endpoints: [{ port: 'metrics', path: '/metrics', interval: this.interval }],
      },
    });
  }
}
