import { parsePlatformConfig } from '../../config/parse';
import { observabilityFor } from '../../config/observability';
import { loadStackConfig } from '../../config/stack-file';
import { expectOneLine, lineOf, run, set, useScratchFolder } from '../config/bad-input-helpers';

/*
 * observability.*: defaults per environment, a declared key wins, and every bad value ends in one
 * line naming the file, line, key, value, what is allowed and the fix.
 */

const base = {
  environment: 'staging',
  git: { repoURL: 'https://github.com/example-org/converge.git', revision: 'main' },
  services: {
    web: { namespace: 'web', image: { repository: 'ghcr.io/example-org/web', tag: '1.0.0' }, replicas: 1 },
  },
};
const parse = (env: string, observability?: unknown) =>
  parsePlatformConfig(
    { ...base, environment: env, ...(observability ? { observability } : {}) },
    { file: 'x.yaml' },
  );

describe('observabilityFor', () => {
  it.each([
    ['dev', false, '30m', '24h'],
    ['staging', true, '15m', '4h'],
    ['prod', true, '10m', '1h'],
  ])(
    '%s: enabled %s, OutOfSync after %s, approvals after %s by default',
    (env, enabled, outOfSync, pending) => {
      const o = observabilityFor(parse(env));
      expect(o.enabled).toBe(enabled);
      expect(o.alerts.outOfSyncFor).toBe(outOfSync);
      expect(o.alerts.approvalPendingFor).toBe(pending);
    },
  );

  it('takes each declared key over its default, and keeps the others', () => {
    const o = observabilityFor(
      parse('prod', { enabled: false, alerts: { approvalPendingFor: '30s', flapping: { heals: 7 } } }),
    );
    expect(o).toEqual({
      enabled: false,
      alerts: {
        outOfSyncFor: '10m',
        approvalPendingFor: '30s',
        controllerDownFor: '2m',
        notReconcilingFor: '5m',
        flapping: { heals: 7, window: '15m' },
      },
    });
  });

  it('reads the committed stack files: staging and prod enable it, dev does not', () => {
    expect(observabilityFor(loadStackConfig('dev').config).enabled).toBe(false);
    expect(observabilityFor(loadStackConfig('staging').config).enabled).toBe(true);
    expect(observabilityFor(loadStackConfig('prod').config).enabled).toBe(true);
  });
});

describe('converge synth: bad observability config', () => {
  useScratchFolder();
  const key = (path: string) => `converge:platform.observability.${path}`;

  it('fails when a threshold is zero', async () => {
    const result = await run(['synth', '--env', 'staging'], {
      env: 'staging',
      mutate: [set(['observability', 'alerts', 'outOfSyncFor'], '0s')],
    });
    expectOneLine(
      result,
      `Pulumi.staging.yaml:${lineOf(result.text, 'outOfSyncFor: 0s')}: ${key('alerts.outOfSyncFor')} is "0s"; an alert with no wait fires at once on every blip; give it a length, e.g. "10m"`,
    );
  });

  it('fails when a threshold is not a duration', async () => {
    const result = await run(['synth', '--env', 'prod'], {
      env: 'prod',
      mutate: [set(['observability', 'alerts', 'approvalPendingFor'], 'an hour')],
    });
    expectOneLine(
      result,
      `Pulumi.prod.yaml:${lineOf(result.text, 'approvalPendingFor: an hour')}: ${key('alerts.approvalPendingFor')} is "an hour"; it must be a duration such as "30s", "3m" or "1h30m"`,
    );
  });

  it('fails when a threshold is longer than a week', async () => {
    const result = await run(['synth', '--env', 'staging'], {
      env: 'staging',
      mutate: [set(['observability', 'alerts', 'controllerDownFor'], '200h')],
    });
    expectOneLine(
      result,
      `${key('alerts.controllerDownFor')} is "200h"; it is longer than 168h, the most it may be (a wait of over a week alerts on nothing); shorten it, e.g. to "24h"`,
    );
  });

  it('fails when notReconcilingFor is shorter than two resyncs', async () => {
    const result = await run(['synth', '--env', 'staging'], {
      env: 'staging',
      mutate: [set(['observability', 'alerts', 'notReconcilingFor'], '90s')],
    });
    expectOneLine(
      result,
      `${key('alerts.notReconcilingFor')} is "90s"; the controller resyncs every 60s, so a shorter limit fires between two resyncs; use at least "2m"`,
    );
  });

  it('fails when flapping.heals is 1', async () => {
    const result = await run(['synth', '--env', 'staging'], {
      env: 'staging',
      mutate: [set(['observability', 'alerts', 'flapping', 'heals'], 1)],
    });
    expectOneLine(
      result,
      `${key('alerts.flapping.heals')} is 1; it must be an integer from 2 to 100; one heal is normal self-healing; use 3 for "healed three times"`,
    );
  });

  it('fails when enabled is not a boolean', async () => {
    const result = await run(['synth', '--env', 'dev'], {
      mutate: [set(['observability', 'enabled'], 'yes')],
    });
    expectOneLine(result, `${key('enabled')} is "yes"; it must be a boolean`);
  });

  it('fails when a key is unknown', async () => {
    const result = await run(['synth', '--env', 'dev'], {
      mutate: [set(['observability', 'alerts', 'outOfSync'], '5m')],
    });
    expectOneLine(result, `${key('alerts')} has unknown key 'outOfSync'; remove it or fix its spelling`);
  });
});
