import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { main } from '../../cli/main';

/*
 * Every bad input ends with one line naming the file, the key path, the value, what is allowed
 * and the fix, exit code 2, and no stack trace. Each case mutates a real stack file.
 */

const STACKS = join(__dirname, '..', '..', 'stacks');
const KEY = ['config', 'converge:platform'];

type Mutation = (doc: ReturnType<typeof parseDocument>) => void;
const set =
  (path: (string | number)[], value: unknown): Mutation =>
  (doc) =>
    doc.setIn([...KEY, ...path], value);
const del =
  (path: (string | number)[]): Mutation =>
  (doc) =>
    doc.deleteIn([...KEY, ...path]);

let work: string;
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'converge-bad-'));
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

/** Writes the env's stack file with mutations applied, runs the CLI, and captures stderr. */
async function run(args: string[], options: { env?: string; mutate?: Mutation[]; text?: string } = {}) {
  const env = options.env ?? 'dev';
  let text = options.text;
  if (text === undefined) {
    const doc = parseDocument(readFileSync(join(STACKS, `Pulumi.${env}.yaml`), 'utf8'));
    for (const m of options.mutate ?? []) m(doc);
    text = doc.toString();
  }
  writeFileSync(join(work, `Pulumi.${env}.yaml`), text);
  const errors: string[] = [];
  const spy = jest
    .spyOn(console, 'error')
    .mockImplementation((...parts: unknown[]) => errors.push(parts.join(' ')));
  const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    const code = await main([
      ...args,
      '--stacks-dir',
      work,
      ...(args[0] === 'synth' ? ['--out', join(work, 'out')] : []),
    ]);
    return { code, stderr: errors.join('\n'), text };
  } finally {
    spy.mockRestore();
    log.mockRestore();
  }
}

/** 1-based line of the first line containing `needle`, after line `after` when given. */
const lineOf = (text: string, needle: string, after = 0) =>
  text.split('\n').findIndex((l, i) => i >= after && l.includes(needle)) + 1;

function expectOneLine(result: { code: number; stderr: string }, ...parts: string[]) {
  expect(result.code).toBe(2);
  const lines = result.stderr.split('\n');
  expect(lines).toHaveLength(1);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  for (const part of parts) expect(result.stderr).toContain(part);
}

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

  it.each<[string, Mutation[], string[]]>([
    [
      'the file declares another environment',
      [set(['environment'], 'staging')],
      ['environment is "staging"; it must be "dev" in Pulumi.dev.yaml'],
    ],
    [
      'the declared environment is not one of the three',
      [set(['environment'], 'qa')],
      ['converge:platform.environment is "qa"; allowed: dev, staging, prod'],
    ],
    [
      'a top-level key is misspelled',
      [set(['servcies'], {})],
      ["converge:platform has unknown key 'servcies'; remove it or fix its spelling"],
    ],
    [
      'a service key is misspelled',
      [set(['services', 'app-service', 'replica'], 2)],
      ["converge:platform.services.app-service has unknown key 'replica'"],
    ],
    [
      'replicas is fractional',
      [set(['services', 'app-service', 'replicas'], 1.5)],
      ['services.app-service.replicas is 1.5; it must be an integer from 0 to 1000'],
    ],
    [
      'replicas is a word',
      [set(['services', 'app-service', 'replicas'], 'two')],
      ['services.app-service.replicas is "two"; it must be a number'],
    ],
    [
      'the image repository carries a tag',
      [set(['services', 'app-service', 'image', 'repository'], 'ghcr.io/example-org/app:1.0')],
      ["put the tag under 'tag'"],
    ],
    [
      'the image tag is missing',
      [del(['services', 'app-service', 'image', 'tag'])],
      ['services.app-service.image.tag is missing; it is required (a string); add it'],
    ],
    [
      'the canary has no tag',
      [del(['services', 'app-service', 'canary', 'tag'])],
      ['services.app-service.canary.tag is missing'],
    ],
    [
      'the canary has no replicas',
      [set(['services', 'app-service', 'canary', 'replicas'], 0)],
      ['services.app-service.canary.replicas is 0; it must be an integer from 1 to 100'],
    ],
    [
      'the canary weight is negative',
      [set(['services', 'model-service', 'canary', 'weight'], -5)],
      ['canary.weight is -5; it must be an integer between 0 and 100'],
    ],
    [
      'the canary header value is empty',
      [set(['services', 'app-service', 'canary', 'header', 'value'], '')],
      ['canary.header.value is ""; it must be a non-empty string'],
    ],
    [
      'the Git repo is not a URL',
      [set(['git', 'repoURL'], 'converge')],
      ['git.repoURL is "converge"; it must be a Git URL'],
    ],
    [
      'the Git revision is empty',
      [set(['git', 'revision'], '')],
      ['git.revision is ""; it must be a non-empty string'],
    ],
    [
      'the reconciliation timeout has words',
      [set(['argocd', 'reconciliationTimeout'], '3 minutes')],
      ['argocd.reconciliationTimeout is "3 minutes"; it must be a duration such as "30s"'],
    ],
    [
      'the Argo CD namespace is not a DNS label',
      [set(['argocd', 'namespace'], 'argo.cd')],
      ['argocd.namespace is "argo.cd"; it must be a DNS label'],
    ],
    [
      'the retry limit is too high',
      [set(['sync', 'retry', 'limit'], 500)],
      ['sync.retry.limit is 500; it must be an integer from 0 to 100'],
    ],
    [
      'the backoff factor is zero',
      [set(['sync', 'retry', 'backoffFactor'], 0)],
      ['sync.retry.backoffFactor is 0; it must be an integer from 1 to 10'],
    ],
    [
      'retry is neither false nor an object',
      [set(['sync', 'retry'], 'yes')],
      ['sync.retry is "yes"; it must be false or a retry object'],
    ],
    [
      'the project is named default',
      [set(['project', 'name'], 'default')],
      ['converge:platform.project.name is "default"; the default project allows everything'],
    ],
    [
      'a sync window schedule is not cron',
      [set(['project', 'syncWindows'], [{ kind: 'deny', schedule: 'weekends', duration: '48h' }])],
      ['project.syncWindows[0].schedule is "weekends"; it must be a cron schedule with five fields'],
    ],
    [
      'a sync window kind is unknown',
      [set(['project', 'syncWindows'], [{ kind: 'maybe', schedule: '0 0 * * *', duration: '1h' }])],
      ['project.syncWindows[0].kind is "maybe"; allowed: allow, deny'],
    ],
    [
      'a role may do nothing',
      [set(['project', 'roles'], [{ name: 'idle', actions: [] }])],
      ['project.roles[0].actions is []; it needs at least 1 entries'],
    ],
    [
      'a role action is unknown',
      [set(['project', 'roles'], [{ name: 'ops', actions: ['destroy'] }])],
      ['project.roles[0].actions[0] is "destroy"; allowed: get, sync, override, action, delete, update'],
    ],
    [
      'a subscription uses a service that is not configured',
      [set(['notifications', 'subscriptions', 0, 'service'], 'slack')],
      ['notifications.subscriptions[0].service is "slack"; no slack service is configured'],
    ],
    [
      'a webhook subscription names an undeclared webhook',
      [set(['notifications', 'subscriptions', 0, 'recipients'], ['audit'])],
      [
        'notifications.subscriptions[0].recipients[0] is "audit"; it is not a declared webhook; use one of: deploy-events',
      ],
    ],
    [
      'a trigger is unknown',
      [set(['notifications', 'subscriptions', 0, 'trigger'], 'on-everything')],
      ['notifications.subscriptions[0].trigger is "on-everything"; allowed: on-sync-failed'],
    ],
    [
      'the email port is out of range',
      [
        set(['notifications', 'email'], {
          host: 'smtp.example.com',
          from: 'argocd@example.com',
          port: 70000,
        }),
      ],
      ['notifications.email.port is 70000; it must be an integer from 1 to 65535'],
    ],
    [
      'progressive steps meet automated sync',
      [set(['applicationSet', 'progressiveSteps'], [['model-service'], ['app-service']])],
      [
        'applicationSet.progressiveSteps is [["model-service"],["app-service"]]; RollingSync turns automated sync off',
      ],
    ],
    [
      'a progressive step names an unknown service',
      [
        set(['sync', 'automated'], false),
        del(['sync', 'retry']),
        set(['applicationSet', 'progressiveSteps'], [['billing']]),
      ],
      ['applicationSet.progressiveSteps[0][0] is "billing"; it is not a declared service'],
    ],
    [
      'no service is declared',
      [set(['services'], {})],
      ['converge:platform.services is {}; declare at least one service'],
    ],
    [
      'project.sourceRepos is empty',
      [set(['project', 'sourceRepos'], [])],
      ['converge:platform.project.sourceRepos is []; it needs at least 1 entries'],
    ],
    [
      "a service's chart path leaves the repo",
      [set(['services', 'app-service', 'chart'], '../shared/app-service')],
      [
        'converge:platform.services.app-service.chart is "../shared/app-service"; it must be a path inside the repo, e.g. "charts/app-service"',
      ],
    ],
    [
      'a sync window names an empty application glob',
      [
        set(
          ['project', 'syncWindows'],
          [{ kind: 'deny', schedule: '0 0 * * *', duration: '1h', applications: [''] }],
        ),
      ],
      ['converge:platform.project.syncWindows[0].applications[0] is ""; it must be a non-empty string'],
    ],
    [
      'a webhook takes the name of a built-in notification service',
      [set(['notifications', 'webhooks', 'slack'], { url: 'http://hooks.example.com/argocd' })],
      [
        'converge:platform.notifications.webhooks.slack is "slack"; Argo CD addresses webhooks by name, and slack, pagerdutyv2, email name its other services; rename the webhook, e.g. "slack-hook"',
      ],
    ],
    [
      'a service name has a dot',
      [
        set(['services', 'app.v2'], {
          namespace: 'x',
          image: { repository: 'x/y', tag: '1' },
          replicas: 1,
        }),
      ],
      ['converge:platform.services.app.v2 is "app.v2"; it must be a DNS label'],
    ],
    [
      'a service name is not a DNS name',
      [
        set(['services', 'App_Service'], {
          namespace: 'x',
          image: { repository: 'x/y', tag: '1' },
          replicas: 1,
        }),
      ],
      ['converge:platform.services.App_Service is "App_Service"; it must be a DNS label'],
    ],
    [
      'a resource exclusion lists no kinds',
      [set(['argocd', 'resourceExclusions'], [{ apiGroups: ['cilium.io'], kinds: [] }])],
      ['argocd.resourceExclusions[0].kinds is []; it needs at least 1 entries'],
    ],
    [
      'a drift rule action is unknown',
      [
        set(
          ['drift', 'rules'],
          [{ name: 'scale', match: { kind: 'Deployment' }, severity: 'low', action: 'revert' }],
        ),
      ],
      ['drift.rules[0].action is "revert"; allowed: heal, hold-for-approval, heal-and-page, ignore'],
    ],
    [
      'a drift rule severity is unknown',
      [set(['drift', 'rules'], [{ name: 'scale', match: {}, severity: 'urgent', action: 'heal' }])],
      ['drift.rules[0].severity is "urgent"; allowed: low, medium, high'],
    ],
    [
      'a drift field is not a JSON pointer',
      [
        set(
          ['drift', 'rules'],
          [{ name: 'scale', match: { fields: ['spec.replicas'] }, severity: 'low', action: 'heal' }],
        ),
      ],
      ['drift.rules[0].match.fields[0] is "spec.replicas"; it must be a JSON pointer starting with "/"'],
    ],
    [
      'a drift value pattern is not a regular expression',
      [
        set(
          ['drift', 'rules'],
          [{ name: 'img', match: { valueNotMatching: '([' }, severity: 'high', action: 'heal-and-page' }],
        ),
      ],
      ['drift.rules[0].match.valueNotMatching is "(["; it is not a valid regular expression'],
    ],
    [
      'a drift notification target names an undeclared webhook',
      [set(['drift', 'notify', 'high'], ['webhook:oncall'])],
      ['drift.notify.high[0] is "webhook:oncall"; it names a webhook webhook that is not declared'],
    ],
    [
      'a drift notification target is malformed',
      [set(['drift', 'notify', 'medium'], ['teams:general'])],
      [
        'drift.notify.medium[0] is "teams:general"; it must be "slack:<channel>", "pagerduty", "email:<address>" or "webhook:<name>"',
      ],
    ],
    [
      'autoscaling allows fewer maximum than minimum replicas',
      [set(['services', 'app-service', 'autoscaling'], { minReplicas: 4, maxReplicas: 2 })],
      [
        'services.app-service.autoscaling.maxReplicas is {"minReplicas":4,"maxReplicas":2,"cpuUtilization":70}; maxReplicas must be at least minReplicas',
      ],
    ],
  ])('fails when %s', async (_name, mutate, parts) => {
    expectOneLine(await run(['synth', '--env', 'dev'], { mutate }), 'Pulumi.dev.yaml', ...parts);
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
    rmSync(work, { recursive: true, force: true });
    const errors: string[] = [];
    const spy = jest.spyOn(console, 'error').mockImplementation((m: string) => errors.push(m));
    const code = await main(['synth', '--env', 'staging', '--stacks-dir', work]);
    spy.mockRestore();
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
    ['--env is missing', ['synth']],
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
