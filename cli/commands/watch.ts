import { KubeConfig } from '@kubernetes/client-node';
import { driftPolicyFor } from '../../constructs/drift/policy-from-config';
import { AuditLog } from '../../drift/audit';
import { DesiredSnapshot, DriftController } from '../../drift/controller';
import { desiredState } from '../../drift/desired-state';
import { KubeClient } from '../../drift/kube-client';
import { loadKubeConfig } from '../../drift/live-state';
import { DriftMetrics } from '../../drift/metrics';
import { Notifier } from '../../drift/notify';

export interface WatchOptions {
  readonly env: string;
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly inCluster?: boolean;
  readonly metricsPort?: number;
  readonly resyncSeconds?: number;
  readonly chartsDir?: string;
  readonly stacksDir?: string;
}

/** Applications Argo CD runs with self-heal on; none when Argo CD is not in the cluster. */
async function selfHealingApplications(client: KubeClient, namespace: string): Promise<Set<string>> {
  if (!(await client.resource('argoproj.io/v1alpha1', 'Application'))) return new Set();
  const { items } = await client.list<{
    metadata: { name: string; namespace: string };
    spec?: { syncPolicy?: { automated?: { selfHeal?: boolean } } };
  }>('argoproj.io/v1alpha1', 'Application');
  return new Set(
    items
      .filter((a) => a.metadata.namespace === namespace && a.spec?.syncPolicy?.automated?.selfHeal)
      .map((a) => a.metadata.name),
  );
}

/** `converge watch`: the drift controller, locally or in the cluster. Runs until stopped. */
export async function watch(options: WatchOptions): Promise<number> {
  let kc: KubeConfig;
  if (options.inCluster) {
    kc = new KubeConfig();
    kc.loadFromCluster();
  } else {
    kc = loadKubeConfig(options);
  }
  const client = new KubeClient(kc);
  const first = await desiredState(options.env, {
    stacksDir: options.stacksDir,
    chartsDir: options.chartsDir,
  });
  const config = first.environment.loaded.config;
  const policy = driftPolicyFor(config);
  let pending: typeof first | undefined = first;
  const loadDesired = async (): Promise<DesiredSnapshot> => {
    const desired =
      pending ??
      (await desiredState(options.env, { stacksDir: options.stacksDir, chartsDir: options.chartsDir }));
    pending = undefined;
    return {
      environment: config.environment,
      objects: desired.objects,
      policy,
      managedNamespaces: new Set(Object.values(config.services).map((s) => s.namespace)),
      selfHealingApplications: await selfHealingApplications(client, config.argocd.namespace),
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
    log,
  });
  const address = server?.address();
  log(
    `watching ${config.environment} (${first.objects.length} desired objects; records in ${config.drift.controller.namespace}` +
      `${address && typeof address === 'object' ? `; metrics on :${address.port}/metrics` : ''})`,
  );
  await controller.start();
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
