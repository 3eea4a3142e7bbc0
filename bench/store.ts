// Store throughput and read-back time (numbers, not pass/fail).
//
//   npx tsx bench/store.ts            Node + fake-indexeddb (an in-memory JS
//                                     implementation: NOT a browser; its numbers say
//                                     little about IndexedDB in a real browser)
//   npx tsx bench/store.ts --browser  also in headless Chromium on the built
//                                     dist/localrec.js (run `npm run build` first)
//
// Measures: track() one by one (one committed transaction each), trackMany() batched,
// readSequences() of 100k events into typed arrays, stats() and exportData().
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { IDBFactory } from 'fake-indexeddb';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, findChromium } from '../scripts/lib/chromium.mjs';
import { startServer } from '../scripts/lib/serve.mjs';
import { createStore } from '../src/api/create-store';
import { formatResults, runStoreBench, type StoreBenchResult } from './store-body.mjs';

const root = join(import.meta.dirname, '..');
const browser = process.argv.includes('--browser');
const options = { single: 1000, batches: 100, batchSize: 100, readEvents: 100_000, readRuns: 5 };

console.log(`environment: Node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? '?'}`);

{
  const results = await runStoreBench(createStore, { ...options, indexedDB: new IDBFactory() });
  console.log(formatResults('node+fake-indexeddb', results));
  const memory = await runStoreBench(createStore, { ...options, indexedDB: null });
  console.log(formatResults('node in-memory fallback', memory));
}

if (browser) {
  if (!existsSync(join(root, 'dist', 'localrec.js')))
    throw new Error('dist/ is not built: npm run build');
  const executablePath = findChromium();
  if (!executablePath) throw new Error('no Chromium found (set LOCALREC_CHROMIUM)');
  const server = await startServer({
    mounts: { '/dist/': join(root, 'dist'), '/bench/': join(root, 'bench') },
  });
  // A persistent profile on disk, like a real visitor's (an incognito context keeps
  // IndexedDB in memory).
  const profile = join(root, 'node_modules', '.cache', `localrec-bench-${process.pid}`);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  try {
    const page = await context.newPage();
    await page.goto(`${server.url}/bench/store.html`);
    await page.waitForFunction('window.benchReady === true');
    const version = await page.evaluate(() => navigator.userAgent.match(/Chrome\/[\d.]+/)?.[0]);
    console.log(`browser: headless ${version}, on-disk profile`);
    const results = await page.evaluate(
      (o) =>
        (window as unknown as { runStoreBench(o: object): Promise<object[]> }).runStoreBench(o),
      options,
    );
    console.log(formatResults('chromium', results as StoreBenchResult[]));
  } finally {
    await context.close();
    await server.close();
    const { rmSync } = await import('node:fs');
    rmSync(profile, { recursive: true, force: true });
  }
}
