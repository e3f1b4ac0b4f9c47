import { driftPolicyFor } from '../../config/drift-policy';
import { AuditLog } from '../../drift/audit';
import { DriftController } from '../../drift/controller/manager';
import { DesiredSnapshot, Faults } from '../../drift/controller/reconciler';
import { DoraCollector } from '../../drift/dora/collector';
import { GitCommits } from '../../drift/dora/git-commits';
import { environmentApplications, selfHealingApplications } from '../../drift/kube/argocd';
import { KubeClient } from '../../drift/kube/client';
import { DriftMetrics } from '../../drift/metrics';
import { Notifier } from '../../drift/notify/notifier';
import { GitRollback } from '../../drift/sync-fail/git-rollback';
import { syncFailPolicies, SyncFailWatch } from '../../drift/sync-fail/watch';
import { ApprovalsServer, ApprovalsServerOptions } from '../../drift/web/approvals-server';
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
  /** Port of the approvals page (-1 or unset: none). */
  readonly approvalsPort?: number;
  /** Address the approvals page listens on. @default "127.0.0.1": this machine only (`kubectl port-forward` in the cluster) */
  readonly approvalsHost?: string;
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
  const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`);
  const kc = clusterAccess(options);
  const client = new KubeClient(kc);
  const metrics = new DriftMetrics();
  // Bound before the first render, which takes seconds: a port in use fails at once.
  const server = await serveMetrics(metrics, options.metricsPort, options.metricsHost);
  // The page lists what the controller's trail holds: nothing until the controller exists.
  const known: { controller?: DriftController; namespace?: string } = {};
  let page: Awaited<ReturnType<typeof servePage>>;
  try {
    page = await servePage(
      {
        environment: options.env,
        client,
        namespace: () => known.namespace,
        records: () => known.controller?.auditRecords() ?? [],
        log,
      },
      options.approvalsPort,
      options.approvalsHost,
    );
  } catch (err) {
    server?.close();
    throw err;
  }
  const closeServers = () => {
    server?.close();
    page?.close();
  };
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
    closeServers();
    throw err;
  }
  const config = first.environment.loaded.config;
  known.namespace = config.drift.controller.namespace;
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
  // DORA figures from Argo CD's history and the desired-state repo's commits, fed on each resync.
  const repoURL = git?.repoURL ?? config.git.repoURL;
  let commits: GitCommits | undefined;
  const dora = new DoraCollector(metrics, {
    environment: config.environment,
    repoURL,
    applications: () => environmentApplications(client, config.argocd.namespace, config.environment),
    commits: () => (commits ? commits.fetch() : (commits = GitCommits.mirrorOf(repoURL))),
  });
  const audit = new AuditLog(client, config.drift.controller.namespace);
  const notifier = new Notifier(policy.notify, config.notifications);
  // Failed syncs, answered as each service's hooks.syncFail says: a rollback commit, a notice.
  const policies = syncFailPolicies(config);
  const syncFails =
    policies.size > 0
      ? new SyncFailWatch(client, kc, config.argocd.namespace, {
          environment: config.environment,
          policy: (service) => policies.get(service),
          records: audit,
          notifier,
          rollback: new GitRollback(repoURL, git?.revision ?? config.git.revision),
          log,
        })
      : undefined;
  const controller = new DriftController({
    client,
    kc,
    loadDesired,
    audit,
    notifier,
    metrics,
    resyncMs: (options.resyncSeconds ?? 60) * 1000,
    // In the cluster, the service namespaces are all its RBAC lets it see (constructs/drift/drift-controller.ts).
    namespaces: options.inCluster || options.namespaced ? [...managedNamespaces].sort() : undefined,
    log,
    faults: options.faults,
    onResync: async (records) => {
      syncFails?.resync();
      await dora.collect(records);
    },
  });
  known.controller = controller;
  const address = server?.address();
  const pageAddress = page?.server.address();
  log(
    `watching ${config.environment} (${first.objects.length} desired objects; records in ${config.drift.controller.namespace}` +
      `${address && typeof address === 'object' ? `; metrics on :${address.port}/metrics` : ''}` +
      `${pageAddress && typeof pageAddress === 'object' ? `; approvals page on ${options.approvalsHost ?? '127.0.0.1'}:${pageAddress.port}` : ''})`,
  );
  try {
    await controller.start();
    await syncFails?.start();
  } catch (err) {
    // Open watches and the servers would keep a half-started controller alive: end them.
    await syncFails?.stop();
    await controller.stop();
    closeServers();
    throw err;
  }
  log('initial check done; watching for changes');
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await syncFails?.stop();
  await controller.stop();
  closeServers();
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
  return bindOrExplain(() => metrics.serve(port, host), 'metrics', port, host, 'serve no metrics');
}

/** The approvals page on the port and host, or nothing for port -1; bind errors as for metrics. */
async function servePage(options: ApprovalsServerOptions, port?: number, host = '127.0.0.1') {
  if (port === undefined || port < 0) return undefined;
  const page = new ApprovalsServer(options);
  const server = await bindOrExplain(() => page.listen(port, host), 'approvals', port, host, 'serve no page');
  return {
    server,
    close: () => {
      server.close();
      server.closeAllConnections();
    },
  };
}

/** A bind error of `--<flag>-port`/`--<flag>-host` as one line with the fix. */
export async function bindOrExplain<T>(
  bind: () => Promise<T>,
  flag: 'metrics' | 'approvals',
  port: number,
  host: string,
  off: string,
): Promise<T> {
  try {
    return await bind();
  } catch (err) {
    if (isSystemError(err) && err.code === 'EADDRINUSE')
      throw new UsageError(
        `--${flag}-port ${port}: ${host}:${port} is already in use (EADDRINUSE); stop what listens there, pass another --${flag}-port, or --${flag}-port -1 to ${off}`,
      );
    if (
      isSystemError(err) &&
      (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN')
    )
      throw new UsageError(
        `--${flag}-host is ${JSON.stringify(host)}; it is not an address of this machine (${err.code}); pass 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)`,
      );
    if (isSystemError(err) && err.code === 'EACCES')
      throw new UsageError(
        `--${flag}-port ${port}: binding ${host}:${port} is not permitted (EACCES; ports below 1024 need privileges); pass a port from 1024 up`,
      );
    throw err;
  }
}
