import { LocalRecError } from '../core/errors';
import type { NormalizedEvent } from '../events/types';
import { domName, toStoreError } from './errors';
import { request, runTransaction, walk } from './request';
import { ageCutoff } from './retention';
import {
  checkMigrations,
  INDEX_BY_INDEX,
  INDEX_BY_TIME,
  META_CATALOG_FINGERPRINT,
  META_NEXT_ITEM_INDEX,
  type Migration,
  runMigrations,
  STORE_CATALOG,
  STORE_CHECKPOINTS,
  STORE_EVENTS,
  STORE_META,
  STORE_VOCAB,
} from './schema';
import type {
  AdapterStats,
  AppendResult,
  CatalogItem,
  CheckpointInfo,
  CheckpointRecord,
  Dump,
  EventDelta,
  EventRecord,
  RetentionPolicy,
  Snapshot,
  StorageAdapter,
  VocabRecord,
} from './types';

export interface IdbOpenOptions {
  factory: IDBFactory;
  name: string;
  migrations: readonly Migration[];
  /** How long a `blocked` open/delete may wait for other connections to close. */
  blockedTimeoutMs: number;
  /** An open that neither succeeds nor fails within this is treated as failed. */
  openTimeoutMs: number;
}

/** Per-row overhead added to serialised sizes in `stats().bytesEstimate` (keys, index entries). */
const ROW_OVERHEAD_BYTES = 64;
/** Rows per store that `stats()` serialises to estimate sizes. */
const STATS_SAMPLE = 500;

/**
 * Opens (creating/migrating) the database. Rejects with SCHEMA_TOO_NEW (VersionError),
 * UPGRADE_BLOCKED (another connection at an older version does not close within
 * `blockedTimeoutMs`), or STORAGE_UNAVAILABLE (open error, throw, or timeout).
 */
export function openDatabase(options: IdbOpenOptions): Promise<IDBDatabase> {
  const { factory, name, migrations, blockedTimeoutMs, openTimeoutMs } = options;
  checkMigrations(migrations);
  const version = migrations[migrations.length - 1].version;
  return new Promise<IDBDatabase>((resolve, reject) => {
    let settled = false;
    let openTimer: ReturnType<typeof setTimeout> | undefined;
    let blockedTimer: ReturnType<typeof setTimeout> | undefined;
    let upgradeError: unknown;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(openTimer);
      clearTimeout(blockedTimer);
      fn();
    };
    let req: IDBOpenDBRequest;
    try {
      req = factory.open(name, version);
    } catch (error) {
      // Throws synchronously e.g. with SecurityError for opaque origins (sandboxed
      // iframes, data: URLs) and in some private modes.
      settle(() => reject(toStoreError(error, 'open')));
      return;
    }
    // Safari 14.1 could leave the first open() of a page load pending forever (WebKit
    // bug 226547). A timeout turns the hang into an ordinary open failure (retry, then
    // fallback). A blocked open is governed by blockedTimeoutMs instead.
    openTimer = setTimeout(() => {
      settle(() =>
        reject(
          new LocalRecError(
            'STORAGE_UNAVAILABLE',
            `open: IndexedDB did not answer in ${openTimeoutMs} ms`,
          ),
        ),
      );
    }, openTimeoutMs);
    req.onupgradeneeded = (event) => {
      const tx = req.transaction!;
      try {
        runMigrations(req.result, tx, event.oldVersion, migrations);
      } catch (error) {
        upgradeError = error;
        tx.abort();
      }
    };
    req.onsuccess = () => {
      const db = req.result;
      // Answered after we gave up (blocked/timeout): close it so it blocks nobody.
      if (settled) db.close();
      else settle(() => resolve(db));
    };
    req.onerror = (event) => {
      // preventDefault keeps the error from also being reported as uncaught.
      event.preventDefault();
      const error = upgradeError ?? req.error;
      settle(() =>
        reject(
          upgradeError === undefined
            ? toStoreError(error, 'open')
            : new LocalRecError('STORAGE_UNAVAILABLE', 'open: migration failed', { cause: error }),
        ),
      );
    };
    req.onblocked = () => {
      // Another connection (another tab, likely running an older localrec that does
      // not close on versionchange) holds the database at an older version.
      clearTimeout(openTimer);
      blockedTimer = setTimeout(() => {
        settle(() =>
          reject(
            new LocalRecError(
              'UPGRADE_BLOCKED',
              'open: another tab keeps the database open at an older version; close it and retry',
            ),
          ),
        );
      }, blockedTimeoutMs);
    };
  });
}

/** deleteDatabase, waiting at most `blockedTimeoutMs` while other connections block it. */
export function deleteDatabase(
  factory: IDBFactory,
  name: string,
  blockedTimeoutMs: number,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let req: IDBOpenDBRequest;
    try {
      req = factory.deleteDatabase(name);
    } catch (error) {
      reject(toStoreError(error, 'forget'));
      return;
    }
    req.onsuccess = () => {
      clearTimeout(timer);
      resolve();
    };
    req.onerror = (event) => {
      event.preventDefault();
      clearTimeout(timer);
      reject(toStoreError(req.error, 'forget'));
    };
    req.onblocked = () => {
      // Our own connections are closed before deleting; a blocker is a connection of
      // another tab that ignores versionchange. The delete stays queued and happens
      // when it closes; we report instead of hanging.
      timer = setTimeout(() => {
        reject(
          new LocalRecError(
            'UPGRADE_BLOCKED',
            'forget: another tab keeps the database open; it will be deleted when that tab closes it',
            { details: { operation: 'forget' } },
          ),
        );
      }, blockedTimeoutMs);
    };
  });
}

type StoreName =
  | typeof STORE_EVENTS
  | typeof STORE_VOCAB
  | typeof STORE_CATALOG
  | typeof STORE_CHECKPOINTS
  | typeof STORE_META;

/**
 * Orders rows by (time, insertion). Rows come in primary-key (insertion) order, which
 * is usually time order already: then this is one O(n) check. Reading the store and
 * sorting here beats getAll() through the by-time index, which re-reads every row
 * through the index (~2x slower in Chromium for 100k rows). Damaged rows (t not a
 * finite number) go last; the API layer drops them.
 */
export function sortByTime(rows: EventRecord[]): EventRecord[] {
  const key = (r: EventRecord) =>
    typeof r?.t === 'number' && Number.isFinite(r.t) ? r.t : Number.POSITIVE_INFINITY;
  for (let i = 1; i < rows.length; i++) {
    if (key(rows[i]) < key(rows[i - 1])) {
      return rows.sort((a, b) => key(a) - key(b) || (a.id ?? 0) - (b.id ?? 0));
    }
  }
  return rows;
}

function jsonSize(value: unknown): number {
  const s = JSON.stringify(value);
  return s === undefined ? 0 : s.length;
}

/**
 * The persistent adapter. Holds one connection, opened lazily and reopened
 * transparently after it was closed (by us on versionchange, or abnormally).
 */
/** Catalogue entries put per chunk of the one catalogue transaction. */
const CATALOG_CHUNK = 250;

export class IdbAdapter implements StorageAdapter {
  readonly persistent = true;
  private db: IDBDatabase | null = null;
  private opening: Promise<IDBDatabase> | null = null;
  private closed = false;
  /** itemId → index, a cache of the `vocab` store (never authoritative: see appendEvents). */
  private vocabCache = new Map<string, number>();

  private constructor(private readonly options: IdbOpenOptions) {}

  /** Opens the database now so open errors surface at creation. */
  static async open(options: IdbOpenOptions): Promise<IdbAdapter> {
    const adapter = new IdbAdapter(options);
    await adapter.connection();
    return adapter;
  }

  private attach(db: IDBDatabase): void {
    // Another tab wants to upgrade or delete the database (forget()): close at once so
    // we never block it. Our next call reopens (and meets SCHEMA_TOO_NEW if that tab
    // runs a newer localrec).
    db.onversionchange = () => {
      db.close();
      if (this.db === db) this.db = null;
    };
    // Abnormal close (storage cleared from DevTools / CDP Storage.clearDataForOrigin,
    // eviction, Safari's server-connection loss): forget the connection, reopen later.
    db.onclose = () => {
      if (this.db === db) this.db = null;
    };
    this.db = db;
    // Indices are only ever assigned inside transactions; a new connection may see a
    // different database (deleted and recreated by another tab), so start the cache anew.
    this.vocabCache = new Map();
  }

  private drop(db: IDBDatabase): void {
    if (this.db === db) this.db = null;
    try {
      db.close();
    } catch {
      // Already closed.
    }
  }

  private connection(): Promise<IDBDatabase> {
    if (this.closed) return Promise.reject(new LocalRecError('DB_CLOSED', 'the store was closed'));
    if (this.db !== null) return Promise.resolve(this.db);
    if (this.opening === null) {
      this.opening = openDatabase(this.options)
        .then((db) => {
          if (this.closed) {
            db.close();
            throw new LocalRecError('DB_CLOSED', 'the store was closed');
          }
          this.attach(db);
          return db;
        })
        .finally(() => {
          this.opening = null;
        });
    }
    return this.opening;
  }

  /**
   * One transaction over `stores`. A connection that turns out closed when creating
   * the transaction (InvalidStateError: Safari may close without firing `close`) is
   * dropped and reopened once — safe, nothing was written. A connection closed *during*
   * the transaction rejects this call with DB_CLOSED; the next call reopens.
   */
  private async transaction<T>(
    operation: string,
    stores: StoreName[],
    mode: IDBTransactionMode,
    body: (tx: IDBTransaction) => Promise<T> | T,
    durability: 'default' | 'strict' | 'relaxed' = 'default',
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      let db: IDBDatabase;
      try {
        db = await this.connection();
      } catch (error) {
        throw toStoreError(error, operation);
      }
      let tx: IDBTransaction;
      try {
        tx = db.transaction(stores, mode, { durability });
      } catch (error) {
        this.drop(db);
        if (domName(error) === 'InvalidStateError' && attempt === 0 && !this.closed) continue;
        throw toStoreError(error, operation);
      }
      try {
        return await runTransaction(tx, body);
      } catch (error) {
        const mapped = toStoreError(error, operation);
        if (mapped.code === 'DB_CLOSED') this.drop(db);
        throw mapped;
      }
    }
  }

  async appendEvents(
    events: readonly NormalizedEvent[],
    retention: RetentionPolicy,
    now: number,
  ): Promise<AppendResult> {
    const assigned = new Map<string, number>();
    const result = await this.transaction(
      'track',
      [STORE_EVENTS, STORE_VOCAB, STORE_META],
      'readwrite',
      async (tx) => {
        const vocab = tx.objectStore(STORE_VOCAB);
        const meta = tx.objectStore(STORE_META);
        const store = tx.objectStore(STORE_EVENTS);
        assigned.clear();
        // Vocabulary: the cache is a hint; unknown ids are looked up inside this
        // readwrite transaction, which other tabs' writers cannot interleave with, so
        // two tabs never give one index to two ids.
        const unknown: string[] = [];
        for (const e of events) {
          if (!this.vocabCache.has(e.itemId) && !assigned.has(e.itemId)) {
            assigned.set(e.itemId, -1);
            unknown.push(e.itemId);
          }
        }
        const cutoff = ageCutoff(retention, now);
        const capped = Number.isFinite(retention.maxEvents);
        // Every read this write needs, issued at once: one round trip to
        // IndexedDB instead of four (a round trip costs ~1 ms in Chromium).
        const [found, nextStored, countBefore, oldest] = await Promise.all([
          Promise.all(unknown.map((id) => request<VocabRecord | undefined>(vocab.get(id)))),
          unknown.length > 0 ? request(meta.get(META_NEXT_ITEM_INDEX)) : undefined,
          capped ? request(store.count()) : 0,
          cutoff > Number.NEGATIVE_INFINITY
            ? request(store.index(INDEX_BY_TIME).openKeyCursor())
            : null,
        ]);
        let next = (nextStored as number | undefined) ?? 0;
        let assignedNew = false;
        for (let k = 0; k < unknown.length; k++) {
          const rec = found[k];
          if (rec !== undefined) {
            assigned.set(unknown[k], rec.index);
          } else {
            vocab.put({ id: unknown[k], index: next } satisfies VocabRecord);
            assigned.set(unknown[k], next++);
            assignedNew = true;
          }
        }
        if (assignedNew) meta.put(next, META_NEXT_ITEM_INDEX);
        // Retention, in this same transaction, oldest first (by time, then insertion).
        // An incoming event already older than the age cap would be pruned at once:
        // it is not written at all (its id still enters the vocabulary). The API layer
        // rejects such events before they get here; this stays for direct callers.
        let written = 0;
        let pruned = 0;
        for (const e of events) {
          if (e.timestamp < cutoff) {
            pruned++;
            continue;
          }
          const rec: EventRecord = {
            t: e.timestamp,
            item: this.vocabCache.get(e.itemId) ?? assigned.get(e.itemId)!,
            type: e.type,
          };
          if (e.sessionId !== undefined) rec.session = e.sessionId;
          if (e.properties !== undefined) rec.props = e.properties;
          store.put(rec);
          written++;
        }
        let excess = capped ? (countBefore as number) + written - retention.maxEvents : 0;
        const staleOldest = oldest !== null && (oldest.key as number) < cutoff;
        if (excess > 0 || staleOldest) {
          await walk(store.index(INDEX_BY_TIME).openKeyCursor(), (cursor) => {
            if (excess > 0 || (cursor.key as number) < cutoff) {
              store.delete(cursor.primaryKey);
              excess--;
              pruned++;
              return true;
            }
            return false;
          });
        }
        return { written, pruned };
      },
    );
    // Only after commit: an aborted transaction must not leave indices in the cache.
    for (const [id, index] of assigned) if (index >= 0) this.vocabCache.set(id, index);
    return result;
  }

  private static vocabulary(records: VocabRecord[]): string[] {
    const out: string[] = [];
    for (const r of records) out[r.index] = r.id;
    // Holes cannot occur (indices are assigned densely) unless rows were damaged.
    for (let i = 0; i < out.length; i++) if (out[i] === undefined) out[i] = '';
    return out;
  }

  snapshot(): Promise<Snapshot> {
    return this.transaction('read', [STORE_EVENTS, STORE_VOCAB], 'readonly', async (tx) => {
      const [events, vocab] = await Promise.all([
        request(tx.objectStore(STORE_EVENTS).getAll() as IDBRequest<EventRecord[]>),
        request(tx.objectStore(STORE_VOCAB).getAll() as IDBRequest<VocabRecord[]>),
      ]);
      return { events: sortByTime(events), vocabulary: IdbAdapter.vocabulary(vocab) };
    });
  }

  readAfter(afterId: number, vocabularyFrom: number): Promise<EventDelta> {
    return this.transaction('read', [STORE_EVENTS, STORE_VOCAB], 'readonly', async (tx) => {
      const events = tx.objectStore(STORE_EVENTS);
      const byTime = events.index(INDEX_BY_TIME);
      const [rows, vocab, oldest, last] = await Promise.all([
        request(events.getAll(IDBKeyRange.lowerBound(afterId, true)) as IDBRequest<EventRecord[]>),
        request(
          tx
            .objectStore(STORE_VOCAB)
            .index(INDEX_BY_INDEX)
            .getAll(IDBKeyRange.lowerBound(vocabularyFrom)) as IDBRequest<VocabRecord[]>,
        ),
        request(byTime.openKeyCursor()),
        request(events.openKeyCursor(null, 'prev')),
      ]);
      const vocabulary: string[] = [];
      for (const r of vocab) vocabulary[r.index - vocabularyFrom] = r.id;
      for (let i = 0; i < vocabulary.length; i++) vocabulary[i] ??= '';
      return {
        events: rows,
        vocabulary,
        oldestId: oldest === null ? null : (oldest.primaryKey as number),
        lastId: last === null ? null : (last.primaryKey as number),
      };
    });
  }

  hasCheckpoint(name: string): Promise<boolean> {
    return this.transaction('read', [STORE_CHECKPOINTS], 'readonly', async (tx) => {
      return (await request(tx.objectStore(STORE_CHECKPOINTS).count(name))) > 0;
    });
  }

  dump(): Promise<Dump> {
    return this.transaction(
      'export',
      [STORE_EVENTS, STORE_VOCAB, STORE_CATALOG, STORE_CHECKPOINTS, STORE_META],
      'readonly',
      async (tx) => {
        const metaStore = tx.objectStore(STORE_META);
        const [events, vocab, catalog, metaKeys, metaValues] = await Promise.all([
          request(tx.objectStore(STORE_EVENTS).getAll() as IDBRequest<EventRecord[]>),
          request(tx.objectStore(STORE_VOCAB).getAll() as IDBRequest<VocabRecord[]>),
          request(tx.objectStore(STORE_CATALOG).getAll() as IDBRequest<CatalogItem[]>),
          request(metaStore.getAllKeys()),
          request(metaStore.getAll()),
        ]);
        const checkpoints: CheckpointInfo[] = [];
        // A cursor, not getAll: only metadata is kept, blobs are dropped as we go.
        await walk(tx.objectStore(STORE_CHECKPOINTS).openCursor(), (cursor) => {
          const { data: _data, ...info } = cursor.value as CheckpointRecord;
          checkpoints.push(info);
          return true;
        });
        const meta: Record<string, unknown> = {};
        metaKeys.forEach((k, i) => {
          meta[String(k)] = metaValues[i];
        });
        return {
          events: sortByTime(events),
          vocabulary: IdbAdapter.vocabulary(vocab),
          catalog,
          checkpoints,
          meta,
        };
      },
    );
  }

  setCatalog(items: readonly CatalogItem[], fingerprint?: string): Promise<void> {
    return this.transaction('setCatalog', [STORE_CATALOG, STORE_META], 'readwrite', async (tx) => {
      const store = tx.objectStore(STORE_CATALOG);
      store.clear();
      // One transaction (a reader sees the old catalogue or the new one), written in
      // chunks: each put clones its item on the calling thread, so waiting for a chunk's
      // last request between chunks keeps every main-thread task short.
      for (let i = 0; i < items.length; i += CATALOG_CHUNK) {
        let last: IDBRequest | null = null;
        for (const item of items.slice(i, i + CATALOG_CHUNK)) last = store.put(item);
        if (last && i + CATALOG_CHUNK < items.length) await request(last);
      }
      if (fingerprint !== undefined)
        tx.objectStore(STORE_META).put(fingerprint, META_CATALOG_FINGERPRINT);
    });
  }

  getCatalog(): Promise<CatalogItem[]> {
    return this.transaction('getCatalog', [STORE_CATALOG], 'readonly', (tx) =>
      request(tx.objectStore(STORE_CATALOG).getAll() as IDBRequest<CatalogItem[]>),
    );
  }

  putCheckpoint(record: CheckpointRecord): Promise<void> {
    // One record, one transaction: a reader sees the old checkpoint or the new one,
    // never half. 'strict' durability: flushed to disk before `complete` (a model is
    // expensive to recompute, unlike one event).
    return this.transaction(
      'putCheckpoint',
      [STORE_CHECKPOINTS],
      'readwrite',
      (tx) => {
        tx.objectStore(STORE_CHECKPOINTS).put(record);
      },
      'strict',
    );
  }

  getCheckpoint(name: string): Promise<CheckpointRecord | undefined> {
    return this.transaction('getCheckpoint', [STORE_CHECKPOINTS], 'readonly', (tx) =>
      request(
        tx.objectStore(STORE_CHECKPOINTS).get(name) as IDBRequest<CheckpointRecord | undefined>,
      ),
    );
  }

  deleteCheckpoint(name: string): Promise<void> {
    return this.transaction('deleteCheckpoint', [STORE_CHECKPOINTS], 'readwrite', (tx) => {
      tx.objectStore(STORE_CHECKPOINTS).delete(name);
    });
  }

  listCheckpoints(): Promise<CheckpointInfo[]> {
    return this.dump().then((d) => d.checkpoints);
  }

  getMeta(key: string): Promise<unknown> {
    return this.transaction('getMeta', [STORE_META], 'readonly', (tx) =>
      request(tx.objectStore(STORE_META).get(key)),
    );
  }

  setMeta(key: string, value: unknown): Promise<void> {
    return this.transaction('setMeta', [STORE_META], 'readwrite', (tx) => {
      tx.objectStore(STORE_META).put(value, key);
    });
  }

  stats(): Promise<AdapterStats> {
    // Counts and the two ends of the time index are exact and cheap; sizes are
    // estimated from the first STATS_SAMPLE rows of each store (a full scan of 100k
    // events took ~2 s in Chromium).
    return this.transaction(
      'stats',
      [STORE_EVENTS, STORE_VOCAB, STORE_CATALOG, STORE_CHECKPOINTS],
      'readonly',
      async (tx) => {
        const events = tx.objectStore(STORE_EVENTS);
        const vocab = tx.objectStore(STORE_VOCAB);
        const catalog = tx.objectStore(STORE_CATALOG);
        const byTime = events.index(INDEX_BY_TIME);
        const [nEvents, nItems, nCatalog, eventRows, vocabRows, catalogRows, first, last] =
          await Promise.all([
            request(events.count()),
            request(vocab.count()),
            request(catalog.count()),
            request(events.getAll(null, STATS_SAMPLE)),
            request(vocab.getAll(null, STATS_SAMPLE)),
            request(catalog.getAll(null, STATS_SAMPLE)),
            request(byTime.openKeyCursor()),
            request(byTime.openKeyCursor(null, 'prev')),
          ]);
        const estimate = (rows: unknown[], count: number) => {
          if (rows.length === 0) return 0;
          let sum = 0;
          for (const r of rows) sum += jsonSize(r) + ROW_OVERHEAD_BYTES;
          return Math.round((sum / rows.length) * count);
        };
        let bytes =
          estimate(eventRows, nEvents) +
          estimate(vocabRows, nItems) +
          estimate(catalogRows, nCatalog);
        let checkpoints = 0;
        await walk(tx.objectStore(STORE_CHECKPOINTS).openCursor(), (cursor) => {
          const rec = cursor.value as CheckpointRecord;
          bytes += (rec.data?.byteLength ?? 0) + jsonSize(rec.metadata) + ROW_OVERHEAD_BYTES;
          checkpoints++;
          return true;
        });
        return {
          events: nEvents,
          items: nItems,
          catalogItems: nCatalog,
          checkpoints,
          bytesEstimate: bytes,
          oldestTimestamp: first === null ? null : (first.key as number),
          newestTimestamp: last === null ? null : (last.key as number),
        };
      },
    );
  }

  async destroy(): Promise<void> {
    // Close our own connection first, or our own tab would block the delete.
    if (this.opening !== null) await this.opening.catch(() => undefined);
    if (this.db !== null) this.drop(this.db);
    this.vocabCache = new Map();
    await deleteDatabase(this.options.factory, this.options.name, this.options.blockedTimeoutMs);
  }

  close(): void {
    this.closed = true;
    if (this.db !== null) this.drop(this.db);
  }

  /** For tests and the bench: the live connection, if any. */
  get connectionForTesting(): IDBDatabase | null {
    return this.db;
  }
}
