import { SEVERITIES, Severity } from '../../model/drift-policy';
import { StoredRecord } from '../audit';
import { secondsSince } from '../controller/reconciler';
import { Deployment, deploymentRestores, isSkewed, leadTimeSeconds } from './deployments';

/*
 * The four DORA figures and the drift figures of one environment over a window, from deployments
 * (deployments.ts) and DriftRecords. Pure; `converge report` prints these, and the collector feeds
 * the same samples to the controller's metrics.
 */

export interface Window {
  readonly from: Date;
  readonly to: Date;
}

/** A sample's median and 95th percentile, with its size; no quantile of nothing. */
export interface Distribution {
  readonly count: number;
  readonly median?: number;
  readonly p95?: number;
}

/**
 * The q-quantile by linear interpolation between the closest ranks (numpy's default, Hyndman-Fan
 * type 7). Hand-written: five lines, and no dependency here computes it.
 */
export function quantile(values: readonly number[], q: number): number | undefined {
  if (!values.length) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  return sorted[lo] + (h - lo) * ((sorted[Math.min(lo + 1, sorted.length - 1)] ?? sorted[lo]) - sorted[lo]);
}

export const distribution = (values: readonly number[]): Distribution => ({
  count: values.length,
  median: quantile(values, 0.5),
  p95: quantile(values, 0.95),
});

const inWindow = (iso: string, w: Window) => {
  const t = Date.parse(iso);
  return t >= w.from.getTime() && t <= w.to.getTime();
};

/** A drift that ended with its object back in its Git state (not superseded by a new drift of it). */
export function isHealed(rec: StoredRecord): boolean {
  return rec.event === 'restored' && !(rec.outcome ?? '').startsWith('superseded');
}

export interface DriftRestore {
  readonly driftId: string;
  readonly severity: Severity;
  /** The restored record's name, for counting it once. */
  readonly record: string;
  readonly at: string;
  readonly seconds: number;
}

/** Drifts healed (onset → restored), with a trustworthy onset, in record order. */
export function driftRestores(records: readonly StoredRecord[]): DriftRestore[] {
  const detected = new Map(records.filter((r) => r.event === 'detected').map((r) => [r.driftId, r]));
  const out: DriftRestore[] = [];
  for (const r of records) {
    if (!isHealed(r)) continue;
    const d = detected.get(r.driftId);
    const seconds = secondsSince(d?.onset ?? r.onset, Date.parse(r.at));
    if (seconds === undefined) continue;
    out.push({
      driftId: r.driftId,
      severity: d?.severity ?? r.severity ?? 'low',
      record: r.name,
      at: r.at,
      seconds,
    });
  }
  return out;
}

export interface DoraFigures {
  readonly deployments: number;
  /** Deployments per day over the window. */
  readonly deploymentsPerDay: number;
  readonly byOutcome: Readonly<Record<'succeeded' | 'failed' | 'rolled_back', number>>;
  /** (failed + rolled_back) / deployments; undefined with no deployments. */
  readonly changeFailureRate?: number;
  /** Seconds, commit → Synced and Healthy at it. */
  readonly leadTime: Distribution & {
    /** Deployments with no lead time: commit not in Git, not healthy yet, or failed. */
    readonly unknown: number;
    /** Commits dated after their deployment was healthy (clock skew), left out. */
    readonly skewed: number;
  };
  /** Seconds: drift onset → healed, and failed deployment → next healthy. */
  readonly timeToRestore: { readonly drift: Distribution; readonly failedDeployment: Distribution };
}

export interface DriftFigures {
  readonly detected: Readonly<Record<Severity, number>>;
  readonly timeToDetect: Distribution & { readonly onsetUnknown: number };
  readonly timeToRestore: Distribution;
}

export interface Report {
  readonly environment: string;
  readonly window: { readonly from: string; readonly to: string; readonly days: number };
  readonly dora: DoraFigures;
  readonly drift: DriftFigures;
}

export function doraFigures(
  deployments: readonly Deployment[],
  records: readonly StoredRecord[],
  w: Window,
): DoraFigures {
  const mine = deployments.filter((d) => inWindow(d.at, w));
  const byOutcome = { succeeded: 0, failed: 0, rolled_back: 0 };
  for (const d of mine) byOutcome[d.outcome]++;
  const days = Math.max(1e-9, (w.to.getTime() - w.from.getTime()) / 86_400_000);
  const lead = mine.map(leadTimeSeconds).filter((s): s is number => s !== undefined);
  const skewed = mine.filter(isSkewed).length;
  return {
    deployments: mine.length,
    deploymentsPerDay: mine.length / days,
    byOutcome,
    changeFailureRate: mine.length ? (byOutcome.failed + byOutcome.rolled_back) / mine.length : undefined,
    leadTime: {
      ...distribution(lead),
      unknown: mine.filter((d) => d.outcome !== 'failed').length - lead.length - skewed,
      skewed,
    },
    timeToRestore: {
      drift: distribution(
        driftRestores(records)
          .filter((r) => inWindow(r.at, w))
          .map((r) => r.seconds),
      ),
      failedDeployment: distribution(
        deploymentRestores(deployments)
          .filter((r) => inWindow(r.to, w))
          .map((r) => r.seconds),
      ),
    },
  };
}

export function driftFigures(records: readonly StoredRecord[], w: Window): DriftFigures {
  const detected = records.filter((r) => r.event === 'detected' && inWindow(r.at, w));
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const r of detected) bySeverity[r.severity ?? 'low']++;
  const ttd = detected
    .map((r) => secondsSince(r.onset, Date.parse(r.at)))
    .filter((s): s is number => s !== undefined);
  return {
    detected: bySeverity,
    timeToDetect: { ...distribution(ttd), onsetUnknown: detected.length - ttd.length },
    timeToRestore: distribution(
      driftRestores(records)
        .filter((r) => inWindow(r.at, w))
        .map((r) => r.seconds),
    ),
  };
}

/** The whole report of an environment: its records only (a cluster may hold several). */
export function report(
  environment: string,
  deployments: readonly Deployment[],
  records: readonly StoredRecord[],
  w: Window,
): Report {
  const own = records.filter((r) => r.environment === environment);
  return {
    environment,
    window: {
      from: w.from.toISOString(),
      to: w.to.toISOString(),
      days: (w.to.getTime() - w.from.getTime()) / 86_400_000,
    },
    dora: doraFigures(deployments, own, w),
    drift: driftFigures(own, w),
  };
}
