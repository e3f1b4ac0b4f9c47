// The control plane's test users: tools/cluster/kubernetes.mjs writes each one a token into the
// API server's token file, in their groups, and into a file of its own (mode 0600) that tests read.
// Run: node --test tools/test/
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

const scratch = mkdtempSync(join(tmpdir(), 'converge-users-test-'));
// config.mjs reads the run dir when first imported: point it here before loading kubernetes.mjs.
process.env.CONVERGE_RUN_DIR = scratch;
const { tokenFileLines, writePki } = await import('../cluster/kubernetes.mjs');
const { TEST_USERS, userToken, userTokenFile } = createRequire(import.meta.url)('../cluster/test-users.js');
after(() => rmSync(scratch, { recursive: true, force: true }));

test('the token file has the admin, an approver in platform-team and a user in no group', () => {
  let n = 0;
  const { text, tokens } = tokenFileLines('admin-t', TEST_USERS, () => `t${++n}`);
  assert.equal(text, 'admin-t,admin,admin,"system:masters"\nt1,carol,carol,"platform-team"\nt2,dave,dave\n');
  assert.deepEqual(tokens, { carol: 't1', dave: 't2' });
});

test('writePki writes each user a fresh token, in the token file and in a file of its own (0600)', () => {
  writePki();
  const csv = readFileSync(join(scratch, 'pki', 'tokens.csv'), 'utf8');
  const tokens = {};
  for (const user of TEST_USERS) {
    const file = userTokenFile(user.name);
    assert.equal(statSync(file).mode & 0o777, 0o600, file);
    const token = userToken(user.name);
    assert.match(token, /^[0-9a-f]{48}$/);
    assert.ok(csv.includes(`${token},${user.name},${user.name}`), `${user.name}'s token is in tokens.csv`);
    tokens[user.name] = token;
  }
  assert.notEqual(tokens.carol, tokens.dave);
  assert.equal(statSync(join(scratch, 'pki', 'tokens.csv')).mode & 0o777, 0o600);
  assert.throws(() => userToken('mallory'), /no test user "mallory"; the users are carol, dave/);
});
