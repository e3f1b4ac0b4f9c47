import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { launchChromium } from '../browser';
import {
  fileOnServer,
  GIT_URL,
  KUBECONFIG,
  restartArgoCdController,
  restoreArgoCd,
  RESULTS_DIR,
  ROOT,
} from '../../tools/cluster/harness';
import { platformOnServer, release } from '../../tools/cluster/releases';
import { EvalRun } from '../../drift/eval/run';

/*
 * A short `converge eval` on the local control plane: dev's services installed by helm, all six
 * scenarios (delete-secret on a Secret app-service needs and Git does not hold), three arms, two
 * trials each. It checks the trials, the summary and the report are written and sane, and keeps a
 * screenshot of the report in the results folder.
 */

/** Argo CD's own controller defaults (what a fresh install runs with), as bench/cluster-bench.ts sets them. */
const ARGOCD_DEFAULTS = {
  CONVERGE_ARGOCD_APP_RESYNC: '120s',
  CONVERGE_ARGOCD_APP_RESYNC_JITTER: '60s',
  CONVERGE_ARGOCD_SELF_HEAL_BACKOFF_TIMEOUT: '2',
  CONVERGE_ARGOCD_SELF_HEAL_BACKOFF_FACTOR: '3',
  CONVERGE_ARGOCD_SELF_HEAL_BACKOFF_CAP: '300',
};

const OUT = join(RESULTS_DIR, 'eval');
/** Two trials in CI; `CONVERGE_EVAL_TRIALS=20` runs the full evaluation the same way (README, "Evaluation"). */
const TRIALS = process.env.CONVERGE_EVAL_TRIALS ?? '2';
let stacks: string;
let result: { code: number | null; stdout: string; stderr: string; seconds: number };

beforeAll(() => {
  restoreArgoCd();
  // Argo CD must read dev's charts from the local Git server: commit dev pointed there.
  if ((platformOnServer('dev').git as { repoURL?: string } | undefined)?.repoURL !== GIT_URL)
    release('dev', { 'git.repoURL': GIT_URL }, 'dev: served by the local Git server');
  stacks = mkdtempSync(join(tmpdir(), 'converge-eval-stacks-'));
  writeFileSync(join(stacks, 'Pulumi.dev.yaml'), fileOnServer('stacks/Pulumi.dev.yaml'));
  restartArgoCdController(ARGOCD_DEFAULTS);
  rmSync(OUT, { recursive: true, force: true });
  const started = performance.now();
  const r = spawnSync(
    'node',
    [
      join(ROOT, 'dist', 'cli', 'main.js'),
      'eval',
      '--env',
      'dev',
      '--stacks-dir',
      stacks,
      '--kubeconfig',
      KUBECONFIG,
      '--trials',
      TRIALS,
      '--timeout',
      '120',
      '--out',
      OUT,
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  result = {
    code: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    seconds: (performance.now() - started) / 1000,
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(
    join(RESULTS_DIR, 'eval-output.txt'),
    `${result.stdout}\n--- stderr\n${result.stderr}\n--- ${result.seconds.toFixed(0)} s\n`,
  );
}, 7_200_000);

afterAll(() => {
  restartArgoCdController();
  rmSync(stacks, { recursive: true, force: true });
});

describe('converge eval on the local control plane', () => {
  it('exits 0 and prints the summary table', () => {
    if (result.code !== 0)
      throw new Error(`converge eval exited ${result.code}:\n${result.stderr.slice(-4000)}`);
    expect(result.stdout).toMatch(/^SCENARIO +ARM +N +NOT RESTORED +MEDIAN s \[95% CI\]/);
    expect(result.stdout).not.toContain('not run');
    expect(result.stderr).toContain(
      'made Secret app-service-eval-credentials in dev-web, which app-service needs and Git does not hold',
    );
  });

  it("never shows the Secret's random value", () => {
    // The value is 48 hex digits (base64 in data): neither form is in any output or file.
    const texts = [
      result.stdout,
      result.stderr,
      ...['trials.json', 'summary.json', 'report.html'].map((f) => readFileSync(join(OUT, f), 'utf8')),
    ];
    for (const text of texts) {
      expect(text).not.toMatch(/\b[0-9a-f]{48}\b/);
      expect(text).not.toContain('EVAL_API_TOKEN');
    }
  });

  it('writes every trial, restored after its onset, with the modelled and measured parts apart', () => {
    const run = JSON.parse(readFileSync(join(OUT, 'trials.json'), 'utf8')) as EvalRun;
    expect(run.skipped).toEqual([]);
    expect(run.trials).toHaveLength(6 * 3 * Number(TRIALS));
    for (const t of run.trials) {
      if (t.scenario === 'delete-secret' && t.arm === 'argocd') {
        // No Application holds the Secret: Argo CD cannot restore it, and the trial says so.
        expect(t).toMatchObject({ outcome: 'timeout', restored: null, restoreSeconds: null, parts: [] });
        expect(t.detail).toContain('Argo CD does not restore what Git does not hold: waited 20 s');
        continue;
      }
      expect(t.outcome).toBe('restored');
      expect(Date.parse(t.restored!)).toBeGreaterThan(Date.parse(t.onset));
      expect(t.restoreSeconds).toBeGreaterThan(0);
      if (t.arm === 'manual') {
        expect(t.modelledSeconds).toBeGreaterThan(0);
        expect(t.parts.find((p) => !p.modelled)?.what).toMatch(
          t.scenario === 'delete-secret'
            ? /^kubectl apply --server-side -f <Secret app-service-eval-credentials, kept by the operator>$/
            : /^helm upgrade app-service/,
        );
        expect(t.restoreSeconds!).toBeCloseTo(t.modelledSeconds + t.measuredSeconds, 1);
      } else {
        expect(t.modelledSeconds).toBe(0);
        // The controller records every drift it detects; a watch on Argo CD's Application may miss a short OutOfSync.
        if (t.arm === 'converge') expect(t.detectSeconds).not.toBeNull();
        if (t.detectSeconds !== null) expect(t.detectSeconds).toBeLessThanOrEqual(t.restoreSeconds!);
      }
    }
  });

  it('finds converge faster than the modelled manual operator in the median of every scenario', () => {
    const summaries = JSON.parse(readFileSync(join(OUT, 'summary.json'), 'utf8')) as {
      scenario: string;
      arms: { arm: string; restore: { median: number | null } }[];
      comparisons: { against: string; test: { u: number; p: number } }[];
    }[];
    expect(summaries.map((s) => s.scenario)).toHaveLength(6);
    for (const s of summaries) {
      const median = (arm: string) => s.arms.find((a) => a.arm === arm)!.restore.median;
      expect(median('converge')).toBeLessThan(median('manual')!);
      // Argo CD restored none: its median is censored (JSON null, "not restored" in the table).
      if (s.scenario === 'delete-secret') expect(median('argocd')).toBeNull();
      expect(s.comparisons.map((c) => c.against).sort()).toEqual(['argocd', 'manual']);
      for (const c of s.comparisons) expect(c.test.p).toBeGreaterThan(0);
    }
  });

  it('opens the report in headless Chromium and keeps a screenshot', async () => {
    const html = join(OUT, 'report.html');
    expect(readFileSync(html, 'utf8')).toContain('<svg');
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`file://${html}`);
      expect(await page.locator('svg').count()).toBe(2);
      expect(await page.locator('tbody tr').count()).toBe(18);
      const shot = join(RESULTS_DIR, 'eval-report.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(existsSync(shot) && statSync(shot).size).toBeGreaterThan(10_000);
    } finally {
      await browser.closeAndClean();
    }
  });
});
