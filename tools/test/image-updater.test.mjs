// Argo CD Image Updater's place in tools/: a blocked family (its nested module is not served) that
// sync.mjs refuses by name and skips otherwise, and whose CRD `up` applies from the build's copy.
// Run: node --test tools/test/
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { versions } from '../paths.mjs';

const tools = join(dirname(fileURLToPath(import.meta.url)), '..');
const scratch = mkdtempSync(join(tmpdir(), 'converge-image-updater-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const family = versions().families['argocd-image-updater'];

test('the family is pinned at v1.1.0 and marked blocked with the reason', () => {
  assert.equal(family.module, 'github.com/argoproj-labs/argocd-image-updater');
  assert.equal(family.version, 'v1.1.0');
  assert.match(family.blocked, /registry-scanner/);
});

test('fails when sync.mjs is asked for the blocked family: one line with the reason, exit 1', () => {
  const r = spawnSync(process.execPath, [join(tools, 'sync.mjs'), 'argocd-image-updater'], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 1);
  assert.equal(r.stderr.trim(), `sync.mjs: argocd-image-updater cannot be synced: ${family.blocked}`);
});

test('fails when the CRD was never copied out: up names the step and the command to run', async () => {
  const r = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { applyImageUpdaterCrd } from ${JSON.stringify(join(tools, 'cluster', 'image-updater.mjs'))};
       applyImageUpdaterCrd().catch((e) => { console.error(e.constructor.name + ': ' + e.message); process.exit(3); });`,
    ],
    {
      encoding: 'utf8',
      env: { ...process.env, CONVERGE_CACHE: scratch, CONVERGE_RUN_DIR: join(scratch, 'run') },
    },
  );
  assert.equal(r.status, 3);
  assert.match(
    r.stderr.trim(),
    /^StartError: .*Image Updater's CRD is missing \(.*argocd-image-updater-v1\.1\.0\/assets\/crds\); run: node tools\/build\.mjs$/,
  );
});
