import { LocalRecError } from '../core/errors';
import { version as libraryVersion } from '../core/version';
import type { NormalizedEvent } from '../events/types';
import { ageCutoff } from './retention';
import {
  META_CATALOG_FINGERPRINT,
  META_CREATED_AT,
  META_LIBRARY_VERSION,
  META_SCHEMA_VERSION,
  SCHEMA_VERSION,
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
} from './types';

const ROW_OVERHEAD_BYTES = 64;

function jsonSize(value: unknown): number {
  const s = JSON.stringify(value);
  return s === undefined ? 0 : s.length;
}

/**
 * The fallback when IndexedDB is missing or refuses to open (private modes, opaque
 * origins): the same contract, kept in this page's memory only (`persistent: false`).
 * Values are structured-cloned in and out, like IndexedDB would, so callers cannot
 * mutate stored state through references.
 */
export class MemoryAdapter implements StorageAdapter {
  readonly persistent = false;
  private events: EventRecord[] = [];
  /** Whether `events` is ordered by (t, id); appends in time order keep it so. */
  private sorted = true;
  private nextId = 1;
  private vocabulary: string[] = [];
  private vocabIndex = new Map<string, number>();
  private catalog = new Map<string, CatalogItem>();
  private checkpoints = new Map<string, CheckpointRecord>();
  private meta = new Map<string, unknown>();
  private closed = false;

  constructor(readonly fallbackReason?: string) {
    this.reset();
  }

  private reset(): void {
    this.events = [];
    this.sorted = true;
    this.nextId = 1;
    this.vocabulary = [];
    this.vocabIndex = new Map();
    this.catalog = new Map();
    this.checkpoints = new Map();
    this.meta = new Map<string, unknown>([
      [META_SCHEMA_VERSION, SCHEMA_VERSION],
      [META_LIBRARY_VERSION, libraryVersion],
      [META_CREATED_AT, Date.now()],
    ]);
  }

  private check(): void {
    if (this.closed) throw new LocalRecError('DB_CLOSED', 'the store was closed');
  }

  private sort(): void {
    if (this.sorted) return;
    this.events.sort((a, b) => a.t - b.t || a.id! - b.id!);
    this.sorted = true;
  }

  async appendEvents(
    events: readonly NormalizedEvent[],
    retention: RetentionPolicy,
    now: number,
  ): Promise<AppendResult> {
    this.check();
    // Build everything first, then commit with assignments only: all or nothing.
    const newIds: string[] = [];
    const pending = new Map<string, number>();
    const rows: EventRecord[] = [];
    let id = this.nextId;
    for (const e of events) {
      let item = this.vocabIndex.get(e.itemId) ?? pending.get(e.itemId);
      if (item === undefined) {
        item = this.vocabulary.length + newIds.length;
        pending.set(e.itemId, item);
        newIds.push(e.itemId);
      }
      const rec: EventRecord = { id: id++, t: e.timestamp, item, type: e.type };
      if (e.sessionId !== undefined) rec.session = e.sessionId;
      if (e.properties !== undefined) rec.props = structuredClone(e.properties);
      rows.push(rec);
    }
    for (const itemId of newIds) {
      this.vocabIndex.set(itemId, this.vocabulary.length);
      this.vocabulary.push(itemId);
    }
    for (const rec of rows) {
      const last = this.events[this.events.length - 1];
      if (last !== undefined && rec.t < last.t) this.sorted = false;
      this.events.push(rec);
    }
    this.nextId = id;

    const cutoff = ageCutoff(retention, now);
    const excess = Number.isFinite(retention.maxEvents)
      ? this.events.length - retention.maxEvents
      : 0;
    let drop = 0;
    if (excess > 0 || cutoff > Number.NEGATIVE_INFINITY) {
      this.sort();
      while (drop < this.events.length && (drop < excess || this.events[drop].t < cutoff)) drop++;
      if (drop > 0) this.events.splice(0, drop);
    }
    return { written: events.length, pruned: drop };
  }

  async snapshot(): Promise<Snapshot> {
    this.check();
    this.sort();
    return { events: structuredClone(this.events), vocabulary: [...this.vocabulary] };
  }

  async readAfter(afterId: number, vocabularyFrom: number): Promise<EventDelta> {
    this.check();
    this.sort();
    const rows = this.events.filter((e) => e.id! > afterId).sort((a, b) => a.id! - b.id!);
    let lastId: number | null = null;
    for (const e of this.events) if (lastId === null || e.id! > lastId) lastId = e.id!;
    return {
      events: structuredClone(rows),
      vocabulary: this.vocabulary.slice(vocabularyFrom),
      oldestId: this.events.length > 0 ? this.events[0].id! : null,
      lastId,
    };
  }

  async hasCheckpoint(name: string): Promise<boolean> {
    this.check();
    return this.checkpoints.has(name);
  }

  async dump(): Promise<Dump> {
    const snap = await this.snapshot();
    return {
      ...snap,
      catalog: structuredClone([...this.catalog.values()]),
      checkpoints: await this.listCheckpoints(),
      meta: Object.fromEntries(structuredClone([...this.meta])),
    };
  }

  async setCatalog(items: readonly CatalogItem[], fingerprint?: string): Promise<void> {
    this.check();
    this.catalog = new Map(items.map((item) => [item.id, structuredClone(item)]));
    if (fingerprint !== undefined) this.meta.set(META_CATALOG_FINGERPRINT, fingerprint);
  }

  async getCatalog(): Promise<CatalogItem[]> {
    this.check();
    return structuredClone([...this.catalog.values()]).sort((a, b) =>
      a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
    );
  }

  async putCheckpoint(record: CheckpointRecord): Promise<void> {
    this.check();
    this.checkpoints.set(record.name, structuredClone(record));
  }

  async getCheckpoint(name: string): Promise<CheckpointRecord | undefined> {
    this.check();
    const rec = this.checkpoints.get(name);
    return rec === undefined ? undefined : structuredClone(rec);
  }

  async deleteCheckpoint(name: string): Promise<void> {
    this.check();
    this.checkpoints.delete(name);
  }

  async listCheckpoints(): Promise<CheckpointInfo[]> {
    this.check();
    return [...this.checkpoints.values()]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map(({ data: _data, ...info }) => structuredClone(info));
  }

  async getMeta(key: string): Promise<unknown> {
    this.check();
    return structuredClone(this.meta.get(key));
  }

  async setMeta(key: string, value: unknown): Promise<void> {
    this.check();
    this.meta.set(key, structuredClone(value));
  }

  async stats(): Promise<AdapterStats> {
    this.check();
    this.sort();
    let bytes = 0;
    for (const e of this.events) bytes += jsonSize(e) + ROW_OVERHEAD_BYTES;
    for (const id of this.vocabulary) bytes += id.length + 12 + ROW_OVERHEAD_BYTES;
    for (const c of this.catalog.values()) bytes += jsonSize(c) + ROW_OVERHEAD_BYTES;
    for (const c of this.checkpoints.values())
      bytes += c.data.byteLength + jsonSize(c.metadata) + ROW_OVERHEAD_BYTES;
    const n = this.events.length;
    return {
      events: n,
      items: this.vocabulary.length,
      catalogItems: this.catalog.size,
      checkpoints: this.checkpoints.size,
      bytesEstimate: bytes,
      oldestTimestamp: n > 0 ? this.events[0].t : null,
      newestTimestamp: n > 0 ? this.events[n - 1].t : null,
    };
  }

  async destroy(): Promise<void> {
    this.check();
    this.reset();
  }

  close(): void {
    this.closed = true;
  }
}
