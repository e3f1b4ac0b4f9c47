import { ArgoCdProject } from '../../constructs/argocd/argocd-project';
import { SERVICE_KINDS } from '../../model/objects';
import { only, synthObjects } from '../helpers';

const base = {
  sourceRepos: ['https://github.com/example-org/converge.git'],
  destinations: [{ namespace: 'prod-web' }, { namespace: 'prod-ml' }],
};

describe('ArgoCdProject', () => {
  it('is least privilege by default: named repos, listed namespaces, no cluster kinds, service kinds only', () => {
    // GIVEN / WHEN
    const project = only(
      synthObjects((chart) => new ArgoCdProject(chart, 'prod', base)),
      'AppProject',
    );
    // THEN
    expect(project).toMatchSnapshot();
    expect(project.spec).toMatchObject({
      sourceRepos: ['https://github.com/example-org/converge.git'],
      destinations: [
        { server: 'https://kubernetes.default.svc', namespace: 'prod-web' },
        { server: 'https://kubernetes.default.svc', namespace: 'prod-ml' },
      ],
      clusterResourceWhitelist: [],
      namespaceResourceWhitelist: SERVICE_KINDS.map((gk) => ({ ...gk })),
    });
  });

  it('turns roles into project policies bound to SSO groups', () => {
    const project = only(
      synthObjects(
        (chart) =>
          new ArgoCdProject(chart, 'prod', {
            ...base,
            roles: [{ name: 'deployer', groups: ['release'], actions: ['get', 'sync'] }],
          }),
      ),
      'AppProject',
    );
    expect((project.spec as { roles: unknown[] }).roles).toEqual([
      {
        name: 'deployer',
        groups: ['release'],
        policies: [
          'p, proj:prod:deployer, applications, get, prod/*, allow',
          'p, proj:prod:deployer, applications, sync, prod/*, allow',
        ],
      },
    ]);
  });

  it("grants Argo CD's resource actions (action/<group>/<kind>/<name>) for the action permission", () => {
    const project = only(
      synthObjects(
        (chart) =>
          new ArgoCdProject(chart, 'prod', {
            ...base,
            roles: [{ name: 'operator', actions: ['get', 'action'] }],
          }),
      ),
      'AppProject',
    );
    expect((project.spec as { roles: { policies: string[] }[] }).roles[0].policies).toEqual([
      'p, proj:prod:operator, applications, get, prod/*, allow',
      'p, proj:prod:operator, applications, action/*, prod/*, allow',
    ]);
  });

  it('writes a prod window that denies automated syncs but allows manual ones', () => {
    const project = only(
      synthObjects(
        (chart) =>
          new ArgoCdProject(chart, 'prod', {
            ...base,
            syncWindows: [{ kind: 'deny', schedule: '0 18 * * 5', duration: '62h', manualSync: true }],
          }),
      ),
      'AppProject',
    );
    expect((project.spec as { syncWindows: unknown[] }).syncWindows).toEqual([
      {
        kind: 'deny',
        schedule: '0 18 * * 5',
        duration: '62h',
        applications: ['*'],
        manualSync: true,
        timeZone: 'UTC',
      },
    ]);
  });

  it('allows cluster-scoped kinds only when listed', () => {
    const project = only(
      synthObjects(
        (chart) =>
          new ArgoCdProject(chart, 'prod', { ...base, clusterResources: [{ group: '', kind: 'Namespace' }] }),
      ),
      'AppProject',
    );
    expect((project.spec as { clusterResourceWhitelist: unknown }).clusterResourceWhitelist).toEqual([
      { group: '', kind: 'Namespace' },
    ]);
  });

  it('answers whether a cluster-scoped kind is allowed', () => {
    synthObjects((chart) => {
      const p = new ArgoCdProject(chart, 'prod', {
        ...base,
        clusterResources: [{ group: 'apiextensions.k8s.io', kind: 'CustomResourceDefinition' }],
      });
      expect(p.allowsClusterKind('apiextensions.k8s.io', 'CustomResourceDefinition')).toBe(true);
      expect(p.allowsClusterKind('', 'Namespace')).toBe(false);
    });
  });

  it('answers whether a destination is allowed', () => {
    synthObjects((chart) => {
      const p = new ArgoCdProject(chart, 'prod', base);
      expect(p.allowsDestination('https://kubernetes.default.svc', 'prod-web')).toBe(true);
      expect(p.allowsDestination('https://kubernetes.default.svc', 'kube-system')).toBe(false);
    });
  });

  it('fails when the project is named default', () => {
    expect(() => synthObjects((chart) => new ArgoCdProject(chart, 'default', base))).toThrow(
      `'name' is "default"; the default project allows everything`,
    );
  });

  it('fails when a source repo is a wildcard', () => {
    expect(() =>
      synthObjects((chart) => new ArgoCdProject(chart, 'prod', { ...base, sourceRepos: ['*'] })),
    ).toThrow(`'sourceRepos[0]' is "*"; wildcards allow any repo`);
  });

  it('fails when a source repo URL ends in a wildcard', () => {
    expect(() =>
      synthObjects(
        (chart) =>
          new ArgoCdProject(chart, 'prod', { ...base, sourceRepos: ['https://github.com/example-org/*'] }),
      ),
    ).toThrow(
      `'sourceRepos[0]' is "https://github.com/example-org/*"; wildcards allow any repo; list each repo URL`,
    );
  });

  it('fails when a destination namespace is a glob', () => {
    expect(() =>
      synthObjects(
        (chart) => new ArgoCdProject(chart, 'prod', { ...base, destinations: [{ namespace: 'prod-*' }] }),
      ),
    ).toThrow(`'destinations[0].namespace' is "prod-*"; it must be a DNS label`);
  });

  it('fails when a sync window schedule is not cron', () => {
    expect(() =>
      synthObjects(
        (chart) =>
          new ArgoCdProject(chart, 'prod', {
            ...base,
            syncWindows: [{ kind: 'deny', schedule: 'fridays', duration: '1h' }],
          }),
      ),
    ).toThrow(`'syncWindows[0].schedule' is "fridays"; it must be a cron schedule with five fields`);
  });

  it('fails when a role may do nothing', () => {
    expect(() =>
      synthObjects(
        (chart) => new ArgoCdProject(chart, 'prod', { ...base, roles: [{ name: 'idle', actions: [] }] }),
      ),
    ).toThrow(`'roles[0].actions' is []; list what the role may do`);
  });
});
