import { del, expectOneLine, Mutation, run, set, useScratchFolder } from './bad-input-helpers';

/* `services.<name>.hooks`: each bad value one line, naming the key, the value and the fix. */

useScratchFolder();

const hook = (path: (string | number)[], value: unknown) =>
  set(['services', 'app-service', 'hooks', ...path], value);

describe('converge synth: bad hooks', () => {
  it.each<[string, string, Mutation[], string[]]>([
    [
      'a hook has no command',
      'prod',
      [hook(['postSync', 'command'], [])],
      ['services.app-service.hooks.postSync.command is []; it needs at least 1 entries; add more'],
    ],
    [
      'a hook may run longer than an hour',
      'prod',
      [hook(['preSync', 'timeout'], '2h')],
      ['services.app-service.hooks.preSync.timeout is "2h"', 'a hook holds the sync while it runs'],
    ],
    [
      'a hook may run no time at all',
      'prod',
      [hook(['preSync', 'timeout'], '0s')],
      ['services.app-service.hooks.preSync.timeout is "0s"; a hook needs some time to run'],
    ],
    [
      'a hook pod label value is not a label value',
      'prod',
      [hook(['postSync', 'labels'], { suite: 'not ok!' })],
      ['services.app-service.hooks.postSync.labels.suite is "not ok!"; it must be a label value'],
    ],
    [
      'a hook image is no image reference',
      'prod',
      [hook(['preSync', 'image'], 'Not An Image')],
      ['services.app-service.hooks.preSync.image is "Not An Image"'],
    ],
    [
      'a hook phase is misspelt',
      'prod',
      [hook(['presync'], { command: ['x'] })],
      ["converge:platform.services.app-service.hooks has unknown key 'presync'"],
    ],
    [
      'a failed sync rolls back an image that does not move by policy',
      'prod',
      [hook(['syncFail', 'rollback'], true)],
      [
        'services.app-service.hooks.syncFail.rollback is true; a rollback rewrites the image update write-back file',
        'roll back with `git revert`, or turn the updater on',
      ],
    ],
    [
      'a failed sync notifies no one',
      'dev',
      [del(['drift', 'notify']), hook(['syncFail'], { notify: true })],
      [
        'services.app-service.hooks.syncFail.notify is true; a failed sync is told to drift.notify.high, which lists no target',
      ],
    ],
  ])('fails when %s', async (_name, env, mutate, parts) => {
    expectOneLine(await run(['synth', '--env', env], { env, mutate }), `Pulumi.${env}.yaml`, ...parts);
  });

  it('accepts a rollback where the image moves by policy (dev)', async () => {
    const result = await run(['synth', '--env', 'dev'], {
      mutate: [set(['imageUpdater', 'enabled'], true), hook(['syncFail'], { notify: true, rollback: true })],
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });
});
