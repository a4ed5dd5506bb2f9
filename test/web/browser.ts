// Debian's Chromium (launched as scripts/chromium.ts does) for the browser tests: one headless browser
// per test file (playwright gives each launch a fresh profile directory of its own), a
// context per client certificate, every console error and uncaught exception of a page
// collected so a test can fail on them, and screenshots under test-artifacts/web/.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../../scripts/chromium';
import type { BrowserCert } from './test_relay';

export { launchChromium };

export const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts', 'web');

/** A page whose console errors and uncaught exceptions are kept in `errors`. */
export interface WatchedPage {
  context: BrowserContext;
  page: Page;
  errors: string[];
}

/**
 * A context holding `cert` as its TLS client certificate for `url`'s origin (none: no
 * certificate at all), accepting the relay's test-CA server certificate, at 1280x800.
 */
export async function openPage(browser: Browser, url: string, cert: BrowserCert | undefined): Promise<WatchedPage> {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    ignoreHTTPSErrors: true,
    acceptDownloads: true,
    ...(cert ? { clientCertificates: [{ origin: new URL(url).origin, certPath: cert.cert, keyPath: cert.key }] } : {}),
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}${m.location().url ? ` (${m.location().url})` : ''}`);
  });
  page.on('pageerror', (e) => errors.push(`exception: ${e.message}`));
  // Chromium's console names no URL for a failed load: the response does.
  page.on('response', (r) => {
    if (r.status() >= 400) errors.push(`http ${r.status()} ${r.request().method()} ${r.url()}`);
  });
  return { context, page, errors };
}

/** Writes the page as test-artifacts/web/NAME.png; the path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
