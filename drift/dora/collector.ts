import { ArgoApplication } from '../../model/argo-application';
import { StoredRecord } from '../audit';
import { DriftMetrics } from '../metrics';
import {
  CommitSource,
  DEPLOYMENT_OUTCOMES,
  deploymentRestores,
  deploymentsOf,
  FailedSync,
  failedSyncOf,
  leadTimeSeconds,
} from './deployments';
import { driftRestores } from './figures';

/*
 * Feeds the `converge_dora_*` metrics on each resync, from what Argo CD and the audit trail say
 * then. Each deployment, lead time and restore is counted once: by id within a process, and only
 * when it happened after the process started, so a restarted controller does not count again what
 * its predecessor did (what happened while no controller ran is in `converge report`, not here).
 */

export interface DoraSources {
  readonly environment: string;
  /** The desired-state repo, to pick an Application's revision in it. @default its only source */
  readonly repoURL?: string;
  applications(): Promise<readonly ArgoApplication[]>;
  /** Commits, fetched anew for this resync. */
  commits(): CommitSource;
}

export interface DoraCollectorOptions {
  /** Events before this are never counted (the process start). @default now */
  readonly startedAt?: Date;
  /** The change failure rate covers deployments in this trailing window. @default 7 days */
  readonly windowMs?: number;
  readonly now?: () => Date;
}

const NO_COMMITS: CommitSource = { commit: () => undefined, between: () => [] };

type DoraMetrics = Pick<
  DriftMetrics,
  'doraDeployments' | 'doraLeadTime' | 'doraTimeToRestore' | 'doraChangeFailureRate'
>;

export class DoraCollector {
  /** What was counted (deployments, lead times, restores), by id, with when it happened. */
  private readonly counted = new Map<string, number>();
  /** Failed syncs seen: Argo CD keeps only the last operation, so a later sync would hide them. */
  private readonly failed = new Map<string, FailedSync>();
  private since: number;
  private readonly windowMs: number;

  constructor(
    private readonly metrics: DoraMetrics,
    private readonly sources: DoraSources,
    private readonly options: DoraCollectorOptions = {},
  ) {
    this.since = (options.startedAt ?? this.now()).getTime();
    this.windowMs = options.windowMs ?? 7 * 86_400_000;
    // Each series from 0: one first scraped at count 1 never rises in rate(), hiding what it observed first.
    const environment = sources.environment;
    metrics.doraLeadTime.zero({ environment });
    for (const cause of ['drift', 'failed_deployment'])
      metrics.doraTimeToRestore.zero({ environment, cause });
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  /** Once per key: true the first time, for events at or after the start. */
  private first(key: string, at: string): boolean {
    const t = Date.parse(at);
    if (!(t >= this.since) || this.counted.has(key)) return false;
    this.counted.set(key, t);
    return true;
  }

  public async collect(records: readonly StoredRecord[]): Promise<void> {
    const environment = this.sources.environment;
    const apps = await this.sources.applications();
    // No Applications (a cluster without Argo CD): no deployments, and no reason to fetch Git.
    const commits = apps.length ? this.sources.commits() : NO_COMMITS;
    for (const app of apps) {
      const f = failedSyncOf(app, this.sources.repoURL);
      if (f) this.failed.set(f.id, f);
      // Each series starts at 0: a counter first seen at 1 hides its first event from increase().
      for (const outcome of DEPLOYMENT_OUTCOMES)
        this.metrics.doraDeployments.inc({ environment, application: app.metadata.name, outcome }, 0);
    }
    const failed = [...this.failed.values()];
    const deployments = apps.flatMap((app) =>
      deploymentsOf(app, commits, { repoURL: this.sources.repoURL, failed }),
    );
    for (const d of deployments) {
      if (this.first(`deployment ${d.id}`, d.at))
        this.metrics.doraDeployments.inc({ environment, application: d.application, outcome: d.outcome });
      const lead = leadTimeSeconds(d);
      if (lead !== undefined && this.first(`lead ${d.id}`, d.at))
        this.metrics.doraLeadTime.observe({ environment }, lead);
    }
    for (const r of deploymentRestores(deployments))
      if (this.first(`restore ${r.id}`, r.to))
        this.metrics.doraTimeToRestore.observe({ environment, cause: 'failed_deployment' }, r.seconds);
    for (const r of driftRestores(records.filter((rec) => rec.environment === environment)))
      if (this.first(`drift ${r.record}`, r.at))
        this.metrics.doraTimeToRestore.observe({ environment, cause: 'drift' }, r.seconds);

    const now = this.now().getTime();
    const recent = deployments.filter((d) => Date.parse(d.at) >= now - this.windowMs);
    if (recent.length)
      this.metrics.doraChangeFailureRate.set(
        { environment },
        recent.filter((d) => d.outcome !== 'succeeded').length / recent.length,
      );
    // No deployments, no rate: an absent series rather than a made-up 0.
    else this.metrics.doraChangeFailureRate.remove({ environment });
    this.forget(now - this.windowMs);
  }

  /** Past the window nothing is counted any more, so what was counted then need not be remembered. */
  private forget(before: number): void {
    if (before <= this.since) return;
    this.since = before;
    for (const [key, t] of this.counted) if (t < before) this.counted.delete(key);
    for (const [id, f] of this.failed) if (Date.parse(f.at) < before) this.failed.delete(id);
  }
}
