// The incremental history against the real store (fake-indexeddb and the in-memory
// fallback): after any mix of writes from this tab and another, back-dated events,
// retention pruning, damaged-free deletes and re-creation, the view equals what a full
// read of the store says, and it got there without re-reading everything.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createStore } from '../../src/api/create-store';
import type { EventsAfter, LocalRecStore } from '../../src/api/store-types';
import { type HistoryView, VisitorHistory } from '../../src/runtime/history';
import { freshFactory } from '../store/helpers';

const T0 = Date.UTC(2026, 0, 1);

/** Full truth from the store: events by (time, id) as item ids, and purchased items. */
async function truth(store: LocalRecStore) {
  const dump = await store.exportData();
  return {
    items: dump.events.map((e) => e.itemId),
    purchased: new Set(dump.events.filter((e) => e.type === 'purchase').map((e) => e.itemId)),
  };
}

function counting(store: LocalRecStore) {
  const calls: [number, number][] = [];
  return {
    calls,
    readEventsAfter(afterId: number, from: number): Promise<EventsAfter> {
      calls.push([afterId, from]);
      return store.readEventsAfter(afterId, from);
    },
  };
}

async function expectMatches(view: HistoryView, store: LocalRecStore) {
  const t = await truth(store);
  expect(view.recent(Number.POSITIVE_INFINITY)).toEqual(t.items);
  expect(view.purchased()).toEqual(t.purchased);
  expect(view.size).toBe(t.items.length);
  // Sessions hold the same events as the store's own sessionisation.
  const s = view.sessions();
  const full = await store.readSequences();
  expect([...s.sequences.offsets]).toEqual([...full.sequences.offsets]);
  expect(Array.from(s.sequences.items, (i) => s.itemIds[i])).toEqual(
    Array.from(full.sequences.items, (i) => full.itemIds[i]),
  );
}

describe('VisitorHistory', () => {
  it('reads only what was written since its last look, and sees the rest of the store', async () => {
    const factory = freshFactory();
    let clock = T0;
    const store = await createStore({ namespace: 'h1', indexedDB: factory, now: () => clock });
    const source = counting(store);
    const history = new VisitorHistory(source);
    for (let i = 0; i < 30; i++)
      await store.track({ itemId: `i${i % 7}`, type: 'view', timestamp: T0 + i * 1000 });
    clock = T0 + 40_000;
    const v1 = await history.current();
    expect(v1.size).toBe(30);
    // Unchanged: no read at all.
    const before = source.calls.length;
    expect(await history.current()).toBe(v1);
    expect(source.calls.length).toBe(before);
    // One click: one read after the last sequence number seen, from the known vocabulary.
    await store.track({ itemId: 'new-item', type: 'purchase', timestamp: T0 + 35_000 });
    history.markStale();
    const v2 = await history.current();
    expect(source.calls.at(-1)).toEqual([30, 7]);
    expect(v2.recent(2)).toEqual(['i1', 'new-item']);
    expect(v2.purchased()).toEqual(new Set(['new-item']));
    // The earlier view is a snapshot: it did not change under its holder.
    expect(v1.size).toBe(30);
    await expectMatches(v2, store);
    store.close();
  });

  it('matches a full read after random writes, back-dated events, pruning, other tabs and forget', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.integer({ min: 3, max: 12 }),
        fc.array(
          fc.oneof(
            fc.record({
              op: fc.constant('track' as const),
              item: fc.nat(9),
              back: fc.nat(5),
              buy: fc.boolean(),
            }),
            fc.record({
              op: fc.constant('other-tab' as const),
              n: fc.integer({ min: 1, max: 4 }),
              item: fc.nat(9),
            }),
            fc.record({ op: fc.constant('forget' as const) }),
            fc.record({ op: fc.constant('look' as const) }),
          ),
          { minLength: 1, maxLength: 40 },
        ),
        async (idb, maxEvents, ops) => {
          const factory = idb ? freshFactory() : null;
          let clock = T0;
          const options = {
            namespace: 'prop',
            indexedDB: factory,
            broadcast: false,
            retention: { maxEvents },
            now: () => clock,
          };
          const store = await createStore(options);
          // Another tab: a second store on the same database (only where there is one).
          const other = idb ? await createStore(options) : store;
          const history = new VisitorHistory(store);
          for (const o of ops) {
            clock += 1000;
            if (o.op === 'track') {
              await store.track({
                itemId: `i${o.item}`,
                type: o.buy ? 'purchase' : 'view',
                timestamp: clock - o.back * 1500,
              });
              history.markStale();
            } else if (o.op === 'other-tab') {
              await other.trackMany(
                Array.from({ length: o.n }, (_, j) => ({
                  itemId: `o${o.item + j}`,
                  type: 'click',
                  timestamp: clock + j,
                })),
              );
              history.markStale();
            } else if (o.op === 'forget') {
              await store.forget();
              history.reset();
            } else {
              await expectMatches(await history.current(), store);
            }
          }
          await expectMatches(await history.current(), store);
          // Kept in step by deltas alone: never fell back to re-reading everything.
          expect(history.fullReads).toBe(0);
          if (other !== store) other.close();
          store.close();
        },
      ),
      { numRuns: 40 },
    );
  }, 60_000);

  it('a database emptied behind its back (no notice) is read again in full', async () => {
    const factory = freshFactory();
    const options = { namespace: 'h3', indexedDB: factory, broadcast: false };
    const store = await createStore(options);
    const history = new VisitorHistory(store);
    await store.trackMany([
      { itemId: 'a', type: 'view' },
      { itemId: 'b', type: 'view' },
    ]);
    expect((await history.current()).size).toBe(2);
    // Another tab forgets and the visitor tracks new items there; this tab hears nothing.
    const other = await createStore(options);
    await other.forget();
    await other.track({ itemId: 'z', type: 'view' });
    history.markStale();
    const view = await history.current();
    expect(history.fullReads).toBe(1);
    expect(view.recent(10)).toEqual(['z']);
    await expectMatches(view, store);
    other.close();
    store.close();
  });
});
