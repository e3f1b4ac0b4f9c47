import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';

/* The built `converge` binary as users run it: help, exit codes, and bad input without traces. */

const CLI = join(__dirname, '..', '..', 'dist', 'cli', 'main.js');
const converge = (...args: string[]) => spawnSync('node', [CLI, ...args], { encoding: 'utf8' });

describe('converge (built CLI)', () => {
  it.each([[[]], [['--help']], [['synth', '--help']], [['validate', '--help']]])(
    'prints help for %j',
    (args) => {
      const result = converge(...(args as string[]));
      const text = result.stdout + result.stderr;
      expect(text).toContain('Usage: converge');
      if ((args as string[]).length === 0) expect(result.status).toBe(2);
      else expect(result.status).toBe(0);
    },
  );

  it('lists every command in the top-level help', () => {
    const help = converge('--help').stdout;
    for (const command of ['synth', 'validate']) expect(help).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    expect(help).toContain('Exit codes: 0 success, 1 violations or drift found, 2 bad input.');
  });

  it('fails when the environment is unknown, with one line, exit code 2 and no stack trace', () => {
    const result = converge('synth', '--env', 'qa');
    expect(result.status).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([
      'converge: environment "qa" is unknown; allowed: dev, staging, prod; pass one of those, or add stacks/Pulumi.qa.yaml and the name to ENVIRONMENTS',
    ]);
  });

  it('fails when a required option is missing, with exit code 2', () => {
    const result = converge('validate');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("error: required option '-e, --env <env>' not specified");
  });

  it('validates an environment from the built binary, as CI does', () => {
    const out = execFileSync('node', [CLI, 'validate', '--env', 'dev', '--output', 'json'], {
      encoding: 'utf8',
    });
    expect(JSON.parse(out)).toMatchObject({ environment: 'dev', violations: [] });
  });
});
