// Benchmark of on-device fine-tuning as a page meets it: a held-back MovieLens visitor
// (demo/assets/visitors.json, not in the pretraining data) arrives on a page with the demo's
// pretrained model (demo/assets/model.bin); every 5 tracked events the library fine-tunes in
// its worker with the default settings. Prints, per update: the visitor's event count, the
// engine's training seconds and the page-observed train() wall time; then median / p90 and
// the main-thread long tasks (> 50 ms) seen during the run. Target (issue 14): one update
// for a 50-event visitor ≤ 250 ms on WASM in the worker, no main-thread long task.
//
// Usage: npm run build && npx tsx bench/finetune-browser.ts [--backend wasm|webgl|webgpu|cpu|auto] [--events 50] [--blend 0.5]
// Prints numbers and the backend; not a pass/fail test.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchArg, openRuntimePage } from './runtime-page';

const root = join(import.meta.dirname, '..');
const backend = benchArg('--backend', 'wasm');
const maxEvents = Number(benchArg('--events', '50'));
// The default blend (0) skips a run when the model knows every item of the visitor: to time
// the training itself, give a blend above 0 (the run and its cost are the same for any > 0).
const blend = benchArg('--blend', '');

for (const file of ['dist/localrec.js', 'demo/assets/model.bin', 'demo/assets/visitors.json']) {
  if (!existsSync(join(root, file))) {
    console.error(`bench: ${file} is missing (npm run build; npm run demo:data)`);
    process.exit(1);
  }
}

// The held-back visitor with the longest history (up to --events of it).
const { visitors } = JSON.parse(readFileSync(join(root, 'demo/assets/visitors.json'), 'utf8')) as {
  visitors: { user: number; history: number[] }[];
};
const visitor = [...visitors].sort((a, b) => b.history.length - a.history.length)[0];
const history = visitor.history.slice(0, maxEvents).map(String);

const { page, close } = await openRuntimePage();
try {
  const result = await page.evaluate(
    async ({ history, backend, blend }) => {
      // biome-ignore lint/suspicious/noExplicitAny: page globals
      const L = (window as any).LocalRec;
      const longTasks: number[] = [];
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) longTasks.push(e.duration);
      }).observe({ type: 'longtask', buffered: false });
      const rec = await L.createRecommender({
        namespace: `bench-ft-${Date.now()}`,
        // The page decides when: every 5 events, as the automatic trigger would.
        training: { auto: false, ...(blend ? { fineTune: { blend: Number(blend) } } : {}) },
        ...(backend === 'auto' ? {} : { backend: { force: backend } }),
        pretrained: '/model/model.bin',
      });
      await rec.warmUp();
      longTasks.length = 0;
      const updates: { events: number; seconds: number; wallMs: number; trained: number }[] = [];
      let t = Date.now() - history.length * 60_000;
      for (let i = 0; i < history.length; i++) {
        t += 60_000;
        await rec.track({ itemId: history[i], type: 'view', timestamp: t });
        if ((i + 1) % 5 === 0) {
          const s = performance.now();
          const summary = await rec.train();
          updates.push({
            events: i + 1,
            seconds: summary.seconds,
            wallMs: performance.now() - s,
            trained: summary.events,
          });
        }
      }
      const status = await rec.status();
      await rec.forget();
      return { updates, longTasks, status };
    },
    { history, backend, blend },
  );
  const ua = await page.evaluate(() => navigator.userAgent);
  console.log(
    `bench finetune: ${ua.match(/HeadlessChrome\/[\d.]+/)?.[0] ?? ua}, ${process.platform}/${process.arch}`,
  );
  console.log(
    `  visitor: MovieLens user ${visitor.user} (held back), ${history.length} events; model demo/assets/model.bin (${result.status.model?.numItems} items, hidden ${result.status.model?.hiddenSize}); fine-tune blend ${blend || 'default'}`,
  );
  console.log(`  backend: ${result.status.backend?.reason}`);
  console.log('  events  trained  engine s  train() ms');
  for (const u of result.updates) {
    console.log(
      `  ${String(u.events).padStart(6)}  ${String(u.trained).padStart(7)}  ${u.seconds.toFixed(3).padStart(8)}  ${u.wallMs.toFixed(1).padStart(10)}`,
    );
  }
  const wall = result.updates.map((u) => u.wallMs).sort((a, b) => a - b);
  const q = (p: number) => wall[Math.min(wall.length - 1, Math.floor(p * wall.length))];
  const last = result.updates[result.updates.length - 1];
  console.log(
    `  train() wall: median ${q(0.5).toFixed(1)} ms, p90 ${q(0.9).toFixed(1)} ms; at ${last.events} events ${last.wallMs.toFixed(1)} ms`,
  );
  const lt = result.longTasks;
  console.log(
    `  main-thread long tasks (> 50 ms) during the updates: ${lt.length}` +
      (lt.length ? ` (longest ${Math.max(...lt).toFixed(0)} ms)` : ''),
  );
} finally {
  await close();
}
