import { driftPolicyFor } from '../../config/drift-policy';
import { AuditLog } from '../../drift/audit';
import { DriftController } from '../../drift/controller/manager';
import { DesiredSnapshot, Faults } from '../../drift/controller/reconciler';
import { selfHealingApplications } from '../../drift/kube/argocd';
import { KubeClient } from '../../drift/kube/client';
import { inClusterKubeConfig, loadKubeConfig } from '../../drift/kube/kubeconfig';
import { DriftMetrics } from '../../drift/metrics';
import { Notifier } from '../../drift/notify/notifier';
import { desiredState } from '../../render/desired-state';

export interface WatchOptions {
  readonly env: string;
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly inCluster?: boolean;
  /** Watch only the service namespaces (implied by inCluster). */
  readonly namespaced?: boolean;
  readonly metricsPort?: number;
  readonly resyncSeconds?: number;
  readonly chartsDir?: string;
  readonly stacksDir?: string;
  /** Failures a test injects; no flag or variable sets them. */
  readonly faults?: Faults;
}

/** `converge watch`: the drift controller, locally or in the cluster. Runs until stopped. */
export async function watch(options: WatchOptions): Promise<number> {
  const kc = options.inCluster ? inClusterKubeConfig() : loadKubeConfig(options);
  const client = new KubeClient(kc);
  const render = () =>
    desiredState(options.env, { stacksDir: options.stacksDir, chartsDir: options.chartsDir });
  const first = await render();
  const config = first.environment.loaded.config;
  const policy = driftPolicyFor(config);
  const managedNamespaces = new Set(Object.values(config.services).map((s) => s.namespace));
  let pending: typeof first | undefined = first;
  const loadDesired = async (): Promise<DesiredSnapshot> => {
    const desired = pending ?? (await render());
    pending = undefined;
    return {
      environment: config.environment,
      objects: desired.objects,
      policy,
      managedNamespaces,
      selfHealingApplications: await selfHealingApplications(
        client,
        config.argocd.namespace,
        config.environment,
      ),
    };
  };
  const metrics = new DriftMetrics();
  const server =
    options.metricsPort !== undefined && options.metricsPort >= 0
      ? await metrics.serve(options.metricsPort)
      : undefined;
  const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`);
  const controller = new DriftController({
    client,
    kc,
    loadDesired,
    audit: new AuditLog(client, config.drift.controller.namespace),
    notifier: new Notifier(policy.notify, config.notifications),
    metrics,
    resyncMs: (options.resyncSeconds ?? 60) * 1000,
    // In the cluster, the service namespaces are all its RBAC lets it see (constructs/drift/drift-controller.ts).
    namespaces: options.inCluster || options.namespaced ? [...managedNamespaces].sort() : undefined,
    log,
    faults: options.faults,
  });
  const address = server?.address();
  log(
    `watching ${config.environment} (${first.objects.length} desired objects; records in ${config.drift.controller.namespace}` +
      `${address && typeof address === 'object' ? `; metrics on :${address.port}/metrics` : ''})`,
  );
  try {
    await controller.start();
  } catch (err) {
    // Open watches and the metrics server would keep a half-started controller alive: end them.
    await controller.stop();
    server?.close();
    throw err;
  }
  log('initial check done; watching for changes');
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await controller.stop();
  server?.close();
  log('stopped');
  return 0;
}
