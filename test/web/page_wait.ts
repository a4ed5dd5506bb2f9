// Reading the page in the browser tests by its data-testid contract (UI_CONTRACT.md), and
// waiting on it with a deadline that names what was awaited.
import type { Page } from 'playwright-core';
import { until } from '../until';

export const byTestId = (id: string, attrs: Record<string, string> = {}): string =>
  `[data-testid="${id}"]${Object.entries(attrs)
    .map(([k, v]) => `[data-${k}="${v}"]`)
    .join('')}`;

/** The number in a element's text (e.g. flow-count "1,234 flows"), NaN when there is none. */
export async function numberIn(page: Page, selector: string): Promise<number> {
  const text = (await page.locator(selector).first().textContent({ timeout: 1000 }).catch(() => null)) ?? '';
  const m = /\d[\d,\u202f\u00a0 ]*/.exec(text);
  return m ? Number(m[0].replace(/[^\d]/g, '')) : NaN;
}

export async function streamState(page: Page): Promise<string> {
  return (await page.locator(byTestId('stream-state')).getAttribute('data-state', { timeout: 1000 }).catch(() => null)) ?? '';
}

/** Waits until the stream is live, failing at once with the page's message when it errs. */
export async function untilLive(page: Page, ms = 15_000): Promise<void> {
  await until('the stream to be live', async () => {
    const s = await streamState(page);
    if (s === 'error') throw new Error(`the stream failed: ${await page.locator(byTestId('stream-error')).textContent()}`);
    return s === 'live';
  }, ms, 50);
}

/** Waits until the number in `selector` is `want`; the last value seen goes into the error. */
export async function untilNumber(page: Page, selector: string, want: number, ms = 10_000): Promise<void> {
  let last = NaN;
  await until(`${selector} to show ${want}`, async () => (last = await numberIn(page, selector)) === want, ms, 50).catch((e: Error) => {
    throw new Error(`${e.message} (it shows ${last})`);
  });
}

/** Waits until at least one element matches, and returns how many do. */
export async function untilSome(page: Page, selector: string, ms = 10_000): Promise<number> {
  let n = 0;
  await until(`some ${selector}`, async () => (n = await page.locator(selector).count()) > 0, ms, 50);
  return n;
}

/** The values of one attribute over every element that matches. */
export function attrs(page: Page, selector: string, attr: string): Promise<string[]> {
  return page.locator(selector).evaluateAll((els, a) => els.map((e) => e.getAttribute(a) ?? ''), attr);
}
