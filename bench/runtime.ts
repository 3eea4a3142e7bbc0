// Benchmark of the runtime as a page meets it (issue 6): main-thread long tasks (> 50 ms)
// while the worker trains, and recommend() latency from the page (round trip through
// the worker), median and p95. Real MovieLens data: one visitor = the MovieLens user
// with the longest history, replayed as sessions cut by a 30-minute gap. With
// demo/assets/model.bin present the visitor warm-starts from it (3,496 items).
//
// Usage: npx tsx bench/runtime.ts [--backend wasm|webgl|webgpu|cpu|auto] [--epochs 5] [--calls 200]
// Prints numbers and the backend; not a pass/fail test.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { movieLensUsers } from './movielens-users';
import { benchArg, openRuntimePage } from './runtime-page';

const root = join(import.meta.dirname, '..');
const backend = benchArg('--backend', 'auto');
const epochs = Number(benchArg('--epochs', '5'));
const calls = Number(benchArg('--calls', '200'));

// The visitor: the MovieLens user with the most ratings, in time order.
const byUser = movieLensUsers();
const [userId, history] = [...byUser.entries()].sort((a, b) => b[1].length - a[1].length)[0];
history.sort((a, b) => a.t - b.t);
// Shift the history to end now, keeping its gaps (retention drops events older than a year).
const shift = Date.now() - history[history.length - 1].t - 1000;
const span = history[history.length - 1].t - history[0].t;
const compress = span > 300 * 86_400_000 ? (300 * 86_400_000) / span : 1;
const events = history.map((e) => ({
  itemId: e.item,
  type: 'view',
  timestamp: Math.round(
    history[history.length - 1].t + shift - (history[history.length - 1].t - e.t) * compress,
  ),
}));

const modelPath = join(root, 'demo/assets/model.bin');
const pretrained = existsSync(modelPath);

const { page, close } = await openRuntimePage();
try {
  const result = await page.evaluate(
    async ({ events, backend, epochs, calls, pretrained }) => {
      // biome-ignore lint/suspicious/noExplicitAny: page globals
      const L = (window as any).LocalRec;
      const longTasks: number[] = [];
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) longTasks.push(e.duration);
      }).observe({ type: 'longtask', buffered: false });
      const rec = await L.createRecommender({
        namespace: 'bench',
        training: { auto: false },
        ...(backend === 'auto' ? {} : { backend: { force: backend } }),
        ...(pretrained ? { pretrained: '/model/model.bin' } : {}),
      });
      const t0 = performance.now();
      await rec.trackMany(events);
      const trackMs = performance.now() - t0;
      const t1 = performance.now();
      const warm = await rec.warmUp();
      const warmMs = performance.now() - t1;
      longTasks.length = 0;
      const train = await rec.train({ epochs, mode: pretrained ? 'continue' : 'fresh' });
      const trainLongTasks = [...longTasks];
      const lat: number[] = [];
      for (let i = 0; i < calls; i++) {
        const s = performance.now();
        await rec.recommend({ k: 20 });
        lat.push(performance.now() - s);
      }
      const status = await rec.status();
      return { trackMs, warmMs, warm, train, trainLongTasks, lat, status };
    },
    { events, backend, epochs, calls, pretrained },
  );
  // (Quantiles here, not in the page: tsx would inject a __name helper the page lacks.)
  const lat = [...result.lat].sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
  const ua = await page.evaluate(() => navigator.userAgent);
  console.log(
    `bench runtime: ${ua.match(/HeadlessChrome\/[\d.]+/)?.[0] ?? ua}, ${process.platform}/${process.arch}`,
  );
  console.log(
    `  visitor: MovieLens user ${userId}, ${events.length} events; pretrained: ${pretrained ? 'demo/assets/model.bin' : 'no (trained from scratch)'}`,
  );
  console.log(`  backend: ${result.status.backend?.reason}`);
  console.log(
    `  engine start (worker + backend trials + model load): ${result.warmMs.toFixed(0)} ms; trackMany: ${result.trackMs.toFixed(0)} ms`,
  );
  console.log(
    `  training: ${result.train.events} events, ${epochs} epochs, ${result.train.seconds.toFixed(2)} s, ` +
      `${Math.round(result.train.eventsPerSecond)} events/s on ${result.train.backend} (${result.train.mode})`,
  );
  const lt = result.trainLongTasks;
  console.log(
    `  main-thread long tasks (> 50 ms) during training: ${lt.length}` +
      (lt.length ? ` (longest ${Math.max(...lt).toFixed(0)} ms)` : ''),
  );
  console.log(
    `  recommend(k=20) from the page, ${calls} calls over ${result.status.model?.numItems} items: ` +
      `median ${q(0.5).toFixed(2)} ms, p95 ${q(0.95).toFixed(2)} ms`,
  );
} finally {
  await close();
}
