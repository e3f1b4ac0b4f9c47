// The local control plane's PULUMI_HOME: the CLI's automatic debug log is off unless asked for.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { toolsBinDir } from '../paths.mjs';

const require = createRequire(import.meta.url);
const { pulumiHome } = require('../pulumi-home.js');

test('makes logs a file, so the Pulumi CLI cannot start its automatic log', () => {
  const dir = mkdtempSync(join(tmpdir(), 'converge-pulumi-home-'));
  try {
    assert.equal(pulumiHome(join(dir, 'home')), join(dir, 'home'));
    assert.ok(statSync(join(dir, 'home', 'logs')).isFile());
    // A home whose logs folder exists (the user's own) is left as it is.
    mkdirSync(join(dir, 'mine', 'logs'), { recursive: true });
    pulumiHome(join(dir, 'mine'));
    assert.ok(statSync(join(dir, 'mine', 'logs')).isDirectory());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the built Pulumi CLI runs with it and writes no log', (t) => {
  const pulumi = join(toolsBinDir(), 'pulumi');
  const probe = spawnSync(pulumi, ['version'], { encoding: 'utf8' });
  if (probe.status !== 0) return t.skip('the Pulumi CLI is not built yet (npm run tools)');
  const dir = mkdtempSync(join(tmpdir(), 'converge-pulumi-home-'));
  try {
    const home = pulumiHome(join(dir, 'home'));
    const r = spawnSync(pulumi, ['version'], {
      encoding: 'utf8',
      env: { ...process.env, PULUMI_HOME: home },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(statSync(join(home, 'logs')).isFile());
    // Without the file the same run starts a log folder: the test above would otherwise prove nothing.
    const open = join(dir, 'open');
    mkdirSync(open);
    spawnSync(pulumi, ['version'], { encoding: 'utf8', env: { ...process.env, PULUMI_HOME: open } });
    assert.ok(statSync(join(open, 'logs')).isDirectory());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
