import { evaluateApplications, revisionMatches } from '../../drift/kube/app-health';
import { ArgoApplication } from '../../model/argo-application';
import { parseWait } from '../../cli/commands/status';

/* The CI gate's rules, on Application objects as Argo CD reports them: no cluster needed. */

const SHA = '1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d';
const OTHER = '9f8e7d6c5b4a39281706f5e4d3c2b1a098f7e6d5';
const where = { environment: 'dev', namespace: 'argocd' };

function app(
  name: string,
  status: {
    sync?: string;
    health?: string;
    revision?: string;
    revisions?: string[];
    healthMessage?: string;
    phase?: string;
    operationMessage?: string;
    conditions?: { type: string; message: string }[];
  } = {},
): ArgoApplication {
  return {
    metadata: { name },
    status: {
      sync: {
        status: status.sync ?? 'Synced',
        ...(status.revisions ? { revisions: status.revisions } : { revision: status.revision ?? SHA }),
      },
      health: { status: status.health ?? 'Healthy', message: status.healthMessage },
      ...(status.phase ? { operationState: { phase: status.phase, message: status.operationMessage } } : {}),
      ...(status.conditions ? { conditions: status.conditions } : {}),
    },
  };
}

describe('evaluateApplications', () => {
  it('passes when every Application is Synced and Healthy, one line per Application by name', () => {
    const result = evaluateApplications([app('dev-web'), app('dev-app-service')], where);
    expect(result).toEqual({
      ok: true,
      lines: ['dev-app-service: Synced, Healthy, at 1a2b3c4', 'dev-web: Synced, Healthy, at 1a2b3c4'],
    });
  });

  it('fails an OutOfSync Application, listing only the failing ones', () => {
    const result = evaluateApplications(
      [app('dev-web'), app('dev-app-service', { sync: 'OutOfSync' })],
      where,
    );
    expect(result).toEqual({ ok: false, lines: ['dev-app-service: OutOfSync, Healthy, at 1a2b3c4'] });
  });

  it("fails a Degraded Application with Argo CD's messages, each once, cut short in the middle", () => {
    const long = `Deployment app-service exceeded its progress deadline ${'x'.repeat(300)} because of the probe`;
    const result = evaluateApplications(
      [
        app('dev-app-service', {
          health: 'Degraded',
          healthMessage: long,
          phase: 'Failed',
          operationMessage: 'one or more objects failed to apply',
          conditions: [{ type: 'SyncError', message: 'one or more\n  objects failed to apply' }],
        }),
      ],
      where,
    );
    expect(result.ok).toBe(false);
    expect(result.lines).toHaveLength(1);
    const [line] = result.lines;
    expect(line).toMatch(
      /^dev-app-service: Synced, Degraded, at 1a2b3c4 - one or more objects failed to apply; SyncError: one or more objects failed to apply; Deployment app-service exceeded its progress deadline \.\.\. x+ because of the probe$/,
    );
    expect(line.length).toBeLessThan(500);
  });

  it('leaves out the message of a past operation that succeeded', () => {
    const result = evaluateApplications(
      [app('dev-web', { health: 'Missing', phase: 'Succeeded', operationMessage: 'successfully synced' })],
      where,
    );
    expect(result.lines).toEqual(['dev-web: Synced, Missing, at 1a2b3c4']);
  });

  it('fails an Application synced to another revision than the one asked for', () => {
    const result = evaluateApplications([app('dev-web', { revision: OTHER })], { ...where, revision: SHA });
    expect(result).toEqual({
      ok: false,
      lines: [`dev-web: Synced, Healthy, at 9f8e7d6 (wanted ${SHA.slice(0, 7)})`],
    });
  });

  it.each([
    ['the full sha', SHA],
    ['a 7-digit prefix', SHA.slice(0, 7)],
    ['a 12-digit prefix in capitals', SHA.slice(0, 12).toUpperCase()],
  ])('passes when --revision is %s of the synced revision', (_, revision) => {
    expect(evaluateApplications([app('dev-web')], { ...where, revision }).ok).toBe(true);
  });

  it('matches a multi-source Application when one of its sources is at the revision', () => {
    const multi = app('dev-web', { revisions: ['1.4.2', SHA] });
    expect(evaluateApplications([multi], { ...where, revision: SHA.slice(0, 8) })).toEqual({
      ok: true,
      lines: ['dev-web: Synced, Healthy, at 1.4.2,1a2b3c4'],
    });
    expect(evaluateApplications([multi], { ...where, revision: OTHER }).ok).toBe(false);
  });

  it("holds only the repo's own sources to --revision: an add-on's vendor chart is at a commit of its own", () => {
    // GIVEN the platform repo's Application at the commit and an add-on whose chart is in another repo
    const REPO = 'git://git.example/converge.git';
    const own = { ...app('dev-web'), spec: { source: { repoURL: REPO } } };
    const vendor = {
      ...app('dev-addon-mesh', { revision: OTHER }),
      spec: { source: { repoURL: 'git://vendor/charts.git' } },
    };
    // THEN both pass at the commit, and the repo's own Application still fails at another one
    expect(evaluateApplications([own, vendor], { ...where, revision: SHA, repoURL: REPO }).ok).toBe(true);
    expect(evaluateApplications([own, vendor], { ...where, revision: OTHER, repoURL: REPO }).lines).toEqual([
      'dev-web: Synced, Healthy, at 1a2b3c4 (wanted 9f8e7d6)',
    ]);
  });

  it('fails an Application whose operation is still running, as syncing', () => {
    const result = evaluateApplications(
      [
        app('dev-web', {
          phase: 'Running',
          operationMessage: 'waiting for healthy state of apps/Deployment/web',
        }),
      ],
      where,
    );
    expect(result).toEqual({
      ok: false,
      lines: [
        'dev-web: Synced, Healthy, at 1a2b3c4 (syncing) - waiting for healthy state of apps/Deployment/web',
      ],
    });
  });

  it('fails an Application Argo CD has not reported on yet', () => {
    expect(evaluateApplications([{ metadata: { name: 'dev-web' } }], where)).toEqual({
      ok: false,
      lines: ['dev-web: Unknown, Unknown, at no revision'],
    });
  });

  it('fails when the environment has no Applications, saying how to bootstrap it', () => {
    expect(evaluateApplications([], where)).toEqual({
      ok: false,
      lines: [
        'no Argo CD Applications labelled converge.dev/environment=dev in namespace argocd; bootstrap the environment with `pulumi up --stack dev`, or check --env and the kubeconfig context',
      ],
    });
  });
});

describe('revisionMatches', () => {
  it.each<[string | undefined, string, boolean]>([
    [SHA, SHA, true],
    [SHA, SHA.slice(0, 7), true],
    [SHA, OTHER.slice(0, 7), false],
    [SHA.slice(0, 7), SHA, true],
    ['1.4.2', '1a2b3c4', false],
    [undefined, SHA, false],
  ])('%s against %s is %s', (actual, wanted, expected) => {
    expect(revisionMatches(actual, wanted)).toBe(expected);
  });
});

describe('parseWait', () => {
  it.each([
    ['90s', 90_000],
    ['5m', 300_000],
    ['1m30s', 90_000],
    ['1h', 3_600_000],
    ['500ms', 500],
  ])('reads %s', (value, ms) => {
    expect(parseWait(value)).toBe(ms);
  });

  it.each(['90', '5x', '', '0s', '-5s', '1.5m', '25h'])('fails when --wait is %j', (value) => {
    expect(() => parseWait(value)).toThrow(
      `--wait is ${JSON.stringify(value)}; use a duration such as 90s, 5m or 1m30s (numbers followed by ms, s, m or h; more than 0, at most 24h)`,
    );
  });
});
