import { driftPolicyFor } from '../../config/drift-policy';
import { AuditLog } from '../../drift/audit';
import { DriftController } from '../../drift/controller/manager';
import { DesiredSnapshot, Faults } from '../../drift/controller/reconciler';
import { selfHealingApplications } from '../../drift/kube/argocd';
import { KubeClient } from '../../drift/kube/client';
import { DriftMetrics } from '../../drift/metrics';
import { Notifier } from '../../drift/notify/notifier';
import { desiredState } from '../../render/desired-state';
import { isSystemError, UsageError } from '../../model/errors';
import { hasNoCredentials, redactUrl } from '../../model/urls';
import { isGitRepoUrl, isGitRevision, isNonEmptyString } from '../../model/validators';
import { clusterAccess } from './cluster-access';

export interface WatchOptions {
  readonly env: string;
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly inCluster?: boolean;
  /** Watch only the service namespaces (implied by inCluster). */
  readonly namespaced?: boolean;
  readonly metricsPort?: number;
  /** Address `/metrics` listens on. @default "127.0.0.1": this machine only */
  readonly metricsHost?: string;
  readonly resyncSeconds?: number;
  readonly chartsDir?: string;
  readonly stacksDir?: string;
  /** Git to read the desired state from, with no local stack file (the in-cluster Deployment passes it). */
  readonly repoURL?: string;
  readonly revision?: string;
  /** Failures a test injects; no flag or variable sets them. */
  readonly faults?: Faults;
}

/** `converge watch`: the drift controller, locally or in the cluster. Runs until stopped. */
export async function watch(options: WatchOptions): Promise<number> {
  const git = gitFlags(options);
  const kc = clusterAccess(options);
  const client = new KubeClient(kc);
  const metrics = new DriftMetrics();
  // Bound before the first render, which takes seconds: a port in use fails at once.
  const server = await serveMetrics(metrics, options.metricsPort, options.metricsHost);
  // Namespaced, Argo CD's namespace is not watched: its installation is no part of the desired state.
  const render = () =>
    desiredState(options.env, {
      stacksDir: options.stacksDir,
      chartsDir: options.chartsDir,
      git,
      withoutArgoCd: options.inCluster || options.namespaced,
    });
  let first: Awaited<ReturnType<typeof render>>;
  try {
    first = await render();
  } catch (err) {
    server?.close();
    throw err;
  }
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

/** `--repo-url` and `--revision` go together, and replace the stack file's pointer, not the charts. */
function gitFlags(options: WatchOptions): { repoURL: string; revision: string } | undefined {
  if (options.repoURL === undefined && options.revision === undefined) return undefined;
  if (options.repoURL === undefined || options.revision === undefined) {
    const [given, missing] =
      options.repoURL === undefined ? ['--revision', '--repo-url'] : ['--repo-url', '--revision'];
    throw new UsageError(
      `${given} is given without ${missing}; pass both (the repo and the branch, tag or commit to read), or neither to use the stack file's git.repoURL and git.revision`,
    );
  }
  if (options.chartsDir !== undefined)
    throw new UsageError(
      `--repo-url and --charts-dir are both given; --repo-url reads the desired state from Git, --charts-dir from a folder: pass one`,
    );
  // Checked here rather than by commander, whose message would quote a URL's credentials.
  const urlProblem = isGitRepoUrl(options.repoURL) ?? hasNoCredentials(options.repoURL);
  if (urlProblem)
    throw new UsageError(`--repo-url is ${JSON.stringify(redactUrl(options.repoURL))}; ${urlProblem}`);
  const revisionProblem = isNonEmptyString(options.revision) ?? isGitRevision(options.revision);
  if (revisionProblem)
    throw new UsageError(`--revision is ${JSON.stringify(options.revision)}; ${revisionProblem}`);
  return { repoURL: options.repoURL, revision: options.revision };
}

/** `/metrics` on the port and host, or nothing for port -1; a port in use is one line with the fix. */
async function serveMetrics(metrics: DriftMetrics, port?: number, host = '127.0.0.1') {
  if (port === undefined || port < 0) return undefined;
  try {
    return await metrics.serve(port, host);
  } catch (err) {
    if (isSystemError(err) && err.code === 'EADDRINUSE')
      throw new UsageError(
        `--metrics-port ${port}: ${host}:${port} is already in use (EADDRINUSE); stop what listens there, pass another --metrics-port, or --metrics-port -1 to serve no metrics`,
      );
    if (
      isSystemError(err) &&
      (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN')
    )
      throw new UsageError(
        `--metrics-host is ${JSON.stringify(host)}; it is not an address of this machine (${err.code}); pass 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)`,
      );
    if (isSystemError(err) && err.code === 'EACCES')
      throw new UsageError(
        `--metrics-port ${port}: binding ${host}:${port} is not permitted (EACCES; ports below 1024 need privileges); pass a port from 1024 up`,
      );
    throw err;
  }
}
