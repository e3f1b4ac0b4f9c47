import { loadStackConfig } from '../../config/stack-file';
import { evaluateApplications, COMMIT_ID } from '../../drift/kube/app-health';
import { environmentApplications } from '../../drift/kube/argocd';
import { KubeApiError, KubeClient } from '../../drift/kube/client';
import { clusterAccess } from './cluster-access';
import { EXIT, UsageError } from '../../model/errors';
import { durationSeconds, isDuration } from '../../model/validators';

export interface StatusOptions {
  readonly env: string;
  readonly revision?: string;
  /** How long to poll for, as `--wait` takes it ("90s", "5m", "1m30s"); checks once without. */
  readonly wait?: string;
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly stacksDir?: string;
}

export interface GateResult {
  readonly ok: boolean;
  readonly lines: readonly string[];
}

/** Between checks while waiting: Argo CD itself refreshes a syncing Application about this often. */
const POLL_MS = 2_000;
const WAIT_MAX_SECONDS = 86_400;

/** `--wait` in milliseconds; a UsageError naming the flag for anything else. */
export function parseWait(value: string): number {
  const seconds = isDuration(value) === undefined ? durationSeconds(value) : NaN;
  if (!(seconds > 0 && seconds <= WAIT_MAX_SECONDS))
    throw new UsageError(
      `--wait is ${JSON.stringify(value)}; use a duration such as 90s, 5m or 1m30s (numbers followed by ms, s, m or h; more than 0, at most 24h)`,
    );
  return seconds * 1000;
}

function checkRevision(value: string): void {
  if (!COMMIT_ID.test(value))
    throw new UsageError(
      `--revision is ${JSON.stringify(value)}; use a commit id of 7 to 40 hex digits, e.g. the output of \`git rev-parse HEAD\``,
    );
}

/** One check of an environment's Applications; lines: one per failing Application (or per app when ok). */
export async function checkEnvironment(
  client: KubeClient,
  argocdNamespace: string,
  environment: string,
  revision?: string,
  /** The repo `revision` is a commit of (the stack file's git.repoURL). @default any source */
  repoURL?: string,
): Promise<GateResult> {
  if (revision !== undefined) checkRevision(revision);
  const apps = await environmentApplications(client, argocdNamespace, environment);
  if (!apps.length && !(await client.resource('argoproj.io/v1alpha1', 'Application')))
    return {
      ok: false,
      lines: [
        `the cluster does not serve Argo CD Applications (argoproj.io/v1alpha1), so Argo CD is not installed; bootstrap the environment with \`pulumi up --stack ${environment}\`, or check the kubeconfig context`,
      ],
    };
  return evaluateApplications(apps, { environment, namespace: argocdNamespace, revision, repoURL });
}

/** A cluster error worth another try while waiting: no answer, throttled, or the server's own fault. */
function transient(err: unknown): err is KubeApiError {
  return err instanceof KubeApiError && (err.status === 0 || err.status === 429 || err.status >= 500);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `converge status`: the CI gate. Exit 0 when every Application of the environment is Synced (to
 * `--revision`, when given) and Healthy; 1 otherwise, with one line per failing Application.
 */
export async function status(options: StatusOptions): Promise<number> {
  // Flags first: a typo should fail at once, not after a wait.
  const waitMs = options.wait === undefined ? 0 : parseWait(options.wait);
  if (options.revision !== undefined) checkRevision(options.revision);
  const { config } = loadStackConfig(options.env, { dir: options.stacksDir });
  const client = new KubeClient(clusterAccess(options));
  const deadline = Date.now() + waitMs;
  let checks = 0;
  let result: GateResult;
  for (;;) {
    checks++;
    try {
      result = await checkEnvironment(
        client,
        config.argocd.namespace,
        config.environment,
        options.revision,
        config.git.repoURL,
      );
    } catch (err) {
      // Without --wait, or once the time is up, an unreachable cluster is the answer (exit 2).
      if (!transient(err) || Date.now() >= deadline) throw err;
      result = { ok: false, lines: [err.message] };
    }
    if (result.ok || Date.now() >= deadline) break;
    await sleep(Math.min(POLL_MS, deadline - Date.now()));
  }
  for (const line of result.lines) console.log(line);
  if (result.ok) return EXIT.ok;
  if (waitMs)
    console.log(
      `${config.environment}: not all Synced and Healthy after ${options.wait} (${checks} checks); the lines above are the last check`,
    );
  return EXIT.violations;
}
