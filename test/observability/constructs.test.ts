import { Chart, Testing } from 'cdk8s';
import { synthesizeEnvironment } from '../../render/environment';
import {
  AlertRules,
  alertRuleGroups,
  DRIFT_CONTROLLER_JOB,
} from '../../constructs/observability/alert-rules';
import { ARGOCD_METRICS_SERVICES, ServiceMonitors } from '../../constructs/observability/service-monitors';
import { convergeDashboard, GrafanaDashboard } from '../../constructs/observability/grafana-dashboard';
import { loadArgoCdManifests } from '../../render/upstream';
import { KubeObject } from '../../model/objects';

const THRESHOLDS = {
  outOfSyncFor: '15m',
  approvalPendingFor: '4h',
  controllerDownFor: '5m',
  notReconcilingFor: '10m',
  flapping: { heals: 3, window: '30m' },
};

const objectsOf = (env: string) => synthesizeEnvironment(env).files.flatMap((f) => f.objects);
const byKind = (objs: KubeObject[], kind: string) => objs.filter((o) => o.kind === kind);

describe('the platform', () => {
  it('declares no observability objects in dev (off by default there)', () => {
    const kinds = objectsOf('dev').map((o) => o.kind);
    expect(kinds).not.toContain('PrometheusRule');
    expect(kinds).not.toContain('ServiceMonitor');
  });

  it.each(['staging', 'prod'])('declares rules, monitors and the dashboard in %s', (env) => {
    const objs = objectsOf(env);
    expect(byKind(objs, 'PrometheusRule').map((o) => o.metadata.name)).toEqual([`converge-${env}`]);
    expect(
      byKind(objs, 'ServiceMonitor')
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual([DRIFT_CONTROLLER_JOB, `converge-${env}-argocd`]);
    const dash = byKind(objs, 'ConfigMap').find((o) => o.metadata.labels?.grafana_dashboard === '1');
    expect(dash?.metadata.name).toBe(`converge-dashboard-${env}`);
  });

  it("selects the drift controller's pods with its metrics Service, on its metrics port", () => {
    const objs = objectsOf('staging');
    const deployment = objs.find((o) => o.kind === 'Deployment' && o.metadata.name === 'converge-drift')!;
    const service = objs.find((o) => o.kind === 'Service' && o.metadata.name === DRIFT_CONTROLLER_JOB)!;
    const spec = deployment.spec as { template: { metadata: { labels: Record<string, string> } } };
    expect(spec.template.metadata.labels).toMatchObject((service.spec as { selector: object }).selector);
    expect(service.spec).toMatchObject({ ports: [{ name: 'metrics', port: 9464, targetPort: 9464 }] });
  });

  it("selects exactly Argo CD's metrics Services, each of which has a port named metrics", () => {
    const services = loadArgoCdManifests({ renderCache: false }).objects.filter((o) => o.kind === 'Service');
    const withMetrics = services
      .filter((s) =>
        ((s.spec as { ports?: { name: string }[] }).ports ?? []).some((p) => p.name === 'metrics'),
      )
      .map((s) => s.metadata.labels?.['app.kubernetes.io/name'])
      .sort();
    expect([...ARGOCD_METRICS_SERVICES]).toEqual(withMetrics);
  });
});

describe('alertRuleGroups', () => {
  it('has every alert with a severity, a summary, a description and a runbook naming a command', () => {
    const rules = alertRuleGroups({ environment: 'prod', thresholds: THRESHOLDS }).flatMap((g) => g.rules);
    expect(rules.map((r) => r.alert)).toEqual([
      'ConvergeApplicationOutOfSync',
      'ConvergeSyncFailed',
      'ConvergeSelfHealFlapping',
      'ConvergeApprovalPendingTooLong',
      'ConvergeHighSeverityDrift',
      'ConvergeDriftControllerDown',
      'ConvergeDriftNotReconciling',
    ]);
    for (const r of rules) {
      expect(['warning', 'critical']).toContain(r.labels.severity);
      expect(r.labels.environment).toBe('prod');
      expect(r.annotations.summary).not.toBe('');
      expect(r.annotations.description).not.toBe('');
      expect(r.annotations.runbook).toMatch(/`(converge|kubectl) [^`]+`/);
    }
  });

  it('puts the thresholds in the rules', () => {
    const rules = alertRuleGroups({ environment: 'prod', thresholds: THRESHOLDS }).flatMap((g) => g.rules);
    const get = (a: string) => rules.find((r) => r.alert === a)!;
    expect(get('ConvergeApplicationOutOfSync').for).toBe('15m');
    expect(get('ConvergeApprovalPendingTooLong').expr).toMatch(/ > 14400$/);
    expect(get('ConvergeDriftNotReconciling').expr).toMatch(/ > 600$/);
    expect(get('ConvergeSelfHealFlapping').expr).toMatch(/ offset 30m or .*\) >= 3$/);
    expect(get('ConvergeDriftControllerDown').for).toBe('5m');
  });

  it("leaves out the controller's alerts when it does not run", () => {
    const groups = alertRuleGroups({ environment: 'dev', thresholds: THRESHOLDS, driftController: false });
    expect(groups.flatMap((g) => g.rules.map((r) => r.alert))).toEqual([
      'ConvergeApplicationOutOfSync',
      'ConvergeSyncFailed',
    ]);
  });
});

describe('the constructs alone', () => {
  it('give the same rules in the PrometheusRule as alertRuleGroups', () => {
    const chart = new Chart(Testing.app(), 'c');
    const rules = new AlertRules(chart, 'Rules', {
      environment: 'staging',
      namespace: 'ops',
      thresholds: THRESHOLDS,
    });
    const [obj] = Testing.synth(chart);
    expect(obj.spec.groups).toEqual(JSON.parse(JSON.stringify(rules.groups)));
  });

  it('scrape only Argo CD when the controller does not run', () => {
    const chart = new Chart(Testing.app(), 'c');
    new ServiceMonitors(chart, 'M', { environment: 'dev', namespace: 'ops', argocdNamespace: 'argocd' });
    expect(Testing.synth(chart).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'ServiceMonitor/converge-dev-argocd',
    ]);
  });
});

describe('the Grafana dashboard', () => {
  it('is byte-identical on every build (deterministic)', () => {
    const a = new GrafanaDashboard(new Chart(Testing.app(), 'a'), 'D', {
      environment: 'prod',
      namespace: 'x',
    });
    const b = new GrafanaDashboard(new Chart(Testing.app(), 'b'), 'D', {
      environment: 'prod',
      namespace: 'x',
    });
    expect(a.json).toBe(b.json);
  });

  it('has the drift, distribution, sync and four DORA panels, each with a PromQL query', () => {
    const d = convergeDashboard('prod');
    const panels = (d.panels ?? []).filter((p) => p.type !== 'row') as unknown as {
      title: string;
      type: string;
      targets: { expr: string }[];
    }[];
    expect(panels.map((p) => [p.type, p.title])).toEqual([
      ['stat', 'Lead time for changes (p50)'],
      ['stat', 'Deployment frequency'],
      ['stat', 'Change failure rate'],
      ['stat', 'Time to restore (p50)'],
      ['timeseries', 'Drift detected by severity'],
      ['timeseries', 'Held for approval, and active drifts'],
      ['timeseries', 'Time to detect (p50, p95 by severity)'],
      ['heatmap', 'Time to detect (distribution)'],
      ['timeseries', 'Time to restore (p50, p95 by severity)'],
      ['heatmap', 'Time to restore (distribution)'],
      ['timeseries', 'Sync outcomes'],
    ]);
    for (const p of panels) expect(p.targets.length).toBeGreaterThan(0);
    expect(panels[0].targets[0].expr).toContain('converge_dora_lead_time_seconds_bucket{environment="prod"}');
  });

  it('matches the snapshot', () => {
    expect(convergeDashboard('staging')).toMatchSnapshot();
  });
});
