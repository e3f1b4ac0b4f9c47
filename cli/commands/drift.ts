import { driftPolicyFor } from '../../config/drift-policy';
import { desiredState } from '../../render/desired-state';
import { describeImage, effectiveImages } from '../../render/image-tags';
import { DRIFT_EXIT, findDrift, highestSeverity } from '../../drift/engine/find-drift';
import { readLiveState, uniqueKinds } from '../../drift/kube/live-state';
import { clusterAccess } from './cluster-access';
import { driftTable } from '../../drift/report';
import { KubeClient } from '../../drift/kube/client';
import { argoStatuses } from '../../drift/kube/argocd';
import { SERVICE_KINDS, servedVersion } from '../../model/objects';

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
  // The kubeconfig first: a bad one fails at once rather than after rendering every chart.
  const kc = clusterAccess(options);
  const desired = await desiredState(options.env, {
    stacksDir: options.stacksDir,
    chartsDir: options.chartsDir,
  });
  const config = desired.environment.loaded.config;
  const policy = driftPolicyFor(config);
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
  // Which tag each service runs and where it came from: the stack file's pin or Image Updater's write-back.
  const images = effectiveImages(desired);
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
          images,
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
    if (images.some((i) => i.writeBackFile)) console.log(`images: ${images.map(describeImage).join('; ')}`);
    if (live.missingKinds.length)
      console.log(`note: the cluster does not serve ${live.missingKinds.join(', ')}`);
    if (findings.length) console.log(driftTable(findings, argo));
  }
  return DRIFT_EXIT[worst ?? 'none'];
}
