// The page's side of catalog scale, in headless Chromium through the built library and
// its worker (dist/): for each catalog size N, a model pretrained in Node on a generated
// shop log (src/eval/synthetic-shop.ts; one epoch over `--train-events` events, hidden
// 64, with the population statistics `localrec pretrain` writes) is served to the page
// and measured:
//   - the model file's bytes; its fetch alone; the time from createRecommender to the
//     first list from the model (worker start, download, parse: what a first visit waits
//     for before the GRU answers); and to warmUp() (that plus the backend trial)
//   - recommend({ k: 20 }) p50/p95 after 10 tracked events; with 10 exclusions; with an
//     attribute filter matching ~1% of the catalog and one matching ~10% (and which
//     scorer the filtered results came from: the GRU only over-fetches max(200, 20k))
//   - setCatalog(N items with title and 3 attributes): the first write, and the same
//     catalog again (skipped by its fingerprint); stats() after it
//   - the same recommend() with serving: { mix: false } (the GRU alone, no population parts)
//   - memory: performance.measureUserAgentSpecificMemory() (page + worker), when the
//     browser gives it
// Not a test: it prints numbers and the backend.
//
// Usage: npx tsx bench/scale-browser.ts [--items 10000,30000,100000] [--train-events 100000]
//        [--calls 60] [--json docs/scale/scale-browser.json]
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, findChromium, howToPoint } from '../scripts/lib/chromium.mjs';
import { startServer } from '../scripts/lib/serve.mjs';
import { buildPopulation } from '../src/baselines/population';
import { syntheticShop } from '../src/eval/synthetic-shop';
import { serializeGru } from '../src/model/serialize';
import { ensureNodeBackend } from '../src/train/backend-node';
import { trainGru } from '../src/train/fit';
import { benchArg } from './runtime-page';

const root = join(import.meta.dirname, '..');
const sizes = benchArg('--items', '10000,30000,100000').split(',').map(Number);
const trainEvents = Number(benchArg('--train-events', '100000'));
const calls = Number(benchArg('--calls', '60'));
const jsonOut = benchArg('--json', 'docs/scale/scale-browser.json');

const dir = mkdtempSync(join(tmpdir(), 'localrec-scale-'));
await ensureNodeBackend();
for (const n of sizes) {
  const log = syntheticShop({ numItems: n, events: trainEvents, seed: 1 });
  const vocab = Array.from({ length: n }, (_, i) => `sku-${String(100000 + i)}`);
  const t0 = performance.now();
  const r = await trainGru(log, { epochs: 1, seed: 1 }, { config: { hiddenSize: 64 }, vocab });
  const population = buildPopulation(log, {});
  const buf = serializeGru(r.model, population);
  r.model.dispose();
  writeFileSync(join(dir, `model-${n}.bin`), new Uint8Array(buf));
  console.log(
    `model ${n} items: ${(buf.byteLength / 2 ** 20).toFixed(1)} MB, made in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
}

const executablePath = findChromium();
if (!executablePath) {
  console.error(`bench: ${howToPoint()}`);
  process.exit(1);
}
const server = await startServer({
  mounts: { '/dist/': join(root, 'dist'), '/e2e/': join(root, 'e2e/pages'), '/scale/': dir },
});
const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: [...CHROMIUM_ARGS, '--enable-blink-features=ForceEagerMeasureMemory'],
});
const rows: unknown[] = [];
let ua = '';
try {
  for (const n of sizes) {
    // a fresh page per size: memory is that size's
    const page = await browser.newPage();
    await page.goto(`${server.url}/e2e/runtime.html`);
    await page.waitForFunction(() => (window as unknown as { libReady?: boolean }).libReady);
    ua = await page.evaluate(() => navigator.userAgent);
    // tsx (esbuild keepNames) wraps named functions in __name(): give the page one
    await page.evaluate('globalThis.__name = (f) => f');
    const row = await page.evaluate(
      async ({ n, calls }) => {
        // biome-ignore lint/suspicious/noExplicitAny: page globals
        const L = (window as any).LocalRec;
        const url = `/scale/model-${n}.bin`;
        const q = (xs: number[], p: number) => {
          const s = [...xs].sort((a, b) => a - b);
          return s[Math.min(s.length - 1, Math.floor(p * s.length))];
        };
        const f0 = performance.now();
        const bytes = (await (await fetch(url)).arrayBuffer()).byteLength;
        const fetchMs = performance.now() - f0;
        const c0 = performance.now();
        const rec = await L.createRecommender({
          namespace: `scale-${n}`,
          pretrained: url,
          training: { auto: false },
        });
        const id = (i: number) => `sku-${String(100000 + i)}`;
        const now = Date.now();
        await rec.trackMany(
          Array.from({ length: 10 }, (_, i) => ({
            itemId: id((i * 7919) % n),
            type: 'view',
            timestamp: now - (10 - i) * 60_000,
          })),
        );
        // the first list from the model (recommend() answers from the fallback until then)
        let firstModelMs = Number.NaN;
        for (let tries = 0; tries < 6000; tries++) {
          const list = await rec.recommend({ k: 20 });
          if (list.length && list[0].scorer !== 'pop' && list[0].scorer !== 'catalog') {
            firstModelMs = performance.now() - c0;
            break;
          }
          await new Promise((r) => setTimeout(r, 10));
        }
        // then the backend trial (warmUp waits for it), so it does not run under the timings
        const status = await rec.warmUp();
        const loadMs = performance.now() - c0;
        for (let i = 0; i < 20; i++) await rec.recommend({ k: 20 });
        const time = async (opts: object) => {
          const lat: number[] = [];
          const scorers: Record<string, number> = {};
          let got = 0;
          for (let c = 0; c < calls; c++) {
            const s = performance.now();
            const list = await rec.recommend(opts);
            lat.push(performance.now() - s);
            got += list.length;
            for (const r of list) scorers[r.scorer] = (scorers[r.scorer] ?? 0) + 1;
          }
          return { p50: q(lat, 0.5), p95: q(lat, 0.95), perCall: got / calls, scorers };
        };
        const plain = await time({ k: 20 });
        const exclude = Array.from({ length: 10 }, (_, i) => id((i * 104729) % n));
        const excl = await time({ k: 20, exclude });
        // the catalogue: N items, category of 100 values (1% each), brand of 10 (10% each)
        const catalog = Array.from({ length: n }, (_, i) => ({
          id: id(i),
          title: `Product ${i} with a title of ordinary length`,
          attributes: { category: `c${i % 100}`, brand: `b${i % 10}`, price: (i % 997) + 0.99 },
        }));
        const s0 = performance.now();
        await rec.setCatalog(catalog);
        const setCatalogMs = performance.now() - s0;
        const s1 = performance.now();
        await rec.setCatalog(catalog);
        const setCatalogAgainMs = performance.now() - s1;
        const stats = await rec.stats();
        const filter1 = await time({ k: 20, filter: { category: 'c7' } });
        const filter10 = await time({ k: 20, filter: { brand: 'b3' } });
        let memory: number | null = null;
        // biome-ignore lint/suspicious/noExplicitAny: not in every lib.dom
        const pm = performance as any;
        if (typeof pm.measureUserAgentSpecificMemory === 'function' && crossOriginIsolated) {
          try {
            memory = (await pm.measureUserAgentSpecificMemory()).bytes;
          } catch {}
        }
        await rec.forget();
        rec.close();
        // the GRU alone (serving.mix false): the catalog pass without the population's parts
        const gruRec = await L.createRecommender({
          namespace: `scale-${n}-gru`,
          pretrained: url,
          training: { auto: false },
          serving: { mix: false },
        });
        await gruRec.trackMany(
          Array.from({ length: 10 }, (_, i) => ({
            itemId: id((i * 7919) % n),
            type: 'view',
            timestamp: now - (10 - i) * 60_000,
          })),
        );
        await gruRec.warmUp();
        for (let i = 0; i < 20; i++) await gruRec.recommend({ k: 20 });
        const timeGru = async (opts: object) => {
          const lat: number[] = [];
          for (let c = 0; c < calls; c++) {
            const s = performance.now();
            await gruRec.recommend(opts);
            lat.push(performance.now() - s);
          }
          return { p50: q(lat, 0.5), p95: q(lat, 0.95) };
        };
        const gruOnly = await timeGru({ k: 20 });
        const gruOnlyExclude = await timeGru({ k: 20, exclude });
        await gruRec.forget();
        gruRec.close();
        return {
          gruOnly,
          gruOnlyExclude,
          items: n,
          bytes,
          fetchMs,
          firstModelMs,
          loadMs,
          backend: status.backend ? `${status.backend.backend} (${status.engine})` : status.engine,
          plain,
          exclude: excl,
          setCatalogMs,
          setCatalogAgainMs,
          stats,
          filter1,
          filter10,
          memoryMB: memory === null ? null : memory / 2 ** 20,
        };
      },
      { n, calls },
    );
    await page.close();
    rows.push(row);
    const r = row;
    console.log(
      `${n} items: model ${(row.bytes / 2 ** 20).toFixed(1)} MB, fetch ${row.fetchMs.toFixed(0)} ms, first list from the model ${row.firstModelMs.toFixed(0)} ms, create+warmUp (with the backend trial) ${row.loadMs.toFixed(0)} ms (${row.backend}); ` +
        `recommend k20 p50/p95 ${r.plain.p50.toFixed(1)}/${r.plain.p95.toFixed(1)} ms, +10 exclusions ${r.exclude.p50.toFixed(1)}/${r.exclude.p95.toFixed(1)}, ` +
        `GRU alone ${r.gruOnly.p50.toFixed(1)}/${r.gruOnly.p95.toFixed(1)} (+10 exclusions ${r.gruOnlyExclude.p50.toFixed(1)}/${r.gruOnlyExclude.p95.toFixed(1)}), ` +
        `filter 1% ${r.filter1.p50.toFixed(1)}/${r.filter1.p95.toFixed(1)} (${r.filter1.perCall} items, ${JSON.stringify(r.filter1.scorers)}), ` +
        `filter 10% ${r.filter10.p50.toFixed(1)}/${r.filter10.p95.toFixed(1)} (${JSON.stringify(r.filter10.scorers)}); ` +
        `setCatalog ${row.setCatalogMs.toFixed(0)} ms, again ${row.setCatalogAgainMs.toFixed(0)} ms; stats ${JSON.stringify(row.stats)}; ` +
        `memory ${row.memoryMB === null ? 'n/a' : `${row.memoryMB.toFixed(0)} MB`}`,
    );
  }
  console.log(
    `bench scale-browser: ${ua.match(/HeadlessChrome\/[\d.]+/)?.[0] ?? ua}, ${process.platform}/${process.arch}, ${calls} calls per measure`,
  );
  mkdirSync(dirname(jsonOut), { recursive: true });
  writeFileSync(
    jsonOut,
    `${JSON.stringify({ userAgent: ua, calls, trainEvents, rows }, null, 2)}\n`,
  );
} finally {
  await browser.close();
  await server.close();
}
