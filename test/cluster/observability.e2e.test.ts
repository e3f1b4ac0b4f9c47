import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { synthesizeEnvironment } from '../../render/environment';
import { KubeObject } from '../../model/objects';
import { DRIFT_CONTROLLER_JOB } from '../../constructs/observability/alert-rules';
import { application, fileOnServer, RESULTS_DIR, ROOT, waitFor } from '../../tools/cluster/harness';
import { release, revert } from '../../tools/cluster/releases';
import {
  converge,
  exposeService,
  merge,
  NS,
  replicas,
  s,
  serviceType,
  since,
  useStagingDrift,
  waitRecord,
} from './staging-drift';
import { Prometheus, PromVector, scrapeConfigs } from './prometheus-harness';

/*
 * The synthesized alert rules and dashboard against a live Prometheus (Debian's) on loopback. It
 * scrapes the drift controller (`converge watch` on the staging stack) and Argo CD's metrics ports
 * as the synthesized ServiceMonitors say; the rules are staging's own, with approvalPendingFor
 * set to 10s in a copy of the stack file. A real held drift fires the approval alert, and after
 * real drifts, an approval and real commits, every dashboard panel's query returns data.
 */

useStagingDrift();

const PENDING_FOR = '10s';
let prometheus: Prometheus;
let objects: KubeObject[];
let skipped: string[];
let work: string;

/** Where each Service's process listens on loopback here (tools/cluster/config.mjs). */
function loopbackPorts(): Record<string, number> {
  const ports = JSON.parse(
    execFileSync(
      'node',
      [
        '--input-type=module',
        '-e',
        `const { PORT_VARS } = await import(${JSON.stringify(join(ROOT, 'tools', 'cluster', 'config.mjs'))});
         console.log(JSON.stringify(Object.fromEntries(Object.entries(PORT_VARS).map(([k, [v, d]]) => [k, Number(process.env[v] || d)]))));`,
      ],
      { encoding: 'utf8' },
    ),
  ) as Record<string, number>;
  return {
    [DRIFT_CONTROLLER_JOB]: s.controller.metricsPort,
    'argocd-metrics': ports.controllerMetrics,
    'argocd-server-metrics': ports.argocdServerMetrics,
    'argocd-repo-server': ports.repoServerMetrics,
    'argocd-applicationset-controller': ports.appsetMetrics,
    'argocd-notifications-controller-metrics': ports.notificationsMetrics,
  };
}

beforeAll(async () => {
  // staging as served, with a short approval wait: the rules are still synthesized from it
  work = mkdtempSync(join(tmpdir(), 'converge-observability-'));
  const doc = parseDocument(fileOnServer('stacks/Pulumi.staging.yaml'));
  doc.setIn(['config', 'converge:platform', 'observability', 'alerts', 'approvalPendingFor'], PENDING_FOR);
  writeFileSync(join(work, 'Pulumi.staging.yaml'), doc.toString());
  objects = synthesizeEnvironment('staging', work).files.flatMap((f) => f.objects);
  const rule = objects.find((o) => o.kind === 'PrometheusRule')!;
  const monitors = objects.filter((o) => o.kind === 'ServiceMonitor');
  // Argo CD's own Services (01-argocd.yaml) and the controller's metrics Service (03-platform.yaml)
  const services = objects.filter((o) => o.kind === 'Service');
  const scrape = scrapeConfigs(monitors, services, loopbackPorts(), '1s');
  skipped = scrape.skipped;
  prometheus = new Prometheus((rule.spec as { groups: unknown[] }).groups, scrape.configs);
  await prometheus.start();
});

afterAll(async () => {
  await prometheus?.stop();
  rmSync(work, { recursive: true, force: true });
});

interface Target {
  labels: { job: string };
  health: string;
  lastError: string;
}
interface Alert {
  labels: Record<string, string>;
  state: string;
  annotations: Record<string, string>;
}
const alerts = async () => (await prometheus.api<{ alerts: Alert[] }>('alerts')).alerts;
const firing = async (name: string) =>
  (await alerts()).find((a) => a.labels.alertname === name && a.state === 'firing');

describe('a live Prometheus with the synthesized rules and scrape targets', () => {
  it('scrapes the drift controller and every Argo CD component that runs here, all up', async () => {
    // dex is the one selected Service with no process on this control plane
    expect(skipped).toEqual(['argocd-dex-server']);
    const { value: targets } = await waitFor(
      'every target up',
      async () => {
        const t = (await prometheus.api<{ activeTargets: Target[] }>('targets')).activeTargets;
        return t.length > 0 && t.every((x) => x.health === 'up') ? t : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(targets.map((t) => t.labels.job).sort()).toEqual([
      'argocd-applicationset-controller',
      'argocd-metrics',
      'argocd-notifications-controller-metrics',
      'argocd-repo-server',
      'argocd-server-metrics',
      DRIFT_CONTROLLER_JOB,
    ]);
    expect(await prometheus.query(`up{job="${DRIFT_CONTROLLER_JOB}"} == 1`)).toHaveLength(1);
    expect(await prometheus.query('up{job="argocd-metrics"} == 1')).toHaveLength(1);
    // The rules ran before the first scrape too, when the controller had no `up` at all (down, as
    // the rule means it): read the alerts only once every group has been evaluated since.
    const upAt = Date.now();
    await waitFor(
      'the rules evaluated with every target up',
      async () => {
        const { groups } = await prometheus.api<{ groups: { lastEvaluation: string }[] }>('rules');
        return groups.length > 0 && groups.every((g) => Date.parse(g.lastEvaluation) > upAt);
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    // the controller is up and reconciling, so neither of its outage alerts is pending or firing
    const names = (await alerts()).map((a) => a.labels.alertname);
    expect(names).not.toContain('ConvergeDriftControllerDown');
    expect(names).not.toContain('ConvergeDriftNotReconciling');
  });

  it(`fires ConvergeApprovalPendingTooLong on a real held drift after ${PENDING_FOR}, and clears on approval`, async () => {
    const from = since();
    const heldAt = Date.now();
    await exposeService();
    const held = await waitRecord('Service', 'app-service', 'held', from);
    // not at once: the drift must first be older than the threshold
    expect(await firing('ConvergeApprovalPendingTooLong')).toBeUndefined();
    const { value: alert } = await waitFor(
      'the approval alert firing',
      () => firing('ConvergeApprovalPendingTooLong'),
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    const firedMs = Date.now() - heldAt;
    expect(firedMs).toBeGreaterThanOrEqual(10_000);
    expect(alert.labels).toMatchObject({ environment: 'staging', severity: 'warning' });
    expect(alert.annotations.summary).toBe(`A held drift has waited more than ${PENDING_FOR} for approval`);
    expect(alert.annotations.runbook).toContain('converge approve <id> --env staging');
    // WHEN approved, the Service is healed and the alert stops
    expect(converge('approve', held.driftId, '--reason', 'observability test')).toContain(
      `${held.driftId} approved`,
    );
    await waitFor('Service back to ClusterIP', async () => (await serviceType()) === 'ClusterIP');
    await waitRecord('Service', 'app-service', 'restored', from);
    const approvedAt = Date.now();
    await waitFor(
      'the approval alert resolved',
      async () => (await firing('ConvergeApprovalPendingTooLong')) === undefined,
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    // Measured, for the record: the change to the alert firing, and the approval to it clearing.
    writeFileSync(
      join(RESULTS_DIR, 'observability-timings.json'),
      JSON.stringify(
        { pendingFor: PENDING_FOR, changeToFiringMs: firedMs, approvalToResolvedMs: Date.now() - approvedAt },
        null,
        2,
      ),
    );
  });

  it('sees healed low drifts, and a release and its revert synced by Argo CD', async () => {
    // two low drifts with a known onset (a patch, not /scale), each healed by the controller
    for (const n of [4, 5]) {
      const from = since();
      await s.c.apps.patchNamespacedDeployment(
        { name: 'app-service', namespace: NS, body: { spec: { replicas: n } } },
        merge,
      );
      await waitFor('replicas back to 2', async () => (await replicas()) === 2, { intervalMs: 20 });
      await waitRecord('Deployment', 'app-service', 'restored', from);
      // scraped before the next one, so rates see both
      await new Promise((r) => setTimeout(r, 3000));
    }
    // a release and its revert, each synced by Argo CD: deployments with lead times
    const guarded = 'staging-app-service-guarded';
    const synced = (commit: string) =>
      waitFor(
        `${guarded} Synced and Healthy at ${commit.slice(0, 7)}`,
        async () => {
          const st = (await application(s.c, guarded)).status;
          return (
            st?.sync?.status === 'Synced' && st.sync.revision === commit && st.health?.status === 'Healthy'
          );
        },
        { timeoutMs: 300_000, intervalMs: 500 },
      );
    const counted = (outcome: string) =>
      waitFor(
        `a ${outcome} deployment in Prometheus`,
        async () =>
          (
            await prometheus.query(
              `converge_dora_deployments_total{environment="staging", application="${guarded}", outcome="${outcome}"} > 0`,
            )
          ).length > 0,
        { timeoutMs: 180_000, intervalMs: 1000 },
      );
    const c1 = release(
      'staging',
      { 'services.app-service.image.tag': '1.5.2' },
      'staging: app-service 1.5.2',
    );
    await synced(c1);
    await counted('succeeded');
    await synced(revert(c1));
    await counted('rolled_back');
  });

  it("returns data for every dashboard panel's query", async () => {
    const dashboard = objects.find(
      (o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard === '1',
    )!;
    const json = JSON.parse(
      Object.values((dashboard as unknown as { data: Record<string, string> }).data)[0],
    ) as {
      panels: { type: string; title: string; targets?: { expr: string }[] }[];
    };
    const queries = json.panels
      .filter((p) => p.type !== 'row')
      .flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
    expect(queries.length).toBeGreaterThanOrEqual(13);
    // Grafana's macros, as it fills them in for a 1h dashboard
    const expand = (e: string) => e.replaceAll('$__rate_interval', '1m').replaceAll('$__range', '1h');
    const results: Record<string, PromVector[]> = {};
    for (const q of queries) {
      const { value } = await waitFor(
        `data for "${q.panel}": ${q.expr}`,
        async () => {
          const r = await prometheus.query(expand(q.expr));
          // data: at least one sample, and a number rather than NaN where a quantile has observations
          return r.length > 0 && r.some((x) => Number.isFinite(Number(x.value[1]))) ? r : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 1000 },
      );
      results[`${q.panel}: ${q.expr}`] = value;
    }
    writeFileSync(join(RESULTS_DIR, 'dashboard-queries.json'), JSON.stringify(results, null, 2));
    // the change failure rate saw the revert
    expect(
      Number(
        (await prometheus.query('max(converge_dora_change_failure_rate{environment="staging"})'))[0].value[1],
      ),
    ).toBeGreaterThan(0);
  });
});
