import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { EvalRun } from './run';
import { ALPHA, fmt, SUMMARY_HEADERS, summaryRows, ScenarioSummary } from './summary';
import { SCENARIOS } from './scenarios';
import { ARM_TITLES } from './trial';

/*
 * The HTML report: box plots and CDFs of the time to restore drawn by Vega-Lite, rendered to SVG
 * in Node (no browser, no network), the summary table, and the methods. Same trials, same bytes.
 */

type Spec = Record<string, unknown>;

/** Box plots of the restored trials per arm, one panel per scenario, on a log scale. */
export function boxPlotSpec(run: Pick<EvalRun, 'trials'>): Spec {
  const values = run.trials
    .filter((t) => t.restoreSeconds !== null)
    .map((t) => ({ scenario: t.scenario, arm: t.arm, seconds: Math.max(t.restoreSeconds!, 0.001) }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Time to restore per arm (restored trials; log scale)',
    data: { values },
    facet: { column: { field: 'scenario', type: 'nominal', title: null, sort: [...SCENARIOS] } },
    spec: {
      width: 140,
      height: 260,
      mark: { type: 'boxplot', extent: 1.5 },
      encoding: {
        x: { field: 'arm', type: 'nominal', title: null, sort: ['converge', 'argocd', 'manual'] },
        y: { field: 'seconds', type: 'quantitative', scale: { type: 'log' }, title: 'seconds to restore' },
        color: { field: 'arm', type: 'nominal', legend: null, sort: ['converge', 'argocd', 'manual'] },
      },
    },
  };
}

/** Empirical CDFs per arm, one panel per scenario; censored trials keep a curve below 1. */
export function cdfSpec(run: Pick<EvalRun, 'trials'>): Spec {
  const values: { scenario: string; arm: string; seconds: number; share: number }[] = [];
  const groups = new Map<string, number[]>();
  for (const t of run.trials) {
    const key = `${t.scenario}\u0000${t.arm}`;
    groups.set(key, [...(groups.get(key) ?? []), t.restoreSeconds === null ? Infinity : t.restoreSeconds]);
  }
  for (const [key, xs] of [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const [scenario, arm] = key.split('\u0000');
    const sorted = [...xs].sort((a, b) => a - b);
    sorted.forEach((v, i) => {
      if (v !== Infinity)
        values.push({ scenario, arm, seconds: Math.max(v, 0.001), share: (i + 1) / sorted.length });
    });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Share of trials restored by a time (empirical CDF; log scale)',
    data: { values },
    facet: { column: { field: 'scenario', type: 'nominal', title: null, sort: [...SCENARIOS] } },
    spec: {
      width: 170,
      height: 200,
      mark: { type: 'line', interpolate: 'step-after', point: true },
      encoding: {
        x: { field: 'seconds', type: 'quantitative', scale: { type: 'log' }, title: 'seconds' },
        y: { field: 'share', type: 'quantitative', scale: { domain: [0, 1] }, title: 'restored' },
        color: { field: 'arm', type: 'nominal', sort: ['converge', 'argocd', 'manual'] },
      },
    },
  };
}

// vega and vega-lite are ES modules with top-level await, which CommonJS cannot require: a child
// Node renders them, reading the specs on stdin and printing the SVGs as JSON.
const RENDER = (vega: string, vegaLite: string) => `
import * as vega from ${JSON.stringify(vega)};
import * as vl from ${JSON.stringify(vegaLite)};
let input = '';
for await (const chunk of process.stdin) input += chunk;
const out = [];
for (const spec of JSON.parse(input)) {
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  out.push(await view.toSVG());
  view.finalize();
}
process.stdout.write(JSON.stringify(out));
`;

/** Each Vega-Lite spec as an SVG document, rendered offline. */
export function renderSvgs(specs: readonly Spec[]): string[] {
  const url = (m: string) => pathToFileURL(require.resolve(m)).href;
  const script = RENDER(url('vega'), url('vega-lite'));
  return JSON.parse(
    execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      input: JSON.stringify(specs),
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    }),
  );
}

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function reportHtml(
  run: EvalRun,
  summaries: readonly ScenarioSummary[],
  svgs: readonly string[],
): string {
  const rows = summaryRows(summaries)
    .map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`)
    .join('\n');
  const skipped = run.skipped.map((s) => `<li>${esc(s.scenario)}: not run, ${esc(s.why)}</li>`).join('');
  const arms = run.settings.arms.map((a) => `<li><b>${a}</b>: ${esc(ARM_TITLES[a])}</li>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>converge eval: ${esc(run.environment)}</title>
<style>
body { font: 14px/1.4 sans-serif; margin: 24px; color: #222; }
table { border-collapse: collapse; margin: 12px 0; }
td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: left; white-space: nowrap; }
th { background: #f3f3f3; }
figure { margin: 16px 0; overflow-x: auto; }
</style></head>
<body>
<h1>Manual vs GitOps drift recovery: ${esc(run.environment)}</h1>
<p>Subject: ${esc(run.subject.service)} in ${esc(run.subject.namespace)}${run.subject.commit ? ` at ${esc(run.subject.commit.slice(0, 12))}` : ''}; ${run.settings.trials} trials per scenario and arm; seed ${run.settings.seed}; trial timeout ${run.settings.timeoutSeconds} s; operator model <code>${esc(run.settings.reaction)}</code>.</p>
<ul>${arms}</ul>
${skipped ? `<ul>${skipped}</ul>` : ''}
<h2>Summary</h2>
<table><thead><tr>${SUMMARY_HEADERS.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead>
<tbody>
${rows}
</tbody></table>
<p>Times are seconds from the drift to the live object back in its Git state. Medians carry a distribution-free 95% interval from order statistics (binomial; a lower coverage is shown when there are too few trials); p95 is the nearest rank. U is the two-sided Mann-Whitney U of converge's trials against the row's arm, as <code>scipy.stats.mannwhitneyu</code> computes it (exact for small samples without ties, otherwise normal with tie and continuity corrections); r is the rank-biserial correlation, +1 when every converge trial restored sooner; significant at α = ${ALPHA}. A trial that was not restored (shown as "${fmt(Infinity)}") ranks above every restored one. In the manual arm the wait before the fix is drawn from the operator model, not slept; the fix (helm upgrade, or for the Secret Git does not hold, <code>kubectl apply</code> of the operator's own copy) and the restore are measured; <a href="trials.json">trials.json</a> says which part of each trial is which.</p>
${svgs.map((s) => `<figure>${s}</figure>`).join('\n')}
</body></html>
`;
}

/** Every file of a run's results, by name: the trials, the summary and the report. Same run, same bytes. */
export function resultFiles(run: EvalRun, summaries: readonly ScenarioSummary[]): Record<string, string> {
  const svgs = renderSvgs([boxPlotSpec(run), cdfSpec(run)]);
  // JSON has no Infinity: a censored statistic is written as null.
  const finite = (_k: string, v: unknown) => (v === Infinity ? null : v);
  return {
    'trials.json': `${JSON.stringify(run, null, 2)}\n`,
    'summary.json': `${JSON.stringify(summaries, finite, 2)}\n`,
    'report.html': reportHtml(run, summaries, svgs),
  };
}
