import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as heatmap from '@grafana/grafana-foundation-sdk/heatmap';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { LABELS, PART_OF } from '../../model/constants';
import { DRIFT_CONTROLLER_JOB } from './alert-rules';

/** The label Grafana's dashboard sidecar watches ConfigMaps for. */
export const GRAFANA_DASHBOARD_LABEL = { grafana_dashboard: '1' } as const;

/** Every panel reads the Prometheus the dashboard variable `datasource` picks. */
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };

const query = (expr: string, legend: string, format?: prometheus.PromQueryFormat) => {
  const q = new prometheus.DataqueryBuilder().expr(expr).legendFormat(legend).datasource(DATASOURCE);
  return format ? q.format(format) : q;
};

/**
 * The environment's Grafana dashboard, built with Grafana's typed builder: drift by severity,
 * time-to-detect and time-to-restore distributions, sync outcomes, and the four DORA metrics.
 * `$__range` (the picked time range) makes the distributions and DORA figures cover what is shown.
 */
export function convergeDashboard(environment: string): dashboard.Dashboard {
  const env = `environment="${environment}"`;
  const job = `job="${DRIFT_CONTROLLER_JOB}"`;
  const apps = `name=~"${environment}-.+"`;
  const quantiles = (metric: string) => [
    query(
      `histogram_quantile(0.5, sum by (le, severity) (rate(${metric}_bucket{${job}}[$__range])))`,
      'p50 {{severity}}',
    ),
    query(
      `histogram_quantile(0.95, sum by (le, severity) (rate(${metric}_bucket{${job}}[$__range])))`,
      'p95 {{severity}}',
    ),
  ];
  const distribution = (title: string, metric: string) =>
    new heatmap.PanelBuilder()
      .title(`${title} (distribution)`)
      .datasource(DATASOURCE)
      .calculate(false)
      .withTarget(
        query(
          `sum by (le) (increase(${metric}_bucket{${job}}[$__rate_interval]))`,
          '{{le}}',
          prometheus.PromQueryFormat.Heatmap,
        ),
      )
      .height(8)
      .span(12);
  const percentiles = (title: string, metric: string) => {
    const panel = new timeseries.PanelBuilder()
      .title(`${title} (p50, p95 by severity)`)
      .datasource(DATASOURCE)
      .unit('s')
      .height(8)
      .span(12);
    for (const q of quantiles(metric)) panel.withTarget(q);
    return panel;
  };
  const dora = (title: string, description: string, expr: string, unit: string) =>
    new stat.PanelBuilder()
      .title(title)
      .description(description)
      .datasource(DATASOURCE)
      .unit(unit)
      .withTarget(query(expr, title))
      .height(5)
      .span(6);

  return new dashboard.DashboardBuilder(`Converge ${environment}`)
    .uid(`converge-${environment}`)
    .tags(['converge', environment])
    .timezone('utc')
    .time({ from: 'now-7d', to: 'now' })
    .refresh('1m')
    .editable()
    .withVariable(
      new dashboard.DatasourceVariableBuilder('datasource').label('Prometheus').type('prometheus'),
    )
    .withRow(new dashboard.RowBuilder('DORA'))
    .withPanel(
      dora(
        'Lead time for changes (p50)',
        'Commit time to Synced and Healthy at that revision.',
        `histogram_quantile(0.5, sum by (le) (rate(converge_dora_lead_time_seconds_bucket{${env}}[$__range])))`,
        's',
      ),
    )
    .withPanel(
      dora(
        'Deployment frequency',
        'Deployments that succeeded in the time range.',
        `sum(increase(converge_dora_deployments_total{${env}, outcome="succeeded"}[$__range]))`,
        'short',
      ),
    )
    .withPanel(
      dora(
        'Change failure rate',
        'Deployments that failed or were rolled back, over all the controller has seen.',
        `max(converge_dora_change_failure_rate{${env}})`,
        'percentunit',
      ),
    )
    .withPanel(
      dora(
        'Time to restore (p50)',
        'Drift onset to healed, and failed deployment to the next healthy one.',
        `histogram_quantile(0.5, sum by (le) (rate(converge_dora_time_to_restore_seconds_bucket{${env}}[$__range])))`,
        's',
      ),
    )
    .withRow(new dashboard.RowBuilder('Drift'))
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Drift detected by severity')
        .datasource(DATASOURCE)
        .withTarget(
          query(
            `sum by (severity) (increase(converge_drift_detected_total{${job}}[$__rate_interval]))`,
            '{{severity}}',
          ),
        )
        .height(8)
        .span(12),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Held for approval, and active drifts')
        .datasource(DATASOURCE)
        .withTarget(query(`max(converge_drift_pending_approvals{${job}})`, 'held for approval'))
        .withTarget(query(`max(converge_drift_active{${job}})`, 'active'))
        .height(8)
        .span(12),
    )
    .withPanel(percentiles('Time to detect', 'converge_drift_time_to_detect_seconds'))
    .withPanel(distribution('Time to detect', 'converge_drift_time_to_detect_seconds'))
    .withPanel(percentiles('Time to restore', 'converge_drift_time_to_restore_seconds'))
    .withPanel(distribution('Time to restore', 'converge_drift_time_to_restore_seconds'))
    .withRow(new dashboard.RowBuilder('Argo CD'))
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Sync outcomes')
        .datasource(DATASOURCE)
        .withTarget(
          query(`sum by (phase) (increase(argocd_app_sync_total{${apps}}[$__rate_interval]))`, '{{phase}}'),
        )
        .height(8)
        .span(24),
    )
    .build();
}

export interface GrafanaDashboardProps {
  readonly environment: string;
  readonly namespace: string;
}

/**
 * The dashboard as a ConfigMap Grafana's sidecar loads (label `grafana_dashboard: "1"`); the
 * same JSON can be imported by hand (README, "Observability").
 */
export class GrafanaDashboard extends Construct {
  /** The dashboard JSON, byte for byte as the ConfigMap holds it. */
  public readonly json: string;
  public readonly fileName: string;

  constructor(scope: Construct, id: string, props: GrafanaDashboardProps) {
    super(scope, id);
    this.json = `${JSON.stringify(convergeDashboard(props.environment), null, 2)}\n`;
    this.fileName = `converge-${props.environment}.json`;
    new ApiObject(this, 'Resource', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: `converge-dashboard-${props.environment}`,
        namespace: props.namespace,
        labels: {
          [LABELS.partOf]: PART_OF,
          [LABELS.environment]: props.environment,
          ...GRAFANA_DASHBOARD_LABEL,
        },
      },
      data: { [this.fileName]: this.json },
    });
  }
}
