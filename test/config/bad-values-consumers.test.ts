import { expectOneLine, lineOf, Mutation, run, set, useScratchFolder } from './bad-input-helpers';

/*
 * Values checked against what their consumer accepts: Argo CD's cron parser and time zones,
 * Istio's header match, the notifications controller's webhooks, least privilege in projects,
 * git's ref format, the drift rules' kinds and regexes, and no secret written inline.
 */

useScratchFolder();

const window = (over: Record<string, unknown>) =>
  set(['project', 'syncWindows'], [{ kind: 'deny', schedule: '0 22 * * 5', duration: '1h', ...over }]);
const rule = (match: Record<string, unknown>) =>
  set(['drift', 'rules'], [{ name: 'r', match, severity: 'high', action: 'heal-and-page' }]);
const TOKEN = 'ghp_abcdefghijklmnopqrstuvwxyz0123456789';
/** A chart folder in Git as the add-on `issuers`, with some keys changed. */
const gitAddon = (over: Record<string, unknown>) =>
  set(['addons', 'issuers'], {
    repoURL: 'https://github.com/example-org/platform-addons.git',
    path: 'charts/cluster-issuers',
    revision: 'v1.2.0',
    namespace: 'cert-manager',
    ...over,
  });

describe('converge synth: values their consumers refuse', () => {
  it.each<[string, Mutation[], string[]]>([
    // Sync windows: Argo CD's cron.NewParser(Minute | Hour | Dom | Month | Dow).
    [
      'a sync window schedule has out-of-range fields',
      [window({ schedule: '99 99 99 99 99' })],
      [
        'project.syncWindows[0].schedule is "99 99 99 99 99"; its minute field "99" is invalid: 99 is out of range; the minute is 0-59',
      ],
    ],
    [
      'a sync window hour is 24',
      [window({ schedule: '0 24 * * *' })],
      ['schedule is "0 24 * * *"; its hour field "24" is invalid: 24 is out of range; the hour is 0-23'],
    ],
    [
      'a sync window day of month is 0',
      [window({ schedule: '0 0 0 * *' })],
      ['its day of month field "0" is invalid: 0 is out of range; the day of month is 1-31'],
    ],
    [
      'a sync window month is 13',
      [window({ schedule: '0 0 1 13 *' })],
      ['its month field "13" is invalid: 13 is out of range; the month is 1-12 or JAN-DEC'],
    ],
    [
      'a sync window day of week is 7, which robfig/cron does not take for Sunday',
      [window({ schedule: '0 0 * * 7' })],
      ['its day of week field "7" is invalid: 7 is out of range; the day of week is 0-6 or SUN-SAT'],
    ],
    [
      'a sync window day name is not a day',
      [window({ schedule: '0 0 * * FRY' })],
      [
        'its day of week field "FRY" is invalid: "FRY" is neither a number nor one of sun, mon, tue, wed, thu, fri, sat',
      ],
    ],
    [
      'a sync window schedule has six fields (seconds)',
      [window({ schedule: '0 0 22 * * 5' })],
      [
        'schedule is "0 0 22 * * 5"; it must be a cron schedule with five fields (minute hour day-of-month month day-of-week, no seconds), as Argo CD parses it; it has 6',
      ],
    ],
    [
      'a sync window schedule has four fields',
      [window({ schedule: '0 22 * *' })],
      [
        'schedule is "0 22 * *"; it must be a cron schedule with five fields (minute hour day-of-month month day-of-week, no seconds), as Argo CD parses it; it has 4',
      ],
    ],
    [
      'a sync window schedule is empty',
      [window({ schedule: '' })],
      ['schedule is ""; it must be a cron schedule with five fields', 'it has 0;'],
    ],
    [
      'a sync window step is 0',
      [window({ schedule: '*/0 * * * *' })],
      ['its minute field "*/0" is invalid: "*/0" has a step of 0; a step must be 1 or more'],
    ],
    [
      'a sync window range runs backwards',
      [window({ schedule: '0 22-8 * * *' })],
      ['its hour field "22-8" is invalid: "22-8" starts after it ends'],
    ],
    [
      'a sync window list has an empty part',
      [window({ schedule: '0 1,,2 * * *' })],
      ['its hour field "1,,2" is invalid: "" is not a number'],
    ],
    [
      'a sync window uses a descriptor, which Argo CD parses without',
      [window({ schedule: '@daily' })],
      [
        'schedule is "@daily"; Argo CD parses sync windows without descriptors',
        'e.g. "0 0 * * *" for @daily',
      ],
    ],
    [
      'a sync window schedule carries its own time zone',
      [window({ schedule: 'CRON_TZ=Europe/Berlin 0 22 * * 5' })],
      ['drop the CRON_TZ= prefix and set timeZone instead'],
    ],
    [
      'a sync window never starts (30 February), which Argo CD treats as always active',
      [window({ schedule: '0 0 30 2 *' })],
      ['schedule is "0 0 30 2 *"; no month it names has day 30, so the window never starts'],
    ],
    [
      'a sync window lasts no time',
      [window({ duration: '0s' })],
      [
        'project.syncWindows[0].duration is "0s"; a window of no time never opens; give it a length, e.g. "1h"',
      ],
    ],
    [
      'a sync window duration is 0m0s',
      [window({ duration: '0m0s' })],
      ['project.syncWindows[0].duration is "0m0s"; a window of no time never opens'],
    ],
    [
      'a sync window time zone is unknown',
      [window({ timeZone: 'Mars/Olympus' })],
      [
        'project.syncWindows[0].timeZone is "Mars/Olympus"; it must be an IANA time zone such as "Europe/Berlin"',
        'Argo CD runs a window with an unknown zone in UTC',
      ],
    ],
    [
      'a sync window time zone is written in the wrong case, which Go does not load',
      [window({ timeZone: 'europe/berlin' })],
      ['timeZone is "europe/berlin"; Argo CD looks zones up by their exact IANA name; write "Europe/Berlin"'],
    ],
    [
      'a sync window time zone is an offset',
      [window({ timeZone: '+01:00' })],
      ['timeZone is "+01:00"; it must be an IANA time zone'],
    ],
    [
      'a sync window time zone is Local, the machine zone',
      [window({ timeZone: 'Local' })],
      ['timeZone is "Local"; it must be an IANA time zone'],
    ],
    // Canary header: Istio's header match.
    [
      'the canary header name is uppercase',
      [set(['services', 'app-service', 'canary', 'header', 'name'], 'X-Canary')],
      ['canary.header.name is "X-Canary"; Istio matches header names in lowercase only; write "x-canary"'],
    ],
    [
      'the canary header name is a pseudo-header',
      [set(['services', 'app-service', 'canary', 'header', 'name'], ':authority')],
      ['canary.header.name is ":authority"; it is an HTTP/2 pseudo-header', 'e.g. "x-canary"'],
    ],
    [
      'the canary header name has a space',
      [set(['services', 'app-service', 'canary', 'header', 'name'], 'x canary')],
      ['canary.header.name is "x canary"; it must be an HTTP header name', 'e.g. "x-canary"'],
    ],
    [
      'the canary header name is empty',
      [set(['services', 'app-service', 'canary', 'header', 'name'], '')],
      ['canary.header.name is ""; it must be a header name, e.g. "x-canary"'],
    ],
    [
      'the canary header name uses a unicode look-alike dash',
      [set(['services', 'app-service', 'canary', 'header', 'name'], 'x\u2010canary')],
      ['canary.header.name is "x\u2010canary"; it must be an HTTP header name'],
    ],
    [
      'the canary header value has a newline',
      [set(['services', 'app-service', 'canary', 'header', 'value'], 'always\nexact: evil')],
      ['canary.header.value is "always\\nexact: evil"; it has a control character or a line break'],
    ],
    [
      'the canary header value is a number',
      [set(['services', 'app-service', 'canary', 'header', 'value'], 1)],
      ['canary.header.value is 1; it must be a string'],
    ],
    // Notification webhooks and Secret keys.
    [
      'a webhook URL is plain http to another host',
      [set(['notifications', 'webhooks', 'deploy-events', 'url'], 'http://hooks.example.com/argocd')],
      [
        'notifications.webhooks.deploy-events.url is "http://hooks.example.com/argocd"; plain http sends every notification unencrypted; use https',
      ],
    ],
    [
      'a webhook URL is a file',
      [set(['notifications', 'webhooks', 'deploy-events', 'url'], 'file:///etc/passwd')],
      ['url is "file:///etc/passwd"; Argo CD posts webhooks over https; the file scheme is not allowed'],
    ],
    [
      'a webhook URL is not a URL',
      [set(['notifications', 'webhooks', 'deploy-events', 'url'], 'hooks.example.com/argocd')],
      ['url is "hooks.example.com/argocd"; it must be an absolute https URL'],
    ],
    [
      'a webhook URL is whitespace',
      [set(['notifications', 'webhooks', 'deploy-events', 'url'], '   ')],
      ['url is "   "; it must be an absolute https URL'],
    ],
    [
      'a webhook URL carries a password, shown as ***',
      [set(['notifications', 'webhooks', 'deploy-events', 'url'], 'https://bot:s3cr3t@hooks.example.com/x')],
      ['url is "https://***@hooks.example.com/x"; it carries credentials (https://***@hooks.example.com/x)'],
    ],
    [
      'the Slack token key is the token itself, never shown',
      [set(['notifications', 'slack'], { tokenSecretKey: 'xoxb-1234-5678-abcdEFGHijkl' })],
      [
        'notifications.slack.tokenSecretKey is (value not shown); this looks like the token itself; put the token in the Secret and name its key here',
      ],
    ],
    [
      'the PagerDuty key is a long random string',
      [set(['notifications', 'pagerduty'], { routingKeySecretKey: 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6' })],
      ['notifications.pagerduty.routingKeySecretKey is (value not shown); this looks like the token itself'],
    ],
    [
      'a Secret key name has a slash',
      [set(['notifications', 'slack'], { tokenSecretKey: 'slack/token' })],
      ['notifications.slack.tokenSecretKey is "slack/token"; it must be a Secret key'],
    ],
    [
      'the email password key is empty',
      [
        set(['notifications', 'email'], {
          host: 'smtp.example.com',
          from: 'argocd@example.com',
          passwordSecretKey: '',
        }),
      ],
      [
        'notifications.email.passwordSecretKey is ""; it must name the key of the Secret that holds the token',
      ],
    ],
    // Least privilege.
    [
      'a project cluster resource is a wildcard kind',
      [set(['project', 'clusterResources'], [{ group: 'rbac.authorization.k8s.io', kind: '*' }])],
      ['project.clusterResources[0].kind is "*"; wildcards allow every kind; list each group and kind'],
    ],
    [
      'a project cluster resource is a wildcard group',
      [set(['project', 'clusterResources'], [{ group: '*.k8s.io', kind: 'ClusterRole' }])],
      ['project.clusterResources[0].group is "*.k8s.io"; wildcards allow every group'],
    ],
    [
      'a resource exclusion is a wildcard kind',
      [set(['argocd', 'resourceExclusions'], [{ apiGroups: ['cilium.io'], kinds: ['Cilium*'] }])],
      [
        'argocd.resourceExclusions[0].kinds[0] is "Cilium*"; a wildcard hides every matching kind from Argo CD',
      ],
    ],
    [
      'a resource exclusion is every group',
      [set(['argocd', 'resourceExclusions'], [{ apiGroups: ['*'], kinds: ['Secret'] }])],
      [
        'argocd.resourceExclusions[0].apiGroups[0] is "*"; a wildcard hides every matching group from Argo CD',
      ],
    ],
    [
      'a service deploys to kube-system',
      [set(['services', 'app-service', 'namespace'], 'kube-system')],
      [
        'services.app-service.namespace is "kube-system"; Kubernetes keeps it (and every "kube-" namespace) for itself',
        'e.g. "<env>-<service>"',
      ],
    ],
    [
      'a service deploys to default',
      [set(['services', 'app-service', 'namespace'], 'default')],
      ['services.app-service.namespace is "default"; Kubernetes keeps it'],
    ],
    [
      'a service deploys to a kube- namespace',
      [set(['services', 'app-service', 'namespace'], 'kube-extra')],
      ['services.app-service.namespace is "kube-extra"; Kubernetes keeps it'],
    ],
    [
      "a service deploys to Argo CD's namespace",
      [set(['services', 'app-service', 'namespace'], 'argocd')],
      [
        `services.app-service.namespace is "argocd"; it is Argo CD's namespace (argocd.namespace), and the service's project would grant access to everything in it; give the service a namespace of its own, e.g. "dev-app-service"`,
      ],
    ],
    [
      "a service deploys to Argo CD's namespace when it is renamed",
      [set(['argocd', 'namespace'], 'gitops'), set(['services', 'model-service', 'namespace'], 'gitops')],
      ['services.model-service.namespace is "gitops"; it is Argo CD\'s namespace (argocd.namespace)'],
    ],
    [
      "a service deploys to the drift controller's namespace",
      [set(['services', 'app-service', 'namespace'], 'converge-system')],
      [
        'services.app-service.namespace is "converge-system"; it is Converge\'s own namespace (drift.controller.namespace)',
      ],
    ],
    [
      'the Git repo URL carries a token, shown as ***',
      [set(['git', 'repoURL'], `https://${TOKEN}@github.com/example-org/converge.git`)],
      [
        'git.repoURL is "https://***@github.com/example-org/converge.git"; it carries credentials',
        'argocd.argoproj.io/secret-type: repository',
      ],
    ],
    [
      'the Git repo URL carries a user and password, shown as ***',
      [set(['git', 'repoURL'], 'https://ci:hunter2@github.com/example-org/converge.git')],
      ['git.repoURL is "https://***@github.com/example-org/converge.git"; it carries credentials'],
    ],
    [
      'an ssh Git URL carries a password',
      [set(['git', 'repoURL'], 'ssh://git:hunter2@github.com/example-org/converge.git')],
      ['git.repoURL is "ssh://***@github.com/example-org/converge.git"; it carries credentials'],
    ],
    [
      'a project source repo carries a token',
      [
        set(
          ['project', 'sourceRepos'],
          [
            `https://${TOKEN}@github.com/example-org/converge.git`,
            'https://github.com/example-org/converge.git',
          ],
        ),
      ],
      ['project.sourceRepos[0] is "https://***@github.com/example-org/converge.git"; it carries credentials'],
    ],
    [
      "a service's repo URL carries a token",
      [set(['services', 'app-service', 'repoURL'], `https://oauth2:${TOKEN}@gitlab.com/x/charts.git`)],
      ['services.app-service.repoURL is "https://***@gitlab.com/x/charts.git"; it carries credentials'],
    ],
    [
      'the RBAC default policy is not a role',
      [set(['argocd', 'rbacDefaultPolicy'], 'admin')],
      ['argocd.rbacDefaultPolicy is "admin"; it must be "role:<name>"'],
    ],
    [
      'the RBAC default policy role has a space',
      [set(['argocd', 'rbacDefaultPolicy'], 'role:read only')],
      ['argocd.rbacDefaultPolicy is "role:read only"; it must be "role:<name>"'],
    ],
    [
      'the RBAC default policy makes everyone admin',
      [set(['argocd', 'rbacDefaultPolicy'], 'role:admin')],
      ['argocd.rbacDefaultPolicy is "role:admin"; it would make every user who can log in an Argo CD admin'],
    ],
    // Git revisions: git check-ref-format.
    [
      'the Git revision has ".."',
      [set(['git', 'revision'], 'main..dev')],
      ['git.revision is "main..dev"; it has ".."; it must be a Git branch, tag or commit'],
    ],
    [
      'the Git revision has a space',
      [set(['git', 'revision'], 'release 1.5')],
      ['git.revision is "release 1.5"; it has a space or a control character'],
    ],
    [
      'the Git revision is whitespace',
      [set(['git', 'revision'], '   ')],
      ['git.revision is "   "; it must be a non-empty string'],
    ],
    [
      'the Git revision has a caret',
      [set(['git', 'revision'], 'main^')],
      ['git.revision is "main^"; it has "^"'],
    ],
    [
      'the Git revision ends with .lock',
      [set(['git', 'revision'], 'release.lock')],
      ['git.revision is "release.lock"; its part "release.lock" ends with ".lock"'],
    ],
    [
      'the Git revision ends with a slash',
      [set(['git', 'revision'], 'release/')],
      ['git.revision is "release/"; it starts or ends with "/"'],
    ],
    [
      'the Git revision has a reflog @{',
      [set(['git', 'revision'], 'main@{1}')],
      ['git.revision is "main@{1}"; it has "@{"'],
    ],
    [
      'the Git revision is @',
      [set(['git', 'revision'], '@')],
      ['git.revision is "@"; git does not allow "@" alone'],
    ],
    [
      'the Git revision has a part starting with a dot',
      [set(['git', 'revision'], 'release/.hidden')],
      ['git.revision is "release/.hidden"; its part ".hidden" starts with "."'],
    ],
    [
      'the Git revision is a number',
      [set(['git', 'revision'], 15)],
      ['git.revision is 15; it must be a string'],
    ],
    // Drift rules.
    [
      'a drift rule names a kind that does not exist, with a suggestion',
      [rule({ group: 'apps', kind: 'Deploymnet' })],
      [
        'drift.rules[0].match.kind is "Deploymnet"; no kind in group "apps" is named so; did you mean "Deployment"?',
      ],
    ],
    [
      'a drift rule names a kind in the wrong group',
      [rule({ group: '', kind: 'Deployment' })],
      ['drift.rules[0].match.kind is "Deployment"; Deployment is not in group ""; it is in group "apps"'],
    ],
    [
      'a drift rule names a kind in the wrong case',
      [rule({ group: '', kind: 'secret' })],
      ['drift.rules[0].match.kind is "secret"', 'did you mean "Secret"?'],
    ],
    [
      'a drift rule names an unknown group, with a suggestion',
      [rule({ group: 'networking.istio.oi', kind: 'VirtualService' })],
      [
        'drift.rules[0].match.group is "networking.istio.oi"; no kind the platform knows is in this API group; did you mean "networking.istio.io"?',
      ],
    ],
    [
      'a drift rule kind pattern matches nothing',
      [rule({ group: 'apps', kind: 'Foo*' })],
      ['drift.rules[0].match.kind is "Foo*"; the pattern matches no kind in group "apps"'],
    ],
    [
      'a drift rule names an undeclared custom resource',
      [rule({ group: 'cert-manager.io', kind: 'Certificate' })],
      [
        'drift.rules[0].match.group is "cert-manager.io"; no kind the platform knows',
        'declare the kind under drift.customResources',
      ],
    ],
    [
      'a declared custom resource is a wildcard',
      [set(['drift', 'customResources'], [{ group: 'cert-manager.io', kind: '*' }])],
      ['drift.customResources[0].kind is "*"', 'without wildcards'],
    ],
    [
      'a drift regex is catastrophic',
      [
        rule({
          group: 'apps',
          kind: 'Deployment',
          fields: ['/spec/template/spec/containers/*/image'],
          valueNotMatching: '(a+)+$',
        }),
      ],
      ['drift.rules[0].match.valueNotMatching is "(a+)+$"; it can take exponential time on some values'],
    ],
    [
      'a trusted image prefix has a wildcard',
      [set(['drift', 'trustedImagePrefixes'], ['ghcr.io/*'])],
      ['drift.trustedImagePrefixes[0] is "ghcr.io/*"; a prefix already trusts everything under it'],
    ],
    [
      'a trusted image prefix is empty',
      [set(['drift', 'trustedImagePrefixes'], [''])],
      ['drift.trustedImagePrefixes[0] is ""; it must be a non-empty string'],
    ],
    [
      'a trusted image prefix is not an image path',
      [set(['drift', 'trustedImagePrefixes'], ['https://ghcr.io/example-org/'])],
      ['drift.trustedImagePrefixes[0] is "https://ghcr.io/example-org/"; it must be an image prefix'],
    ],
    // Add-ons.
    [
      "an add-on's Git revision has '..'",
      [gitAddon({ revision: 'v1..2' })],
      ['addons.issuers.revision is "v1..2"; it has ".."; it must be a Git branch, tag or commit'],
    ],
    [
      "an add-on's Git revision ends with .lock",
      [gitAddon({ revision: 'main.lock' })],
      ['addons.issuers.revision is "main.lock"; its part "main.lock" ends with ".lock"'],
    ],
    [
      "an add-on's repo URL carries a token",
      [gitAddon({ repoURL: `https://${TOKEN}@github.com/example-org/platform-addons.git` })],
      [
        'addons.issuers.repoURL is "https://***@github.com/example-org/platform-addons.git"; it carries credentials',
      ],
    ],
    [
      "an add-on's values hold a token inline",
      [gitAddon({ values: { webhook: { token: 'abc' } } })],
      ['addons.issuers.values.webhook.token is (value not shown); a secret value is inline'],
    ],
    [
      "an add-on installs into the drift controller's namespace",
      [gitAddon({ namespace: 'converge-system' })],
      ['addons.issuers.namespace is "converge-system"; it is Converge\'s own namespace'],
    ],
    // Inline secrets in chart values.
    [
      'a service value holds a password inline, never shown',
      [set(['services', 'app-service', 'values'], { db: { password: 'hunter2' } })],
      [
        'services.app-service.values.db.password is (value not shown); a secret value is inline; put it in a Kubernetes Secret and reference it, e.g. existingSecret',
      ],
    ],
    [
      'a service value holds an API key inline',
      [set(['services', 'app-service', 'values'], { api_key: 'abc123' })],
      ['services.app-service.values.api_key is (value not shown); a secret value is inline'],
    ],
    [
      'a service value holds a client secret in a list',
      [set(['services', 'app-service', 'values'], { oidc: [{ clientSecret: 'abc' }] })],
      ['services.app-service.values.oidc[0].clientSecret is (value not shown); a secret value is inline'],
    ],
    [
      'a service value holds a numeric password',
      [set(['services', 'app-service', 'values'], { redis: { password: 123456 } })],
      ['services.app-service.values.redis.password is (value not shown); a secret value is inline'],
    ],
    [
      'a service value is a connection string with a password',
      [set(['services', 'app-service', 'values'], { databaseUrl: 'postgres://app:hunter2@db:5432/app' })],
      ['services.app-service.values.databaseUrl is (value not shown); a secret value is inline'],
    ],
  ])('fails when %s', async (_name, mutate, parts) => {
    const result = await run(['synth', '--env', 'dev'], { mutate });
    expectOneLine(result, 'Pulumi.dev.yaml:', ...parts);
  });

  it.each<[string, Mutation[], string]>([
    [
      'the Git repo URL carries a token',
      [set(['git', 'repoURL'], `https://${TOKEN}@github.com/example-org/converge.git`)],
      TOKEN,
    ],
    [
      'a source repo and a service repo carry a password',
      [
        set(['project', 'sourceRepos'], ['https://ci:hunter2@github.com/example-org/converge.git']),
        set(['services', 'app-service', 'repoURL'], 'https://ci:hunter2@github.com/example-org/charts.git'),
      ],
      'hunter2',
    ],
    [
      'a Slack token is pasted as its key',
      [set(['notifications', 'slack'], { tokenSecretKey: TOKEN })],
      TOKEN,
    ],
    [
      'a password is inline in values',
      [set(['services', 'app-service', 'values'], { password: 'hunter2' })],
      'hunter2',
    ],
    [
      'a webhook URL carries a token',
      [set(['notifications', 'webhooks', 'deploy-events', 'url'], `https://${TOKEN}@hooks.example.com/`)],
      TOKEN,
    ],
  ])('fails when %s, and no line carries the credential', async (_name, mutate, secret) => {
    const result = await run(['synth', '--env', 'dev'], { mutate });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/credentials|token itself|secret value is inline/);
    expect(result.stderr).not.toContain(secret);
  });

  it('fails when a sync window schedule is bad, naming its line', async () => {
    const result = await run(['synth', '--env', 'dev'], { mutate: [window({ schedule: '61 * * * *' })] });
    expectOneLine(
      result,
      `Pulumi.dev.yaml:${lineOf(result.text, '61 * * * *')}: converge:platform.project.syncWindows[0].schedule is "61 * * * *"`,
    );
  });
});
