import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { createStore } from '../../src/api/create-store';
import type { JsonValue, TrackEvent } from '../../src/api/store-types';
import { validateEvent } from '../../src/events';
import { freshFactory } from '../store/helpers';

// Property tests over the whole store: what is tracked is exactly what is read back and
// exported, and an invalid batch writes nothing. A fresh fake-indexeddb per run.

const NOW = Date.UTC(2026, 5, 1);
const DAY = 86_400_000;

const json = (fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<JsonValue>).filter(
  (v) => JSON.stringify(v).length < 120 && !JSON.stringify(v).includes('"__proto__"'),
);
const safeKey = fc.string({ minLength: 1, maxLength: 6 }).filter((k) => k !== '__proto__');

const validEvent: fc.Arbitrary<TrackEvent> = fc.record(
  {
    // Few distinct ids so the vocabulary is exercised; full Unicode (surrogates too).
    itemId: fc.oneof(
      fc.constantFrom('a', 'b', 'c', 'ü', '😀'),
      fc.string({ minLength: 1, maxLength: 10, unit: 'binary' }),
    ),
    type: fc.oneof(
      fc.constantFrom('view', 'click', 'add_to_cart', 'purchase'),
      fc.stringMatching(/^[a-z][a-z0-9_:.-]{0,10}$/),
    ),
    // Within the default 365-day retention and the one day of clock skew allowed, edges
    // included; coarse so that ties happen.
    timestamp: fc.oneof(
      fc.integer({ min: -1, max: 365 }).map((d) => NOW - d * DAY),
      fc.integer({ min: NOW - 365 * DAY, max: NOW + DAY }).map((t) => new Date(t)),
    ),
    sessionId: fc.constantFrom('s1', 's2', 'tab-3'),
    properties: fc.dictionary(safeKey, json, { maxKeys: 3 }),
  },
  { requiredKeys: ['itemId', 'type'] },
);

/** Batches: a single event goes through track(), more through trackMany(). */
const batches = fc.array(fc.array(validEvent, { minLength: 1, maxLength: 8 }), {
  minLength: 1,
  maxLength: 6,
});

const invalidEvent = fc.oneof(
  fc.constant([{ itemId: '', type: 'view' }, 'itemId']),
  fc.constant([{ itemId: 'x'.repeat(257), type: 'view' }, 'itemId']),
  fc.integer().map((n) => [{ itemId: n, type: 'view' }, 'itemId'] as [unknown, string]),
  fc.constant([{ itemId: 'a', type: 'two words' }, 'type']),
  fc.constant([{ itemId: 'a' }, 'type']),
  fc
    .constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -1e16)
    .map((t) => [{ itemId: 'a', type: 'view', timestamp: t }, 'timestamp'] as [unknown, string]),
  // Out of range: seconds, microseconds, negative, past the retention, ahead of the clock.
  fc
    .oneof(
      fc.constantFrom(NOW / 1000, NOW * 1000, -1),
      fc.integer({ min: 0, max: NOW - 365 * DAY - 1 }),
      fc.integer({ min: NOW + DAY + 1, max: 8.64e15 }),
    )
    .map(
      (t) =>
        [{ itemId: 'only-in-bad', type: 'view', timestamp: t }, 'timestamp'] as [unknown, string],
    ),
  fc.constant([{ itemId: 'a', type: 'view', sessionId: '' }, 'sessionId']),
  fc.constant([{ itemId: 'a', type: 'view', properties: { f: Symbol('x') } }, 'properties.f']),
  fc.constant([{ itemId: 'a', type: 'view', properties: { big: 'y'.repeat(1100) } }, 'properties']),
  fc.constant([{ itemId: 'a', type: 'view', properties: new Map() }, 'properties']),
  fc.constant([{ itemId: 'a', type: 'view', color: 'red' }, 'color']),
  fc.constant([null, '']),
) as fc.Arbitrary<[unknown, string]>;

describe.each([
  ['IndexedDB', () => freshFactory() as IDBFactory | null],
  ['in-memory', () => null],
])('%s', (_label, factory) => {
  it('property: random valid event streams round-trip exactly through export and readSequences', async () => {
    await fc.assert(
      fc.asyncProperty(batches, async (input) => {
        const store = await createStore({
          indexedDB: factory(),
          namespace: 'prop',
          broadcast: false,
          now: () => NOW,
        });
        try {
          const expected = [];
          for (const batch of input) {
            if (batch.length === 1) await store.track(batch[0]);
            else await store.trackMany(batch);
            for (const e of batch) expected.push(validateEvent(e, { now: NOW }));
          }
          // Stable sort by time: ties keep tracking order.
          const ordered = expected
            .map((e, i) => ({ e, i }))
            .sort((x, y) => x.e.timestamp - y.e.timestamp || x.i - y.i);
          const exported = await store.exportData();
          expect(exported.events.map(({ isoTime: _iso, ...rest }) => rest)).toEqual(
            ordered.map((x) => x.e),
          );
          expect(exported.skippedRows).toBe(0);
          // Vocabulary: ids in order of first tracking, dense.
          expect(exported.vocabulary).toEqual([...new Set(expected.map((e) => e.itemId))]);
          // readSequences holds the same (item, time) pairs, each session sorted by time.
          const { sequences, itemIds, sessionIds } = await store.readSequences();
          expect(itemIds).toEqual(exported.vocabulary);
          const pairs: string[] = [];
          for (let s = 0; s + 1 < sequences.offsets.length; s++) {
            for (let k = sequences.offsets[s]; k < sequences.offsets[s + 1]; k++) {
              pairs.push(
                `${itemIds[sequences.items[k]]}@${sequences.times[k]}@${sessionIds[s] ?? ''}`,
              );
              if (k > sequences.offsets[s])
                expect(sequences.times[k]).toBeGreaterThanOrEqual(sequences.times[k - 1]);
            }
          }
          const want = expected.map((e) => `${e.itemId}@${e.timestamp}@${e.sessionId ?? ''}`);
          // Sessions without id may merge several events; compare multisets of (item, time, sid).
          expect(pairs.sort()).toEqual(want.sort());
          expect((await store.stats()).events).toBe(expected.length);
        } finally {
          store.close();
        }
      }),
      { numRuns: 40 },
    );
  });

  it('property: a batch with one invalid element is rejected naming it, and nothing is written', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(validEvent, { maxLength: 5 }),
        fc.array(validEvent, { maxLength: 6 }),
        fc.nat(),
        invalidEvent,
        async (before, batch, at, [bad, field]) => {
          const store = await createStore({
            indexedDB: factory(),
            namespace: 'prop',
            broadcast: false,
            now: () => NOW,
          });
          try {
            if (before.length > 0) await store.trackMany(before);
            const snapshot = await store.exportData();
            const index = at % (batch.length + 1);
            const events = [...batch.slice(0, index), bad, ...batch.slice(index)] as TrackEvent[];
            let error: { code?: string; details?: { field?: string; index?: number } } | undefined;
            try {
              await store.trackMany(events);
            } catch (e) {
              error = e as typeof error;
            }
            expect(error?.code).toBe('INVALID_INPUT');
            expect(error?.details?.index).toBe(index);
            expect(error?.details?.field).toBe(
              field === '' ? `events[${index}]` : `events[${index}].${field}`,
            );
            const after = await store.exportData();
            expect(after.events).toEqual(snapshot.events);
            expect(after.vocabulary).toEqual(snapshot.vocabulary);
            // A single invalid track() writes nothing either.
            await expect(store.track(bad as TrackEvent)).rejects.toMatchObject({
              code: 'INVALID_INPUT',
            });
            expect((await store.stats()).events).toBe(before.length);
          } finally {
            store.close();
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('entry point', () => {
  it('importing src/index.ts touches no indexedDB, navigator or window (side-effect free)', async () => {
    const touched: string[] = [];
    const saved = new Map<string, PropertyDescriptor | undefined>();
    for (const name of ['indexedDB', 'navigator', 'window', 'BroadcastChannel', 'document']) {
      saved.set(name, Object.getOwnPropertyDescriptor(globalThis, name));
      Object.defineProperty(globalThis, name, {
        configurable: true,
        get() {
          touched.push(name);
          return undefined;
        },
      });
    }
    try {
      vi.resetModules();
      const mod = await import('../../src/index');
      expect(typeof mod.createStore).toBe('function');
    } finally {
      for (const [name, desc] of saved) {
        if (desc === undefined) delete (globalThis as Record<string, unknown>)[name];
        else Object.defineProperty(globalThis, name, desc);
      }
    }
    expect(touched).toEqual([]);
  });
});
