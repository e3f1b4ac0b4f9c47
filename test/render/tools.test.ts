import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { onPath, toolPath } from '../../render/tools';

/* Tools come from PATH first (an image bakes them there), then from what `npm run tools` built. */

let dir: string;
const env = { PATH: process.env.PATH, CONVERGE_CACHE: process.env.CONVERGE_CACHE };

function program(folder: string, name: string, mode = 0o755): string {
  mkdirSync(folder, { recursive: true });
  const file = join(folder, name);
  writeFileSync(file, '#!/bin/sh\n');
  chmodSync(file, mode);
  return file;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'converge-tools-'));
  process.env.CONVERGE_CACHE = join(dir, 'cache');
});

afterEach(() => {
  process.env.PATH = env.PATH;
  if (env.CONVERGE_CACHE === undefined) delete process.env.CONVERGE_CACHE;
  else process.env.CONVERGE_CACHE = env.CONVERGE_CACHE;
  rmSync(dir, { recursive: true, force: true });
});

describe('toolPath', () => {
  it('takes the tool on PATH before the one built into the cache', () => {
    // GIVEN helm both baked on PATH and built into the cache
    const baked = program(join(dir, 'bin'), 'helm-test');
    program(join(dir, 'cache', 'tools', 'bin'), 'helm-test');
    process.env.PATH = [join(dir, 'bin'), '/usr/bin'].join(delimiter);
    // THEN the baked one is used
    expect(toolPath('helm-test')).toBe(baked);
  });

  it('falls back to the cache when PATH has none', () => {
    const built = program(join(dir, 'cache', 'tools', 'bin'), 'helm-test');
    process.env.PATH = '/usr/bin';
    expect(toolPath('helm-test')).toBe(built);
  });

  it('fails when the tool is neither on PATH nor built, naming both and the fix', () => {
    process.env.PATH = join(dir, 'nothing');
    expect(() => toolPath('helm-test')).toThrow(
      `helm-test is not on PATH nor built at ${join(dir, 'cache', 'tools', 'bin', 'helm-test')}; install it on PATH, or run \`npm run tools -- helm-test\``,
    );
  });
});

describe('onPath', () => {
  it.each([
    ['a relative entry, which would depend on the cwd', 'rel'],
    ['an empty entry (the cwd)', ''],
  ])('skips %s', (_, entry) => {
    const cwd = process.cwd();
    try {
      process.chdir(dir);
      program(join(dir, 'rel'), 'tool');
      program(dir, 'tool');
      expect(onPath('tool', entry)).toBeUndefined();
    } finally {
      process.chdir(cwd);
    }
  });

  it('skips a file that is not executable and a folder of the same name', () => {
    program(join(dir, 'a'), 'tool', 0o644);
    mkdirSync(join(dir, 'b', 'tool'), { recursive: true });
    const good = program(join(dir, 'c'), 'tool');
    expect(onPath('tool', ['a', 'b', 'c'].map((d) => join(dir, d)).join(delimiter))).toBe(good);
  });
});
