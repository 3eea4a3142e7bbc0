// src/store: the only layer that touches IndexedDB.

export type { ChangeListener, StoreChange, StoreChangeMessage } from './broadcast';
export { ChangeChannel } from './broadcast';
export { toStoreError } from './errors';
export { deleteDatabase, IdbBackend, openDatabase } from './idb-backend';
export { MemoryBackend } from './memory-backend';
export type { OpenBackendOptions } from './open';
export { globalIndexedDB, openBackend } from './open';
export { ageCutoff, DAY_MS, DEFAULT_RETENTION } from './retention';
export type { Migration } from './schema';
export { checkMigrations, MIGRATIONS, SCHEMA_VERSION } from './schema';
export type {
  AppendResult,
  Backend,
  BackendStats,
  CatalogItem,
  CheckpointInfo,
  CheckpointRecord,
  Dump,
  EventRecord,
  RetentionPolicy,
  Snapshot,
} from './types';
