// What the demo's web UI shows a browser holding a client certificate of the demo CA: read once, while the
// demo runs, and checked by test/e2e/demo.test.ts. The relay's certificate is checked against
// the demo CA by a plain HTTPS call first; the browser (test/web/'s harness) then reaches the
// relay through Playwright's client-certificate proxy.
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { httpsGet as get } from '../../scripts/https_get';
import { until } from '../until';
import { launchChromium, openPage, screenshot } from '../web/browser';
import { attrs, byTestId, numberIn } from '../web/page_wait';

export interface DemoUiSeen {
  whoami: { status: number; body: Record<string, unknown> };
  /** What a call without a client certificate got: an error code or an HTTP status. */
  withoutCertificate: string;
  clusters: string[];
  crossClusterEdges: number;
  ases: string[];
  crossedCountries: string[];
  rows: number;
  /** flow-count read twice, some seconds apart. */
  flowCounts: [number, number];
  /** From opening the page until both clusters, the demo's story ASes and flow rows were shown. */
  shownAfterMs: number;
  /** Console errors and uncaught exceptions of the page, but for failed loads, which `failed` names. */
  errors: string[];
  /** Responses of 400 and above, as `STATUS METHOD URL`, but for the icon the browser asks for by itself. */
  failed: string[];
}

export interface DemoUiAccess {
  url: string;
  ca: string;
  cert: string;
  key: string;
  timeoutMs: number;
  /** ASes that must be on the world map before it counts as shown. */
  expectedAses: string[];
}

/** openPage's `http STATUS METHOD URL` entries as `STATUS METHOD URL`, but for the icon the browser asks for by itself. */
const failedLoads = (errors: string[]): string[] =>
  errors.filter((e) => e.startsWith('http ')).map((e) => e.slice('http '.length)).filter((e) => new URL(e.split(' ')[2]).pathname !== '/favicon.ico');

const sorted = async (page: Page, selector: string, name: string): Promise<string[]> => [...new Set(await attrs(page, selector, name))].sort();

export async function observeDemoUi(a: DemoUiAccess): Promise<DemoUiSeen> {
  const ca = readFileSync(a.ca);
  const who = await get(new URL('api/v1/whoami', a.url).href, { ca, cert: readFileSync(a.cert), key: readFileSync(a.key) });
  const withoutCertificate = await get(new URL('api/v1/whoami', a.url).href, { ca }).then(
    (r) => `HTTP ${r.status}`,
    (e: NodeJS.ErrnoException) => e.code ?? e.message,
  );
  const browser = await launchChromium();
  try {
    const { page, errors } = await openPage(browser, a.url, { name: 'demo-reader', cert: a.cert, key: a.key });
    const opened = Date.now();
    // Present in the DOM is what the contract promises; an SVG group need not count as visible.
    const wait = { state: 'attached' as const, timeout: a.timeoutMs };
    await page.goto(new URL('#/map', a.url).href);
    for (const c of ['zurich', 'frankfurt']) await page.locator(byTestId('cluster', { cluster: c })).first().waitFor(wait);
    const crossEdge = byTestId('edge', { 'cross-cluster': 'true' });
    await page.locator(crossEdge).first().waitFor(wait);
    await screenshot(page, 'demo-service-map');
    const clusters = await sorted(page, byTestId('cluster'), 'data-cluster');
    const crossClusterEdges = await page.locator(crossEdge).count();

    await page.locator(byTestId('nav-world')).click();
    for (const ia of a.expectedAses) await page.locator(byTestId('as', { ia })).first().waitFor(wait);
    await screenshot(page, 'demo-world-map');
    const ases = await sorted(page, byTestId('as'), 'data-ia');
    const crossedCountries = await sorted(page, byTestId('country', { crossed: 'true' }), 'data-iso2');

    await page.locator(byTestId('nav-flows')).click();
    await page.locator(byTestId('flow-row')).first().waitFor(wait);
    const shownAfterMs = Date.now() - opened;
    await screenshot(page, 'demo-flows');
    const rows = await page.locator(byTestId('flow-row')).count();
    const flowCount = (): Promise<number> => numberIn(page, byTestId('flow-count'));
    const first = await flowCount();
    // The agents report every few seconds (--flow-active 5): a live table grows within that.
    // Not growing is for the test to judge, from the two counts.
    let second = first;
    await until('flow-count to grow', async () => (second = await flowCount()) > first, 15_000, 500).catch(() => undefined);
    return { whoami: { status: who.status, body: JSON.parse(who.body) as Record<string, unknown> }, withoutCertificate, clusters, crossClusterEdges, ases, crossedCountries, rows, flowCounts: [first, second], shownAfterMs, errors: errors.filter((e) => !e.startsWith('console: Failed to load resource') && !e.startsWith('http ')), failed: failedLoads(errors) };
  } finally {
    await browser.close();
  }
}
