// What one click costs a page as the stored history grows: `track()` of a click, then
// `recommend({ k: 10 })` (what the web component does after every click), through the
// built library in headless Chromium, on a real IndexedDB, with the worker. For each
// history size the store is filled with real MovieLens sessions (users' histories one
// after another, a new session per user) and capped at that size by retention, so every
// click also prunes one event, as at the default 20,000-event cap. Two set-ups: with the
// demo's pretrained model (the GRU answers) and without one (the on-page fallback ranks).
//
// Usage: npx tsx bench/click-recommend.ts [--sizes 1000,5000,20000,50000,100000]
//        [--clicks 40] [--modes pretrained,fallback] [--json FILE]
// Prints a table (p50/p95 ms per click, long tasks) and the backend; not a pass/fail test.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { movieLensUsers } from './movielens-users';
import { benchArg, openRuntimePage } from './runtime-page';

const root = join(import.meta.dirname, '..');
const sizes = benchArg('--sizes', '1000,5000,20000,50000,100000').split(',').map(Number);
const clicks = Number(benchArg('--clicks', '40'));
const modes = benchArg('--modes', 'pretrained,fallback').split(',');
const jsonOut = benchArg('--json', '');
if (modes.includes('pretrained') && !existsSync(join(root, 'demo/assets/model.bin'))) {
  console.error('bench: demo/assets/model.bin is missing (npm run demo:data writes it)');
  process.exit(1);
}

// MovieLens users' histories, each in time order, one after another: a long-time visitor.
const byUser = movieLensUsers();
const stream: string[][] = [];
for (const list of byUser.values()) {
  list.sort((a, b) => a.t - b.t);
  stream.push(list.map((e) => e.item));
}

/** `n` events ending now: sessions of 20 events a minute apart, 45 minutes between sessions. */
function history(n: number): { itemId: string; type: string; timestamp: number }[] {
  const items: string[] = [];
  for (let u = 0; items.length < n; u = (u + 1) % stream.length) items.push(...stream[u]);
  items.length = n;
  const out: { itemId: string; type: string; timestamp: number }[] = [];
  const now = Date.now() - 3_600_000;
  let t = now - n * 60_000 - Math.ceil(n / 20) * 2_700_000;
  for (let i = 0; i < n; i++) {
    t += i % 20 === 0 ? 2_700_000 : 60_000;
    out.push({ itemId: items[i], type: i % 50 === 49 ? 'purchase' : 'view', timestamp: t });
  }
  return out;
}

interface Row {
  mode: string;
  events: number;
  p50: number;
  p95: number;
  max: number;
  longTasks: number;
  longestTask: number;
  scorer: string;
  fillMs: number;
}

const { page, close } = await openRuntimePage();
const rows: Row[] = [];
let backend = '';
try {
  for (const mode of modes) {
    for (const n of sizes) {
      const events = history(n);
      const r = await page.evaluate(
        async ({ events, n, mode, clicks }) => {
          // biome-ignore lint/suspicious/noExplicitAny: page globals
          const L = (window as any).LocalRec;
          const namespace = `click-${mode}-${n}`;
          const rec = await L.createRecommender({
            namespace,
            retention: { maxEvents: n },
            training: { auto: false },
            ...(mode === 'pretrained' ? { pretrained: '/model/model.bin' } : {}),
          });
          const f0 = performance.now();
          for (let i = 0; i < events.length; i += 5000)
            await rec.trackMany(events.slice(i, i + 5000));
          const fillMs = performance.now() - f0;
          if (mode === 'pretrained') await rec.warmUp();
          // The first call reads the history once; the clicks after it are what is timed.
          const first = await rec.recommend({ k: 10 });
          const longTasks: number[] = [];
          const observer = new PerformanceObserver((list) => {
            for (const e of list.getEntries()) longTasks.push(e.duration);
          });
          observer.observe({ type: 'longtask', buffered: false });
          const lat: number[] = [];
          let scorer = first[0]?.scorer ?? '';
          for (let c = 0; c < clicks; c++) {
            const s = performance.now();
            const itemId = first[c % first.length]?.itemId ?? events[c].itemId;
            await rec.track({ itemId, type: 'click' });
            const list = await rec.recommend({ k: 10 });
            lat.push(performance.now() - s);
            scorer = list[0]?.scorer ?? scorer;
          }
          // Long tasks are reported after they end: let the last one arrive.
          await new Promise((r) => setTimeout(r, 100));
          observer.disconnect();
          const status = await rec.status();
          await rec.forget();
          rec.close();
          return {
            lat,
            longTasks,
            scorer,
            fillMs,
            backend: status.backend
              ? `${status.backend.backend} (${status.engine})`
              : status.engine,
          };
        },
        { events, n, mode, clicks },
      );
      if (mode === 'pretrained') backend = r.backend;
      const lat = [...r.lat].sort((a, b) => a - b);
      const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
      const row: Row = {
        mode,
        events: n,
        p50: q(0.5),
        p95: q(0.95),
        max: lat[lat.length - 1],
        longTasks: r.longTasks.length,
        longestTask: r.longTasks.length ? Math.max(...r.longTasks) : 0,
        scorer: r.scorer,
        fillMs: r.fillMs,
      };
      rows.push(row);
      console.log(
        `${mode.padEnd(10)} ${String(n).padStart(7)} events: click→recommend p50 ${row.p50.toFixed(1)} ms, ` +
          `p95 ${row.p95.toFixed(1)} ms, max ${row.max.toFixed(1)} ms; long tasks ${row.longTasks}` +
          (row.longTasks ? ` (longest ${row.longestTask.toFixed(0)} ms)` : '') +
          `; top scorer ${row.scorer}; fill ${(row.fillMs / 1000).toFixed(1)} s`,
      );
    }
  }
  const ua = await page.evaluate(() => navigator.userAgent);
  console.log(
    `bench click-recommend: ${ua.match(/HeadlessChrome\/[\d.]+/)?.[0] ?? ua}, ${process.platform}/${process.arch}, ` +
      `engine backend ${backend || 'not started'}; ${clicks} clicks per size, k = 10`,
  );
  if (jsonOut)
    writeFileSync(jsonOut, `${JSON.stringify({ userAgent: ua, backend, rows }, null, 2)}\n`);
} finally {
  await close();
}
