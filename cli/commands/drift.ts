import { driftPolicyFor } from '../../config/drift-policy';
import { desiredState } from '../../render/desired-state';
import { DRIFT_EXIT, findDrift, highestSeverity } from '../../drift/engine';
import { readLiveState, loadKubeConfig, uniqueKinds } from '../../drift/live-state';
import { ArgoStatus, driftTable } from '../../drift/report';
import { KubeClient } from '../../drift/kube-client';
import { SERVICE_KINDS } from '../../model/objects';
import { LABELS } from '../../model/constants';

export interface DriftOptions {
  readonly env: string;
  readonly output?: 'table' | 'json';
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly chartsDir?: string;
  readonly stacksDir?: string;
}

/** One-shot report of desired against live state; the exit code follows the highest severity. */
export async function drift(options: DriftOptions): Promise<number> {
  const started = Date.now();
  const desired = await desiredState(options.env, {
    stacksDir: options.stacksDir,
    chartsDir: options.chartsDir,
  });
  const config = desired.environment.loaded.config;
  const policy = driftPolicyFor(config);
  const kc = loadKubeConfig(options);
  const namespaces = new Set(Object.values(config.services).map((s) => s.namespace));
  const kinds = uniqueKinds(
    desired.objects.map((d) => d.object),
    SERVICE_KINDS.map((gk) => ({ apiVersion: servedVersion(gk.group), kind: gk.kind })),
  );
  const client = new KubeClient(kc);
  const live = await readLiveState(client, kinds);
  const findings = findDrift(desired.objects, live.objects, policy, {
    managedNamespaces: namespaces,
    addedKinds: new Set(SERVICE_KINDS.map((gk) => gk.kind)),
  });
  const argo = await argoStatuses(client, config.argocd.namespace, config.environment);
  const worst = highestSeverity(findings);
  if (options.output === 'json') {
    console.log(
      JSON.stringify(
        {
          environment: config.environment,
          charts: desired.charts,
          objectsCompared: desired.objects.length,
          listRequests: live.requests,
          missingKinds: live.missingKinds,
          highestSeverity: worst ?? 'none',
          argocd: Object.fromEntries(argo),
          findings,
        },
        null,
        2,
      ),
    );
  } else {
    const charts = desired.charts.commit
      ? `charts at ${desired.charts.commit.slice(0, 12)}`
      : `charts from ${desired.charts.dir}`;
    console.log(
      `${config.environment}: compared ${desired.objects.length} objects (${charts}) with ${live.requests} LIST calls in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
        `${findings.length} drifted${worst ? `, highest severity ${worst}` : ''}${argo.size ? '' : '; Argo CD not found, so no sync status'}`,
    );
    if (desired.charts.note) console.log(`note: ${desired.charts.note}`);
    if (live.missingKinds.length)
      console.log(`note: the cluster does not serve ${live.missingKinds.join(', ')}`);
    if (findings.length) console.log(driftTable(findings, argo));
  }
  return DRIFT_EXIT[worst ?? 'none'];
}

/** The API version read for each group of the services' kinds. */
const servedVersion = (group: string) =>
  ({ '': 'v1', autoscaling: 'autoscaling/v2' })[group] ?? `${group}/v1`;

/** Sync and health of the environment's Applications, when Argo CD runs in the cluster. */
async function argoStatuses(
  client: KubeClient,
  namespace: string,
  environment: string,
): Promise<Map<string, ArgoStatus>> {
  if (!(await client.resource('argoproj.io/v1alpha1', 'Application'))) return new Map();
  const list = await client.list<{
    metadata: { name: string; namespace: string; labels?: Record<string, string> };
    status?: { sync?: { status?: string }; health?: { status?: string } };
  }>('argoproj.io/v1alpha1', 'Application');
  return new Map(
    list.items
      // One cluster may hold several environments: report only this one's Applications.
      .filter(
        (a) => a.metadata.namespace === namespace && a.metadata.labels?.[LABELS.environment] === environment,
      )
      .map((a) => [a.metadata.name, { sync: a.status?.sync?.status, health: a.status?.health?.status }]),
  );
}
