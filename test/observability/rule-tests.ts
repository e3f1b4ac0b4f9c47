import { AlertRuleGroup, DRIFT_CONTROLLER_JOB } from '../../constructs/observability/alert-rules';
import { AlertThresholds } from '../../config/observability';
import { durationSeconds } from '../../model/validators';

/*
 * promtool rule tests for one environment's synthesized alert rules: for every alert, synthetic
 * series that make it fire (with the labels and annotations it must carry) and series that must
 * not. Thresholds come from the environment's config, so each case sits just past or short of them.
 */

type Labels = Record<string, string>;
interface Expected {
  readonly exp_labels: Labels;
  readonly exp_annotations: Labels;
}
export interface RuleTestCase {
  readonly name: string;
  readonly alertname: string;
  readonly fires: boolean;
  readonly interval: string;
  readonly input_series: { series: string; values: string }[];
  readonly eval_time: string;
  /** The labels the firing alert carries from its expression (rule labels are added). */
  readonly labels?: Labels;
  /** What `$value` renders to in annotations, where one uses it. */
  readonly value?: string;
}

const job = `job="${DRIFT_CONTROLLER_JOB}"`;
const minutes = (d: string) => Math.ceil(durationSeconds(d) / 60);
const series = (name: string, labels: Labels) =>
  `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(', ')}}`;

/** The cases, fired and not fired, for each alert of `alertRuleGroups`. */
export function ruleTestCases(env: string, t: AlertThresholds): RuleTestCase[] {
  const app = `${env}-app-service`;
  const outOfSync = minutes(t.outOfSyncFor);
  const pending = durationSeconds(t.approvalPendingFor);
  const down = minutes(t.controllerDownFor);
  const stale = durationSeconds(t.notReconcilingFor);
  const obj = { kind: 'Deployment', namespace: `${env}-web`, name: 'app-service' };
  const heals = (n: number) => Array.from({ length: n + 1 }, (_, i) => i).join(' ');
  return [
    {
      name: `an Application OutOfSync past ${t.outOfSyncFor} fires`,
      alertname: 'ConvergeApplicationOutOfSync',
      fires: true,
      interval: '1m',
      input_series: [
        {
          series: series('argocd_app_info', {
            name: app,
            sync_status: 'OutOfSync',
            health_status: 'Healthy',
          }),
          values: `1x${outOfSync + 5}`,
        },
      ],
      eval_time: `${outOfSync + 2}m`,
      labels: { name: app },
    },
    {
      name: `an Application OutOfSync for less than ${t.outOfSyncFor}, or another environment's, does not`,
      alertname: 'ConvergeApplicationOutOfSync',
      fires: false,
      interval: '1m',
      input_series: [
        {
          series: series('argocd_app_info', { name: app, sync_status: 'OutOfSync' }),
          values: `1x${outOfSync - 2}`,
        },
        {
          series: series('argocd_app_info', { name: `other${env}-app`, sync_status: 'OutOfSync' }),
          values: `1x${outOfSync + 5}`,
        },
      ],
      eval_time: `${outOfSync - 2}m`,
    },
    {
      name: 'a failed sync fires',
      alertname: 'ConvergeSyncFailed',
      fires: true,
      interval: '1m',
      input_series: [
        { series: series('argocd_app_sync_total', { name: app, phase: 'Failed' }), values: '0 0 1 1 1' },
      ],
      eval_time: '4m',
      labels: { name: app },
    },
    {
      name: "an Application's first failed sync fires (its series appears at 1)",
      alertname: 'ConvergeSyncFailed',
      fires: true,
      interval: '1m',
      input_series: [
        { series: series('argocd_app_sync_total', { name: app, phase: 'Error' }), values: '_ _ 1 1 1' },
      ],
      eval_time: '4m',
      labels: { name: app },
    },
    {
      name: 'a sync that failed long ago does not',
      alertname: 'ConvergeSyncFailed',
      fires: false,
      interval: '1m',
      input_series: [
        { series: series('argocd_app_sync_total', { name: app, phase: 'Failed' }), values: '2x30' },
      ],
      eval_time: '25m',
    },
    {
      name: 'successful syncs do not',
      alertname: 'ConvergeSyncFailed',
      fires: false,
      interval: '1m',
      input_series: [
        { series: series('argocd_app_sync_total', { name: app, phase: 'Succeeded' }), values: '0 1 2 3 4' },
      ],
      eval_time: '4m',
    },
    {
      name: `${t.flapping.heals} heals of one object within ${t.flapping.window} fire`,
      alertname: 'ConvergeSelfHealFlapping',
      fires: true,
      interval: '1m',
      input_series: [
        {
          series: `converge_drift_heals_total{${job}, kind="Deployment", namespace="${obj.namespace}", name="app-service", outcome="restored"}`,
          values: heals(t.flapping.heals),
        },
      ],
      eval_time: `${t.flapping.heals}m`,
      labels: obj,
    },
    {
      name: `an object first healed ${t.flapping.heals} times within ${t.flapping.window} fires (its series appears at 1)`,
      alertname: 'ConvergeSelfHealFlapping',
      fires: true,
      interval: '1m',
      input_series: [
        {
          series: `converge_drift_heals_total{${job}, kind="Deployment", namespace="${obj.namespace}", name="app-service", outcome="restored"}`,
          values: `_ ${heals(t.flapping.heals).split(' ').slice(1).join(' ')}`,
        },
      ],
      eval_time: `${t.flapping.heals}m`,
      labels: obj,
    },
    {
      name: `${t.flapping.heals} heals spread over more than ${t.flapping.window} do not`,
      alertname: 'ConvergeSelfHealFlapping',
      fires: false,
      interval: '1m',
      input_series: [
        {
          series: `converge_drift_heals_total{${job}, kind="Deployment", namespace="${obj.namespace}", name="app-service", outcome="restored"}`,
          // one heal, then the next ones a window later
          values: `1x${minutes(t.flapping.window) + 2} ${heals(t.flapping.heals).split(' ').slice(2).join(' ')}`,
        },
      ],
      eval_time: `${minutes(t.flapping.window) + 2 + t.flapping.heals - 1}m`,
    },
    {
      name: `${t.flapping.heals - 1} heals, or failed ones, do not`,
      alertname: 'ConvergeSelfHealFlapping',
      fires: false,
      interval: '1m',
      input_series: [
        {
          series: `converge_drift_heals_total{${job}, kind="Deployment", namespace="${obj.namespace}", name="app-service", outcome="restored"}`,
          values: heals(t.flapping.heals - 1),
        },
        {
          series: `converge_drift_heals_total{${job}, kind="Service", namespace="${obj.namespace}", name="app-service", outcome="failed"}`,
          values: heals(t.flapping.heals + 2),
        },
      ],
      eval_time: `${t.flapping.heals - 1}m`,
    },
    {
      name: `a held drift older than ${t.approvalPendingFor} fires`,
      alertname: 'ConvergeApprovalPendingTooLong',
      fires: true,
      interval: '1m',
      input_series: [
        // Held for approval since one minute past the start: its age grows by 60 s a minute.
        {
          series: `converge_drift_oldest_pending_approval_seconds{${job}}`,
          values: `0 0+60x${Math.ceil(pending / 60) + 5}`,
        },
      ],
      eval_time: `${Math.ceil(pending / 60) + 3}m`,
      value: humanizeDuration((Math.ceil(pending / 60) + 2) * 60),
    },
    {
      name: `a held drift younger than ${t.approvalPendingFor}, or none held, does not`,
      alertname: 'ConvergeApprovalPendingTooLong',
      fires: false,
      interval: '1m',
      input_series: [
        {
          series: `converge_drift_oldest_pending_approval_seconds{${job}}`,
          values: `0+60x${Math.floor(pending / 60) - 2} 0x5`,
        },
      ],
      eval_time: `${Math.floor(pending / 60) + 1}m`,
    },
    {
      name: 'a high-severity drift fires',
      alertname: 'ConvergeHighSeverityDrift',
      fires: true,
      interval: '1m',
      input_series: [
        {
          series: `converge_drift_detected_total{${job}, severity="high", kind="Secret"}`,
          values: '0 0 1 1',
        },
      ],
      eval_time: '3m',
      labels: { kind: 'Secret' },
    },
    {
      name: 'the first high-severity drift of a kind fires (its series appears at 1)',
      alertname: 'ConvergeHighSeverityDrift',
      fires: true,
      interval: '1m',
      input_series: [
        {
          series: `converge_drift_detected_total{${job}, severity="high", kind="ClusterRole"}`,
          values: '_ _ 1 1',
        },
      ],
      eval_time: '3m',
      labels: { kind: 'ClusterRole' },
    },
    {
      name: 'a high-severity drift over for more than 5m does not',
      alertname: 'ConvergeHighSeverityDrift',
      fires: false,
      interval: '1m',
      input_series: [
        { series: `converge_drift_detected_total{${job}, severity="high", kind="Secret"}`, values: '0 1x20' },
      ],
      eval_time: '15m',
    },
    {
      name: 'low and medium drift does not',
      alertname: 'ConvergeHighSeverityDrift',
      fires: false,
      interval: '1m',
      input_series: [
        {
          series: `converge_drift_detected_total{${job}, severity="low", kind="Deployment"}`,
          values: '0 1 2 3',
        },
        {
          series: `converge_drift_detected_total{${job}, severity="medium", kind="Service"}`,
          values: '0 1 2 3',
        },
      ],
      eval_time: '3m',
    },
    {
      name: `a controller unreachable past ${t.controllerDownFor} fires`,
      alertname: 'ConvergeDriftControllerDown',
      fires: true,
      interval: '1m',
      input_series: [{ series: `up{${job}, instance="10.0.0.7:9464"}`, values: `0x${down + 5}` }],
      eval_time: `${down + 2}m`,
    },
    {
      name: `a controller never scraped at all fires too`,
      alertname: 'ConvergeDriftControllerDown',
      fires: true,
      interval: '1m',
      input_series: [
        { series: `up{job="argocd-metrics", instance="10.0.0.8:8082"}`, values: `1x${down + 5}` },
      ],
      eval_time: `${down + 2}m`,
    },
    {
      name: `a controller that is up, or down for less than ${t.controllerDownFor}, does not`,
      alertname: 'ConvergeDriftControllerDown',
      fires: false,
      interval: '1m',
      input_series: [
        { series: `up{${job}, instance="10.0.0.7:9464"}`, values: `1x${down + 5}` },
        { series: `up{${job}, instance="10.0.0.9:9464"}`, values: `0x${down + 5}` },
      ],
      eval_time: `${down + 2}m`,
    },
    {
      name: `no completed check for more than ${t.notReconcilingFor} fires`,
      alertname: 'ConvergeDriftNotReconciling',
      fires: true,
      interval: '1m',
      // The last check finished at time 0 and none since.
      input_series: [
        {
          series: `converge_drift_last_reconcile_timestamp_seconds{${job}}`,
          values: `0x${Math.ceil(stale / 60) + 5}`,
        },
      ],
      eval_time: `${Math.ceil(stale / 60) + 2}m`,
    },
    {
      name: 'a controller that keeps checking does not',
      alertname: 'ConvergeDriftNotReconciling',
      fires: false,
      interval: '1m',
      input_series: [
        {
          series: `converge_drift_last_reconcile_timestamp_seconds{${job}}`,
          values: `0+60x${Math.ceil(stale / 60) + 5}`,
        },
      ],
      eval_time: `${Math.ceil(stale / 60) + 2}m`,
    },
  ];
}

/** Prometheus' `humanizeDuration` for whole seconds: "4h 3m 0s" style. */
function humanizeDuration(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (d) return `${d}d ${h}h ${m}m ${s}s`;
  if (h) return `${h}h ${m}m ${s}s`;
  if (m) return `${m}m ${s}s`;
  return `${s}s`;
}

/** Expands the few template forms the rules use, to state what the firing alert must carry. */
function expand(text: string, labels: Labels, value?: string): string {
  return text
    .replace(/\{\{ \$labels\.([a-z_]+) \}\}/g, (_, k: string) => labels[k] ?? '')
    .replace(/\{\{ \$value \| humanizeDuration \}\}/g, () => value ?? '');
}

/** The promtool test file (as an object) for the groups and cases; `ruleFile` is relative to it. */
export function promtoolTests(
  ruleFile: string,
  groups: readonly AlertRuleGroup[],
  cases: readonly RuleTestCase[],
) {
  const rules = new Map(groups.flatMap((g) => g.rules.map((r) => [r.alert, r] as const)));
  return {
    rule_files: [ruleFile],
    evaluation_interval: '1m',
    tests: cases.map((c) => {
      const rule = rules.get(c.alertname);
      if (!rule) throw new Error(`no rule ${c.alertname} in the synthesized groups`);
      const labels = { ...(c.labels ?? {}), ...rule.labels };
      const expected: Expected[] = c.fires
        ? [
            {
              exp_labels: labels,
              exp_annotations: Object.fromEntries(
                Object.entries(rule.annotations).map(([k, v]) => [k, expand(v, labels, c.value)]),
              ),
            },
          ]
        : [];
      return {
        name: c.name,
        interval: c.interval,
        input_series: c.input_series,
        alert_rule_test: [{ eval_time: c.eval_time, alertname: c.alertname, exp_alerts: expected }],
      };
    }),
  };
}
