import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../cli/main';
import { expectOneLine, lineOf, run, set, useScratchFolder } from './bad-input-helpers';

/*
 * Every bad input ends with one line naming the file, the key path, the value, what is allowed
 * and the fix, exit code 2, and no stack trace. Each case mutates a real stack file.
 */

useScratchFolder();

describe('converge synth: bad stack config', () => {
  it('fails when the canary weight is 150, naming file, line, key path, value, range and fix', async () => {
    const result = await run(['synth', '--env', 'dev'], {
      mutate: [set(['services', 'app-service', 'canary', 'weight'], 150)],
    });
    expectOneLine(
      result,
      `Pulumi.dev.yaml:${lineOf(result.text, 'weight: 150')}: converge:platform.services.app-service.canary.weight is 150; ` +
        'it must be an integer between 0 and 100 (stable gets 100 - weight); set the percent of traffic the canary should get',
    );
  });

  it('fails when the environment is unknown', async () => {
    const result = await run(['synth', '--env', 'qa']);
    expectOneLine(result, 'environment "qa" is unknown; allowed: dev, staging, prod');
  });

  it('fails when the replica count is negative', async () => {
    const result = await run(['synth', '--env', 'dev'], {
      mutate: [set(['services', 'model-service', 'replicas'], -2)],
    });
    expectOneLine(
      result,
      `Pulumi.dev.yaml:${lineOf(result.text, 'replicas: -2')}: converge:platform.services.model-service.replicas is -2; it must be an integer from 0 to 1000`,
    );
  });

  it('fails when the image tag is malformed', async () => {
    const result = await run(['synth', '--env', 'prod'], {
      env: 'prod',
      mutate: [set(['services', 'app-service', 'image', 'tag'], '1.4.2 final')],
    });
    expectOneLine(
      result,
      'Pulumi.prod.yaml:',
      'converge:platform.services.app-service.image.tag is "1.4.2 final"; it must be an image tag',
      'use a release tag such as "1.4.2"',
    );
  });

  it('fails when a service reads from a repo outside the project', async () => {
    const result = await run(['synth', '--env', 'dev'], {
      mutate: [set(['services', 'app-service', 'repoURL'], 'https://github.com/someone-else/charts.git')],
    });
    expectOneLine(
      result,
      'converge:platform.services.app-service.repoURL is "https://github.com/someone-else/charts.git"; it is outside the project; allowed repos: https://github.com/example-org/converge.git; add it to project.sourceRepos',
    );
  });

  it('fails when project.sourceRepos omits git.repoURL, which services without their own repoURL read from', async () => {
    const result = await run(['synth', '--env', 'dev'], {
      mutate: [set(['project', 'sourceRepos'], ['https://github.com/example-org/charts.git'])],
    });
    expectOneLine(
      result,
      `Pulumi.dev.yaml:${lineOf(result.text, 'repoURL: https://github.com/example-org/converge.git')}: ` +
        'converge:platform.git.repoURL is "https://github.com/example-org/converge.git"; it is outside the project, ' +
        'and app-service, model-service read their charts from it; allowed repos: https://github.com/example-org/charts.git; ' +
        "add it to project.sourceRepos, or set those services' repoURL to an allowed repo",
    );
  });

  it('fails when a project source repo is a wildcard, naming its config key path and line', async () => {
    const result = await run(['synth', '--env', 'dev'], {
      mutate: [
        set(
          ['project', 'sourceRepos'],
          ['https://github.com/example-org/converge.git', 'https://github.com/example-org/*'],
        ),
      ],
    });
    expectOneLine(
      result,
      `Pulumi.dev.yaml:${lineOf(result.text, 'https://github.com/example-org/*')}: ` +
        'converge:platform.project.sourceRepos[1] is "https://github.com/example-org/*"; wildcards allow any repo; list each repo URL',
    );
  });

  it('fails when sync.allowEmpty is on while sync.prune is off, naming sync.allowEmpty', async () => {
    const result = await run(['synth', '--env', 'dev'], {
      mutate: [set(['sync', 'prune'], false), set(['sync', 'allowEmpty'], true)],
    });
    expectOneLine(
      result,
      `Pulumi.dev.yaml:${lineOf(result.text, 'allowEmpty: true')}: ` +
        'converge:platform.sync.allowEmpty is true; it only applies when prune is true; set prune: true or drop allowEmpty',
    );
  });

  it.each(['prune', 'selfHeal', 'allowEmpty'])(
    'fails when sync.automated is false and sync.%s is true, naming that key',
    async (key) => {
      const result = await run(['synth', '--env', 'dev'], {
        mutate: [set(['sync', 'automated'], false), set(['sync', key], true)],
      });
      expectOneLine(
        result,
        `Pulumi.dev.yaml:${lineOf(result.text, `${key}: true`)}: converge:platform.sync.${key} is true; ` +
          `it only acts on automated syncs, and automated is false; drop ${key} or set automated: true`,
      );
    },
  );

  it('fails when values redeclare what the platform sets, naming the line of the value', async () => {
    const result = await run(['synth', '--env', 'dev'], {
      mutate: [set(['services', 'app-service', 'values'], { image: { tag: 'other' } })],
    });
    expectOneLine(
      result,
      `Pulumi.dev.yaml:${lineOf(result.text, 'image:', lineOf(result.text, 'values:'))}: ` +
        'converge:platform.services.app-service.values.image is {"tag":"other"}; \'image\' is set by the platform from services.app-service; remove it from values',
    );
  });

  it('fails when a namespace is not a DNS label', async () => {
    const result = await run(['synth', '--env', 'dev'], {
      mutate: [set(['services', 'app-service', 'namespace'], 'Dev_Web')],
    });
    expectOneLine(
      result,
      `Pulumi.dev.yaml:${lineOf(result.text, 'namespace: Dev_Web')}: converge:platform.services.app-service.namespace is "Dev_Web"; it must be a DNS label`,
      'rename it',
    );
  });

  it('fails when the platform key is missing', async () => {
    const result = await run(['synth', '--env', 'dev'], { text: 'config:\n  converge:other: 1\n' });
    expectOneLine(
      result,
      'Pulumi.dev.yaml: converge:platform is missing; declare the platform under config."converge:platform"',
    );
  });

  it('fails when the file is not valid YAML, naming the line', async () => {
    const result = await run(['synth', '--env', 'dev'], {
      text: 'config:\n  converge:platform:\n    environment: [dev\n',
    });
    expectOneLine(result, 'Pulumi.dev.yaml:', 'not valid YAML', 'fix the syntax');
  });

  it('fails when the stack file does not exist', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'converge-empty-'));
    const errors: string[] = [];
    const spy = jest.spyOn(console, 'error').mockImplementation((m: string) => errors.push(m));
    const code = await main(['synth', '--env', 'staging', '--stacks-dir', empty]);
    spy.mockRestore();
    rmSync(empty, { recursive: true, force: true });
    expect(code).toBe(2);
    expect(errors.join('\n')).toContain(
      'Pulumi.staging.yaml: file not found; create it (start from Pulumi.dev.yaml) or pass another --env',
    );
  });

  it('fails when several values are bad, with one complete line for each', async () => {
    const result = await run(['synth', '--env', 'dev'], {
      mutate: [
        set(['services', 'app-service', 'canary', 'weight'], 150),
        set(['services', 'model-service', 'replicas'], -1),
      ],
    });
    expect(result.code).toBe(2);
    const lines = result.stderr.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('canary.weight is 150');
    expect(lines[1]).toContain('replicas is -1');
    for (const line of lines) expect(line).toMatch(/^converge: .*Pulumi\.dev\.yaml:\d+: converge:platform\./);
  });
});

describe('converge: bad command-line input', () => {
  it.each([
    ['--env is missing', ['validate']],
    ['--out is given without --env', ['synth', '--out', 'somewhere']],
    ['an option is unknown', ['synth', '--env', 'dev', '--bogus']],
    ['the command is unknown', ['deploy']],
    ['the output format is unknown', ['validate', '--env', 'dev', '--output', 'xml']],
  ])('fails when %s, with exit code 2', async (_name, args) => {
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const code = await main(args);
    stderr.mockRestore();
    expect(code).toBe(2);
  });
});
