import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrowserContext, chromium } from 'playwright-core';

/*
 * Debian's Chromium, headless, for the browser tests: its path from tools/debian.mjs (which installs
 * it when it may), a fresh profile each time, and the flags that keep it off this machine's closed
 * network (background networking, updates, sync, QUIC).
 */

const ROOT = join(__dirname, '..');
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const chromiumPath = (): string =>
  execFileSync('node', [join(ROOT, 'tools', 'debian.mjs'), '--print-path', 'chromium'], {
    encoding: 'utf8',
  }).trim();

/** A headless Chromium with a profile of its own; `close()` also removes the profile. */
export async function launchChromium(
  options: { viewport?: { width: number; height: number } } = {},
): Promise<BrowserContext & { closeAndClean(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'converge-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath(),
    headless: true,
    args: FLAGS,
    ...options,
  });
  return Object.assign(context, {
    async closeAndClean() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  });
}
