import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parsePlatformConfig } from '../../config/parse';
import { del, expectOneLine, lineOf, Mutation, run, set, useScratchFolder } from './bad-input-helpers';

/*
 * `addons.<name>`: third-party charts, each in a project of its own. Every bad add-on ends with one
 * line naming the file, the line, the key path, the value, the rule and the fix.
 */

useScratchFolder();

const ISTIO_BASE = {
  repoURL: 'https://istio-release.storage.googleapis.com/charts',
  chart: 'base',
  revision: '1.24.3',
  namespace: 'istio-system',
  clusterResources: [
    { group: 'apiextensions.k8s.io', kind: 'CustomResourceDefinition' },
    { group: 'admissionregistration.k8s.io', kind: 'ValidatingWebhookConfiguration' },
  ],
};
const GIT_ADDON = {
  repoURL: 'https://github.com/example-org/platform-addons.git',
  path: 'charts/cluster-issuers',
  revision: 'v1.2.0',
  namespace: 'cert-manager',
};

/** Istio's base chart as the add-on `istio-base`, with some keys changed (undefined drops a key). */
const istioBase = (changes: Record<string, unknown> = {}): Mutation =>
  set(
    ['addons', 'istio-base'],
    Object.fromEntries(Object.entries({ ...ISTIO_BASE, ...changes }).filter(([, v]) => v !== undefined)),
  );

const devRaw = () =>
  parse(readFileSync(join(__dirname, '..', '..', 'stacks', 'Pulumi.dev.yaml'), 'utf8')).config[
    'converge:platform'
  ];

describe('addons', () => {
  it('accepts a chart from a Helm repo and a chart folder from Git, with the defaults filled in', () => {
    // GIVEN dev's stack config with two add-ons
    const raw = { ...devRaw(), addons: { 'istio-base': ISTIO_BASE, 'cluster-issuers': GIT_ADDON } };
    // WHEN parsed
    const config = parsePlatformConfig(raw, { file: 'Pulumi.dev.yaml' });
    // THEN
    expect(config.addons['istio-base']).toEqual({
      ...ISTIO_BASE,
      createNamespace: true,
      values: {},
      ignoreDifferences: [],
      sync: {},
    });
    expect(config.addons['cluster-issuers']).toMatchObject({ ...GIT_ADDON, clusterResources: [] });
    expect(config.addons['cluster-issuers'].namespaceResources).toBeUndefined();
  });

  it('is optional: a stack file without addons declares none', () => {
    expect(parsePlatformConfig(devRaw(), { file: 'Pulumi.dev.yaml' }).addons).toEqual({});
  });

  it('synthesizes a stack file with add-ons', async () => {
    const result = await run(['synth', '--env', 'dev'], { mutate: [istioBase()] });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it("passes `converge validate` with add-ons in prod: Argo CD's schemas and every invariant", async () => {
    const result = await run(['validate', '--env', 'prod'], {
      env: 'prod',
      mutate: [
        istioBase({
          ignoreDifferences: [
            {
              group: 'admissionregistration.k8s.io',
              kind: 'ValidatingWebhookConfiguration',
              jqPathExpressions: ['.webhooks[]?.failurePolicy'],
            },
          ],
          sync: { selfHeal: false },
        }),
        set(['addons', 'cluster-issuers'], GIT_ADDON),
      ],
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });
});

const NAMESPACE = { group: '', kind: 'Namespace' };

/**
 * [case, mutations, the line's text (searched from `addons:` on) or how to find the line, the
 * message after "file:line: "].
 */
const cases: [string, Mutation[], string | ((text: string) => number), string][] = [
  [
    'an add-on key is misspelled',
    [istioBase({ valuse: { pilot: {} } })],
    'istio-base:',
    "converge:platform.addons.istio-base has unknown key 'valuse'; remove it or fix its spelling",
  ],
  [
    'an add-on names both a chart and a path',
    [istioBase({ path: 'manifests/charts/base' })],
    'path: manifests/charts/base',
    "converge:platform.addons.istio-base.path is \"manifests/charts/base\"; chart is set too; an add-on reads either a chart from a Helm repo ('chart') or a chart folder from a Git repo ('path'); keep one",
  ],
  [
    'an add-on names neither a chart nor a path',
    [istioBase({ chart: undefined })],
    'istio-base:',
    "converge:platform.addons.istio-base.chart is missing; set 'chart' (the chart's name in the Helm repo at repoURL) or 'path' (the chart's folder in the Git repo at repoURL)",
  ],
  [
    "a Helm chart's repo is a Git URL",
    [istioBase({ repoURL: 'git@github.com:istio/istio.git' })],
    'repoURL: git@github.com:istio/istio.git',
    "converge:platform.addons.istio-base.repoURL is \"git@github.com:istio/istio.git\"; it must be the https URL of a Helm chart repository, e.g. \"https://istio-release.storage.googleapis.com/charts\"; for a chart in Git, set the chart's folder under 'path' instead of 'chart'",
  ],
  [
    "an add-on's repo is not a URL",
    [istioBase({ repoURL: 'istio-release' })],
    'repoURL: istio-release',
    'converge:platform.addons.istio-base.repoURL is "istio-release"; it must be a Helm repo URL (https://...) or a Git URL',
  ],
  [
    "an add-on's repo is a wildcard",
    [istioBase({ ...GIT_ADDON, chart: undefined, repoURL: 'https://github.com/example-org/*' })],
    'repoURL: https://github.com/example-org/*',
    'converge:platform.addons.istio-base.repoURL is "https://github.com/example-org/*"; wildcards allow any repo; use the one repo URL the add-on reads from',
  ],
  [
    "an add-on's revision is missing",
    [istioBase({ revision: undefined })],
    'istio-base:',
    'converge:platform.addons.istio-base.revision is missing; it is required (a string); add it',
  ],
  [
    "an add-on's revision is a YAML number",
    [istioBase({ revision: 1.24 })],
    'revision: 1.24',
    'converge:platform.addons.istio-base.revision is 1.24; it must be a string; change its type',
  ],
  [
    "an add-on's revision has spaces",
    [istioBase({ revision: '1.24 latest' })],
    'revision: 1.24 latest',
    'converge:platform.addons.istio-base.revision is "1.24 latest"; it must be a chart version such as "1.24.3", or a Git branch, tag or commit; write it without spaces',
  ],
  [
    'a Helm chart name is a path',
    [istioBase({ chart: 'istio/base' })],
    'chart: istio/base',
    'converge:platform.addons.istio-base.chart is "istio/base"; it must be the name of a chart in the Helm repo, e.g. "base"',
  ],
  [
    "an add-on's path leaves the repo",
    [istioBase({ ...GIT_ADDON, chart: undefined, path: '../charts/issuers' })],
    'path: ../charts/issuers',
    'converge:platform.addons.istio-base.path is "../charts/issuers"; it must be a path inside the repo',
  ],
  [
    'an add-on deploys to kube-system',
    [istioBase({ namespace: 'kube-system' })],
    'namespace: kube-system',
    'converge:platform.addons.istio-base.namespace is "kube-system"; Kubernetes keeps it (and every "kube-" namespace) for itself',
  ],
  [
    'an add-on deploys to the default namespace',
    [istioBase({ namespace: 'default' })],
    'namespace: default',
    'converge:platform.addons.istio-base.namespace is "default"; Kubernetes keeps it',
  ],
  [
    "an add-on deploys to Argo CD's namespace",
    [istioBase({ namespace: 'argocd' })],
    'namespace: argocd',
    'converge:platform.addons.istio-base.namespace is "argocd"; it is Argo CD\'s namespace (argocd.namespace), and the add-on\'s project would grant access to everything in it; give the add-on a namespace of its own, e.g. "istio-base"',
  ],
  [
    "an add-on deploys to the drift controller's namespace",
    [istioBase({ namespace: 'converge-system' })],
    'namespace: converge-system',
    'converge:platform.addons.istio-base.namespace is "converge-system"; it is Converge\'s own namespace (drift.controller.namespace)',
  ],
  [
    "an add-on deploys to a service's namespace",
    [istioBase({ namespace: 'dev-web' })],
    'namespace: dev-web',
    'converge:platform.addons.istio-base.namespace is "dev-web"; services app-service deploy to it; an add-on gets a namespace of its own, so its project grants nothing in theirs; pick another namespace',
  ],
  [
    "an add-on's namespace is not a DNS label",
    [istioBase({ namespace: 'Istio_System' })],
    'namespace: Istio_System',
    'converge:platform.addons.istio-base.namespace is "Istio_System"; it must be a DNS label',
  ],
  [
    'an add-on name is not a DNS label',
    [set(['addons', 'Istio_Base'], ISTIO_BASE)],
    'Istio_Base:',
    'converge:platform.addons.Istio_Base is "Istio_Base"; it must be a DNS label',
  ],
  [
    "an add-on name makes its project name longer than Argo CD's 63 characters",
    [set(['addons', `istio-${'x'.repeat(50)}`], ISTIO_BASE)],
    `istio-${'x'.repeat(50)}:`,
    `converge:platform.addons.istio-${'x'.repeat(50)} is "istio-${'x'.repeat(50)}"; it names the add-on's project and Application "dev-addon-istio-${'x'.repeat(50)}", 66 characters; Argo CD allows 63; shorten the name to at most 53 characters`,
  ],
  [
    "an add-on's Application would take a service's Application name",
    [
      set(['services', 'addon-mesh'], {
        namespace: 'dev-mesh',
        image: { repository: 'ghcr.io/example-org/mesh', tag: '1.0.0' },
        replicas: 1,
      }),
      set(['addons', 'mesh'], ISTIO_BASE),
    ],
    'mesh:',
    'converge:platform.addons.mesh is "mesh"; its Application "dev-addon-mesh" would take the name of service addon-mesh\'s; rename the add-on or the service',
  ],
  [
    'a cluster kind is a wildcard',
    [istioBase({ clusterResources: [{ group: 'apiextensions.k8s.io', kind: '*' }] })],
    'kind: "*"',
    'converge:platform.addons.istio-base.clusterResources[0].kind is "*"; wildcards allow every kind; list each group and kind the add-on needs',
  ],
  [
    'a cluster group is a wildcard',
    [istioBase({ clusterResources: [{ group: '*', kind: 'CustomResourceDefinition' }] })],
    'group: "*"',
    'converge:platform.addons.istio-base.clusterResources[0].group is "*"; wildcards allow every group',
  ],
  [
    'a cluster kind is not spelled as the API names it',
    [istioBase({ clusterResources: [{ group: 'apiextensions.k8s.io', kind: 'customresourcedefinition' }] })],
    'kind: customresourcedefinition',
    'converge:platform.addons.istio-base.clusterResources[0].kind is "customresourcedefinition"; it must be a kind as the API names it, e.g. "CustomResourceDefinition"',
  ],
  [
    'a cluster kind has no group',
    [istioBase({ clusterResources: [{ kind: 'CustomResourceDefinition' }] })],
    'kind: CustomResourceDefinition',
    'converge:platform.addons.istio-base.clusterResources[0].group is missing; it is required (a string); add it',
  ],
  [
    'a cluster kind is listed twice',
    [istioBase({ clusterResources: [NAMESPACE, ...ISTIO_BASE.clusterResources, NAMESPACE] })],
    // The second entry naming Namespace: the list's last item.
    (text) => lineOf(text, 'group: ""', lineOf(text, 'group: ""', lineOf(text, 'addons:'))),
    'converge:platform.addons.istio-base.clusterResources[3] is {"group":"","kind":"Namespace"}; it is listed already at [0]; drop one',
  ],
  [
    'an add-on lists no namespaced kinds',
    [istioBase({ namespaceResources: [] })],
    'namespaceResources:',
    'converge:platform.addons.istio-base.namespaceResources is []; it needs at least 1 entries; add more',
  ],
  [
    'two add-ons in one namespace disagree on who creates it',
    [istioBase(), set(['addons', 'istiod'], { ...ISTIO_BASE, chart: 'istiod', createNamespace: false })],
    'createNamespace: false',
    'converge:platform.addons.istiod.createNamespace is false; add-on istio-base shares namespace istio-system with createNamespace: true; a namespace has one owner, so set the same value on both',
  ],
  [
    "an add-on's createNamespace is a word",
    [istioBase({ createNamespace: 'yes' })],
    'createNamespace: yes',
    'converge:platform.addons.istio-base.createNamespace is "yes"; it must be a boolean; change its type',
  ],
  [
    "an add-on's values are not a map",
    [istioBase({ values: 'defaultRevision=default' })],
    'values: defaultRevision=default',
    'converge:platform.addons.istio-base.values is "defaultRevision=default"; it must be a record; change its type',
  ],
  [
    'an ignore rule of an add-on names nothing to ignore',
    [istioBase({ ignoreDifferences: [{ kind: 'ValidatingWebhookConfiguration' }] })],
    '- kind: ValidatingWebhookConfiguration',
    'converge:platform.addons.istio-base.ignoreDifferences[0] is {"kind":"ValidatingWebhookConfiguration"}; name what to ignore: jsonPointers, jqPathExpressions or managedFieldsManagers',
  ],
  [
    "an add-on's sync key is unknown",
    [istioBase({ sync: { automated: false } })],
    'sync:',
    "converge:platform.addons.istio-base.sync has unknown key 'automated'; remove it or fix its spelling",
  ],
  [
    "an add-on self-heals while the environment's sync is manual",
    [set(['sync', 'automated'], false), istioBase({ sync: { selfHeal: true } })],
    'selfHeal: true',
    'converge:platform.addons.istio-base.sync.selfHeal is true; it only acts on automated syncs, and automated is false; drop selfHeal or set automated: true',
  ],
];

describe('converge synth: bad add-ons', () => {
  it.each(cases)('fails when %s', async (_name, mutate, needle, message) => {
    const result = await run(['synth', '--env', 'dev'], { mutate });
    const line =
      typeof needle === 'string'
        ? lineOf(result.text, needle, lineOf(result.text, 'addons:'))
        : needle(result.text);
    expectOneLine(result, `Pulumi.dev.yaml:${line}: ${message}`);
  });

  it('fails when an add-on deploys to a namespace the stack moved Argo CD to', async () => {
    const result = await run(['synth', '--env', 'dev'], {
      mutate: [set(['argocd', 'namespace'], 'gitops'), istioBase({ namespace: 'gitops' })],
    });
    expectOneLine(
      result,
      `Pulumi.dev.yaml:${lineOf(result.text, 'namespace: gitops', lineOf(result.text, 'addons:'))}: ` +
        'converge:platform.addons.istio-base.namespace is "gitops"; it is Argo CD\'s namespace (argocd.namespace)',
    );
  });

  it('fails when a removed key leaves an add-on without its namespace', async () => {
    const result = await run(['synth', '--env', 'dev'], {
      mutate: [istioBase(), del(['addons', 'istio-base', 'namespace'])],
    });
    expectOneLine(
      result,
      `Pulumi.dev.yaml:${lineOf(result.text, 'istio-base:')}: converge:platform.addons.istio-base.namespace is missing; it is required (a string); add it`,
    );
  });
});
