// A headless Chromium page with the built library loaded as a site imports it
// (e2e/pages/runtime.html: window.LocalRec), served with the demo's model files under
// /model/. Shared by the benchmarks that measure the runtime as a page meets it.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, findChromium, howToPoint } from '../scripts/lib/chromium.mjs';
import { startServer } from '../scripts/lib/serve.mjs';

const root = join(import.meta.dirname, '..');

/** `--name value` from the command line, or `fallback`. */
export function benchArg(name: string, fallback: string): string {
  const args = process.argv.slice(2);
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
}

/** Opens the page, or exits with a message when the build or a browser is missing. */
export async function openRuntimePage(): Promise<{ page: Page; close: () => Promise<void> }> {
  if (!existsSync(join(root, 'dist', 'localrec.js'))) {
    console.error('bench: run `npm run build` first');
    process.exit(1);
  }
  const executablePath = findChromium();
  if (!executablePath) {
    console.error(`bench: ${howToPoint()}`);
    process.exit(1);
  }
  const server = await startServer({
    mounts: {
      '/dist/': join(root, 'dist'),
      '/e2e/': join(root, 'e2e/pages'),
      '/model/': join(root, 'demo/assets'),
    },
  });
  let browser: Browser | null = null;
  const close = async () => {
    await browser?.close();
    await server.close();
  };
  try {
    browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
    const page = await browser.newPage();
    await page.goto(`${server.url}/e2e/runtime.html`);
    await page.waitForFunction(
      () => (window as unknown as { libReady?: boolean }).libReady === true,
    );
    return { page, close };
  } catch (error) {
    await close();
    throw error;
  }
}
