import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { Page } from 'playwright-core';
import { launchChromium } from '../browser';
import { CONVERGE_NAMESPACE, DRIFT_VIEWERS_ROLE } from '../../model/constants';
import { records, WatchProcess } from './drift-harness';
import { kubectl, RESULTS_DIR, userToken, waitFor } from '../../tools/cluster/harness';
import { userTokenFile } from '../../tools/cluster/test-users';
import { exposeService, s, serviceType, since, useStagingDrift, waitRecord } from './staging-drift';

/*
 * The approvals page in a real headless Chromium, against the local control plane: the staging
 * controller (`converge watch --approvals-port`) holds a Service type change; dave, who may read
 * the records but is in no approver group, sees it and is refused; carol of platform-team approves
 * it with her own token, the record names her, and the controller heals the Service.
 */

useStagingDrift();

/** dave may read the records (to see the page), never create one: bound here to the viewers Role staging renders. */
const VIEWER_BINDING = 'approvals-page-e2e-viewer';
let page: { port: number; url: string };
const browsers: Awaited<ReturnType<typeof launchChromium>>[] = [];
/** Measured here, kept in a results file of this test's own (each staging file rewrites drift-timings.json). */
const timings: Record<string, number> = {};

beforeAll(async () => {
  for (const user of ['carol', 'dave'])
    if (!existsSync(userTokenFile(user)))
      throw new Error(
        `${userTokenFile(user)} is missing: the running cluster was started without the test users; stop it (node tools/cluster/main.mjs down) and run the suite again`,
      );
  kubectl(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: VIEWER_BINDING, namespace: CONVERGE_NAMESPACE },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: `${DRIFT_VIEWERS_ROLE}-staging` },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'dave' }],
    }),
  );
  // The suite's controller serves no page on a port we know: run one that does, on a free port.
  await s.controller.stop();
  s.controller = new WatchProcess(s.ws.dir, 'staging', 29467, { args: ['--approvals-port', '0'] });
  s.controller.start();
  await s.controller.ready();
  const port = Number(/approvals page on 127\.0\.0\.1:(\d+)/.exec(s.controller.output)?.[1]);
  expect(port).toBeGreaterThan(0);
  page = { port, url: `http://127.0.0.1:${port}/` };
});

afterAll(async () => {
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, 'approvals-page-timings.json'), JSON.stringify(timings, null, 2));
  await Promise.all(browsers.map((b) => b.closeAndClean()));
  kubectl(['delete', 'rolebinding', VIEWER_BINDING, '-n', CONVERGE_NAMESPACE, '--ignore-not-found']);
});

/** A fresh headless Chromium (its own user-data dir) with the page open, signed in with a token. */
async function openAs(user: string): Promise<Page> {
  const context = await launchChromium({ viewport: { width: 1280, height: 900 } });
  browsers.push(context);
  const tab = context.pages()[0] ?? (await context.newPage());
  await tab.goto(page.url);
  await tab.fill('#token', userToken(user));
  await tab.click('#use-token');
  await tab.waitForSelector(`#viewer:has-text("Signed in as ${user}")`);
  return tab;
}

const shot = async (tab: Page, name: string) => {
  mkdirSync(RESULTS_DIR, { recursive: true });
  await tab.screenshot({ path: join(RESULTS_DIR, name), fullPage: true });
};

describe('the approvals page', () => {
  it('lets dave see a held drift but not approve it, and carol approve it; the controller heals it', async () => {
    const from = since();
    await exposeService();
    const held = await waitRecord('Service', 'app-service', 'held', from);
    const card = `#held article[data-drift-id="${held.driftId}"]`;

    // dave: the drift, its redacted diff and its timeline are visible; approving is refused.
    const asDave = await openAs('dave');
    await asDave.waitForSelector(card, { timeout: 30_000 });
    const daveCard = asDave.locator(card);
    expect(await daveCard.locator('table.diff').innerText()).toMatch(/\/spec\/type\s+ClusterIP\s+NodePort/);
    expect(await daveCard.locator('ol.timeline').innerText()).toMatch(/detected[\s\S]*held/);
    await shot(asDave, 'approvals-page-held.png');
    await daveCard.locator('input.reason').fill('I want it exposed');
    await daveCard.locator('button.approve').click();
    await asDave.waitForSelector('#message.error:has-text("dave may not decide")');
    const refusal = await asDave.locator('#message').innerText();
    expect(refusal).toContain('dave may not decide on drifts in converge-system');
    expect(refusal).toContain('bound to the Role converge-drift-approvers-staging');
    expect(refusal).toContain('drift.approvers in Pulumi.staging.yaml');
    await shot(asDave, 'approvals-page-refused.png');
    expect(
      (await records(s.audit)).filter((r) => r.driftId === held.driftId).map((r) => r.event),
    ).not.toContain('approved');
    expect(await serviceType()).toBe('NodePort');
    // The token is in this tab's sessionStorage only: no cookie, not in the URL.
    expect(await asDave.evaluate('document.cookie')).toBe('');
    expect(await asDave.evaluate('Object.keys(sessionStorage)')).toEqual(['converge.approvals.token']);
    expect(asDave.url()).toBe(page.url);

    // carol: approves with a reason; the record names her, with her groups, as the API server saw her.
    const asCarol = await openAs('carol');
    await asCarol.waitForSelector(card);
    const carolCard = asCarol.locator(card);
    await carolCard.locator('input.reason').fill('exposed by mistake');
    const clicked = performance.now();
    await carolCard.locator('button.approve').click();
    await asCarol.waitForSelector(`#message.ok:has-text("${held.driftId} approved by carol: heal approved")`);
    const approved = await waitRecord('Service', 'app-service', 'approved', from);
    expect(approved).toMatchObject({ driftId: held.driftId, actor: 'carol', detail: 'exposed by mistake' });
    expect(approved.groups).toEqual(expect.arrayContaining(['platform-team', 'system:authenticated']));
    await waitFor('Service back to ClusterIP', async () => (await serviceType()) === 'ClusterIP', {
      intervalMs: 50,
    });
    timings.clickToRestoreMs = performance.now() - clicked;
    await waitRecord('Service', 'app-service', 'restored', from);

    // The page shows the drift's whole story once the controller's trail has it (it refreshes itself).
    const done = `#recent article[data-drift-id="${held.driftId}"]`;
    await asCarol.waitForSelector(`${done} ol.timeline:has-text("restored")`, { timeout: 30_000 });
    const timeline = await asCarol.locator(`${done} ol.timeline`).innerText();
    expect(timeline).toMatch(
      /approved by carol \(platform-team, system:authenticated\)[^\n]*exposed by mistake/,
    );
    expect(timeline).toMatch(/detected[\s\S]*held[\s\S]*approved by carol[\s\S]*restored/);
    expect(await asCarol.locator(card).count()).toBe(0);
    await shot(asCarol, 'approvals-page-approved.png');

    // No token in anything the controller printed, nor in anything the page shows.
    for (const user of ['carol', 'dave']) {
      expect(s.controller.output).not.toContain(userToken(user));
      expect(await asCarol.content()).not.toContain(userToken(user));
    }
    expect(s.controller.output).toContain(`approvals page: ${held.driftId} approved by carol`);
  });

  it('refuses a call without a token, or with one the API server does not accept (401)', async () => {
    const none = await fetch(`${page.url}api/drifts`);
    expect(none.status).toBe(401);
    expect(none.headers.get('cache-control')).toBe('no-store');
    const bad = await fetch(`${page.url}api/drifts`, {
      headers: { Authorization: 'Bearer not-a-real-token' },
    });
    expect(bad.status).toBe(401);
    const html = await fetch(page.url);
    expect(html.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  });
});
