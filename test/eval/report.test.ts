import { drawOperator, parseReaction, seededRandom } from '../../drift/eval/operator';
import { resultFiles } from '../../drift/eval/report';
import { EvalRun } from '../../drift/eval/run';
import { INTRUDER_IMAGE, scenarioFor } from '../../drift/eval/scenarios';
import { summarize, summaryTable } from '../../drift/eval/summary';
import { Arm, Trial } from '../../drift/eval/trial';
import { KubeObject } from '../../model/objects';

/* The report from fixed trials (no cluster): the statistics it shows, and the same bytes every time. */

function trialOf(scenario: Trial['scenario'], arm: Arm, n: number, restore: number | null): Trial {
  return {
    scenario,
    arm,
    trial: n,
    onset: '2026-12-01T00:00:00.000Z',
    detected: null,
    restored: null,
    detectSeconds: restore === null ? null : restore / 2,
    restoreSeconds: restore,
    measuredSeconds: restore ?? 0,
    modelledSeconds: 0,
    parts: [],
    outcome: restore === null ? 'timeout' : 'restored',
    detail: 'fixture',
  };
}

const RUN: EvalRun = {
  environment: 'dev',
  subject: { service: 'app-service', namespace: 'dev-web', commit: 'abcdef0123456789' },
  settings: {
    trials: 5,
    arms: ['manual', 'converge', 'argocd'],
    seed: 1,
    reaction: 'fixed:1m',
    timeoutSeconds: 60,
    argocdSyncPolicy: {},
  },
  skipped: [{ scenario: 'delete-secret', why: "app-service's chart renders no Secret" }],
  trials: [
    ...[0.4, 0.5, 0.6, 0.45, 0.55].map((v, i) => trialOf('scale-deployment', 'converge', i + 1, v)),
    ...[3.1, 2.9, 4.0, 3.3, null].map((v, i) => trialOf('scale-deployment', 'argocd', i + 1, v)),
    ...[301, 420, 280, 650, 390].map((v, i) => trialOf('scale-deployment', 'manual', i + 1, v)),
  ],
};

describe('converge eval report', () => {
  const summaries = summarize(RUN.trials);

  it('summarizes per arm, keeping the censored trial, and tests converge against the others', () => {
    const [s] = summaries;
    expect(s.arms.map((a) => [a.arm, a.n, a.censored, a.restore.median])).toEqual([
      ['converge', 5, 0, 0.5],
      ['argocd', 5, 1, 3.3],
      ['manual', 5, 0, 390],
    ]);
    const manual = s.comparisons.find((c) => c.against === 'manual')!;
    expect(manual.test).toMatchObject({ u: 0, method: 'exact', rankBiserial: 1 });
    expect(manual.test.p).toBeCloseTo(2 / 252, 12);
    expect(manual.significant).toBe(true);
    expect(summaryTable(summaries)).toMatch(
      /scale a Deployment +argocd +5 +1 +3\.30 \[2\.90, not restored\] \(94%\)/,
    );
  });

  it('renders box plots and CDFs as SVG offline, the same bytes each time', () => {
    const a = resultFiles(RUN, summaries);
    const b = resultFiles(RUN, summarize(RUN.trials));
    expect(a).toEqual(b);
    const svgs = a['report.html'].match(/<svg[\s\S]*?<\/svg>/g) ?? [];
    expect(svgs).toHaveLength(2);
    expect(svgs[0]).toContain('Time to restore per arm');
    expect(svgs[1]).toContain('empirical CDF');
    expect(a['report.html']).toContain('delete-secret: not run');
    expect(JSON.parse(a['trials.json']).trials).toHaveLength(15);
    // JSON has no Infinity: the censored upper bound is written as null.
    expect(JSON.parse(a['summary.json'])[0].arms[1].restore.high).toBeNull();
  }, 60_000);
});

describe('operator model', () => {
  it('draws the same waits for the same seed, never negative, around the stated median', () => {
    const terms = parseReaction('every:5m+lognormal:5m,1');
    const draw = (seed: number) => {
      const r = seededRandom(seed);
      return Array.from({ length: 2001 }, () => drawOperator(terms, r));
    };
    expect(draw(7)).toEqual(draw(7));
    const draws = draw(7);
    for (const [wait, reaction] of draws) {
      expect(wait).toBeGreaterThanOrEqual(0);
      expect(wait).toBeLessThan(300);
      expect(reaction).toBeGreaterThan(0);
    }
    const reactions = draws.map((d) => d[1]).sort((x, y) => x - y);
    expect(reactions[1000]).toBeGreaterThan(240);
    expect(reactions[1000]).toBeLessThan(360);
  });
});

describe('scenarios', () => {
  const deployment: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'ns' },
    spec: { replicas: 2, template: { spec: { containers: [{ name: 'web', image: 'ghcr.io/o/web:1' }] } } },
  };

  it('scales by 3 and is restored at the declared replicas only', () => {
    const s = scenarioFor('scale-deployment', [deployment])!;
    expect(s.mutation).toMatchObject({ subresource: '/scale', body: { spec: { replicas: 5 } } });
    expect(s.restored(deployment)).toBe(true);
    expect(s.restored({ ...deployment, spec: { ...(deployment.spec as object), replicas: 5 } })).toBe(false);
    expect(s.restored(undefined)).toBe(false);
  });

  it("changes the image to an intruder's and is restored at the declared image", () => {
    const s = scenarioFor('change-image', [deployment])!;
    expect(JSON.stringify(s.mutation.body)).toContain(INTRUDER_IMAGE);
    expect(
      s.restored({
        ...deployment,
        metadata: { ...deployment.metadata, deletionTimestamp: 'x' },
      } as KubeObject),
    ).toBe(false);
  });

  it('has no Secret scenario when the chart renders no Secret', () => {
    expect(scenarioFor('delete-secret', [deployment])).toBeUndefined();
  });
});
