import type { Sequences } from '../core/scorer';
import type { JsonValue, TrackEvent } from '../events/types';
import type { StoreChange } from '../store/broadcast';
import type {
  AdapterStats,
  CatalogItem,
  CheckpointInfo,
  EventsAfter,
  RetentionPolicy,
  StoredEvent,
} from '../store/types';

export type {
  CatalogItem,
  CheckpointInfo,
  EventsAfter,
  JsonValue,
  RetentionPolicy,
  StoreChange,
  StoredEvent,
  TrackEvent,
};

export type Consent = 'granted' | 'denied' | 'pending';

export interface StoreOptions {
  /** One IndexedDB database per namespace: `localrec:<namespace>`. 1-64 of `[A-Za-z0-9_.-]`. Default `default`. */
  namespace?: string;
  /** Caps applied on every write (see DEFAULT_RETENTION: 20,000 events, 365 days). */
  retention?: Partial<RetentionPolicy>;
  /** Inactivity that ends a session without sessionId, ms. Default 30 min. */
  sessionGapMs?: number;
  /**
   * The visitor's consent. Given explicitly, it wins and is persisted. Omitted: the
   * last persisted choice, else `denied` when `navigator.globalPrivacyControl === true`,
   * else `granted`.
   */
  consent?: Consent;
  /** IndexedDB factory to use (tests inject fake-indexeddb). `null`: in-memory only. */
  indexedDB?: IDBFactory | null;
  /** When IndexedDB is unusable: `memory` (default, `persistent: false`) or `error` (STORAGE_UNAVAILABLE). */
  fallback?: 'memory' | 'error';
  /** Announce changes to other tabs on BroadcastChannel `localrec:<namespace>` (default true). */
  broadcast?: boolean;
  /** Wait for other tabs to release an upgrade/delete before UPGRADE_BLOCKED, ms (default 3000). */
  blockedTimeoutMs?: number;
  /** Open attempts before falling back (default 2). */
  openAttempts?: number;
  /** An IndexedDB open with no answer within this is a failure, ms (default 10000). */
  openTimeoutMs?: number;
  /**
   * Clock, epoch ms (default Date.now): default timestamps, the retention age, and the
   * accepted range of timestamps (at most one day ahead of it).
   */
  now?: () => number;
}

export interface StoreStats extends AdapterStats {
  namespace: string;
  /** False when the store fell back to memory: nothing survives a reload. */
  persistent: boolean;
  /** Why the store is in memory, when it is. */
  fallbackReason?: string;
  schemaVersion: number;
  consent: Consent;
}

export interface ReadSequencesOptions {
  /** Keep only these event types (default: all). */
  types?: readonly string[];
  /** Override the store's session gap for this read, ms. */
  sessionGapMs?: number;
}

export interface SessionData {
  /** One sequence per session, oldest event first, with aligned epoch-ms `times`. */
  sequences: Sequences & { times: Float64Array };
  /** Dense index → site item id (`sequences.numItems === itemIds.length`). */
  itemIds: string[];
  /** Per sequence: its sessionId, or null for a session cut by inactivity. */
  sessionIds: (string | null)[];
  /** Stored rows that were unreadable (damaged) and left out. */
  skipped: number;
}

export interface ExportedEvent {
  itemId: string;
  type: string;
  /** Epoch ms, exactly as tracked. */
  timestamp: number;
  /** The same instant, readable (ISO 8601, UTC). */
  isoTime: string;
  sessionId?: string;
  properties?: { [key: string]: JsonValue };
}

export interface ExportedData {
  format: 'localrec-export';
  formatVersion: 1;
  exportedAt: string;
  namespace: string;
  persistent: boolean;
  consent: Consent;
  schemaVersion: number;
  /** Everything the visitor did, oldest first, with site item ids (not indices). */
  events: ExportedEvent[];
  /** The persistent dense-index vocabulary: `vocabulary[i]` is the id of item i. */
  vocabulary: string[];
  catalog: CatalogItem[];
  /** Saved models: metadata only, no weights. */
  checkpoints: CheckpointInfo[];
  /** Book-keeping: schema/library version, creation time, consent. */
  meta: Record<string, unknown>;
  skippedRows: number;
}

export interface CheckpointInput {
  metadata: { [key: string]: JsonValue };
  data: ArrayBuffer;
}

export interface Checkpoint extends CheckpointInput {
  name: string;
  savedAt: number;
  bytes: number;
}

/** The interaction store: what `createStore()` returns. */
export interface LocalRecStore {
  readonly namespace: string;
  /** False when running on the in-memory fallback. */
  readonly persistent: boolean;
  /**
   * Resolves after the event's transaction completed. CONSENT_REQUIRED unless consent is
   * granted; INVALID_INPUT (`details.field: 'timestamp'`) for a time more than one day
   * ahead of the clock, older than `retention.maxAgeDays`, or negative.
   */
  track(event: TrackEvent): Promise<void>;
  /** All or nothing, one transaction. INVALID_INPUT names `events[i].<field>`, `details.index = i`. */
  trackMany(events: readonly TrackEvent[]): Promise<void>;
  readSequences(options?: ReadSequencesOptions): Promise<SessionData>;
  /**
   * What was written after sequence number `afterId` (0: everything), with the
   * vocabulary from index `vocabularyFrom` on: lets a reader keep the history up to date
   * without re-reading it.
   */
  readEventsAfter(afterId: number, vocabularyFrom: number): Promise<EventsAfter>;
  /** Replaces the catalog. Events may name items that are not in it. */
  setCatalog(items: readonly CatalogItem[]): Promise<void>;
  getCatalog(): Promise<CatalogItem[]>;
  putCheckpoint(name: string, checkpoint: CheckpointInput): Promise<void>;
  /** MODEL_CORRUPT when the stored record is damaged. */
  getCheckpoint(name: string): Promise<Checkpoint | undefined>;
  deleteCheckpoint(name: string): Promise<void>;
  /** A small JSON record of the library's own (e.g. the backend decision); undefined when absent. */
  getSetting(name: string): Promise<JsonValue | undefined>;
  putSetting(name: string, value: JsonValue): Promise<void>;
  /** Whether a checkpoint exists (a key lookup: no model bytes are read). */
  hasCheckpoint(name: string): Promise<boolean>;
  listCheckpoints(): Promise<CheckpointInfo[]>;
  consent(): Consent;
  setConsent(consent: Consent): Promise<void>;
  exportData(): Promise<ExportedData>;
  /** Deletes the whole database (events, vocabulary, catalog, models, meta). */
  forget(): Promise<void>;
  stats(): Promise<StoreStats>;
  /** Changes from this tab (`local`) and other tabs (`remote`). Returns an unsubscribe. */
  subscribe(listener: (change: StoreChange, origin: 'local' | 'remote') => void): () => void;
  /** Closes the connection and channel; later calls reject with DB_CLOSED. */
  close(): void;
}
