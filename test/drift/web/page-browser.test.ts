import { Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { Page } from 'playwright-core';
import { launchChromium } from '../../browser';
import {
  CAROL_TOKEN,
  DAVE_TOKEN,
  FakeApiServer,
  HELD,
  resetApi,
  SECRET_DRIFT,
  SECRET_VALUE,
  startPage,
} from './fake-api';

/*
 * The page's own script in a real headless Chromium (Debian's), against the server and a fake API
 * server: signing in with a token, the lists, a refusal shown, an approval made, and nothing a
 * record holds running as markup. The end-to-end test does the same against the real API server.
 */

jest.setTimeout(120_000);

const api = new FakeApiServer();
let server: Server;
let url: string;
let browser: Awaited<ReturnType<typeof launchChromium>>;
const problems: string[] = [];

beforeAll(async () => {
  server = await startPage(api, () => undefined);
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.closeAndClean();
  api.stop();
  server.close();
  server.closeAllConnections();
});
beforeEach(() => resetApi(api));

/** A new tab (its own sessionStorage), signed in; CSP violations and script errors are collected. */
async function signIn(token: string, who: string): Promise<Page> {
  const tab = await browser.newPage();
  tab.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  tab.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text()))
      problems.push(`console: ${m.text()}`);
  });
  await tab.goto(url);
  await tab.fill('#token', token);
  await tab.click('#use-token');
  await tab.waitForSelector(`#viewer:has-text("Signed in as ${who}")`);
  return tab;
}

describe('the approvals page in Chromium', () => {
  it('lists the held drift with its diff and timeline, and shows record text as text', async () => {
    const tab = await signIn(DAVE_TOKEN, 'dave');
    const card = tab.locator(`#held article[data-drift-id="${HELD}"]`);
    expect(await card.locator('table.diff').innerText()).toMatch(/\/spec\/type\s+ClusterIP\s+NodePort/);
    expect(await card.locator('ol.timeline li').allInnerTexts()).toEqual([
      '2026-01-01T00:01:00.000Z detected (converge)',
      '2026-01-01T00:01:00.000Z held (converge)',
    ]);
    const secret = tab.locator(`#recent article[data-drift-id="${SECRET_DRIFT}"]`);
    expect(await secret.innerText()).toContain('by <img src=x onerror="window.pwned=1">');
    expect(await tab.evaluate('window.pwned')).toBeUndefined();
    expect(await tab.content()).not.toContain(SECRET_VALUE);
    expect(await tab.evaluate('sessionStorage.getItem("converge.approvals.token")')).toBe(DAVE_TOKEN);
    expect(await tab.evaluate('document.cookie')).toBe('');
    expect(problems).toEqual([]);
    await tab.close();
  });

  it('shows the refusal when dave approves, and records nothing', async () => {
    const tab = await signIn(DAVE_TOKEN, 'dave');
    await tab.locator(`#held article[data-drift-id="${HELD}"] button.approve`).click();
    await tab.waitForSelector('#message.error:has-text("dave may not decide")');
    expect(await tab.locator('#message').innerText()).toBe(
      'dave may not decide on drifts in converge-system (SubjectAccessReview: dave may not create driftrecords.converge.dev in converge-system); approvers are the groups and users under drift.approvers in Pulumi.staging.yaml, bound to the Role converge-drift-approvers-staging',
    );
    expect(api.created).toHaveLength(0);
    await tab.close();
  });

  it('approves as carol with her reason, written with her token', async () => {
    const tab = await signIn(CAROL_TOKEN, 'carol');
    const card = tab.locator(`#held article[data-drift-id="${HELD}"]`);
    await card.locator('input.reason').fill('exposed by mistake');
    await card.locator('button.approve').click();
    await tab.waitForSelector(`#message.ok:has-text("${HELD} approved by carol: heal approved")`);
    expect(api.created).toHaveLength(1);
    expect(api.created[0].token).toBe(CAROL_TOKEN);
    expect(api.created[0].body.spec).toMatchObject({ actor: 'carol', detail: 'exposed by mistake' });
    await tab.close();
  });

  it('forgets the token, and a bad one shows the 401 line', async () => {
    const tab = await signIn(CAROL_TOKEN, 'carol');
    await tab.click('#forget-token');
    expect(await tab.evaluate('sessionStorage.length')).toBe(0);
    expect(await tab.locator('#viewer').innerText()).toBe('Not signed in.');
    await tab.fill('#token', 'expired-token');
    await tab.click('#use-token');
    await tab.waitForSelector('#message.error:has-text("does not accept this token")');
    await tab.close();
  });
});
