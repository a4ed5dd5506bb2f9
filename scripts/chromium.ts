// Launching Debian's Chromium through playwright-core, for scripts/ui-screenshots.ts and the
// browser tests (test/web/browser.ts): headless, quiet and off the network (nothing but the
// relay it is pointed at is asked).
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

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

export function launchChromium(executablePath = CHROMIUM): Promise<Browser> {
  return chromium.launch({ executablePath, args: FLAGS, headless: true });
}
