// The store benchmark body, plain JavaScript so that Node (bench/store.ts) and the
// browser page (bench/store.html) run the very same code untransformed.
// Numbers, not pass/fail.

/**
 * @param {(options: object) => Promise<any>} createStore
 * @param {{ single: number, batches: number, batchSize: number, readEvents: number,
 *   readRuns: number, indexedDB?: unknown, namespace?: string }} o
 */
export async function runStoreBench(createStore, o) {
  const base = {
    namespace: o.namespace ?? 'bench',
    broadcast: false,
    retention: { maxEvents: Infinity },
  };
  if ('indexedDB' in o) base.indexedDB = o.indexedDB;
  const results = [];
  const now = Date.now();
  const itemOf = (i) => `item-${(i * 7919) % 2000}`;
  const ev = (i) => ({
    itemId: itemOf(i),
    type: i % 10 === 0 ? 'add_to_cart' : 'view',
    timestamp: now - 86_400_000 + i,
    // Half the events carry a sessionId (20 events each), half are cut by inactivity.
    ...(i % 2 === 0 ? { sessionId: `s${Math.floor(i / 40)}` } : {}),
  });

  let store = await createStore(base);
  await store.forget();
  results.push({ name: 'persistent', value: store.persistent });

  // 1. track() one by one: each awaits its own committed transaction.
  let t = performance.now();
  for (let i = 0; i < o.single; i++) await store.track(ev(i));
  let ms = performance.now() - t;
  results.push({
    name: `track() x${o.single}, sequential`,
    ms,
    perEventMs: ms / o.single,
    eventsPerSec: (o.single / ms) * 1000,
  });

  // 2. trackMany() batches: one transaction per batch.
  t = performance.now();
  for (let b = 0; b < o.batches; b++) {
    await store.trackMany(
      Array.from({ length: o.batchSize }, (_, k) => ev(o.single + b * o.batchSize + k)),
    );
  }
  ms = performance.now() - t;
  const nb = o.batches * o.batchSize;
  results.push({
    name: `trackMany() ${o.batches} x ${o.batchSize}`,
    ms,
    perEventMs: ms / nb,
    eventsPerSec: (nb / ms) * 1000,
  });

  // 3. Read-back of readEvents events into typed arrays.
  await store.forget();
  store.close();
  store = await createStore(base);
  const chunk = 10_000;
  // Read-back at the default retention cap (20,000) and at readEvents.
  const sizes = [...new Set([Math.min(20_000, o.readEvents), o.readEvents])];
  let filled = 0;
  for (const size of sizes) {
    t = performance.now();
    for (let start = filled; start < size; start += chunk) {
      const n = Math.min(chunk, size - start);
      await store.trackMany(Array.from({ length: n }, (_, k) => ev(start + k)));
    }
    ms = performance.now() - t;
    results.push({
      name: `fill to ${size} events (trackMany of ${chunk})`,
      ms,
      eventsPerSec: ((size - filled) / ms) * 1000,
    });
    filled = size;
    const reads = [];
    let shape;
    for (let r = 0; r < o.readRuns; r++) {
      t = performance.now();
      const data = await store.readSequences();
      reads.push(performance.now() - t);
      shape = {
        events: data.sequences.items.length,
        sessions: data.sequences.offsets.length - 1,
        items: data.itemIds.length,
      };
    }
    reads.sort((a, b) => a - b);
    results.push({
      name: `readSequences() of ${size} (median of ${o.readRuns})`,
      ms: reads[Math.floor(reads.length / 2)],
      min: reads[0],
      ...shape,
    });
  }
  t = performance.now();
  const stats = await store.stats();
  results.push({
    name: 'stats()',
    ms: performance.now() - t,
    bytesEstimate: stats.bytesEstimate,
    bytesPerEvent: stats.bytesEstimate / stats.events,
  });
  t = performance.now();
  await store.exportData();
  results.push({ name: 'exportData()', ms: performance.now() - t });
  await store.forget();
  store.close();
  return results;
}

/** One line per result, the same in Node and in the page. */
export function formatResults(label, results) {
  const fmt = (v) =>
    typeof v === 'number'
      ? Number.isInteger(v)
        ? String(v)
        : v.toFixed(v < 10 ? 3 : 1)
      : String(v);
  return results
    .map(
      ({ name, ...rest }) =>
        `[${label}] ${name.padEnd(46)} ${Object.entries(rest)
          .map(([k, v]) => `${k}=${fmt(v)}`)
          .join('  ')}`,
    )
    .join('\n');
}
