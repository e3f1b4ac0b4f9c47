import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, expectFailure } from './error-path-helpers';

/* `converge eval`'s flags: each bad value is one line naming the flag, the value and what is allowed, exit 2, before any cluster is touched. */

const evalCmd = (...args: string[]) => cli('eval', '--env', 'dev', ...args);

describe('converge eval flags', () => {
  it.each([
    ['0', '--trials is "0"; use a whole number from 1 to 1000'],
    ['many', '--trials is "many"; use a whole number from 1 to 1000'],
    ['1001', '--trials is "1001"'],
  ])('fails when --trials is %s', async (value, message) => {
    expectFailure(await evalCmd('--trials', value), message);
  });

  it('fails when --scenarios names an unknown scenario, listing the allowed ones', async () => {
    expectFailure(
      await evalCmd('--scenarios', 'scale-deployment,drop-table'),
      '--scenarios names "drop-table"; allowed: scale-deployment, change-image, patch-service-type, delete-deployment, delete-secret, delete-configmap',
    );
  });

  it('fails when --arms names an unknown arm', async () => {
    expectFailure(
      await evalCmd('--arms', 'converge,flux'),
      '--arms names "flux"; allowed: converge, argocd, manual',
    );
  });

  it.each([
    ['gamma:5m', '"gamma" is not a term'],
    ['lognormal:5m', '"lognormal:5m" takes 2 values'],
    ['every:5 minutes', '"5 minutes" is not a duration'],
    ['lognormal:5m,-1', 'lognormal needs a median above 0 and a sigma from 0 to 5'],
    ['uniform:5m,1m', 'uniform needs its max above its min'],
    ['every:0s', 'every: needs a period above 0'],
    ['', '--reaction is ""'],
  ])('fails when --reaction is %j', async (value, message) => {
    const line = expectFailure(
      await evalCmd('--reaction', value),
      `--reaction is ${JSON.stringify(value)}`,
      message,
    );
    expect(line).toContain('every:<duration>, lognormal:<median>,<sigma>');
  });

  it('fails when --out cannot be written, naming the folder and why', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'converge-eval-out-')), 'a-file');
    writeFileSync(file, 'not a folder');
    expectFailure(
      await evalCmd('--out', join(file, 'results')),
      `--out is ${JSON.stringify(join(file, 'results'))}; cannot write there (ENOTDIR); pass a folder you can write`,
    );
  });

  it.each([
    ['--seed', '-1', '--seed is "-1"; use a whole number from 0 to 4294967295'],
    ['--timeout', '0', '--timeout is "0"; use a whole number from 1 to 86400'],
  ])('fails when %s is %s', async (flag, value, message) => {
    expectFailure(await evalCmd(flag, value), message);
  });

  it('fails when --env is missing', async () => {
    const r = await cli('eval');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("required option '-e, --env <env>' not specified");
  });
});
