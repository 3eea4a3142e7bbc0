import { IDBObjectStore as FakeObjectStore, forceCloseDatabase } from 'fake-indexeddb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createStore } from '../../src/api/create-store';
import type { NormalizedEvent } from '../../src/events/types';
import { MIGRATIONS, type Migration, openAdapter, toStoreError } from '../../src/store';
import {
  DB,
  freshFactory,
  instrumentedFactory,
  rawGetAll,
  rawOpen,
  rawPut,
  rejection,
} from './helpers';

// The storage faults of DESIGN.md's fault catalogue, provoked in Node on fake-indexeddb.

/** Recent enough that the default 365-day retention keeps it. */
const T = Date.now() - 60_000;
const retention = { maxEvents: Number.POSITIVE_INFINITY, maxAgeDays: Number.POSITIVE_INFINITY };
const ev = (
  itemId: string,
  timestamp: number,
  extra: Partial<NormalizedEvent> = {},
): NormalizedEvent => ({
  itemId,
  type: 'view',
  timestamp,
  ...extra,
});

/** A v2 of the schema, as a future localrec might ship it. */
const V2: Migration = {
  version: 2,
  description: 'test: adds a store',
  migrate(db) {
    db.createObjectStore('future');
  },
};

afterEach(() => {
  vi.restoreAllMocks();
});

describe('QuotaExceededError', () => {
  it('mid-batch: trackMany rejects QUOTA_EXCEEDED, nothing of the batch lands, earlier events and vocabulary intact', async () => {
    const factory = freshFactory();
    const store = await createStore({ indexedDB: factory, namespace: 'quota', broadcast: false });
    await store.trackMany([
      { itemId: 'a', type: 'view', timestamp: T + 1 },
      { itemId: 'b', type: 'view', timestamp: T + 2 },
    ]);
    const realPut = FakeObjectStore.prototype.put;
    let calls = 0;
    vi.spyOn(FakeObjectStore.prototype, 'put').mockImplementation(function (
      this: IDBObjectStore,
      ...args
    ) {
      if (this.name === 'events' && ++calls === 3) {
        throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      }
      return realPut.apply(this, args as [unknown, IDBValidKey?]);
    });
    const err = await rejection(
      store.trackMany([
        { itemId: 'c', type: 'view', timestamp: T + 3 },
        { itemId: 'd', type: 'view', timestamp: T + 4 },
        { itemId: 'e', type: 'view', timestamp: T + 5 },
      ]),
    );
    expect(err.code).toBe('QUOTA_EXCEEDED');
    expect(calls).toBe(3);
    vi.restoreAllMocks();
    const data = await store.exportData();
    expect(data.events.map((e) => e.itemId)).toEqual(['a', 'b']);
    // The ids c, d, e got no index: the vocabulary write was in the aborted transaction.
    expect(data.vocabulary).toEqual(['a', 'b']);
    // And the store keeps working; the next new id gets the next dense index.
    await store.track({ itemId: 'z', type: 'view', timestamp: T + 6 });
    expect((await store.readSequences()).itemIds).toEqual(['a', 'b', 'z']);
    // No index from the aborted transaction lingers in the id → index cache: 'c' gets
    // its own new index, not the one 'z' now holds.
    await store.track({ itemId: 'c', type: 'view', timestamp: T + 7 });
    const after = await store.exportData();
    expect(after.events.map((e) => e.itemId)).toEqual(['a', 'b', 'z', 'c']);
    expect(after.vocabulary).toEqual(['a', 'b', 'z', 'c']);
    store.close();
  });

  it('retention pruning is undone with the failed write (same transaction)', async () => {
    const factory = freshFactory();
    const store = await createStore({
      indexedDB: factory,
      namespace: 'quota2',
      broadcast: false,
      retention: { maxEvents: 3 },
    });
    await store.trackMany(
      [1, 2, 3].map((t) => ({ itemId: `i${t}`, type: 'view', timestamp: Date.now() - 1000 + t })),
    );
    const realPut = FakeObjectStore.prototype.put;
    vi.spyOn(FakeObjectStore.prototype, 'put').mockImplementation(function (
      this: IDBObjectStore,
      ...args
    ) {
      if (
        this.name === 'events' &&
        (args[0] as { item?: unknown }).item !== undefined &&
        (args[0] as { t: number }).t > 0
      ) {
        const out = realPut.apply(this, args as [unknown, IDBValidKey?]);
        // After the put: fail the commit the way Chromium reports quota (on the transaction).
        throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        // biome-ignore lint/correctness/noUnreachable: keeps the type checker happy about `out`
        return out;
      }
      return realPut.apply(this, args as [unknown, IDBValidKey?]);
    });
    expect((await rejection(store.track({ itemId: 'new', type: 'view' }))).code).toBe(
      'QUOTA_EXCEEDED',
    );
    vi.restoreAllMocks();
    expect((await store.exportData()).events.map((e) => e.itemId)).toEqual(['i1', 'i2', 'i3']);
    store.close();
  });

  it('maps the DOMException names of every engine to codes', () => {
    expect(toStoreError(new DOMException('x', 'QuotaExceededError'), 'op').code).toBe(
      'QUOTA_EXCEEDED',
    );
    expect(toStoreError({ name: 'NS_ERROR_DOM_QUOTA_REACHED', message: 'x' }, 'op').code).toBe(
      'QUOTA_EXCEEDED',
    );
    expect(toStoreError({ name: 'Error', code: 22, message: 'x' }, 'op').code).toBe(
      'QUOTA_EXCEEDED',
    );
    expect(toStoreError(new DOMException('x', 'VersionError'), 'op').code).toBe('SCHEMA_TOO_NEW');
    expect(toStoreError(new DOMException('x', 'InvalidStateError'), 'op').code).toBe('DB_CLOSED');
    expect(toStoreError(new DOMException('x', 'AbortError'), 'op').code).toBe('DB_CLOSED');
    expect(toStoreError(new DOMException('x', 'DataCloneError'), 'op').code).toBe('INVALID_INPUT');
    expect(toStoreError(new DOMException('x', 'UnknownError'), 'op').code).toBe(
      'STORAGE_UNAVAILABLE',
    );
    const e = toStoreError(new DOMException('x', 'UnknownError'), 'op');
    expect((e.cause as DOMException).name).toBe('UnknownError');
  });
});

describe('open fails', () => {
  it('one failing open is retried: the store is persistent', async () => {
    const f = instrumentedFactory({ failOpens: 1 });
    const store = await createStore({ indexedDB: f.factory, namespace: 'flaky', broadcast: false });
    expect(store.persistent).toBe(true);
    expect(f.opens).toBe(2);
    store.close();
  });

  it('every attempt failing: falls back to memory with persistent: false and a reason', async () => {
    const f = instrumentedFactory({ failOpens: 2 });
    const store = await createStore({
      indexedDB: f.factory,
      namespace: 'private',
      broadcast: false,
    });
    const stats = await store.stats();
    expect(stats.persistent).toBe(false);
    expect(stats.fallbackReason).toMatch(/open failed 2 times/);
    await store.track({ itemId: 'a', type: 'view' });
    expect((await store.stats()).events).toBe(1);
    // Nothing reached IndexedDB.
    expect(await f.factory.databases()).toEqual([]);
    store.close();
  });

  it("fallback: 'error' rejects with STORAGE_UNAVAILABLE instead", async () => {
    const f = instrumentedFactory({ failOpens: 5 });
    const err = await rejection(
      createStore({ indexedDB: f.factory, namespace: 'x', fallback: 'error', openAttempts: 3 }),
    );
    expect(err.code).toBe('STORAGE_UNAVAILABLE');
    expect(f.opens).toBe(3);
  });

  it('open() throwing synchronously (SecurityError) falls back', async () => {
    const f = instrumentedFactory({ throwOpens: 2 });
    const store = await createStore({ indexedDB: f.factory, namespace: 'x', broadcast: false });
    expect(store.persistent).toBe(false);
    store.close();
  });

  it('an open that never answers (Safari 14 hang) times out, then is retried', async () => {
    const f = instrumentedFactory({ hangOpens: 1 });
    const store = await createStore({
      indexedDB: f.factory,
      namespace: 'hang',
      broadcast: false,
      openTimeoutMs: 50,
    });
    expect(store.persistent).toBe(true);
    expect(f.opens).toBe(2);
    store.close();
  });

  it('no IndexedDB at all (indexedDB: undefined / null) works in memory', async () => {
    for (const indexedDB of [undefined, null]) {
      const store = await createStore({ indexedDB, namespace: 'none', broadcast: false });
      expect(store.persistent).toBe(false);
      await store.track({ itemId: 'a', type: 'view' });
      expect((await store.readSequences()).itemIds).toEqual(['a']);
      store.close();
    }
  });

  it('a throwing globalThis.indexedDB getter (sandboxed iframe) falls back', async () => {
    const desc = Object.getOwnPropertyDescriptor(globalThis, 'indexedDB');
    Object.defineProperty(globalThis, 'indexedDB', {
      configurable: true,
      get() {
        throw new DOMException('access denied', 'SecurityError');
      },
    });
    try {
      const store = await createStore({ namespace: 'sandboxed', broadcast: false });
      expect(store.persistent).toBe(false);
      store.close();
    } finally {
      if (desc === undefined) delete (globalThis as { indexedDB?: unknown }).indexedDB;
      else Object.defineProperty(globalThis, 'indexedDB', desc);
    }
  });

  it('a reopen failing after the store was persistent rejects, and does not switch to memory', async () => {
    const f = instrumentedFactory();
    const store = await createStore({
      indexedDB: f.factory,
      namespace: 'reopen',
      broadcast: false,
    });
    await store.track({ itemId: 'a', type: 'view' });
    const original = f.factory.open;
    f.factory.open = () => {
      throw new DOMException('gone', 'UnknownError');
    };
    forceCloseDatabase(f.connections[0] as never);
    expect((await rejection(store.track({ itemId: 'b', type: 'view' }))).code).toBe(
      'STORAGE_UNAVAILABLE',
    );
    f.factory.open = original;
    await store.track({ itemId: 'c', type: 'view' });
    expect((await store.exportData()).events.map((e) => e.itemId)).toEqual(['a', 'c']);
    store.close();
  });
});

describe('abnormal close', () => {
  it('forceCloseDatabase (storage cleared, connection lost): the next call reopens transparently', async () => {
    const f = instrumentedFactory();
    const store = await createStore({
      indexedDB: f.factory,
      namespace: 'forced',
      broadcast: false,
    });
    await store.track({ itemId: 'a', type: 'view', timestamp: T + 1 });
    expect(f.connections).toHaveLength(1);
    forceCloseDatabase(f.connections[0] as never);
    await store.track({ itemId: 'b', type: 'view', timestamp: T + 2 });
    expect(f.connections).toHaveLength(2);
    expect((await store.exportData()).events.map((e) => e.itemId)).toEqual(['a', 'b']);
    store.close();
  });

  it('a connection closed without a close event (Safari): InvalidStateError is retried once on a new connection', async () => {
    const f = instrumentedFactory();
    const store = await createStore({
      indexedDB: f.factory,
      namespace: 'silent',
      broadcast: false,
    });
    await store.track({ itemId: 'a', type: 'view', timestamp: T + 1 });
    f.connections[0].close(); // a plain close() fires no `close` event
    await store.track({ itemId: 'b', type: 'view', timestamp: T + 2 });
    expect(f.connections).toHaveLength(2);
    expect((await store.exportData()).events.map((e) => e.itemId)).toEqual(['a', 'b']);
    store.close();
  });

  it('a connection closed during a transaction rejects that call with DB_CLOSED; the next call works', async () => {
    const f = instrumentedFactory();
    const store = await createStore({ indexedDB: f.factory, namespace: 'mid', broadcast: false });
    await store.track({ itemId: 'a', type: 'view', timestamp: T + 1 });
    const realPut = FakeObjectStore.prototype.put;
    vi.spyOn(FakeObjectStore.prototype, 'put').mockImplementation(function (
      this: IDBObjectStore,
      ...args
    ) {
      const out = realPut.apply(this, args as [unknown, IDBValidKey?]);
      if (this.name === 'events') {
        // What Chromium does when the connection is closed abnormally (DevTools "clear
        // storage", eviction): the connection closes and in-flight transactions abort
        // with an AbortError. fake-indexeddb's forced close waits for them instead, so
        // the abort is done here by hand.
        forceCloseDatabase(f.connections[0] as never);
        this.transaction.abort();
      }
      return out;
    });
    const err = await rejection(store.track({ itemId: 'b', type: 'view', timestamp: T + 2 }));
    expect(err.code).toBe('DB_CLOSED');
    vi.restoreAllMocks();
    await store.track({ itemId: 'c', type: 'view', timestamp: T + 3 });
    expect((await store.exportData()).events.map((e) => e.itemId)).toEqual(['a', 'c']);
    store.close();
  });

  it('after close() every call rejects DB_CLOSED', async () => {
    const store = await createStore({
      indexedDB: freshFactory(),
      namespace: 'closed',
      broadcast: false,
    });
    store.close();
    expect((await rejection(store.track({ itemId: 'a', type: 'view' }))).code).toBe('DB_CLOSED');
    expect((await rejection(store.stats())).code).toBe('DB_CLOSED');
  });
});

describe('schema versions', () => {
  it('a database written by a newer schema is refused with SCHEMA_TOO_NEW and left untouched', async () => {
    const factory = freshFactory();
    const newer = await rawOpen(factory, DB('newer'), 7, (db) => {
      db.createObjectStore('events', { keyPath: 'id', autoIncrement: true });
      db.createObjectStore('something-new');
    });
    await rawPut(newer, 'events', { t: 1, item: 0, type: 'view', future: true });
    newer.close();
    const err = await rejection(createStore({ indexedDB: factory, namespace: 'newer' }));
    expect(err.code).toBe('SCHEMA_TOO_NEW');
    // Not papered over with an empty in-memory store either.
    const again = await rawOpen(factory, DB('newer'));
    expect(again.version).toBe(7);
    expect([...again.objectStoreNames].sort()).toEqual(['events', 'something-new']);
    expect(await rawGetAll(again, 'events')).toEqual([
      { id: 1, t: 1, item: 0, type: 'view', future: true },
    ]);
    again.close();
  });

  it('downgrade: open at v2 (newer library) then v1 → SCHEMA_TOO_NEW, v2 data intact', async () => {
    const factory = freshFactory();
    const v2 = await openAdapter({
      name: DB('down'),
      indexedDB: factory,
      migrations: [...MIGRATIONS, V2],
    });
    await v2.appendEvents([ev('a', 1)], retention, 10);
    v2.close();
    expect((await rejection(openAdapter({ name: DB('down'), indexedDB: factory }))).code).toBe(
      'SCHEMA_TOO_NEW',
    );
    const again = await openAdapter({
      name: DB('down'),
      indexedDB: factory,
      migrations: [...MIGRATIONS, V2],
    });
    expect((await again.snapshot()).events.map((e) => e.t)).toEqual([1]);
    again.close();
  });

  it('upgrade v1 → v2 runs only the new migration and keeps data and vocabulary', async () => {
    const factory = freshFactory();
    const v1 = await openAdapter({ name: DB('up'), indexedDB: factory });
    await v1.appendEvents([ev('a', 1), ev('b', 2)], retention, 10);
    v1.close();
    const ran: number[] = [];
    const spyMigrations = [...MIGRATIONS, V2].map((m) => ({
      ...m,
      migrate: (db: IDBDatabase, tx: IDBTransaction, old: number) => {
        ran.push(m.version);
        m.migrate(db, tx, old);
      },
    }));
    const v2 = await openAdapter({ name: DB('up'), indexedDB: factory, migrations: spyMigrations });
    expect(ran).toEqual([2]);
    const snap = await v2.snapshot();
    expect(snap.vocabulary).toEqual(['a', 'b']);
    expect(snap.events.map((e) => e.item)).toEqual([0, 1]);
    expect(await v2.getMeta('schemaVersion')).toBe(2);
    v2.close();
  });

  it('blocked upgrade: an older tab that does not close → UPGRADE_BLOCKED; once it closes, the upgrade proceeds', async () => {
    const factory = freshFactory();
    const v1 = await openAdapter({ name: DB('blocked'), indexedDB: factory });
    await v1.appendEvents([ev('a', 1)], retention, 10);
    v1.close();
    // An older tab: a plain connection that ignores versionchange.
    const oldTab = await rawOpen(factory, DB('blocked'), 1);
    const err = await rejection(
      openAdapter({
        name: DB('blocked'),
        indexedDB: factory,
        migrations: [...MIGRATIONS, V2],
        blockedTimeoutMs: 30,
      }),
    );
    expect(err.code).toBe('UPGRADE_BLOCKED');
    oldTab.close();
    const v2 = await openAdapter({
      name: DB('blocked'),
      indexedDB: factory,
      migrations: [...MIGRATIONS, V2],
    });
    expect((await v2.snapshot()).events).toHaveLength(1);
    v2.close();
  });

  it('our own connection yields on versionchange: a newer tab upgrades, this one then reports SCHEMA_TOO_NEW', async () => {
    const factory = freshFactory();
    const oldStore = await createStore({
      indexedDB: factory,
      namespace: 'yield',
      broadcast: false,
    });
    await oldStore.track({ itemId: 'a', type: 'view' });
    const v2 = await openAdapter({
      name: DB('yield'),
      indexedDB: factory,
      migrations: [...MIGRATIONS, V2],
      blockedTimeoutMs: 200,
    });
    await v2.appendEvents([ev('b', 2)], retention, 10);
    expect((await rejection(oldStore.track({ itemId: 'c', type: 'view' }))).code).toBe(
      'SCHEMA_TOO_NEW',
    );
    expect((await v2.snapshot()).events).toHaveLength(2);
    v2.close();
    oldStore.close();
  });

  it('rejects a migration list with gaps', async () => {
    const err = await rejection(
      openAdapter({
        name: DB('gap'),
        indexedDB: freshFactory(),
        migrations: [MIGRATIONS[0], { ...V2, version: 3 }],
        fallback: 'error',
      }),
    );
    expect(err.code).toBe('STORAGE_UNAVAILABLE');
  });
});

describe('transactions', () => {
  it('canary: awaiting non-IDB work inside a transaction makes the next request throw TransactionInactiveError', async () => {
    // Why the store never awaits anything but IDB requests inside a transaction.
    const factory = freshFactory();
    const db = await rawOpen(factory, 'canary', 1, (d) => d.createObjectStore('s'));
    const tx = db.transaction('s', 'readwrite');
    const store = tx.objectStore('s');
    const committed = new Promise((resolve) => {
      tx.oncomplete = resolve;
    });
    store.put(1, 'a');
    // The non-IDB await: the transaction has no pending request left and commits.
    // fake-indexeddb runs transactions on setImmediate; ten setImmediate hops queue
    // behind its commit whatever the machine's load (a setTimeout could fire first on a
    // busy event loop). In Chromium any macrotask is enough (e2e/store.spec.ts).
    for (let hop = 0; hop < 10; hop++) await new Promise((resolve) => setImmediate(resolve));
    let thrown: unknown;
    try {
      store.put(2, 'b');
    } catch (error) {
      thrown = error;
    }
    await committed;
    expect((thrown as DOMException)?.name).toBe('TransactionInactiveError');
    db.close();
  });

  it('track resolves only after commit: another connection sees the event at once', async () => {
    const factory = freshFactory();
    const store = await createStore({ indexedDB: factory, namespace: 'durable', broadcast: false });
    await store.track({ itemId: 'a', type: 'view', timestamp: T + 42 });
    const reader = await rawOpen(factory, DB('durable'));
    expect(await rawGetAll(reader, 'events')).toEqual([
      { id: 1, t: T + 42, item: 0, type: 'view' },
    ]);
    expect(await rawGetAll(reader, 'vocab')).toEqual([{ id: 'a', index: 0 }]);
    reader.close();
    store.close();
  });
});
