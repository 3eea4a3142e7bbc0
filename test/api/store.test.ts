import { afterEach, describe, expect, it, vi } from 'vitest';
import { createStore } from '../../src/api/create-store';
import type { LocalRecStore, StoreChange, StoreOptions } from '../../src/api/store-types';
import { DEFAULT_RETENTION } from '../../src/store';
import { DB, freshFactory, rawOpen, rawPut, rejection } from '../store/helpers';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 0, 15);
const opened: LocalRecStore[] = [];

/** A store on a fresh fake-indexeddb factory (or the one given), closed after the test. */
async function open(options: StoreOptions = {}): Promise<LocalRecStore> {
  const store = await createStore({
    indexedDB: freshFactory(),
    namespace: 'test',
    broadcast: false,
    now: () => NOW,
    ...options,
  });
  opened.push(store);
  return store;
}

afterEach(() => {
  for (const s of opened.splice(0)) s.close();
  vi.unstubAllGlobals();
});

// The contract holds on both storage adapters: IndexedDB and the in-memory fallback.
describe.each([
  ['IndexedDB', () => freshFactory() as IDBFactory | null],
  ['in-memory', () => null],
])('%s adapter', (_label, factory) => {
  it('reports persistent accordingly', async () => {
    const store = await open({ indexedDB: factory() });
    expect((await store.stats()).persistent).toBe(factory() !== null);
  });

  it('settings: small JSON records apart from checkpoints and events, refused when not JSON', async () => {
    const store = await open({ indexedDB: factory() });
    expect(await store.getSetting('x')).toBeUndefined();
    await store.putSetting('x', { a: [1, 'b'], c: null });
    expect(await store.getSetting('x')).toEqual({ a: [1, 'b'], c: null });
    expect(await store.listCheckpoints()).toEqual([]);
    await expect(store.putSetting('y', { f: () => 1 } as never)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await expect(store.putSetting('', 1)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(await store.getSetting('y')).toBeUndefined();
  });

  it('track/trackMany then readSequences: sessions by id and by gap, dense persistent indices', async () => {
    const store = await open({ indexedDB: factory(), sessionGapMs: 10 * 60_000 });
    await store.track({ itemId: 'p1', type: 'view', timestamp: NOW - 100 * 60_000 });
    await store.trackMany([
      { itemId: 'p2', type: 'click', timestamp: NOW - 95 * 60_000 },
      { itemId: 'p1', type: 'purchase', timestamp: NOW - 50 * 60_000 }, // 45 min gap: new session
      { itemId: 'p3', type: 'view', timestamp: NOW - 99 * 60_000, sessionId: 'tab-A' },
      { itemId: 'p2', type: 'view', timestamp: NOW - 10 * 60_000, sessionId: 'tab-A' },
    ]);
    const { sequences, itemIds, sessionIds, skipped } = await store.readSequences();
    expect(itemIds).toEqual(['p1', 'p2', 'p3']);
    expect(sequences.numItems).toBe(3);
    expect(sessionIds).toEqual([null, 'tab-A', null]);
    expect([...sequences.offsets]).toEqual([0, 2, 4, 5]);
    expect([...sequences.items]).toEqual([0, 1, 2, 1, 0]);
    expect(sequences.items).toBeInstanceOf(Int32Array);
    expect(sequences.times[0]).toBe(NOW - 100 * 60_000);
    expect(skipped).toBe(0);
    const onlyViews = await store.readSequences({ types: ['view'] });
    expect([...onlyViews.sequences.items]).toEqual([0, 2, 1]);
    const wideGap = await store.readSequences({ sessionGapMs: 60 * 60_000 });
    expect(wideGap.sessionIds).toEqual([null, 'tab-A']);
  });

  it('trackMany is all or nothing: an invalid element names events[i].field and writes nothing', async () => {
    const store = await open({ indexedDB: factory() });
    await store.track({ itemId: 'keep', type: 'view' });
    const err = await rejection(
      store.trackMany([
        { itemId: 'a', type: 'view' },
        { itemId: 'b', type: 'view', timestamp: Number.NaN },
      ]),
    );
    expect(err).toMatchObject({
      code: 'INVALID_INPUT',
      details: { field: 'events[1].timestamp', index: 1 },
    });
    const data = await store.exportData();
    expect(data.events.map((e) => e.itemId)).toEqual(['keep']);
    expect(data.vocabulary).toEqual(['keep']);
  });

  it('retention by count prunes oldest first in the write', async () => {
    const store = await open({ indexedDB: factory(), retention: { maxEvents: 3 } });
    await store.trackMany(
      [5, 1, 4, 2].map((k) => ({ itemId: `i${k}`, type: 'view', timestamp: NOW - 1000 + k })),
    );
    expect((await store.exportData()).events.map((e) => e.itemId)).toEqual(['i2', 'i4', 'i5']);
    await store.track({ itemId: 'i6', type: 'view', timestamp: NOW });
    expect((await store.exportData()).events.map((e) => e.itemId)).toEqual(['i4', 'i5', 'i6']);
    // The vocabulary keeps pruned ids: indices stay stable for saved models.
    expect((await store.readSequences()).itemIds).toEqual(['i5', 'i1', 'i4', 'i2', 'i6']);
  });

  it('timestamps outside [now - maxAgeDays, now + 1 day] reject the whole call: nothing stored, no vocabulary entry', async () => {
    const store = await open({ indexedDB: factory(), retention: { maxAgeDays: 30 } });
    await store.track({ itemId: 'keep', type: 'view', timestamp: NOW - DAY });
    const cases: [number, RegExp][] = [
      [NOW - 31 * DAY, /older than the retention window of 30 days/],
      [NOW + DAY + 1, /ahead of the store's clock/],
      [NOW * 1000, /microseconds/],
      [NOW / 1000, /milliseconds.*seconds were probably given/],
      [-1, /negative/],
    ];
    for (const [timestamp, message] of cases) {
      const batch = await rejection(
        store.trackMany([
          { itemId: 'fine', type: 'view', timestamp: NOW - 2 * DAY },
          { itemId: 'bad', type: 'view', timestamp },
        ]),
      );
      expect(batch).toMatchObject({
        code: 'INVALID_INPUT',
        details: { field: 'events[1].timestamp', index: 1 },
      });
      expect(batch.message).toMatch(message);
      const single = await rejection(store.track({ itemId: 'bad', type: 'view', timestamp }));
      expect(single).toMatchObject({ code: 'INVALID_INPUT', details: { field: 'timestamp' } });
      expect(single.message).toMatch(message);
    }
    const data = await store.exportData();
    expect(data.events.map((e) => e.itemId)).toEqual(['keep']);
    expect(data.vocabulary).toEqual(['keep']);
  });

  it('an event on the retention edge is stored: validation and write read the clock once', async () => {
    // A clock that moves on every read: were it read twice, the edge event would pass
    // validation and then be pruned by the write.
    let now = NOW;
    const store = await open({
      indexedDB: factory(),
      retention: { maxAgeDays: 30 },
      now: () => now++,
    });
    await store.track({ itemId: 'edge', type: 'view', timestamp: NOW - 30 * DAY });
    expect((await store.exportData()).events.map((e) => e.itemId)).toEqual(['edge']);
    // A ms later 'edge' has aged out, legitimately; the new edge event is kept.
    await store.trackMany([
      { itemId: 'edge2', type: 'view', timestamp: now - 30 * DAY },
      { itemId: 'late', type: 'view', timestamp: now + DAY },
    ]);
    expect((await store.exportData()).events.map((e) => e.itemId)).toEqual(['edge2', 'late']);
  });

  it('retention by age drops events older than maxAgeDays', async () => {
    let now = NOW;
    const store = await open({
      indexedDB: factory(),
      retention: { maxAgeDays: 30 },
      now: () => now,
    });
    await store.trackMany([
      { itemId: 'mid', type: 'view', timestamp: NOW - 20 * DAY },
      { itemId: 'new', type: 'view', timestamp: NOW - DAY },
    ]);
    expect((await store.exportData()).events.map((e) => e.itemId)).toEqual(['mid', 'new']);
    now = NOW + 15 * DAY;
    await store.track({ itemId: 'later', type: 'view' });
    expect((await store.exportData()).events.map((e) => e.itemId)).toEqual(['new', 'later']);
  });

  it('stats: counts, bytes estimate, oldest/newest', async () => {
    const store = await open({ indexedDB: factory() });
    const empty = await store.stats();
    expect(empty).toMatchObject({
      events: 0,
      items: 0,
      oldestTimestamp: null,
      newestTimestamp: null,
      schemaVersion: 1,
    });
    await store.trackMany([
      { itemId: 'a', type: 'view', timestamp: NOW - 5 },
      { itemId: 'b', type: 'view', timestamp: NOW - 9 },
      { itemId: 'a', type: 'view', timestamp: NOW - 1 },
    ]);
    await store.setCatalog([{ id: 'a', title: 'A' }]);
    await store.putCheckpoint('m', { metadata: { v: 1 }, data: new ArrayBuffer(1000) });
    const s = await store.stats();
    expect(s).toMatchObject({
      events: 3,
      items: 2,
      catalogItems: 1,
      checkpoints: 1,
      oldestTimestamp: NOW - 9,
      newestTimestamp: NOW - 1,
      namespace: 'test',
      consent: 'granted',
    });
    expect(s.bytesEstimate).toBeGreaterThan(1000 + 3 * 30);
    expect(s.bytesEstimate).toBeLessThan(1000 + 3 * 300 + 2000);
  });

  it('catalog: set/replace/get; unknown ids in events are still recorded; bad items named', async () => {
    const store = await open({ indexedDB: factory() });
    await store.setCatalog([
      { id: 'b', title: 'Bee', attributes: { price: 3, tags: ['x'] } },
      { id: 'a', title: 'Ay' },
    ]);
    expect(await store.getCatalog()).toEqual([
      { id: 'a', title: 'Ay' },
      { id: 'b', title: 'Bee', attributes: { price: 3, tags: ['x'] } },
    ]);
    await store.setCatalog([{ id: 'c' }]);
    expect(await store.getCatalog()).toEqual([{ id: 'c' }]);
    await store.track({ itemId: 'not-in-catalog', type: 'view' });
    expect((await store.readSequences()).itemIds).toEqual(['not-in-catalog']);
    const dup = await rejection(store.setCatalog([{ id: 'x' }, { id: 'x' }]));
    expect(dup).toMatchObject({
      code: 'INVALID_INPUT',
      details: { field: 'items[1].id', index: 1 },
    });
    const bad = await rejection(store.setCatalog([{ id: 'x', attributes: { f: Number.NaN } }]));
    expect(bad.details?.field).toBe('items[0].attributes.f');
    expect(await store.getCatalog()).toEqual([{ id: 'c' }]);
  });

  it('checkpoints: put/get/list/delete, replaced whole, metadata only in exports', async () => {
    const store = await open({ indexedDB: factory() });
    const data = new Float32Array([1, 2, 3]).buffer;
    await store.putCheckpoint('gru', { metadata: { epoch: 1, numItems: 3 }, data });
    const got = await store.getCheckpoint('gru');
    expect(got?.metadata).toEqual({ epoch: 1, numItems: 3 });
    expect([...new Float32Array(got!.data)]).toEqual([1, 2, 3]);
    expect(got?.bytes).toBe(12);
    await store.putCheckpoint('gru', { metadata: { epoch: 2 }, data: new ArrayBuffer(4) });
    expect((await store.getCheckpoint('gru'))?.metadata).toEqual({ epoch: 2 });
    expect((await store.listCheckpoints()).map((c) => [c.name, c.bytes])).toEqual([['gru', 4]]);
    const exported = await store.exportData();
    expect(exported.checkpoints).toHaveLength(1);
    expect(exported.checkpoints[0]).not.toHaveProperty('data');
    await store.deleteCheckpoint('gru');
    expect(await store.getCheckpoint('gru')).toBeUndefined();
    expect(
      (
        await rejection(
          store.putCheckpoint('x', { metadata: {}, data: new Uint8Array(2) as never }),
        )
      ).details?.field,
    ).toBe('checkpoint.data');
  });

  it('consent denied/pending: track records nothing and rejects CONSENT_REQUIRED; granted resumes', async () => {
    const store = await open({ indexedDB: factory(), consent: 'pending' });
    expect(store.consent()).toBe('pending');
    expect((await rejection(store.track({ itemId: 'a', type: 'view' }))).code).toBe(
      'CONSENT_REQUIRED',
    );
    await store.setConsent('denied');
    expect((await rejection(store.trackMany([{ itemId: 'a', type: 'view' }]))).code).toBe(
      'CONSENT_REQUIRED',
    );
    // Validation still comes first: a broken call is reported as such.
    expect((await rejection(store.track({ itemId: '', type: 'view' }))).code).toBe('INVALID_INPUT');
    expect((await store.stats()).events).toBe(0);
    await store.setConsent('granted');
    await store.track({ itemId: 'a', type: 'view' });
    expect((await store.stats()).events).toBe(1);
  });

  it('exportData is readable JSON: item ids (not indices), ISO times, catalog, vocabulary, meta', async () => {
    const store = await open({ indexedDB: factory() });
    await store.trackMany([
      { itemId: 'x', type: 'view', timestamp: NOW - 2, sessionId: 's', properties: { q: 'shoes' } },
      { itemId: 'y', type: 'purchase', timestamp: NOW - 1 },
    ]);
    await store.setCatalog([{ id: 'x', title: 'Ex' }]);
    const data = await store.exportData();
    expect(JSON.parse(JSON.stringify(data))).toEqual(data);
    expect(data).toMatchObject({
      format: 'localrec-export',
      namespace: 'test',
      vocabulary: ['x', 'y'],
      catalog: [{ id: 'x', title: 'Ex' }],
      events: [
        {
          itemId: 'x',
          type: 'view',
          timestamp: NOW - 2,
          isoTime: new Date(NOW - 2).toISOString(),
          sessionId: 's',
          properties: { q: 'shoes' },
        },
        { itemId: 'y', type: 'purchase', timestamp: NOW - 1 },
      ],
      meta: { schemaVersion: 1 },
    });
  });
});

describe('IndexedDB specifics', () => {
  it('one database per namespace, named localrec:<namespace>', async () => {
    const factory = freshFactory();
    const a = await open({ indexedDB: factory, namespace: 'shop' });
    const b = await open({ indexedDB: factory, namespace: 'blog' });
    await a.track({ itemId: 'x', type: 'view' });
    expect((await factory.databases()).map((d) => d.name).sort()).toEqual([
      'localrec:blog',
      'localrec:shop',
    ]);
    expect((await b.stats()).events).toBe(0);
  });

  it('events and vocabulary survive a reopen (a reload)', async () => {
    const factory = freshFactory();
    const first = await open({ indexedDB: factory });
    await first.trackMany([
      { itemId: 'a', type: 'view', timestamp: NOW - 3 },
      { itemId: 'b', type: 'view', timestamp: NOW - 2 },
    ]);
    first.close();
    const second = await open({ indexedDB: factory });
    await second.track({ itemId: 'b', type: 'view', timestamp: NOW - 1 });
    await second.track({ itemId: 'c', type: 'view', timestamp: NOW });
    const { itemIds, sequences } = await second.readSequences();
    expect(itemIds).toEqual(['a', 'b', 'c']);
    expect([...sequences.items]).toEqual([0, 1, 1, 2]);
  });

  it('two tabs writing at once never give one index to two ids', async () => {
    const factory = freshFactory();
    const tabA = await open({ indexedDB: factory });
    const tabB = await open({ indexedDB: factory });
    const ids = Array.from({ length: 30 }, (_, i) => `item-${i}`);
    await Promise.all(
      ids.flatMap((id, i) => [
        (i % 2 ? tabA : tabB).track({ itemId: id, type: 'view', timestamp: NOW - 100 + i }),
        (i % 2 ? tabB : tabA).track({ itemId: id, type: 'click', timestamp: NOW - 100 + i }),
      ]),
    );
    const { itemIds, sequences } = await tabA.readSequences();
    expect(new Set(itemIds).size).toBe(itemIds.length);
    expect([...itemIds].sort()).toEqual([...ids].sort());
    const exported = await tabB.exportData();
    expect(exported.events).toHaveLength(60);
    for (let k = 0; k < sequences.items.length; k++) {
      expect(itemIds[sequences.items[k]]).toBe(exported.events[k].itemId);
    }
  });

  it('forget() deletes the whole database, even with another tab connected; that tab then starts empty', async () => {
    const factory = freshFactory();
    const tab = await open({ indexedDB: factory });
    const other = await open({ indexedDB: factory });
    await tab.track({ itemId: 'a', type: 'view' });
    await tab.setCatalog([{ id: 'a' }]);
    await tab.putCheckpoint('m', { metadata: {}, data: new ArrayBuffer(8) });
    expect(await factory.databases()).toHaveLength(1);
    await tab.forget();
    expect(await factory.databases()).toEqual([]);
    // The other tab's connection yielded (versionchange); it reopens onto a fresh database.
    expect((await other.stats()).events).toBe(0);
  });

  it('forget() reports UPGRADE_BLOCKED when a foreign connection will not close', async () => {
    const factory = freshFactory();
    const tab = await open({ indexedDB: factory, blockedTimeoutMs: 30 });
    await tab.track({ itemId: 'a', type: 'view' });
    const stubborn = await rawOpen(factory, DB('test'));
    expect((await rejection(tab.forget())).code).toBe('UPGRADE_BLOCKED');
    stubborn.close();
    // The delete was queued and completes once the blocker is gone.
    await vi.waitFor(async () => expect(await factory.databases()).toEqual([]), { timeout: 5000 });
  });

  it('consent is persisted in meta; an explicit option wins and is persisted', async () => {
    const factory = freshFactory();
    const first = await open({ indexedDB: factory });
    expect(first.consent()).toBe('granted');
    await first.setConsent('denied');
    first.close();
    const second = await open({ indexedDB: factory });
    expect(second.consent()).toBe('denied');
    second.close();
    const third = await open({ indexedDB: factory, consent: 'granted' });
    expect(third.consent()).toBe('granted');
    third.close();
    expect((await open({ indexedDB: factory })).consent()).toBe('granted');
  });

  it('navigator.globalPrivacyControl makes the default denied, unless the site passes consent or a choice is stored', async () => {
    vi.stubGlobal('navigator', { globalPrivacyControl: true });
    const factory = freshFactory();
    const gpc = await open({ indexedDB: factory });
    expect(gpc.consent()).toBe('denied');
    expect((await rejection(gpc.track({ itemId: 'a', type: 'view' }))).code).toBe(
      'CONSENT_REQUIRED',
    );
    const explicit = await open({ indexedDB: freshFactory(), consent: 'granted' });
    expect(explicit.consent()).toBe('granted');
    await gpc.setConsent('granted');
    gpc.close();
    expect((await open({ indexedDB: factory })).consent()).toBe('granted');
    vi.stubGlobal('navigator', { globalPrivacyControl: false });
    expect((await open({ indexedDB: freshFactory() })).consent()).toBe('granted');
  });

  it('damaged rows are skipped and counted; a truncated checkpoint is MODEL_CORRUPT', async () => {
    const factory = freshFactory();
    const store = await open({ indexedDB: factory });
    await store.track({ itemId: 'a', type: 'view', timestamp: NOW - 1 });
    const raw = await rawOpen(factory, DB('test'));
    await rawPut(raw, 'events', { t: Number.NaN, item: 0, type: 'view' });
    await rawPut(raw, 'events', { t: NOW, item: 99, type: 'view' });
    await rawPut(raw, 'checkpoints', {
      name: 'cut',
      metadata: {},
      data: new ArrayBuffer(3),
      savedAt: 1,
      bytes: 12,
    });
    raw.close();
    const read = await store.readSequences();
    expect(read.skipped).toBe(2);
    expect([...read.sequences.items]).toEqual([0]);
    expect((await store.exportData()).skippedRows).toBe(2);
    expect((await rejection(store.getCheckpoint('cut'))).code).toBe('MODEL_CORRUPT');
  });
});

describe('cross-tab', () => {
  it('a BroadcastChannel message announces events to another tab; subscribers see local and remote changes', async () => {
    const factory = freshFactory();
    const ns = `bc${Math.random().toString(36).slice(2)}`;
    const tabA = await open({ indexedDB: factory, namespace: ns, broadcast: true });
    const tabB = await open({ indexedDB: factory, namespace: ns, broadcast: true });
    const seenByB: [StoreChange, string][] = [];
    const seenByA: [StoreChange, string][] = [];
    tabB.subscribe((change, origin) => seenByB.push([change, origin]));
    tabA.subscribe((change, origin) => seenByA.push([change, origin]));
    await tabA.trackMany([
      { itemId: 'a', type: 'view', timestamp: NOW - 2 },
      { itemId: 'b', type: 'view', timestamp: NOW - 1 },
    ]);
    await vi.waitFor(() => expect(seenByB).toHaveLength(1), { timeout: 5000 });
    expect(seenByB[0]).toEqual([{ kind: 'events', count: 2, newestTimestamp: NOW - 1 }, 'remote']);
    expect(seenByA).toEqual([[{ kind: 'events', count: 2, newestTimestamp: NOW - 1 }, 'local']]);
    // And the data itself is visible to B.
    expect((await tabB.readSequences()).itemIds).toEqual(['a', 'b']);
    // Consent follows across tabs.
    await tabA.setConsent('denied');
    await vi.waitFor(() => expect(tabB.consent()).toBe('denied'), { timeout: 5000 });
  });

  it('broadcast: false sends nothing', async () => {
    const ns = `bc${Math.random().toString(36).slice(2)}`;
    const received: unknown[] = [];
    const listener = new BroadcastChannel(`localrec:${ns}`);
    listener.onmessage = (e) => received.push(e.data);
    try {
      const store = await open({ namespace: ns, broadcast: false });
      // This page's own listeners still hear it (the recommender's training trigger).
      const local: unknown[] = [];
      store.subscribe((change, origin) => local.push([change.kind, origin]));
      await store.track({ itemId: 'a', type: 'view' });
      expect(local).toEqual([['events', 'local']]);
      const loud = await open({ namespace: ns, broadcast: true });
      // A batch of 2 tells the loud store's message (count 2) from the quiet one's (1).
      await loud.trackMany([
        { itemId: 'a', type: 'view' },
        { itemId: 'b', type: 'view' },
      ]);
      await vi.waitFor(() => expect(received.length).toBeGreaterThan(0), { timeout: 5000 });
      // Messages of one channel arrive in order; the quiet store's would have come first.
      expect(received).toEqual([
        { source: 'localrec', version: 1, change: expect.objectContaining({ count: 2 }) },
      ]);
    } finally {
      listener.close();
    }
  });
});

describe('options', () => {
  it.each([
    [{ namespace: '' }, 'namespace'],
    [{ namespace: 'has space' }, 'namespace'],
    [{ namespace: 'x'.repeat(65) }, 'namespace'],
    [{ consent: 'yes' }, 'consent'],
    [{ sessionGapMs: 0 }, 'sessionGapMs'],
    [{ retention: { maxEvents: 1.5 } }, 'retention.maxEvents'],
    [{ retention: { maxAgeDays: -1 } }, 'retention.maxAgeDays'],
    [{ fallback: 'disk' }, 'fallback'],
  ])('rejects %j', async (options, field) => {
    const err = await rejection(createStore({ indexedDB: null, ...(options as StoreOptions) }));
    expect(err).toMatchObject({ code: 'INVALID_INPUT', details: { field } });
  });

  it('defaults: namespace "default", retention 20,000 events / 365 days', async () => {
    const factory = freshFactory();
    const store = await createStore({ indexedDB: factory, broadcast: false });
    opened.push(store);
    expect(store.namespace).toBe('default');
    expect(DEFAULT_RETENTION).toEqual({ maxEvents: 20_000, maxAgeDays: 365 });
    await store.track({ itemId: 'a', type: 'view' });
    expect((await factory.databases()).map((d) => d.name)).toEqual(['localrec:default']);
  });
});
