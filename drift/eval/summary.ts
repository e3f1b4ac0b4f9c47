import { formatTable } from '../../model/text';
import { ScenarioName, SCENARIOS, SCENARIO_TITLES } from './scenarios';
import { estimateMedian, mannWhitneyU, MannWhitney, MedianEstimate } from './stats';
import { Arm, ARMS, restoreValue, Trial } from './trial';

/* Per scenario and arm: n, the median time to restore with its 95% interval, p95, and the U tests. */

export const ALPHA = 0.05;

export interface ArmSummary {
  readonly arm: Arm;
  readonly n: number;
  /** Trials not restored (timeout, held for approval, failed): censored, ranked above the rest. */
  readonly censored: number;
  readonly restore: MedianEstimate;
  /** Over the trials where something noticed the drift; null when none did. */
  readonly detect: MedianEstimate | null;
}

export interface Comparison {
  readonly against: Arm;
  readonly test: MannWhitney;
  readonly significant: boolean;
}

export interface ScenarioSummary {
  readonly scenario: ScenarioName;
  readonly title: string;
  readonly arms: readonly ArmSummary[];
  /** Converge against each other arm, on time to restore. */
  readonly comparisons: readonly Comparison[];
}

export function summarize(trials: readonly Trial[]): ScenarioSummary[] {
  return SCENARIOS.filter((s) => trials.some((t) => t.scenario === s)).map((scenario) => {
    const of = (arm: Arm) => trials.filter((t) => t.scenario === scenario && t.arm === arm);
    const arms = ARMS.filter((a) => of(a).length).map((arm): ArmSummary => {
      const ts = of(arm);
      const detected = ts.filter((t) => t.detectSeconds !== null).map((t) => t.detectSeconds!);
      return {
        arm,
        n: ts.length,
        censored: ts.filter((t) => t.restoreSeconds === null).length,
        restore: estimateMedian(ts.map(restoreValue)),
        detect: detected.length ? estimateMedian(detected) : null,
      };
    });
    const converge = of('converge').map(restoreValue);
    const comparisons = converge.length
      ? (['manual', 'argocd'] as const)
          .filter((a) => of(a).length)
          .map((against): Comparison => {
            const test = mannWhitneyU(converge, of(against).map(restoreValue));
            return { against, test, significant: test.p < ALPHA };
          })
      : [];
    return { scenario, title: SCENARIO_TITLES[scenario], arms, comparisons };
  });
}

/** Seconds for a table: censored values read as "not restored". */
export const fmt = (v: number) => (v === Infinity ? 'not restored' : v.toFixed(2));
const fmtP = (p: number) => (p < 0.0001 ? p.toExponential(1) : p.toFixed(4));

export const SUMMARY_HEADERS = [
  'SCENARIO',
  'ARM',
  'N',
  'NOT RESTORED',
  'MEDIAN s [95% CI]',
  'P95 s',
  'DETECT MEDIAN s',
  'U vs CONVERGE',
  'p',
  'EFFECT (r)',
  'SIGNIFICANT',
];

/** The summary as rows of text, one per scenario and arm; the tests are on the other arms' rows. */
export function summaryRows(summaries: readonly ScenarioSummary[]): string[][] {
  return summaries.flatMap((s) =>
    s.arms.map((a) => {
      const c = s.comparisons.find((x) => x.against === a.arm);
      return [
        s.title,
        a.arm,
        String(a.n),
        String(a.censored),
        `${fmt(a.restore.median)} [${fmt(a.restore.low)}, ${fmt(a.restore.high)}]${a.restore.coverage < 0.95 ? ` (${(a.restore.coverage * 100).toFixed(0)}%)` : ''}`,
        fmt(a.restore.p95),
        a.detect ? fmt(a.detect.median) : '-',
        c ? String(c.test.u) : '-',
        c ? fmtP(c.test.p) : '-',
        c ? c.test.rankBiserial.toFixed(2) : '-',
        c ? (c.significant ? 'yes' : 'no') : '-',
      ];
    }),
  );
}

export const summaryTable = (summaries: readonly ScenarioSummary[]) =>
  formatTable(SUMMARY_HEADERS, summaryRows(summaries));
