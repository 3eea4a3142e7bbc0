// Shared helpers for the e2e specs: a real Chromium (Debian's, or LOCALREC_CHROMIUM)
// driven by playwright-core, pages served by e2e/global-setup.ts, and collection of
// console errors and network requests so specs can assert on both.
import {
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  chromium,
  type Page,
} from 'playwright-core';
import { afterAll, afterEach, beforeAll, inject } from 'vitest';
import { CHROMIUM_ARGS, findChromium, howToPoint } from '../scripts/lib/chromium.mjs';

export function baseUrl(): string {
  return inject('baseUrl');
}

export async function launchBrowser(extraArgs: string[] = []): Promise<Browser> {
  const executablePath = findChromium();
  if (!executablePath) throw new Error(howToPoint());
  return chromium.launch({
    executablePath,
    headless: true,
    args: [...CHROMIUM_ARGS, ...extraArgs],
  });
}

/**
 * One Chromium per spec file and fresh contexts per test: registers the hooks that
 * launch it before the file's tests, close every context a test opened after it, and
 * close the browser at the end.
 */
export function useBrowser(): {
  readonly browser: Browser;
  newContext(options?: BrowserContextOptions): Promise<BrowserContext>;
} {
  let browser: Browser | undefined;
  const opened: BrowserContext[] = [];
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await browser?.close();
  });
  const launched = () => {
    if (!browser) throw new Error('useBrowser: the browser is launched in beforeAll');
    return browser;
  };
  return {
    get browser() {
      return launched();
    },
    async newContext(options) {
      const c = await launched().newContext(options);
      opened.push(c);
      return c;
    },
  };
}

export interface TrackedPage {
  page: Page;
  /** console.error messages and uncaught page errors, in order. */
  errors: string[];
  /** console messages of every type, for debugging failed specs. */
  logs: string[];
  /** Every URL the page (and its workers) requested. */
  requests: string[];
}

/** Opens `path` (relative to the test server) in a fresh page and records what it does. */
export async function openPage(
  target: Browser | BrowserContext,
  path: string,
  options: { waitFor?: string } = {},
): Promise<TrackedPage> {
  const page = await target.newPage();
  const tracked: TrackedPage = { page, errors: [], logs: [], requests: [] };
  page.on('console', (msg) => {
    tracked.logs.push(`[${msg.type()}] ${msg.text()}`);
    if (msg.type() === 'error') tracked.errors.push(msg.text());
  });
  page.on('pageerror', (error) => tracked.errors.push(`pageerror: ${error.message}`));
  page.on('request', (request) => tracked.requests.push(request.url()));
  await page.goto(new URL(path, baseUrl()).href);
  if (options.waitFor) await page.waitForFunction(options.waitFor);
  return tracked;
}
