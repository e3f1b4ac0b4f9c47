import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import { percentile } from '../../model/statistics';

/*
 * The evaluation's statistics, pure. A trial that never restored is a censored value, passed as
 * Infinity: it ranks above every restored trial (tied with the other censored ones), so a
 * reconciler that fails is never flattered by dropping its failures.
 */

export interface MedianEstimate {
  readonly n: number;
  readonly median: number;
  /** Distribution-free interval from order statistics; `coverage` is its exact binomial coverage. */
  readonly low: number;
  readonly high: number;
  readonly coverage: number;
  readonly p95: number;
}

/** Binomial(n, 1/2) probabilities, exactly enough for n up to a few hundred. */
function binomialHalf(n: number): number[] {
  const p: number[] = [];
  let c = Math.pow(0.5, n);
  for (let k = 0; k <= n; k++) {
    p.push(c);
    c = (c * (n - k)) / (k + 1);
  }
  return p;
}

/**
 * Median with the binomial order-statistic confidence interval (no resampling, so no seed): the
 * narrowest symmetric ranks [x(l), x(n+1-l)] whose coverage P(l ≤ B < n+1-l), B ~ Binomial(n, 1/2),
 * is at least `confidence`; with too few values for that, the whole range and its (lower) coverage.
 */
export function estimateMedian(values: readonly number[], confidence = 0.95): MedianEstimate {
  if (values.length === 0) throw new Error('estimateMedian: no values');
  const x = [...values].sort((a, b) => a - b);
  const n = x.length;
  const pmf = binomialHalf(n);
  const coverageOf = (l: number) => pmf.slice(l, n + 1 - l).reduce((s, v) => s + v, 0);
  let l = 1;
  while (l + 1 <= n - l && coverageOf(l + 1) >= confidence) l++;
  // Infinity (censored) averages to Infinity: a median that did not restore says so.
  const mid = n % 2 ? x[(n - 1) / 2] : (x[n / 2 - 1] + x[n / 2]) / 2;
  return {
    n,
    median: mid,
    low: x[l - 1],
    high: x[n - l],
    coverage: coverageOf(l),
    p95: percentile(x, 95),
  };
}

/** Average ranks (1-based) of the pooled values, and the sizes of the groups of ties. */
export function rankWithTies(values: readonly number[]): { ranks: number[]; ties: number[] } {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(values.length);
  const ties: number[] = [];
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    const rank = (i + j + 2) / 2;
    for (let k = i; k <= j; k++) ranks[order[k][1]] = rank;
    ties.push(j - i + 1);
    i = j + 1;
  }
  return { ranks, ties };
}

export interface MannWhitney {
  /** U of the first sample, as SciPy's `mannwhitneyu(x, y).statistic`. */
  readonly u: number;
  readonly p: number;
  readonly method: 'exact' | 'asymptotic';
  /** P(x < y) + P(x = y)/2: the chance a trial of x restores sooner than one of y. */
  readonly commonLanguage: number;
  /** Rank-biserial correlation, 2·commonLanguage − 1: +1 when every x is below every y. */
  readonly rankBiserial: number;
}

/** Counts of each U for sizes m, n with no ties (Mann and Whitney's recurrence), as probabilities. */
function exactUDistribution(m: number, n: number): number[] {
  // f[i][j][u]: arrangements of i x's and j y's with statistic u; built up one value at a time.
  let prev: number[][] = Array.from({ length: n + 1 }, () => [1]);
  for (let i = 1; i <= m; i++) {
    const cur: number[][] = [[1]];
    for (let j = 1; j <= n; j++) {
      const a = prev[j]; // the largest value is an x: it beats j y's
      const b = cur[j - 1]; // the largest value is a y
      const out = new Array<number>(i * j + 1).fill(0);
      a.forEach((c, u) => (out[u + j] += c));
      b.forEach((c, u) => (out[u] += c));
      cur.push(out);
    }
    prev = cur;
  }
  const counts = prev[n];
  const total = counts.reduce((s, c) => s + c, 0);
  return counts.map((c) => c / total);
}

/**
 * Two-sided Mann-Whitney U test as `scipy.stats.mannwhitneyu(x, y)` computes it by default
 * (`use_continuity=True`, `method='auto'`): exact when either sample has at most 8 values and
 * there are no ties, otherwise the normal approximation with the tie and continuity corrections.
 * Hand-written: no maintained npm package computes it as SciPy does (exact, ties, continuity).
 */
export function mannWhitneyU(x: readonly number[], y: readonly number[]): MannWhitney {
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) throw new Error('mannWhitneyU: both samples need values');
  const { ranks, ties } = rankWithTies([...x, ...y]);
  const r1 = ranks.slice(0, n1).reduce((s, r) => s + r, 0);
  const u1 = r1 - (n1 * (n1 + 1)) / 2;
  const u2 = n1 * n2 - u1;
  const big = Math.max(u1, u2);
  const hasTies = ties.some((t) => t > 1);
  const commonLanguage = 1 - u1 / (n1 * n2);
  const effect = { commonLanguage, rankBiserial: 2 * commonLanguage - 1 };
  if (Math.min(n1, n2) <= 8 && !hasTies) {
    const pmf = exactUDistribution(n1, n2);
    const tail = pmf.slice(Math.round(big)).reduce((s, v) => s + v, 0);
    return { u: u1, p: Math.min(1, 2 * tail), method: 'exact', ...effect };
  }
  const n = n1 + n2;
  const tieTerm = ties.reduce((s, t) => s + (t * t * t - t), 0) / (n * (n - 1));
  const sd = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm));
  // Every value tied: no variance, and no evidence either way.
  if (sd === 0) return { u: u1, p: 1, method: 'asymptotic', ...effect };
  const z = (big - (n1 * n2) / 2 - 0.5) / sd;
  return { u: u1, p: Math.min(1, 2 * normalCdf(-z, 0, 1)), method: 'asymptotic', ...effect };
}
