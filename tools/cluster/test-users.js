// @ts-check
'use strict';
// The local control plane's test users, beside its admin: the one definition, shared by
// kubernetes.mjs (which writes their tokens into the API server's token file) and the suite.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { runDir } = require('../cache-paths.js');

/**
 * People the end-to-end tests act as, each with a bearer token of their own: `carol` is in
 * staging's approver group (drift.approvers in Pulumi.staging.yaml), `dave` in no group at all.
 * @type {readonly { name: string; groups: readonly string[] }[]}
 */
const TEST_USERS = Object.freeze([
  Object.freeze({ name: 'carol', groups: Object.freeze(['platform-team']) }),
  Object.freeze({ name: 'dave', groups: Object.freeze([]) }),
]);

/**
 * Where a test user's token is kept (mode 0600) while the cluster runs.
 * @param {string} name
 * @returns {string}
 */
function userTokenFile(name) {
  return join(runDir(), 'users', `${name}.token`);
}

/**
 * A test user's token, as the running cluster's API server accepts it.
 * @param {string} name
 * @returns {string}
 */
function userToken(name) {
  if (!TEST_USERS.some((u) => u.name === name))
    throw new Error(
      `no test user ${JSON.stringify(name)}; the users are ${TEST_USERS.map((u) => u.name).join(', ')}`,
    );
  return readFileSync(userTokenFile(name), 'utf8').trim();
}

exports.TEST_USERS = TEST_USERS;
exports.userTokenFile = userTokenFile;
exports.userToken = userToken;
