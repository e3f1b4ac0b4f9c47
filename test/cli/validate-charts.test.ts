import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validate, validateEnvironment } from '../../cli/commands/validate';
import { main } from '../../cli/main';

/*
 * `converge validate` checks what the service charts render, not only what Converge synthesizes:
 * GIVEN a copy of the charts with one template broken, WHEN validate runs against it, THEN the
 * broken object is a `chart-schema` row named `<service>/<kind>/<name>` and the exit code is 1.
 */

jest.setTimeout(120_000);

// Passes through to the real one, so the test of render counts can see each helm call.
jest.mock('node:child_process', () => {
  const actual = jest.requireActual<typeof import('node:child_process')>('node:child_process');
  return { ...actual, execFileSync: jest.fn(actual.execFileSync) };
});

const CHARTS = join(__dirname, '..', '..', 'charts');
let dir: string;
let charts: string;

/** Edits one file of the charts copy, asserting the edit took. */
function edit(file: string, from: string, to: string): void {
  const path = join(charts, file);
  const text = readFileSync(path, 'utf8');
  expect(text).toContain(from);
  writeFileSync(path, text.replace(from, to));
}

function capture(run: () => number): { code: number; out: string } {
  const lines: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((m: string) => void lines.push(m));
  try {
    return { code: run(), out: lines.join('\n') };
  } finally {
    log.mockRestore();
  }
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'converge-validate-charts-'));
  charts = join(dir, 'charts');
  cpSync(CHARTS, charts, { recursive: true });
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('converge validate: the charts’ rendered output', () => {
  it.each(['dev', 'staging', 'prod'])('the committed charts give no violations in %s', (env) => {
    const report = validateEnvironment(env);
    expect(report.violations).toEqual([]);
    expect(report.schemaChecked.charts.kubernetes).toBeGreaterThan(0);
    // VirtualServices and DestinationRules are checked against Istio's CRDs.
    expect(report.schemaChecked.charts.crd).toBeGreaterThan(0);
    expect(report.schemaChecked.charts.none).toBe(0);
  });

  it('fails when a chart renders a Deployment with a wrong type, naming service, kind and name', () => {
    edit(
      'service-base/templates/_deployment.tpl',
      'replicas: {{ ternary $v.canary.replicaCount $v.replicaCount $canary }}',
      'replicas: "two"',
    );
    const report = validateEnvironment('prod', undefined, { chartsDir: charts });
    const rows = report.violations.filter((v) => v.rule === 'chart-schema');
    expect(rows).toContainEqual({
      object: 'app-service/Deployment/app-service',
      rule: 'chart-schema',
      message: 'spec.replicas: must be integer',
    });
    expect(rows).toContainEqual({
      object: 'model-service/Deployment/model-service-canary',
      rule: 'chart-schema',
      message: 'spec.replicas: must be integer',
    });
    // Nothing else is wrong: only the objects the edit touched.
    expect(rows.every((v) => v.message === 'spec.replicas: must be integer')).toBe(true);
  });

  it('fails when `converge validate --charts-dir` names charts that render a wrong type', async () => {
    edit(
      'service-base/templates/_deployment.tpl',
      'replicas: {{ ternary $v.canary.replicaCount $v.replicaCount $canary }}',
      'replicas: "two"',
    );
    const lines: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((m: string) => void lines.push(m));
    try {
      expect(await main(['validate', '--env', 'dev', '--charts-dir', charts])).toBe(1);
    } finally {
      log.mockRestore();
    }
    expect(lines.join('\n')).toMatch(
      /app-service\/Deployment\/app-service +chart-schema +spec\.replicas: must be integer/,
    );
  });

  it('fails when a chart renders a VirtualService with a bad header match, and exits 1', () => {
    edit('service-base/templates/_routing.tpl', 'exact: {{', 'exactly: {{');
    const { code, out } = capture(() => validate({ env: 'staging', chartsDir: charts }));
    expect(code).toBe(1);
    expect(out).toMatch(
      /app-service\/VirtualService\/app-service +chart-schema +spec\.http\[0\]\.match\[0\]\.headers\.x-canary\.exactly: unknown field 'exactly'/,
    );
  });

  it('fails when a chart does not render at all, quoting helm', () => {
    edit('service-base/templates/_deployment.tpl', 'replicas: {{ ternary', 'replicas: {{ ternary (');
    const report = validateEnvironment('staging', undefined, { chartsDir: charts });
    expect(report.violations).toContainEqual({
      object: 'app-service/chart/charts/app-service',
      rule: 'chart-schema',
      message: expect.stringMatching(/^helm template failed: Error: .*parse error/),
    });
  });

  it('counts the chart objects in the JSON report', () => {
    const { code, out } = capture(() => validate({ env: 'staging', output: 'json' }));
    expect(code).toBe(0);
    const report = JSON.parse(out) as { schemaChecked: { charts: Record<string, number> } };
    expect(report.schemaChecked.charts).toEqual({
      kubernetes: expect.any(Number),
      crd: expect.any(Number),
      none: 0,
    });
    expect(report.schemaChecked.charts.kubernetes).toBeGreaterThan(0);
  });

  it('renders each chart once per service, though prod splits each service in two Applications', () => {
    const spy = execFileSync as unknown as jest.Mock;
    spy.mockClear();
    const report = validateEnvironment('prod');
    expect(report.generatedApplications).toBe(4);
    const templates = spy.mock.calls.filter(([, args]) => (args as string[] | undefined)?.[0] === 'template');
    expect(templates.map(([, args]) => (args as string[])[1])).toEqual(['app-service', 'model-service']);
  });
});
