import { del, expectOneLine, Mutation, run, set, useScratchFolder } from './bad-input-helpers';

/* Bad values of the stack file's keys, one line each: the key path, the value, the rule, the fix. */

useScratchFolder();

describe('converge synth: bad values', () => {
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
});
