// Writes one PNG per view of a running relay's web UI, for the README and docs/web-ui.md (no
// detail pane open: it would cover half the service map and the table's last columns):
//   npx tsx scripts/ui-screenshots.ts --url https://127.0.0.1:12000/ \
//     --cert /var/run/cillion-demo/certs/auditor/tls.crt --key .../auditor/tls.key --ca .../ca/ca.crt
// The relay's certificate is checked against --ca here, once, by asking whoami; the browser
// then reaches it through Playwright's client-certificate proxy, which knows no private CA.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Locator, Page } from 'playwright-core';
import { CHROMIUM, launchChromium } from './chromium';
import { httpsGet } from './https_get';

const ROOT = join(__dirname, '..');
/** The README embeds these; larger ones weigh down every clone. */
const MAX_BYTES = 300 * 1024;
const WAIT_MS = 60_000;

interface View {
  file: string;
  nav: string;
  root: string;
  /** What must be on screen before the picture is worth taking. */
  ready: (p: Page) => Locator;
}

const VIEWS: View[] = [
  { file: 'ui-service-map.png', nav: 'nav-map', root: 'view-service-map', ready: (p) => p.locator('[data-testid=edge][data-cross-cluster=true]').first() },
  { file: 'ui-world-map.png', nav: 'nav-world', root: 'view-world-map', ready: (p) => p.locator('[data-testid=offending-hop]').first() },
  { file: 'ui-flows.png', nav: 'nav-flows', root: 'view-flows', ready: (p) => p.getByTestId('flow-row').first() },
  { file: 'ui-compliance.png', nav: 'nav-compliance', root: 'view-compliance', ready: (p) => p.locator('[data-testid=compliance-fence]').first() },
];

class ScreenshotError extends Error {
  override readonly name = 'ScreenshotError';
}

/** whoami over mutual TLS, the server checked against `ca`: the certificates work before a browser starts. */
async function whoami(url: URL, cert: string, key: string, ca: string): Promise<string> {
  const r = await httpsGet(new URL('api/v1/whoami', url).href, { cert: readFileSync(cert), key: readFileSync(key), ca: readFileSync(ca) });
  if (r.status !== 200) throw new ScreenshotError(`whoami: HTTP ${r.status}: ${r.body}`);
  return r.body;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string', default: 'https://127.0.0.1:12000/' },
      cert: { type: 'string' },
      key: { type: 'string' },
      ca: { type: 'string' },
      out: { type: 'string', default: join(ROOT, 'docs', 'images') },
      chromium: { type: 'string', default: CHROMIUM },
      width: { type: 'string', default: '1280' },
      height: { type: 'string', default: '800' },
      // Long enough for the live stream to fill the views after they first show something.
      settle: { type: 'string', default: '8' },
    },
  });
  if (!values.cert || !values.key || !values.ca) throw new ScreenshotError('--cert, --key and --ca are required (the reader certificate of the relay\'s client CA)');
  const url = new URL(values.url as string);
  process.stdout.write(`whoami: ${await whoami(url, values.cert, values.key, values.ca)}\n`);
  const browser = await launchChromium(values.chromium);
  try {
    const context = await browser.newContext({
      viewport: { width: Number(values.width), height: Number(values.height) },
      clientCertificates: [{ origin: url.origin, certPath: values.cert, keyPath: values.key }],
      ignoreHTTPSErrors: true,
    });
    const page = await context.newPage();
    await page.goto(new URL('#/map', url).href);
    await page.locator('[data-testid=stream-state][data-state=live]').waitFor({ timeout: WAIT_MS });
    for (const v of VIEWS) {
      await page.getByTestId(v.nav).click();
      await page.getByTestId(v.root).waitFor({ timeout: WAIT_MS });
      await v.ready(page).waitFor({ timeout: WAIT_MS });
      await page.waitForTimeout(Number(values.settle) * 1000);
      const file = join(values.out as string, v.file);
      await page.screenshot({ path: file, type: 'png' });
      const bytes = statSync(file).size;
      process.stdout.write(`${file}: ${Math.round(bytes / 1024)} KB\n`);
      if (bytes > MAX_BYTES) throw new ScreenshotError(`${file} is ${bytes} bytes, over ${MAX_BYTES}`);
    }
  } finally {
    await browser.close();
  }
}

main().catch((e: Error) => {
  process.stderr.write(`ui-screenshots: ${e.message}\n`);
  process.exitCode = 1;
});
