// First recommendations on a phone-class CPU: headless Chromium with its CPU throttled
// (CDP Emulation.setCPUThrottlingRate), a fresh profile (first visit: nothing cached or
// stored), the built output served locally.
//
// - `library`: a plain page (e2e/pages/runtime.html) that calls createRecommender with the
//   demo's 3,496-item catalogue and pretrained model, then recommend({ k: 10 }). What the
//   library alone costs the page: time to the first list (the fallback, while the engine
//   starts), time to the first list from the model (engine start: worker, backend trials
//   on a first visit, model load), and every main-thread long task (> 50 ms) until then
//   and for 2 s after (the catalogue write runs in that time).
// - `demo`: the demo page (dist-demo/), from navigation to its first list of
//   recommendations on screen, with the page's own work included (grid, baselines).
//
// Usage: npx tsx bench/first-recs.ts [--rates 1,4] [--runs 3] [--pages library,demo]
// Prints numbers and the backend; not a pass/fail test. Needs `npm run build` and
// demo/assets/model.bin.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { startE2eServer } from '../e2e/server';
import { CHROMIUM_ARGS, findChromium, howToPoint } from '../scripts/lib/chromium.mjs';
import { benchArg } from './runtime-page';

const root = join(import.meta.dirname, '..');
const rates = benchArg('--rates', '1,4').split(',').map(Number);
const runs = Number(benchArg('--runs', '3'));
const pages = benchArg('--pages', 'library,demo').split(',');
for (const f of ['dist/localrec.js', 'dist-demo/index.html', 'demo/assets/model.bin']) {
  if (!existsSync(join(root, f))) {
    console.error(`bench: ${f} is missing (npm run build; npm run demo:data for the model)`);
    process.exit(1);
  }
}
const executablePath = findChromium();
if (!executablePath) {
  console.error(`bench: ${howToPoint()}`);
  process.exit(1);
}
// The demo's catalogue (rows: id, title, year, genre indices, popularity), as a shop's.
const raw = JSON.parse(readFileSync(join(root, 'demo/assets/catalog.json'), 'utf8')) as {
  genres: string[];
  items: [number, string, number | null, number[], number][];
};

/** Records main-thread long tasks from the first script on. */
const OBSERVE = `(() => {
  window.__longTasks = [];
  new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__longTasks.push([e.startTime, e.duration]); })
    .observe({ type: 'longtask', buffered: true });
})();`;

async function throttled(browser: Browser, rate: number): Promise<Page> {
  const context = await browser.newContext();
  await context.addInitScript(OBSERVE);
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate });
  return page;
}

interface Run {
  /** To the first list on screen (any scorer). */
  firstMs: number;
  /** To the first list from the model (library page only). */
  modelMs?: number;
  longTasks: [number, number][];
  backend: string;
}

async function libraryRun(browser: Browser, url: string, rate: number): Promise<Run> {
  const page = await throttled(browser, rate);
  await page.goto(`${url}/e2e/runtime.html`);
  await page.waitForFunction(() => (window as unknown as { libReady?: boolean }).libReady);
  const items = raw.items.map(([id, title, year, genres]) => ({
    id: String(id),
    title,
    attributes: { year, genres: genres.map((g) => raw.genres[g]) },
  }));
  const r = await page.evaluate(
    async ({ items }) => {
      // biome-ignore lint/suspicious/noExplicitAny: page globals
      const w = window as any;
      const t0 = performance.now();
      const rec = await w.LocalRec.createRecommender({
        namespace: 'first-recs',
        catalog: items,
        pretrained: '/demo/assets/model.bin',
      });
      let list = await rec.recommend({ k: 10 });
      const anyMs = performance.now() - t0;
      // The answer once the model is in (the first is the fallback while the engine starts).
      while (
        list[0]?.scorer !== 'gru' &&
        list[0]?.scorer !== 'sr' &&
        performance.now() - t0 < 60_000
      ) {
        await new Promise((r) => setTimeout(r, 20));
        list = await rec.recommend({ k: 10 });
      }
      const firstMs = performance.now() - t0;
      await new Promise((r) => setTimeout(r, 2000));
      const status = await rec.status();
      return {
        firstMs: anyMs,
        modelMs: firstMs,
        since: t0,
        longTasks: w.__longTasks as [number, number][],
        backend: `${status.backend?.backend ?? 'trial still running'} (${status.engine})`,
      };
    },
    { items },
  );
  await page.context().close();
  return {
    firstMs: r.firstMs,
    modelMs: r.modelMs,
    longTasks: r.longTasks.filter(([start]) => start >= r.since),
    backend: r.backend,
  };
}

async function demoRun(browser: Browser, url: string, rate: number): Promise<Run> {
  const page = await throttled(browser, rate);
  const t0 = Date.now();
  await page.goto(`${url}/demo/index.html`);
  await page.waitForSelector('#recs[data-events="0"] #recs-list li', { timeout: 120_000 });
  const firstMs = Date.now() - t0;
  await page.waitForTimeout(2000);
  const r = await page.evaluate(() => ({
    // biome-ignore lint/suspicious/noExplicitAny: page globals
    longTasks: (window as any).__longTasks as [number, number][],
    status: document.querySelector('#status')?.textContent ?? '',
  }));
  await page.context().close();
  return {
    firstMs,
    longTasks: r.longTasks,
    backend: r.status.match(/backend: ([^·]+)/)?.[1] ?? '?',
  };
}

const server = await startE2eServer();
const browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
try {
  const ua = await (await browser.newPage()).evaluate(() => navigator.userAgent);
  console.log(
    `bench first-recs: ${ua.match(/HeadlessChrome\/[\d.]+/)?.[0] ?? ua}, ${process.platform}/${process.arch}, ${runs} runs each, fresh profile`,
  );
  for (const name of pages) {
    for (const rate of rates) {
      const results: Run[] = [];
      for (let i = 0; i < runs; i++)
        results.push(await (name === 'library' ? libraryRun : demoRun)(browser, server.url, rate));
      const first = results.map((r) => r.firstMs).sort((a, b) => a - b);
      const model = results.map((r) => r.modelMs ?? Number.NaN).sort((a, b) => a - b);
      const tasks = results.flatMap((r) => r.longTasks.map(([, d]) => d));
      console.log(
        `${name.padEnd(8)} CPU ${rate}x: first recommendations ${first.map((v) => `${(v / 1000).toFixed(2)} s`).join(' / ')}` +
          ` (median ${(first[Math.floor(first.length / 2)] / 1000).toFixed(2)} s)` +
          (name === 'library'
            ? `, from the model ${model.map((v) => `${(v / 1000).toFixed(2)} s`).join(' / ')}`
            : '') +
          '; main-thread long tasks: ' +
          `${tasks.length} in ${runs} runs${tasks.length ? `, longest ${Math.max(...tasks).toFixed(0)} ms` : ''}; backend ${results[0].backend}`,
      );
    }
  }
} finally {
  await browser.close();
  await server.close();
}
