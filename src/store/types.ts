import type { JsonValue } from '../events/types';

// Record shapes as they lie in the object stores. Field names are short but readable:
// every event row is structured-cloned with its keys, so they cost bytes per event.

/** A row of the `events` store. `id` is the auto-increment key (insertion order). */
export interface EventRecord {
  id?: number;
  /** Epoch ms. */
  t: number;
  /** Dense item index from the vocabulary. */
  item: number;
  type: string;
  session?: string;
  props?: { [key: string]: JsonValue };
}

/** A row of the `vocab` store: the persistent itemId ↔ dense index map. */
export interface VocabRecord {
  id: string;
  index: number;
}

/** A catalog entry: `id` is the site's item id; everything else is free-form. */
export interface CatalogItem {
  id: string;
  title?: string;
  attributes?: { [key: string]: JsonValue };
}

/** A row of the `checkpoints` store, written in one transaction (atomic). */
export interface CheckpointRecord {
  name: string;
  metadata: { [key: string]: JsonValue };
  data: ArrayBuffer;
  /** Epoch ms of the write. */
  savedAt: number;
  /** `data.byteLength` at write time: a shorter blob on read means truncation. */
  bytes: number;
}

export type CheckpointInfo = Omit<CheckpointRecord, 'data'>;

/** Retention caps, applied in the transaction that writes events. */
import type { RetentionPolicy } from '../events/retention';

export type { RetentionPolicy };

export interface AppendResult {
  written: number;
  pruned: number;
}

/** Events ordered by time then insertion, with the vocabulary they index into. */
export interface Snapshot {
  events: EventRecord[];
  /** index → itemId. */
  vocabulary: string[];
}

export interface Dump extends Snapshot {
  catalog: CatalogItem[];
  checkpoints: CheckpointInfo[];
  meta: Record<string, unknown>;
}

/**
 * What changed since a reader last looked: the events written after its last seen id,
 * the vocabulary it has not seen, and where the store stands now (its oldest event by
 * time, and its newest id), so the reader can mirror retention's pruning without re-reading.
 */
export interface EventDelta {
  /** Rows with `id > afterId`, in id order (insertion order). */
  events: EventRecord[];
  /** Vocabulary entries from the requested index on (`vocabulary[j]` is item `from + j`). */
  vocabulary: string[];
  /** The id of the oldest stored event by (time, id); null when the store is empty. */
  oldestId: number | null;
  /** The largest stored id; null when the store is empty. */
  lastId: number | null;
}

export interface AdapterStats {
  events: number;
  items: number;
  catalogItems: number;
  checkpoints: number;
  /** Rough size of what is stored (serialised records + per-row overhead), bytes. */
  bytesEstimate: number;
  oldestTimestamp: number | null;
  newestTimestamp: number | null;
}

/**
 * What the IndexedDB store and its in-memory fallback both implement. Everything the
 * API layer needs; nothing about validation, consent or sessions (those live above).
 */
export interface StorageAdapter {
  readonly persistent: boolean;
  /** Why the store is in memory (only set on the fallback). */
  readonly fallbackReason?: string;
  /** Writes all events in one transaction with vocabulary updates and pruning. */
  appendEvents(
    events: readonly import('../events/types').NormalizedEvent[],
    retention: RetentionPolicy,
    now: number,
  ): Promise<AppendResult>;
  snapshot(): Promise<Snapshot>;
  /** Events after `afterId` and vocabulary from `vocabularyFrom`, in one read (cheap when little changed). */
  readAfter(afterId: number, vocabularyFrom: number): Promise<EventDelta>;
  /** Whether a checkpoint of this name exists (a key lookup; no data is read). */
  hasCheckpoint(name: string): Promise<boolean>;
  dump(): Promise<Dump>;
  /** Replaces the catalogue (and records its fingerprint, when given) atomically. */
  setCatalog(items: readonly CatalogItem[], fingerprint?: string): Promise<void>;
  getCatalog(): Promise<CatalogItem[]>;
  putCheckpoint(record: CheckpointRecord): Promise<void>;
  getCheckpoint(name: string): Promise<CheckpointRecord | undefined>;
  deleteCheckpoint(name: string): Promise<void>;
  listCheckpoints(): Promise<CheckpointInfo[]>;
  getMeta(key: string): Promise<unknown>;
  setMeta(key: string, value: unknown): Promise<void>;
  stats(): Promise<AdapterStats>;
  /** Deletes everything (the whole database). The adapter stays usable afterwards. */
  destroy(): Promise<void>;
  /** Closes connections; later calls reject with DB_CLOSED. */
  close(): void;
}

/** A stored event as the store's readers see it: its sequence number and dense item index. */
export interface StoredEvent {
  /** The store's sequence number: increases with every write, whatever the timestamps say. */
  id: number;
  /** Epoch ms. */
  t: number;
  /** Dense item index (into the vocabulary). */
  item: number;
  type: string;
  session?: string;
}

/** `readEventsAfter`: what was written since a reader's last seen sequence number. */
export interface EventsAfter {
  /** Valid rows with `id > afterId`, in write order. */
  events: StoredEvent[];
  /** Vocabulary from the requested index on. */
  vocabulary: string[];
  /** Sequence number of the oldest stored event by (time, id); null when empty. */
  oldestId: number | null;
  /** Largest stored sequence number; null when empty. */
  lastId: number | null;
  /** Rows after `afterId` that were unreadable (damaged) and left out. */
  skipped: number;
}
