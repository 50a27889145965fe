/**
 * Real Chromium for the browser tests: Debian's /usr/bin/chromium driven by playwright-core,
 * with the flags this machine needs (no sandbox as root, no background networking on a closed
 * network). Pages record console errors and uncaught exceptions so tests can require none.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOTS = join(import.meta.dirname, 'screenshots');

export const DESKTOP = { width: 1280, height: 860 };
export const PHONE = { width: 360, height: 760 };

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

export interface RecordedPage {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught exceptions seen so far. */
  errors: string[];
}

export async function openPage(
  browser: Browser,
  viewport = DESKTOP,
  options: { permissions?: string[]; origin?: string } = {},
): Promise<RecordedPage> {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  if (options.permissions && options.origin) await context.grantPermissions(options.permissions, { origin: options.origin });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()} (${m.location().url || page.url()})`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  // The console names no URL for a failed load; this says which one it was.
  page.on('response', (r) => {
    if (r.status() >= 400) errors.push(`answer ${r.status()}: ${r.request().method()} ${r.url()}`);
  });
  return { context, page, errors };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** True when nothing on the page is wider than the viewport (no sideways scrolling). */
export function fitsWidth(page: Page): Promise<boolean> {
  return page.evaluate('document.documentElement.scrollWidth <= window.innerWidth') as Promise<boolean>;
}
