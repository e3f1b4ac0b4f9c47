import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';

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

  it('fails when no command is given: the usage on stdout, one line on stderr, exit code 2', () => {
    const result = converge();
    expect(result.status).toBe(2);
    expect(result.stdout).toContain('Usage: converge');
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^converge: no command given; commands: synth, validate, drift, status, watch, approve, reject, promote, report, eval; run `converge <command> --help`$/,
      ),
    ]);
  });

  it('lists every command in the top-level help', () => {
    const help = converge('--help').stdout;
    for (const command of ['synth', 'validate', 'status', 'promote'])
      expect(help).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    expect(help).toContain(
      'Exit codes: 0 success, 1 violations (validate), stale manifests (synth --check), not yet Synced and Healthy (status) or low drift, 3 medium drift, 4 high drift, 2 bad input.',
    );
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

  it('exits 1 and prints the violation when validate finds one the config schema accepts', () => {
    // GIVEN a copy of the stacks where prod runs app-service from the "latest" tag
    const stacks = mkdtempSync(join(tmpdir(), 'converge-stacks-'));
    try {
      cpSync(join(__dirname, '..', '..', 'stacks'), stacks, { recursive: true });
      const file = join(stacks, 'Pulumi.prod.yaml');
      const doc = parseDocument(readFileSync(file, 'utf8'));
      doc.setIn(['config', 'converge:platform', 'services', 'app-service', 'image', 'tag'], 'latest');
      writeFileSync(file, doc.toString());
      // WHEN
      const result = converge('validate', '--env', 'prod', '--stacks-dir', stacks);
      // THEN
      expect(result.status).toBe(1);
      expect(result.stderr).toBe('');
      expect(result.stdout).toMatch(
        /^Application\/argocd\/prod-app-service +image-tag-pinned +image\.tag is "latest"; outside dev every image is pinned to a release tag or digest$/m,
      );
      expect(result.stdout).not.toContain('no violations');
    } finally {
      rmSync(stacks, { recursive: true, force: true });
    }
  });

  it('validates an environment from the built binary, as CI does', () => {
    const out = execFileSync('node', [CLI, 'validate', '--env', 'dev', '--output', 'json'], {
      encoding: 'utf8',
    });
    expect(JSON.parse(out)).toMatchObject({ environment: 'dev', violations: [] });
  });
});
