import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { synthesizeEnvironment } from '../../render/environment';
import { alertRuleGroups } from '../../constructs/observability/alert-rules';
import { observabilityFor } from '../../config/observability';
import { KubeObject } from '../../model/objects';
import { promtoolTests, ruleTestCases } from './rule-tests';

/*
 * The alert rules as synthesized into staging's and prod's manifests, checked and unit-tested by
 * Debian's promtool: the PrometheusRule's spec.groups is a Prometheus rule file as it stands.
 */

const ROOT = join(__dirname, '..', '..');
const promtool = execFileSync('node', [join(ROOT, 'tools', 'debian.mjs'), '--print-path', 'promtool'], {
  encoding: 'utf8',
}).trim();

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'converge-promtool-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const run = (...args: string[]) => {
  const r = spawnSync(promtool, args, { cwd: work, encoding: 'utf8' });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
};

describe.each(['staging', 'prod'])('%s alert rules', (env) => {
  const { files, platform } = synthesizeEnvironment(env);
  const rule = files
    .flatMap((f) => f.objects)
    .find((o): o is KubeObject & { spec: { groups: unknown[] } } => o.kind === 'PrometheusRule');
  const thresholds = observabilityFor(platform.config).alerts;
  const ruleFile = `${env}-rules.yaml`;

  it('are in the manifests, one PrometheusRule with both groups', () => {
    expect(rule?.metadata).toMatchObject({ name: `converge-${env}`, namespace: 'converge-system' });
    expect(rule?.spec.groups).toHaveLength(2);
  });

  it('pass promtool check rules', () => {
    writeFileSync(join(work, ruleFile), stringify({ groups: rule!.spec.groups }));
    const r = run('check', 'rules', ruleFile);
    expect(r.out).toContain('SUCCESS: 7 rules found');
    expect(r.code).toBe(0);
  });

  it('fire, and stay quiet, as promtool test rules shows on synthetic series', () => {
    writeFileSync(join(work, ruleFile), stringify({ groups: rule!.spec.groups }));
    const cases = ruleTestCases(env, thresholds);
    // Every alert has a case that fires and one that does not.
    const alerts = alertRuleGroups({ environment: env, thresholds }).flatMap((g) =>
      g.rules.map((r) => r.alert),
    );
    for (const alert of alerts) {
      expect(cases.filter((c) => c.alertname === alert).map((c) => c.fires)).toEqual(
        expect.arrayContaining([true, false]),
      );
    }
    const testFile = `${env}-rules.test.yaml`;
    writeFileSync(
      join(work, testFile),
      stringify(promtoolTests(ruleFile, rule!.spec.groups as never, cases)),
    );
    const r = run('test', 'rules', testFile);
    expect(r.out).toContain('SUCCESS');
    expect(r.code).toBe(0);
  });

  it('and promtool test rules fails when an expectation is wrong (the tests can fail)', () => {
    writeFileSync(join(work, ruleFile), stringify({ groups: rule!.spec.groups }));
    const cases = ruleTestCases(env, thresholds).map((c) => ({ ...c, fires: !c.fires }));
    const testFile = `${env}-inverted.test.yaml`;
    writeFileSync(
      join(work, testFile),
      stringify(promtoolTests(ruleFile, rule!.spec.groups as never, cases)),
    );
    const r = run('test', 'rules', testFile);
    expect(r.code).toBe(1);
    // Each inverted case fails on its own.
    expect(r.out.match(/FAILED:/g)?.length ?? 0).toBeGreaterThan(0);
    for (const c of cases) expect(r.out).toContain(c.name);
  });
});
