import { expectOneLine, lineOf, Mutation, run, set, useScratchFolder } from './bad-input-helpers';

/*
 * Values the bad-input sweep found accepted with exit 0, or reported on several lines: each is
 * one line naming the file and line, the key path, the value, what is allowed and the fix.
 */

useScratchFolder();

const email = (over: Record<string, unknown>) =>
  set(['notifications', 'email'], { host: 'smtp.example.com', from: 'argocd@example.com', ...over });
const role = (name: string, actions: string[]) => ({ name, groups: ['g'], actions });

describe('converge synth: values each fine alone, or refused by what reads them', () => {
  it.each<[string, Mutation[], string[]]>([
    [
      'git.repoURL is a local file:// path',
      [set(['git', 'repoURL'], 'file:///etc')],
      [
        'converge:platform.git.repoURL is "file:///etc"; Argo CD\'s repo-server clones it in the cluster, where a path on this machine does not exist; push the repo to a Git server and use its https://, ssh:// or git:// URL',
      ],
    ],
    [
      'a project source repo is a file:// path',
      [
        set(
          ['project', 'sourceRepos'],
          ['https://github.com/example-org/converge.git', 'file:///srv/charts'],
        ),
      ],
      ['converge:platform.project.sourceRepos[1] is "file:///srv/charts"; Argo CD\'s repo-server clones it'],
    ],
    [
      "a service's repoURL is a file:// path",
      [set(['services', 'app-service', 'repoURL'], 'FILE:///home/me/charts')],
      ['converge:platform.services.app-service.repoURL is "FILE:///home/me/charts"; Argo CD\'s repo-server'],
    ],
    [
      "an add-on's repoURL is a file:// path",
      [
        set(['addons', 'mesh'], {
          repoURL: 'file:///charts',
          path: 'istio',
          revision: 'main',
          namespace: 'istio-system',
        }),
      ],
      ['converge:platform.addons.mesh.repoURL is "file:///charts"; Argo CD\'s repo-server clones it'],
    ],
    [
      'destination.server is an ftp URL',
      [set(['destination', 'server'], 'ftp://x')],
      [
        'converge:platform.destination.server is "ftp://x"; it must be the https URL of a Kubernetes API server (the ftp scheme is not one), e.g. "https://kubernetes.default.svc"',
      ],
    ],
    [
      'destination.server is not a URL',
      [set(['destination', 'server'], 'kubernetes')],
      ['destination.server is "kubernetes"; it must be the https URL of a Kubernetes API server, e.g.'],
    ],
    [
      'destination.server carries credentials, never shown',
      [set(['destination', 'server'], 'https://admin:s3cret-pw@10.0.0.1:6443')],
      [
        'destination.server is "https://***@10.0.0.1:6443"; it carries credentials (https://***@10.0.0.1:6443); Argo CD keeps a cluster\'s credentials in a cluster Secret',
      ],
    ],
    [
      'argocd.namespace is default',
      [set(['argocd', 'namespace'], 'default')],
      [
        'converge:platform.argocd.namespace is "default"; Kubernetes keeps it (and every "kube-" namespace) for itself',
        'use a namespace of its own, e.g. "argocd"',
      ],
    ],
    [
      'argocd.namespace is kube-system',
      [set(['argocd', 'namespace'], 'kube-system')],
      ['converge:platform.argocd.namespace is "kube-system"; Kubernetes keeps it'],
    ],
    [
      'argocd.reconciliationTimeout overflows Go',
      [set(['argocd', 'reconciliationTimeout'], '99999999999h')],
      [
        'converge:platform.argocd.reconciliationTimeout is "99999999999h"; it is longer than 24h, the most it may be (how often Argo CD polls Git; for rarer polls, add a Git webhook); shorten it, e.g. to 24h',
      ],
    ],
    [
      'argocd.reconciliationJitter is a week',
      [set(['argocd', 'reconciliationJitter'], '168h')],
      ['argocd.reconciliationJitter is "168h"; it is longer than 1h, the most it may be'],
    ],
    [
      'argocd.selfHealBackoffCap is below selfHealBackoff',
      [set(['argocd', 'selfHealBackoffCap'], '1s'), set(['argocd', 'selfHealBackoff'], '2s')],
      [
        'converge:platform.argocd.selfHealBackoffCap is "1s"; it is shorter than argocd.selfHealBackoff (2s), the first wait it caps; raise selfHealBackoffCap to at least 2s, or lower argocd.selfHealBackoff',
      ],
    ],
    [
      'sync.retry.backoffMaxDuration is below backoffDuration',
      [set(['sync', 'retry', 'backoffMaxDuration'], '2s')],
      [
        'converge:platform.sync.retry.backoffMaxDuration is "2s"; it is shorter than sync.retry.backoffDuration (5s), the first wait it caps',
      ],
    ],
    [
      'sync.retry.backoffDuration is above the default cap when no cap is set',
      [set(['sync', 'retry'], { limit: 3, backoffDuration: '10m' })],
      [
        'converge:platform.sync.retry.backoffDuration is "10m"; it is longer than Argo CD\'s default backoffMaxDuration (3m), which caps it; set sync.retry.backoffMaxDuration to at least 10m',
      ],
    ],
    [
      'sync.retry.backoffDuration overflows, with no second line about the cap below it',
      [set(['sync', 'retry', 'backoffDuration'], '99999999999h')],
      [
        'converge:platform.sync.retry.backoffDuration is "99999999999h"; it is longer than 1h, the most it may be',
      ],
    ],
    [
      'sync.retry.backoffMaxDuration is a year',
      [set(['sync', 'retry', 'backoffMaxDuration'], '8760h')],
      ['sync.retry.backoffMaxDuration is "8760h"; it is longer than 24h, the most it may be'],
    ],
    [
      'a sync window lasts over a year',
      [set(['project', 'syncWindows'], [{ kind: 'deny', schedule: '0 0 1 1 *', duration: '9000h' }])],
      [
        'project.syncWindows[0].duration is "9000h"; it is longer than 8760h, the most it may be (a window longer than a year never closes)',
      ],
    ],
    [
      'drift.backoff.max is below drift.backoff.initial',
      [set(['drift', 'backoff'], { initial: '1m', max: '30s' })],
      [
        'converge:platform.drift.backoff.max is "30s"; it is shorter than drift.backoff.initial (1m), the first wait it caps; raise max to at least 1m',
      ],
    ],
    [
      'drift.backoff.max overflows Go',
      [set(['drift', 'backoff'], { max: '99999999999h' })],
      ['converge:platform.drift.backoff.max is "99999999999h"; it is longer than 24h, the most it may be'],
    ],
    [
      'two project roles share a name',
      [set(['project', 'roles'], [role('ops', ['get']), role('ops', ['sync'])])],
      [
        'converge:platform.project.roles[1].name is "ops"; role ops is listed already at [0]; drop one of them, or merge them',
      ],
    ],
    [
      'two sync windows are the same window',
      [
        set(
          ['project', 'syncWindows'],
          [
            { kind: 'deny', schedule: '0 22 * * 5', duration: '1h' },
            { kind: 'deny', schedule: '0 22 * * 5', duration: '2h' },
          ],
        ),
      ],
      [
        'converge:platform.project.syncWindows[1] is {"kind":"deny","schedule":"0 22 * * 5"}; a deny window with schedule "0 22 * * 5" for the same applications is listed already at [0]',
      ],
    ],
    [
      'a project lists a cluster resource twice',
      [
        set(
          ['project', 'clusterResources'],
          [
            { group: 'apiextensions.k8s.io', kind: 'CustomResourceDefinition' },
            { group: 'apiextensions.k8s.io', kind: 'CustomResourceDefinition' },
          ],
        ),
      ],
      [
        'project.clusterResources[1] is',
        'CustomResourceDefinition of group "apiextensions.k8s.io" is listed already at [0]',
      ],
    ],
    [
      'two subscriptions share a trigger and service, so Argo CD keeps one',
      [
        set(
          ['notifications', 'subscriptions'],
          [
            { trigger: 'on-sync-failed', service: 'webhook', recipients: ['deploy-events'] },
            { trigger: 'on-sync-failed', service: 'webhook', recipients: ['deploy-events'] },
          ],
        ),
      ],
      [
        'notifications.subscriptions[1] is {"trigger":"on-sync-failed","service":"webhook"}; a webhook subscription to on-sync-failed (Argo CD keeps one per trigger and service; list every recipient in one) is listed already at [0]',
      ],
    ],
    [
      'a subscription lists a recipient twice',
      [
        set(
          ['notifications', 'subscriptions'],
          [{ trigger: 'on-deployed', service: 'webhook', recipients: ['deploy-events', 'deploy-events'] }],
        ),
      ],
      [
        'notifications.subscriptions[0].recipients[1] is "deploy-events"; recipient deploy-events is listed already at [0]',
      ],
    ],
    [
      'two drift rules share a name',
      [
        set(
          ['drift', 'rules'],
          [
            { name: 'r', match: { kind: 'Deployment' }, severity: 'low', action: 'heal' },
            { name: 'r', match: { kind: 'Service' }, severity: 'high', action: 'heal-and-page' },
          ],
        ),
      ],
      [
        'converge:platform.drift.rules[1].name is "r"; rule r (audit records and metrics name the rule that matched) is listed already at [0]',
      ],
    ],
    [
      'a drift notify target is listed twice',
      [set(['drift', 'notify', 'high'], ['webhook:deploy-events', 'webhook:deploy-events'])],
      [
        'drift.notify.high[1] is "webhook:deploy-events"; target webhook:deploy-events is listed already at [0]',
      ],
    ],
    [
      'a service is in two progressive steps',
      [
        set(['sync', 'automated'], false),
        set(['applicationSet', 'progressiveSteps'], [['app-service'], ['model-service', 'app-service']]),
      ],
      [
        'converge:platform.applicationSet.progressiveSteps[1][1] is "app-service"; service app-service is in step [0] already; RollingSync syncs a service in one step only, so list it once',
      ],
    ],
    [
      'notifications.email.from is not an address',
      [email({ from: 'nobody' })],
      [
        'converge:platform.notifications.email.from is "nobody"; it must be an email address such as "argocd@example.com", or a name and one: "Argo CD <argocd@example.com>"',
      ],
    ],
    [
      'notifications.email.host is a URL',
      [email({ host: 'smtp://mail.example.com:25' })],
      [
        'notifications.email.host is "smtp://mail.example.com:25"; it must be a host name or IP address such as "smtp.example.com" or "10.0.0.5", without scheme, port or path',
      ],
    ],
    [
      'a drift email target is not an address',
      [email({}), set(['drift', 'notify', 'high'], ['email:oncall@localhost'])],
      [
        'converge:platform.drift.notify.high[0] is "email:oncall@localhost"; after "email:" comes an email address such as "argocd@example.com", e.g. "email:oncall@example.com"',
      ],
    ],
    [
      'drift.controller.image is not an image reference',
      [set(['drift', 'controller', 'image'], 'UPPER/Converge:tag')],
      [
        'converge:platform.drift.controller.image is "UPPER/Converge:tag"; it must be an image reference such as "ghcr.io/example-org/converge:0.1.0" (lowercase repository, then :tag or @sha256:digest); the kubelet could not pull it',
      ],
    ],
    [
      'drift.controller.image has a space',
      [set(['drift', 'controller', 'image'], 'ghcr.io/example-org/converge: 0.1.0')],
      ['drift.controller.image is "ghcr.io/example-org/converge: 0.1.0"; it must be an image reference'],
    ],
    [
      'drift.controller.namespace is kube-system',
      [set(['drift', 'controller', 'namespace'], 'kube-system')],
      [
        'converge:platform.drift.controller.namespace is "kube-system"; Kubernetes keeps it',
        'use "converge-system"',
      ],
    ],
    [
      'the only source repo is a wildcard, with no second line about the Git repo',
      [set(['project', 'sourceRepos'], ['*'])],
      ['converge:platform.project.sourceRepos[0] is "*"; wildcards allow any repo; list each repo URL'],
    ],
    [
      'a webhook subscription has no webhook declared, in one line',
      [
        set(['notifications', 'webhooks'], {}),
        set(['drift', 'notify', 'high'], []),
        set(
          ['notifications', 'subscriptions'],
          [{ trigger: 'on-deployed', service: 'webhook', recipients: ['nope'] }],
        ),
      ],
      [
        'converge:platform.notifications.subscriptions[0].service is "webhook"; no webhook is declared, so its recipients name nothing; declare one under notifications.webhooks first',
      ],
    ],
  ])('fails when %s', async (_name, mutate, parts) => {
    const result = await run(['synth', '--env', 'dev'], { mutate });
    expectOneLine(result, 'Pulumi.dev.yaml:', ...parts);
    expect(result.stderr).not.toContain('use one of: ;');
  });

  it('fails when argocd.reconciliationTimeout is huge, naming its line', async () => {
    const result = await run(['synth', '--env', 'prod'], {
      env: 'prod',
      mutate: [set(['argocd', 'reconciliationTimeout'], '99999999999h')],
    });
    expectOneLine(
      result,
      `Pulumi.prod.yaml:${lineOf(result.text, 'reconciliationTimeout:')}: converge:platform.argocd.reconciliationTimeout is "99999999999h"`,
    );
  });

  it.each([
    ['an https API server', 'https://10.0.0.1:6443'],
    ["Argo CD's own cluster", 'https://kubernetes.default.svc'],
  ])('accepts %s as destination.server', async (_name, server) => {
    const result = await run(['synth', '--env', 'dev'], { mutate: [set(['destination', 'server'], server)] });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('accepts a sender with a display name, as mail headers write it', async () => {
    const result = await run(['synth', '--env', 'dev'], {
      mutate: [email({ from: 'Argo CD <argocd@example.com>' })],
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('accepts a controller image by digest, and a backoff cap equal to its start', async () => {
    const result = await run(['synth', '--env', 'dev'], {
      mutate: [
        set(['drift', 'controller', 'image'], `localhost:5000/converge@sha256:${'a'.repeat(64)}`),
        set(['argocd', 'selfHealBackoffCap'], '1s'),
      ],
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });
});
