import { loadStackConfig, stackFileLabel } from '../../config/stack-file';
import { AuditLog, DRIFT_RECORD_API_VERSION } from '../../drift/audit';
import { deploymentsOf } from '../../drift/dora/deployments';
import { GitCommits } from '../../drift/dora/git-commits';
import { Distribution, Report, report as buildReport } from '../../drift/dora/figures';
import { environmentApplications } from '../../drift/kube/argocd';
import { KubeClient } from '../../drift/kube/client';
import { DRIFT_RECORD } from '../../model/constants';
import { SEVERITIES } from '../../model/drift-policy';
import { EXIT, UsageError } from '../../model/errors';
import { formatTable } from '../../model/text';
import { redactUrl } from '../../model/urls';
import { ToolError } from '../../render/charts';
import { clusterAccess } from './cluster-access';

export interface ReportOptions {
  readonly env: string;
  /** How far back, as `--since` takes it ("7d", "24h", "2w"). @default "7d" */
  readonly since?: string;
  readonly output?: string;
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly stacksDir?: string;
}

const OUTPUTS = ['table', 'json'];
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };
const SINCE_MAX_DAYS = 366;

/**
 * `--since` in milliseconds. Its own grammar rather than the config's durations (ms|s|m|h): a
 * report's window is days and weeks, which those do not have.
 */
export function parseSince(value: string): number {
  const parts = /^([0-9]+[smhdw])+$/.test(value) ? [...value.matchAll(/([0-9]+)([smhdw])/g)] : [];
  const seconds = parts.reduce((sum, [, n, unit]) => sum + Number(n) * UNIT_SECONDS[unit], 0);
  if (!(seconds > 0 && seconds <= SINCE_MAX_DAYS * 86_400))
    throw new UsageError(
      `--since is ${JSON.stringify(value)}; use a duration such as 7d, 24h, 2w or 1d12h (numbers followed by s, m, h, d or w; more than 0, at most ${SINCE_MAX_DAYS}d)`,
    );
  return seconds * 1000;
}

/** `converge report`: the four DORA figures and the drift figures of an environment over a window. */
export async function report(options: ReportOptions): Promise<number> {
  // Flags first: a typo fails before any request.
  const output = options.output ?? 'table';
  if (!OUTPUTS.includes(output))
    throw new UsageError(`--output is ${JSON.stringify(output)}; use table or json`);
  const windowMs = parseSince(options.since ?? '7d');
  const { config } = loadStackConfig(options.env, { dir: options.stacksDir });
  const client = new KubeClient(clusterAccess(options));
  const apps = await environmentApplications(client, config.argocd.namespace, config.environment);
  // No DriftRecord kind: no controller ever ran here, so there is nothing drifted on record.
  const records = (await client.resource(DRIFT_RECORD_API_VERSION, DRIFT_RECORD.kind))
    ? await new AuditLog(client, config.drift.controller.namespace).list()
    : [];
  const commits = apps.length ? commitsOf(config.git.repoURL, options.env) : undefined;
  const deployments = commits
    ? apps.flatMap((app) => deploymentsOf(app, commits, { repoURL: config.git.repoURL }))
    : [];
  const to = new Date();
  const r = buildReport(config.environment, deployments, records, {
    from: new Date(to.getTime() - windowMs),
    to,
  });
  console.log(output === 'json' ? JSON.stringify(r, null, 2) : reportTable(r));
  return EXIT.ok;
}

/** The desired-state repo's commits; a repo that cannot be read is one line naming it and the fix. */
function commitsOf(repoURL: string, env: string): GitCommits {
  try {
    return GitCommits.mirrorOf(repoURL);
  } catch (err) {
    if (!(err instanceof ToolError)) throw err;
    throw new UsageError(
      `cannot read the commits of ${redactUrl(repoURL)} (git.repoURL of ${stackFileLabel(env)}), which the lead times and reverts come from: ${what(err)}; check that the repo is reachable from here with \`git ls-remote\``,
    );
  }
}

/** What git said, without the fix render/ suggests for the desired state (it names flags report has not). */
const what = (err: ToolError) =>
  err.message.replace(/; check the repo and git\.revision, or pass --charts-dir$/, '');

/** Seconds as people read them: 42s, 3m 20s, 2h 5m, 1d 3h. */
export function humanSeconds(s: number | undefined): string {
  if (s === undefined) return '-';
  if (s < 60) return `${Number(s.toFixed(s < 10 ? 2 : 1))}s`;
  const units: [number, string][] = [
    [86_400, 'd'],
    [3600, 'h'],
    [60, 'm'],
    [1, 's'],
  ];
  const i = units.findIndex(([u]) => s >= u);
  const [big, bigName] = units[i];
  const [small, smallName] = units[i + 1];
  const whole = Math.floor(s / big);
  const rest = Math.floor((s - whole * big) / small);
  return rest ? `${whole}${bigName} ${rest}${smallName}` : `${whole}${bigName}`;
}

const dist = (d: Distribution) =>
  d.count ? `median ${humanSeconds(d.median)}, p95 ${humanSeconds(d.p95)} (n=${d.count})` : 'none';

export function reportTable(r: Report): string {
  const { dora, drift } = r;
  const rows: string[][] = [
    [
      'deployment frequency',
      `${dora.deployments} in ${Number(r.window.days.toFixed(2))} d (${Number(dora.deploymentsPerDay.toFixed(2))}/day): ${dora.byOutcome.succeeded} succeeded, ${dora.byOutcome.failed} failed, ${dora.byOutcome.rolled_back} rolled back`,
    ],
    [
      'lead time for changes',
      dist(dora.leadTime) +
        (dora.leadTime.unknown ? `; ${dora.leadTime.unknown} with no lead time yet` : '') +
        (dora.leadTime.skewed
          ? `; ${dora.leadTime.skewed} left out (commit dated after its deployment)`
          : ''),
    ],
    [
      'change failure rate',
      dora.changeFailureRate === undefined
        ? 'no deployments'
        : `${(dora.changeFailureRate * 100).toFixed(1)}% (${dora.byOutcome.failed + dora.byOutcome.rolled_back} of ${dora.deployments})`,
    ],
    ['time to restore (drift)', dist(dora.timeToRestore.drift)],
    ['time to restore (failed deployment)', dist(dora.timeToRestore.failedDeployment)],
    ['drifts detected', SEVERITIES.map((s) => `${drift.detected[s]} ${s}`).join(', ')],
    [
      'drift time to detect',
      dist(drift.timeToDetect) +
        (drift.timeToDetect.onsetUnknown ? `; ${drift.timeToDetect.onsetUnknown} with no known onset` : ''),
    ],
    ['drift time to restore', dist(drift.timeToRestore)],
  ];
  return `${r.environment}, ${r.window.from} to ${r.window.to}\n${formatTable(['FIGURE', 'VALUE'], rows)}`;
}
