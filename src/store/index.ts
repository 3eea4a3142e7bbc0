// src/store: the only layer that touches IndexedDB.

export type { ChangeListener, StoreChange, StoreChangeMessage } from './broadcast';
export { ChangeChannel } from './broadcast';
export { toStoreError } from './errors';
export { deleteDatabase, IdbAdapter, openDatabase } from './idb-adapter';
export { MemoryAdapter } from './memory-adapter';
export type { OpenAdapterOptions } from './open';
export { globalIndexedDB, openAdapter } from './open';
export { ageCutoff, DAY_MS, DEFAULT_RETENTION } from './retention';
export type { Migration } from './schema';
export { checkMigrations, MIGRATIONS, SCHEMA_VERSION } from './schema';
export type {
  AdapterStats,
  AppendResult,
  CatalogItem,
  CheckpointInfo,
  CheckpointRecord,
  Dump,
  EventRecord,
  RetentionPolicy,
  Snapshot,
  StorageAdapter,
} from './types';
