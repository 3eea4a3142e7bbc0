import { version as libraryVersion } from '../core/version';

/**
 * Schema of the `localrec:<namespace>` database, as a list of migrations. The IndexedDB
 * version of the database IS the schema version: a browser refuses to open a database
 * at a lower version than it has (VersionError), which is how a database written by a
 * newer localrec is refused (SCHEMA_TOO_NEW) without being touched.
 *
 * Adding a version: append a migration with the next number. A migration runs inside
 * the versionchange transaction, synchronously issuing requests (no awaits of non-IDB
 * work: the transaction would commit under it). Never edit a released migration.
 */
export interface Migration {
  version: number;
  description: string;
  migrate(db: IDBDatabase, tx: IDBTransaction, oldVersion: number): void;
}

export const STORE_EVENTS = 'events';
export const STORE_VOCAB = 'vocab';
export const STORE_CATALOG = 'catalog';
export const STORE_CHECKPOINTS = 'checkpoints';
export const STORE_META = 'meta';
export const INDEX_BY_TIME = 'by-time';
export const INDEX_BY_INDEX = 'by-index';

export const META_NEXT_ITEM_INDEX = 'nextItemIndex';
/** Fingerprint of the stored catalogue: setting the same catalogue again writes nothing. */
export const META_CATALOG_FINGERPRINT = 'catalogFingerprint';
export const META_SCHEMA_VERSION = 'schemaVersion';
export const META_LIBRARY_VERSION = 'libraryVersion';
export const META_CREATED_AT = 'createdAt';
export const META_CONSENT = 'consent';

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'events (by-time), vocab (by-index), catalog, checkpoints, meta',
    migrate(db, tx) {
      const events = db.createObjectStore(STORE_EVENTS, { keyPath: 'id', autoIncrement: true });
      // Oldest-first walks for retention. Only one index: each costs a write per event,
      // and reads take the whole store in primary-key order and sort in JS (faster than
      // getAll through an index, which looks every row up again). Add a by-session
      // index in a later migration if a query ever needs it.
      events.createIndex(INDEX_BY_TIME, 't');
      const vocab = db.createObjectStore(STORE_VOCAB, { keyPath: 'id' });
      vocab.createIndex(INDEX_BY_INDEX, 'index', { unique: true });
      db.createObjectStore(STORE_CATALOG, { keyPath: 'id' });
      db.createObjectStore(STORE_CHECKPOINTS, { keyPath: 'name' });
      db.createObjectStore(STORE_META);
      const meta = tx.objectStore(STORE_META);
      meta.put(0, META_NEXT_ITEM_INDEX);
      meta.put(Date.now(), META_CREATED_AT);
    },
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/** Checks a migration list is 1..N without gaps (a gap would skip schema changes). */
export function checkMigrations(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1)
      throw new Error(`migration #${i} has version ${m.version}, expected ${i + 1}`);
  });
  if (migrations.length === 0) throw new Error('no migrations');
}

/** Runs the migrations after `oldVersion` up to the list's last, in order. */
export function runMigrations(
  db: IDBDatabase,
  tx: IDBTransaction,
  oldVersion: number,
  migrations: readonly Migration[],
): void {
  for (const m of migrations) {
    if (m.version > oldVersion) m.migrate(db, tx, oldVersion);
  }
  const last = migrations[migrations.length - 1].version;
  const meta = tx.objectStore(STORE_META);
  meta.put(last, META_SCHEMA_VERSION);
  meta.put(libraryVersion, META_LIBRARY_VERSION);
}
