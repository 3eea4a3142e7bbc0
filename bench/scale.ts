// How localrec's costs grow with the catalog and the log, in Node on the WASM backend:
// on a generated shop log (src/eval/synthetic-shop.ts: Zipf popularity, e-commerce
// session lengths, seeded), for each (items N, events E) it measures, each in its own
// child process (so peak memory is that run's):
//   - generating the log (ms) and the log's size in memory
//   - pretraining: one epoch over the first `--train-events` events of the log (capped so
//     that the 10M-event runs stay bounded; events/s holds for the full log, which would
//     take trainSeconds · events / trained events an epoch — printed as the epoch time,
//     measured where the log is under the cap, extrapolated above it). events/s counts
//     training examples (events with a next event in their session), as trainGru does
//   - peak RSS and peak V8 heap while training (sampled every 50 ms; RSS includes the
//     WASM heap and the typed arrays)
//   - the model file's size (float32, with a vocabulary of shop-like string ids)
//   - top-20 latency scoring every item (GruJsScorer.scoresFromState + topKOf, 10
//     exclusions), p50/p95 over 200 calls
//   - fine-tuning a visitor: 300 events with 5 items new to the model, 3 epochs from the
//     pretrained model (the engine's path: trainGru with { model, vocab: added }), its
//     wall time (and of 1 epoch: the difference is the part that grows with events), and
//     the serialisation of the result
// Not a test: it prints numbers and the backend.
//
// Usage: npx tsx bench/scale.ts [--items 10000,30000,100000,300000] [--events 1000000]
//        [--big-events 3000000,10000000] [--big-items 100000] [--train-events 200000]
//        [--hidden 64] [--json docs/scale/scale-node.json]
// (`--big-events` runs are at `--big-items` items.)
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { syntheticShop } from '../src/eval/synthetic-shop';
import { topKOf } from '../src/model/js-scorer';
import type { GruModel } from '../src/model/model';
import { serializeGru } from '../src/model/serialize';
import { ensureNodeBackend } from '../src/train/backend-node';
import { trainGru } from '../src/train/fit';

function arg(name: string, fallback: string): string {
  const a = process.argv.slice(2);
  const i = a.indexOf(name);
  return i >= 0 ? a[i + 1] : fallback;
}
const hidden = Number(arg('--hidden', '64'));
const trainCap = Number(arg('--train-events', '200000'));

export interface ScaleRow {
  items: number;
  events: number;
  hidden: number;
  backend: string;
  generateMs: number;
  logMB: number;
  /** Events of the log trained on (the first sessions up to the cap). */
  trainLogEvents: number;
  /** Training examples (events that have a next event in their session): what events/s counts. */
  trainEvents: number;
  trainSeconds: number;
  eventsPerSecond: number;
  /** One epoch over the whole log: trainSeconds · events / trainLogEvents (measured when not capped). */
  epochSecondsFull: number;
  peakRssMB: number;
  peakHeapMB: number;
  modelBytes: number;
  top20P50: number;
  top20P95: number;
  scoresP50: number;
  fineTuneSeconds: number;
  fineTune1Seconds: number;
  fineTuneEvents: number;
  fineTuneSerializeMs: number;
}

const q = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};

async function one(n: number, e: number): Promise<ScaleRow> {
  const backend = await ensureNodeBackend();
  const g0 = performance.now();
  const log = syntheticShop({ numItems: n, events: e, seed: 1 });
  const generateMs = performance.now() - g0;
  // the first sessions holding at most trainCap events
  let s = 0;
  while (s + 1 < log.offsets.length && log.offsets[s + 1] <= trainCap) s++;
  const offsets = log.offsets.slice(0, s + 1);
  const train = { items: log.items.subarray(0, offsets[s]), offsets, numItems: n };
  const vocab = Array.from({ length: n }, (_, i) => `sku-${String(100000 + i)}`);
  let peakRss = 0;
  let peakHeap = 0;
  const sample = () => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  };
  const timer = setInterval(sample, 50);
  sample();
  const r = await trainGru(
    train,
    { epochs: 1, batchSize: 128, negatives: 128, seed: 1 },
    { config: { hiddenSize: hidden }, vocab },
  );
  sample();
  const model: GruModel = r.model;
  const file = serializeGru(model);
  sample();
  clearInterval(timer);
  peakRss = Math.max(peakRss, process.resourceUsage().maxRSS * 1024);

  // top-20 over every item after a 10-item prefix, 10 exclusions
  const scorer = model.scorer() as ReturnType<GruModel['scorer']> & {
    initialState(): Float32Array;
    step(s: Float32Array, i: number): void;
    scoresFromState(s: Float32Array): Float32Array;
  };
  const lat: number[] = [];
  const scoreLat: number[] = [];
  for (let rep = 0; rep < 220; rep++) {
    const prefix = log.items.subarray(rep * 10, rep * 10 + 10);
    const t0 = performance.now();
    const st = scorer.initialState();
    for (const i of prefix) scorer.step(st, i);
    const t1 = performance.now();
    const sc = scorer.scoresFromState(st);
    const t2 = performance.now();
    topKOf(sc, 20, prefix);
    const t3 = performance.now();
    if (rep >= 20) {
      lat.push(t3 - t0);
      scoreLat.push(t2 - t1);
    }
  }

  // fine-tune a visitor: 300 events, 5 of its items new to the model
  const visitor = syntheticShop({ numItems: n, events: 300, seed: 99 });
  const vItems = visitor.items.slice();
  for (let i = 0; i < 5; i++) vItems[i * 50] = n + i;
  const added = Array.from({ length: 5 }, (_, i) => `new-${i}`);
  // one epoch, then three: the difference is the per-epoch part (steps over the visitor's
  // events), what is left of the 1-epoch time the per-call part (grow, copies, checks)
  const e0 = performance.now();
  const ft1 = await trainGru(
    { items: vItems, offsets: visitor.offsets, numItems: n + 5 },
    { epochs: 1, lr: 0.02, seed: 2 },
    { model, vocab: added },
  );
  const fineTune1Seconds = (performance.now() - e0) / 1000;
  ft1.model.dispose();
  const f0 = performance.now();
  const ft = await trainGru(
    { items: vItems, offsets: visitor.offsets, numItems: n + 5 },
    { epochs: 3, lr: 0.02, seed: 2 },
    { model, vocab: added },
  );
  const fineTuneSeconds = (performance.now() - f0) / 1000;
  const f1 = performance.now();
  serializeGru(ft.model);
  const fineTuneSerializeMs = performance.now() - f1;
  ft.model.dispose();
  model.dispose();

  return {
    items: n,
    events: e,
    hidden,
    backend,
    generateMs,
    logMB: (log.items.byteLength + log.offsets.byteLength) / 2 ** 20,
    trainLogEvents: offsets[s],
    trainEvents: r.events,
    trainSeconds: r.seconds,
    eventsPerSecond: r.eventsPerSecond,
    epochSecondsFull: (r.seconds * e) / offsets[s],
    peakRssMB: peakRss / 2 ** 20,
    peakHeapMB: peakHeap / 2 ** 20,
    modelBytes: file.byteLength,
    top20P50: q(lat, 0.5),
    top20P95: q(lat, 0.95),
    scoresP50: q(scoreLat, 0.5),
    fineTuneSeconds,
    fineTune1Seconds,
    fineTuneEvents: ft.events,
    fineTuneSerializeMs,
  };
}

const oneArg = arg('--one', '');
if (oneArg) {
  const [n, e] = oneArg.split(',').map(Number);
  console.log(`ROW ${JSON.stringify(await one(n, e))}`);
} else {
  const items = arg('--items', '10000,30000,100000,300000').split(',').map(Number);
  const events = Number(arg('--events', '1000000'));
  const bigItems = Number(arg('--big-items', '100000'));
  const big = arg('--big-events', '3000000,10000000').split(',').filter(Boolean).map(Number);
  const jsonOut = arg('--json', 'docs/scale/scale-node.json');
  const configs: [number, number][] = [
    ...items.map((n) => [n, events] as [number, number]),
    ...big.map((e) => [bigItems, e] as [number, number]),
  ];
  const rows: ScaleRow[] = [];
  console.log(
    'items      events  gen ms  train ev  ev/s    epoch(full) s  peakRSS MB  heap MB  model MB  top20 p50/p95 ms  fine-tune s',
  );
  for (const [n, e] of configs) {
    const child = spawnSync(
      process.execPath,
      [
        ...process.execArgv,
        process.argv[1],
        '--one',
        `${n},${e}`,
        '--hidden',
        String(hidden),
        '--train-events',
        String(trainCap),
      ],
      { encoding: 'utf8', maxBuffer: 1 << 26 },
    );
    const line = child.stdout.split('\n').find((l) => l.startsWith('ROW '));
    if (!line) {
      console.error(`run ${n},${e} failed:\n${child.stderr}`);
      continue;
    }
    const r = JSON.parse(line.slice(4)) as ScaleRow;
    rows.push(r);
    console.log(
      `${String(n).padStart(6)} ${String(e).padStart(10)} ${r.generateMs.toFixed(0).padStart(7)} ${String(r.trainEvents).padStart(8)} ` +
        `${r.eventsPerSecond.toFixed(0).padStart(6)} ${r.epochSecondsFull.toFixed(0).padStart(13)} ${r.peakRssMB.toFixed(0).padStart(11)} ` +
        `${r.peakHeapMB.toFixed(0).padStart(8)} ${(r.modelBytes / 2 ** 20).toFixed(1).padStart(9)} ` +
        `${r.top20P50.toFixed(2).padStart(8)} / ${r.top20P95.toFixed(2).padEnd(7)} ${r.fineTuneSeconds.toFixed(2).padStart(8)}`,
    );
  }
  console.log(
    `bench scale: Node ${process.version}, ${process.platform}/${process.arch}, backend ${rows[0]?.backend ?? '?'}, hidden ${hidden}, ` +
      `training one epoch over the first ≤${trainCap} events (B 128, 128 negatives)`,
  );
  mkdirSync(dirname(jsonOut), { recursive: true });
  writeFileSync(
    jsonOut,
    `${JSON.stringify({ node: process.version, platform: `${process.platform}/${process.arch}`, hidden, trainCap, rows }, null, 2)}\n`,
  );
}
