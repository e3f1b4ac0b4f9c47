import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { estimateMedian, mannWhitneyU, rankWithTies } from '../../drift/eval/stats';

/*
 * The evaluation's statistics against SciPy's, computed live: tools/python.mjs keeps a venv with
 * pinned SciPy under the cache, and each case's samples go to scipy.stats.mannwhitneyu and
 * numpy as they are. Nothing SciPy answers is written down here.
 */

const ROOT = join(__dirname, '..', '..');
const SCIPY = `
import json, sys
import numpy as np
from scipy.stats import mannwhitneyu
out = []
for case in json.load(sys.stdin):
    x = [float(v) for v in case["x"]]
    y = [float(v) for v in case["y"]]
    r = mannwhitneyu(x, y, alternative="two-sided")
    out.append({"u": float(r.statistic), "p": float(r.pvalue),
                "median": str(float(np.median(x))),
                "p95": str(float(np.percentile(x, 95, method="inverted_cdf")))})
json.dump(out, sys.stdout)
`;

interface Case {
  readonly name: string;
  readonly x: number[];
  readonly y: number[];
}

/** A small seeded generator (mulberry32), so the random cases are the same on every run. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIXED: Case[] = [
  { name: 'small, no ties (exact)', x: [1.2, 3.4, 0.7, 2.2, 5.1], y: [4.4, 6.0, 7.3, 3.9, 8.8, 5.5] },
  { name: 'small, separated (exact)', x: [1, 2, 3], y: [4, 5, 6] },
  { name: 'small, with ties (asymptotic)', x: [1, 2, 2, 3, 5], y: [2, 3, 3, 4, 6, 6] },
  {
    name: 'n = 9 each, no ties (asymptotic)',
    x: [1, 3, 5, 7, 9, 11, 13, 15, 17],
    y: [2, 4, 6, 8, 10, 12, 14, 16, 30],
  },
  {
    name: 'n = 20 each, many ties',
    x: [1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 4, 4, 5, 5, 5, 6, 7, 8, 9, 9],
    y: [3, 3, 4, 4, 4, 5, 5, 6, 6, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11],
  },
  { name: 'censored trials as +inf', x: [0.4, 0.5, 0.5, 0.6], y: [300, 420, Infinity, Infinity, 250] },
  { name: 'identical samples', x: [2, 2, 2], y: [2, 2, 2, 2] },
];

function randomCases(): Case[] {
  const next = rng(20261201);
  return Array.from({ length: 40 }, (_, i) => {
    const n1 = 1 + Math.floor(next() * 30);
    const n2 = 1 + Math.floor(next() * 30);
    // Every other case rounds to whole numbers, so ties are common.
    const value = () => (i % 2 ? Math.round(next() * 10) : Math.round(next() * 1e6) / 1e3);
    return {
      name: `random ${i}`,
      x: Array.from({ length: n1 }, value),
      y: Array.from({ length: n2 }, value),
    };
  });
}

const asPython = (v: number) => (v === Infinity ? 'inf' : String(v));

function scipy(cases: readonly Case[]): { u: number; p: number; median: string; p95: string }[] {
  const python = execFileSync('node', [join(ROOT, 'tools', 'python.mjs'), '--print'], {
    encoding: 'utf8',
  }).trim();
  const input = JSON.stringify(cases.map((c) => ({ x: c.x.map(asPython), y: c.y.map(asPython) })));
  return JSON.parse(execFileSync(python, ['-c', SCIPY], { input, encoding: 'utf8' }));
}

describe('statistics against SciPy', () => {
  const cases = [...FIXED, ...randomCases()];
  let expected: ReturnType<typeof scipy>;
  beforeAll(() => {
    expected = scipy(cases);
  }, 300_000);

  it.each(cases.map((c, i) => [c.name, i] as const))('Mann-Whitney U and p match scipy: %s', (_name, i) => {
    const c = cases[i];
    const ours = mannWhitneyU(c.x, c.y);
    expect(ours.u).toBeCloseTo(expected[i].u, 9);
    expect(ours.p).toBeCloseTo(expected[i].p, 9);
    expect(Math.abs(ours.p - expected[i].p)).toBeLessThanOrEqual(1e-9 * Math.max(1, expected[i].p));
  });

  it.each(cases.map((c, i) => [c.name, i] as const))('median and p95 match numpy: %s', (_name, i) => {
    const m = estimateMedian(cases[i].x);
    expect(String(m.median === Infinity ? 'inf' : m.median)).toBe(
      expected[i].median === 'inf' ? 'inf' : String(Number(expected[i].median)),
    );
    expect(m.p95).toBe(Number(expected[i].p95));
  });
});

describe('median confidence interval (binomial order statistics)', () => {
  it('gives ranks 6 and 15 of 20 at 95% (coverage 95.9%)', () => {
    const x = Array.from({ length: 20 }, (_, i) => i + 1);
    const m = estimateMedian(x);
    expect([m.low, m.high]).toEqual([6, 15]);
    expect(m.coverage).toBeCloseTo(0.9586, 4);
  });

  it('falls back to the whole range, with its lower coverage, for 3 values', () => {
    const m = estimateMedian([3, 1, 2]);
    expect([m.low, m.median, m.high]).toEqual([1, 2, 3]);
    expect(m.coverage).toBeCloseTo(0.75, 10);
  });

  it('keeps censored trials: a median above every restored value is Infinity', () => {
    expect(estimateMedian([1, Infinity, Infinity]).median).toBe(Infinity);
  });
});

describe('effect size', () => {
  it('is +1 when every first value is below every second one', () => {
    const r = mannWhitneyU([1, 2, 3], [4, 5, 6]);
    expect(r.rankBiserial).toBe(1);
    expect(r.commonLanguage).toBe(1);
  });

  it('counts ties as half', () => {
    expect(mannWhitneyU([1, 2], [2, 3]).commonLanguage).toBe(0.875);
    expect(rankWithTies([5, 1, 5, 3]).ranks).toEqual([3.5, 1, 3.5, 2]);
  });
});
