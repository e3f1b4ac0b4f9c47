import { Construct } from 'constructs';
import * as monitoring from '../imports/monitoring.coreos.com';
import { LABELS, PART_OF } from '../../model/constants';
import { durationSeconds } from '../../model/validators';
import type { AlertThresholds } from '../../config/observability';

/** Prometheus' job of the drift controller: its metrics Service's name (service-monitors.ts). */
export const DRIFT_CONTROLLER_JOB = 'converge-drift-controller';

/** One alerting rule, in Prometheus' rule-file shape (a PrometheusRule's `spec.groups[].rules[]`). */
export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: { readonly summary: string; readonly description: string; readonly runbook: string };
}

export interface AlertRuleGroup {
  readonly name: string;
  readonly rules: readonly AlertRule[];
}

export interface AlertRulesOptions {
  readonly environment: string;
  readonly thresholds: AlertThresholds;
  /** The drift controller runs (drift.controller.enabled): add its alerts. @default true */
  readonly driftController?: boolean;
  /** Where the controller runs, for the runbooks' commands. @default "converge-system" */
  readonly controllerNamespace?: string;
}

export interface AlertRulesProps extends AlertRulesOptions {
  /** Namespace of the PrometheusRule. */
  readonly namespace: string;
}

/**
 * Series of a counter that rose within the window, including one first seen in it: a counter
 * with labels appears at its first event already at 1, which `increase` alone reads as no change.
 */
const counted = (series: string, window: string) =>
  `(increase(${series}[${window}]) > 0 or (${series} unless ${series} offset ${window}))`;

/**
 * The environment's alert rule groups: Argo CD's Applications (OutOfSync too long, sync failed)
 * and the drift controller's (flapping heals, approval pending, high-severity drift, controller
 * down or not reconciling). Pure, so promtool can test the same rules the constructs declare.
 */
export function alertRuleGroups(options: AlertRulesOptions): AlertRuleGroup[] {
  const env = options.environment;
  const t = options.thresholds;
  const ns = options.controllerNamespace ?? 'converge-system';
  // Every Application of the environment is named `<env>-…` (services, guarded parts, root, add-ons).
  const apps = `name=~"${env}-.+"`;
  const job = `job="${DRIFT_CONTROLLER_JOB}"`;
  const labels = (severity: 'warning' | 'critical') => ({ environment: env, severity });
  const heals = `converge_drift_heals_total{${job}, outcome="restored"}`;
  const argocd: AlertRule[] = [
    {
      alert: 'ConvergeApplicationOutOfSync',
      expr: `max by (name) (argocd_app_info{${apps}, sync_status="OutOfSync"}) > 0`,
      for: t.outOfSyncFor,
      labels: labels('warning'),
      annotations: {
        summary: `{{ $labels.name }} has been OutOfSync for more than ${t.outOfSyncFor}`,
        description: `Argo CD reports ${env} Application {{ $labels.name }} OutOfSync with Git: a sync is stuck, held by a sync window, or a guarded object drifted and waits for approval.`,
        runbook: `Run \`converge status --env ${env}\` for Argo CD's message and \`converge drift --env ${env}\` for what differs from Git; then sync, approve the held drift, or revert the commit.`,
      },
    },
    {
      alert: 'ConvergeSyncFailed',
      expr: `sum by (name) (${counted(`argocd_app_sync_total{${apps}, phase=~"Error|Failed"}`, '10m')}) > 0`,
      labels: labels('warning'),
      annotations: {
        summary: `A sync of {{ $labels.name }} failed`,
        description: `Argo CD ran a sync of ${env} Application {{ $labels.name }} that ended in Error or Failed in the last 10 minutes.`,
        runbook: `Run \`converge status --env ${env}\`: it prints Argo CD's message for each failing Application; fix the commit, or \`git revert\` it and push.`,
      },
    },
  ];
  if (options.driftController === false) return [{ name: `converge-${env}-argocd`, rules: argocd }];
  const drift: AlertRule[] = [
    {
      alert: 'ConvergeSelfHealFlapping',
      // Heals are few and whole: count them exactly (a series younger than the window counts from 0).
      expr: `sum by (kind, namespace, name) (${heals} - ${heals} offset ${t.flapping.window} or ${heals}) >= ${t.flapping.heals}`,
      labels: labels('warning'),
      annotations: {
        summary: `{{ $labels.kind }} {{ $labels.namespace }}/{{ $labels.name }} was healed ${t.flapping.heals} or more times in ${t.flapping.window}`,
        description: `Something keeps changing it back in ${env}; each heal is undone again. The controller backs off, but the writer is still there.`,
        runbook: `Run \`converge drift --env ${env}\` to see who changes it (the field manager) and stop that writer or declare the change in Git; \`kubectl get drift -n ${ns}\` lists every heal.`,
      },
    },
    {
      alert: 'ConvergeApprovalPendingTooLong',
      expr: `max(converge_drift_oldest_pending_approval_seconds{${job}}) > ${durationSeconds(t.approvalPendingFor)}`,
      labels: labels('warning'),
      annotations: {
        summary: `A held drift has waited more than ${t.approvalPendingFor} for approval`,
        description: `The oldest drift held for approval in ${env} is {{ $value | humanizeDuration }} old; until someone decides, the live change stays.`,
        runbook: `Run \`kubectl get drift -n ${ns}\` to list the held drifts, then \`converge approve <id> --env ${env}\` to heal one or \`converge reject <id> --env ${env}\` to keep it.`,
      },
    },
    {
      alert: 'ConvergeHighSeverityDrift',
      expr: `sum by (kind) (${counted(`converge_drift_detected_total{${job}, severity="high"}`, '5m')}) > 0`,
      labels: labels('critical'),
      annotations: {
        summary: `High-severity drift of a {{ $labels.kind }} in ${env}`,
        description: `The drift controller found a high-severity change (an untrusted image, a deleted Secret, changed RBAC), healed it and paged.`,
        runbook: `Run \`converge drift --env ${env}\` and \`kubectl get drift -n ${ns}\` to see who changed what and when; treat it as an incident and rotate what the change could have exposed.`,
      },
    },
    {
      alert: 'ConvergeDriftControllerDown',
      // Fires with no target at all too: a controller that was never scraped is down as well.
      expr: `absent(up{${job}} == 1)`,
      for: t.controllerDownFor,
      labels: labels('critical'),
      annotations: {
        summary: `The ${env} drift controller has been unreachable for more than ${t.controllerDownFor}`,
        description: `Prometheus cannot scrape the drift controller: drift is neither healed nor held, and nobody is told.`,
        runbook: `Run \`kubectl -n ${ns} get pods,events\` and \`kubectl -n ${ns} logs deploy/converge-drift\`; meanwhile \`converge drift --env ${env}\` reports drift by hand.`,
      },
    },
    {
      alert: 'ConvergeDriftNotReconciling',
      expr: `time() - max(converge_drift_last_reconcile_timestamp_seconds{${job}}) > ${durationSeconds(t.notReconcilingFor)}`,
      labels: labels('critical'),
      annotations: {
        summary: `The ${env} drift controller has not completed a check for more than ${t.notReconcilingFor}`,
        description: `It answers scrapes but its resyncs stopped (the API server or Git unreachable, or a stuck queue), so new drift goes unseen.`,
        runbook: `Read \`kubectl -n ${ns} logs deploy/converge-drift\` for the failing resync, then \`kubectl -n ${ns} rollout restart deploy/converge-drift\`; \`converge drift --env ${env}\` checks by hand meanwhile.`,
      },
    },
  ];
  return [
    { name: `converge-${env}-argocd`, rules: argocd },
    { name: `converge-${env}-drift`, rules: drift },
  ];
}

/** The environment's alert rules as a PrometheusRule, for the Prometheus Operator to load. */
export class AlertRules extends Construct {
  public readonly groups: readonly AlertRuleGroup[];
  public readonly resource: monitoring.PrometheusRule;

  constructor(scope: Construct, id: string, props: AlertRulesProps) {
    super(scope, id);
    this.groups = alertRuleGroups(props);
    this.resource = new monitoring.PrometheusRule(this, 'Resource', {
      metadata: {
        name: `converge-${props.environment}`,
        namespace: props.namespace,
        labels: { [LABELS.partOf]: PART_OF, [LABELS.environment]: props.environment },
      },
      spec: {
        groups: this.groups.map((g) => ({
          name: g.name,
          rules: g.rules.map((r) => ({
            alert: r.alert,
            expr: monitoring.PrometheusRuleSpecGroupsRulesExpr.fromString(r.expr),
            for: r.for,
            labels: { ...r.labels },
            annotations: { ...r.annotations },
          })),
        })),
      },
    });
  }
}
