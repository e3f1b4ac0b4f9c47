import { defaultImageUpdates, imageUpdatePolicy } from '../../config/image-updates';
import { loadStackConfig } from '../../config/stack-file';
import { del, expectOneLine, Mutation, run, set, useScratchFolder } from './bad-input-helpers';

/* The image update policy of the stack file: its checks (one line each) and its defaults per environment. */

useScratchFolder();

const dev = (path: (string | number)[], value: unknown) =>
  set(['services', 'app-service', 'imageUpdates', ...path], value);

describe('converge synth: bad image update policies', () => {
  it.each<[string, string, Mutation[], string[]]>([
    [
      'the constraint is not a semver range',
      'dev',
      [dev(['constraint'], '~one.0')],
      [
        'services.app-service.imageUpdates.constraint is "~one.0"; it is not a semver range; write one such as "~1.0"',
      ],
    ],
    [
      'the constraint joins comparators with a comma',
      'dev',
      [dev(['constraint'], '>=1.0.0, <2.0.0')],
      ['imageUpdates.constraint is ">=1.0.0, <2.0.0"; join comparators with a space, not a comma'],
    ],
    [
      'the pinned tag does not satisfy the constraint',
      'dev',
      [dev(['constraint'], '~2.0')],
      [
        'services.app-service.imageUpdates.constraint is "~2.0"; the pinned tag 1.5.0-dev.3 (services.app-service.image.tag) is outside it',
        'a pre-release needs a "-0" bound',
      ],
    ],
    [
      'the pinned tag is outside the environment default range',
      'staging',
      [
        set(['imageUpdater', 'enabled'], true),
        del(['services', 'app-service', 'imageUpdates']),
        set(['services', 'app-service', 'image', 'tag'], '1.6.0-rc.1'),
      ],
      [
        'services.app-service.image.tag is "1.6.0-rc.1"; it is outside the environment\'s default range "^1"; pin a tag inside it or set services.app-service.imageUpdates.constraint',
      ],
    ],
    [
      'the default strategy is semver and the pinned tag is not a version',
      'dev',
      [
        set(['imageUpdater', 'enabled'], true),
        del(['services', 'app-service', 'imageUpdates']),
        set(['services', 'app-service', 'image', 'tag'], 'a1b2c3d'),
      ],
      [
        'services.app-service.image.tag is "a1b2c3d"; the image update strategy here is semver (the default)',
        'set services.app-service.imageUpdates.strategy to newest-build, digest or none',
      ],
    ],
    [
      'allowTags is not a regexp',
      'dev',
      [dev(['allowTags'], '^(1\\.')],
      ['services.app-service.imageUpdates.allowTags is "^(1\\\\."; it is not a valid regular expression'],
    ],
    [
      'allowTags can take exponential time',
      'dev',
      [dev(['allowTags'], '^(a+)+$')],
      ['imageUpdates.allowTags is "^(a+)+$"; it can take exponential time on some tags'],
    ],
    [
      'an ignoreTags glob never closes its class',
      'dev',
      [dev(['ignoreTags'], ['*-rc*', '1.[0'])],
      [
        'services.app-service.imageUpdates.ignoreTags[1] is "1.[0"; a "[" is never closed',
        'ignoreTags are Go filepath.Match globs',
      ],
    ],
    [
      'a constraint comes with a strategy that takes none',
      'dev',
      [dev(['strategy'], 'newest-build')],
      [
        'services.app-service.imageUpdates.constraint is ">=0.0.0-0"; strategy newest-build takes no constraint',
        'remove constraint or use strategy: semver',
      ],
    ],
    [
      'a tag filter comes with strategy none',
      'dev',
      [
        dev(['strategy'], 'none'),
        del(['services', 'app-service', 'imageUpdates', 'constraint']),
        dev(['ignoreTags'], ['*-rc*']),
      ],
      [
        'services.app-service.imageUpdates.ignoreTags is ["*-rc*"]; strategy none never updates, so it reads no tag filter',
      ],
    ],
    [
      'the strategy is misspelt',
      'dev',
      [dev(['strategy'], 'semvr')],
      ['services.app-service.imageUpdates.strategy is "semvr"; it is not a strategy; did you mean "semver"?'],
    ],
    [
      'the strategy is Image Updater\'s old name "latest"',
      'dev',
      [dev(['strategy'], 'latest')],
      ['imageUpdates.strategy is "latest"; Image Updater renamed "latest" to "newest-build"'],
    ],
    [
      'the updater is on while git.revision is a release tag',
      'prod',
      [set(['imageUpdater', 'enabled'], true)],
      [
        'imageUpdater.enabled is true; git.revision is "v1.5.0", a release tag; Image Updater commits each new tag to the branch Argo CD follows',
      ],
    ],
    [
      'the updater is on while git.revision is a commit',
      'dev',
      [
        set(['imageUpdater', 'enabled'], true),
        set(['git', 'revision'], '0123456789abcdef0123456789abcdef01234567'),
      ],
      ['imageUpdater.enabled is true; git.revision is "0123456789abcdef0123456789abcdef01234567", a commit'],
    ],
    [
      'imageUpdater has an unknown key',
      'dev',
      [set(['imageUpdater', 'enable'], true)],
      ["converge:platform.imageUpdater has unknown key 'enable'"],
    ],
    [
      'imageUpdates has an unknown key',
      'dev',
      [dev(['ignoreTag'], ['*-rc*'])],
      ["converge:platform.services.app-service.imageUpdates has unknown key 'ignoreTag'"],
    ],
  ])('fails when %s', async (_name, env, mutate, parts) => {
    expectOneLine(await run(['synth', '--env', env], { env, mutate }), `Pulumi.${env}.yaml`, ...parts);
  });
});

describe('image update defaults', () => {
  it.each([
    ['dev', '1.4.2', { strategy: 'semver', constraint: '>=0.0.0-0', ignoreTags: [] }],
    ['staging', '1.4.2', { strategy: 'semver', constraint: '^1', ignoreTags: ['*-rc*', '*-dev*'] }],
    ['prod', '1.4.2', { strategy: 'semver', constraint: '~1.4', ignoreTags: ['*-rc*', '*-dev*'] }],
    ['prod', 'v2.0.1', { strategy: 'semver', constraint: '~2.0', ignoreTags: ['*-rc*', '*-dev*'] }],
  ] as const)('%s pinned at %s', (env, tag, expected) => {
    expect(defaultImageUpdates(env, tag)).toEqual(expected);
  });

  it('fills what a service leaves out, and keeps what it declares', () => {
    // GIVEN staging with one service's policy spelled out and the other's left to the defaults
    const loaded = loadStackConfig('staging').config;
    const config = { ...loaded, imageUpdater: { ...loaded.imageUpdater, enabled: true } };
    // WHEN the effective policies are read
    // THEN model-service gets staging's defaults from its pinned 0.9.0
    expect(imageUpdatePolicy(config, 'model-service')).toEqual({
      strategy: 'semver',
      constraint: '^0',
      allowTags: undefined,
      ignoreTags: ['*-rc*', '*-dev*'],
    });
    expect(imageUpdatePolicy(config, 'app-service')).toMatchObject({ strategy: 'semver', constraint: '^1' });
  });

  it('is off with the updater off, and for strategy none', () => {
    const { config } = loadStackConfig('prod');
    expect(config.imageUpdater.enabled).toBe(false);
    expect(imageUpdatePolicy(config, 'app-service')).toBeUndefined();
    // WHEN the updater is switched on
    const on = { ...config, imageUpdater: { enabled: true } };
    // THEN app-service moves within its minor and model-service (strategy none) never moves
    expect(imageUpdatePolicy(on, 'app-service')).toMatchObject({ strategy: 'semver', constraint: '~1.4' });
    expect(imageUpdatePolicy(on, 'model-service')).toBeUndefined();
  });
});
