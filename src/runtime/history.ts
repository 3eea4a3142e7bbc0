// The visitor's history as the recommender serves from it, kept in memory and brought up
// to date incrementally: after a change, only the events written since the last look
// (by the store's sequence numbers) are read, and retention's pruning is mirrored from
// the store's oldest event instead of re-reading everything. A click then costs what it costs
// on a short history (bench/click-recommend.ts measures the curve).

import type { Sequences } from '../core/scorer';
import { DEFAULT_SESSION_GAP_MS, sessionise } from '../events/sessionise';
import type { EventsAfter, StoredEvent } from '../store/types';

/** What the history needs from the store. */
export interface HistorySource {
  readEventsAfter(afterId: number, vocabularyFrom: number): Promise<EventsAfter>;
}

/** The visitor's sessions with each event's time and store sequence number. */
export interface HistorySessions {
  sequences: Sequences & { times: Float64Array; keys: Float64Array };
  itemIds: string[];
}

/** One consistent view of the history (it does not change under its holder). */
export interface HistoryView {
  /** Events held. */
  readonly size: number;
  /** Dense index → item id. */
  readonly itemIds: readonly string[];
  /** The largest sequence number held (0 when empty). */
  readonly lastId: number;
  /** Item ids of the most recent `max` events, oldest first. */
  recent(max: number): string[];
  /** Event types of the most recent `max` events, oldest first (aligned with `recent`). */
  recentTypes(max: number): string[];
  /** Each item of the most recent `max` events with the strongest type the visitor gave it. */
  strongest(max: number): Map<string, string>;
  /** Items the visitor purchased (still in the history). */
  purchased(): Set<string>;
  /** Sessions (by sessionId, else cut by inactivity), computed once per view. */
  sessions(): HistorySessions;
}

/** Events in (time, id) order: the order of the store's time index. */
function before(a: StoredEvent, b: StoredEvent): boolean {
  return a.t < b.t || (a.t === b.t && a.id < b.id);
}

export class VisitorHistory {
  private rows: StoredEvent[] = [];
  private vocabulary: string[] = [];
  private seenId = 0;
  /** Unreadable rows the store holds (left out of the history). */
  private damaged = 0;
  private stale = true;
  private refreshing: Promise<HistoryView> | null = null;
  private view: HistoryView | null = null;
  /** Bumped by every change notice, so a refresh that raced one is not trusted as current. */
  private generation = 0;
  /** Times the history was out of step with the store and read it all again (diagnostics). */
  fullReads = 0;

  constructor(
    private readonly source: HistorySource,
    private readonly sessionGapMs: number = DEFAULT_SESSION_GAP_MS,
  ) {}

  /** Something was written (here or in another tab): the next read looks for it. */
  markStale(): void {
    this.stale = true;
    this.generation++;
  }

  /** The store was emptied (forget): drop everything held. */
  reset(): void {
    this.rows = [];
    this.vocabulary = [];
    this.seenId = 0;
    this.damaged = 0;
    this.view = null;
    this.markStale();
  }

  /** The history as of now: reads what changed since the last call, if anything did. */
  current(): Promise<HistoryView> {
    if (!this.stale && this.view) return Promise.resolve(this.view);
    this.refreshing ??= this.refresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async refresh(): Promise<HistoryView> {
    const generation = this.generation;
    let delta = await this.source.readEventsAfter(this.seenId, this.vocabulary.length);
    if (!this.apply(delta)) {
      // Out of step (the database was recreated, or rows were damaged or pruned out of
      // order): read everything once.
      this.fullReads++;
      this.rows = [];
      this.vocabulary = [];
      this.seenId = 0;
      this.damaged = 0;
      delta = await this.source.readEventsAfter(0, 0);
      this.apply(delta, true);
    }
    if (generation === this.generation) this.stale = false;
    this.view = makeView(this.rows, this.vocabulary, this.seenId, this.sessionGapMs);
    return this.view;
  }

  /** Merges a delta; false when the result cannot match the store (then read it all). */
  private apply(delta: EventsAfter, full = false): boolean {
    if (!full && delta.lastId !== null && delta.lastId < this.seenId) return false;
    // Emptied (deleted, or pruned to nothing): start over, vocabulary included.
    if (!full && delta.lastId === null && this.rows.length + this.damaged > 0) return false;
    this.vocabulary.push(...delta.vocabulary);
    const rows = this.rows;
    for (const e of delta.events) {
      if (rows.length === 0 || !before(e, rows[rows.length - 1])) rows.push(e);
      else {
        // Back-dated (trackMany with old timestamps): insert in time order.
        let lo = 0;
        let hi = rows.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (before(rows[mid], e)) lo = mid + 1;
          else hi = mid;
        }
        rows.splice(lo, 0, e);
      }
      if (e.id > this.seenId) this.seenId = e.id;
    }
    this.damaged += delta.skipped;
    if (delta.lastId !== null && delta.lastId > this.seenId) this.seenId = delta.lastId;
    // Retention prunes the oldest events (by time, then id): everything before the store's
    // oldest event is gone there, so it goes here. Not finding that event means this copy
    // and the store disagree (rows deleted behind our back, or damaged): read it all.
    if (delta.oldestId === null) return rows.length === 0;
    let at = 0;
    while (at < rows.length && rows[at].id !== delta.oldestId) at++;
    if (at === rows.length) return full;
    if (at > 0) rows.splice(0, at);
    return true;
  }
}

/** How much an event type says about the visitor's interest (custom types rank as clicks). */
export function strength(type: string): number {
  if (type === 'purchase') return 4;
  if (type === 'add_to_cart') return 3;
  if (type === 'view') return 1;
  return 2;
}

function makeView(
  rowsLive: StoredEvent[],
  vocabularyLive: string[],
  lastId: number,
  gapMs: number,
): HistoryView {
  // A view is a snapshot: later refreshes mutate the live arrays, not these.
  const rows = rowsLive.slice();
  const itemIds = vocabularyLive.slice();
  let sessions: HistorySessions | null = null;
  return {
    size: rows.length,
    itemIds,
    lastId,
    recent(max: number): string[] {
      const from = Math.max(0, rows.length - max);
      const out = new Array<string>(rows.length - from);
      for (let i = from; i < rows.length; i++) out[i - from] = itemIds[rows[i].item];
      return out;
    },
    recentTypes(max: number): string[] {
      const from = Math.max(0, rows.length - max);
      return rows.slice(from).map((e) => e.type);
    },
    strongest(max: number): Map<string, string> {
      const out = new Map<string, string>();
      for (let i = Math.max(0, rows.length - max); i < rows.length; i++) {
        const id = itemIds[rows[i].item];
        const had = out.get(id);
        if (had === undefined || strength(rows[i].type) > strength(had)) out.set(id, rows[i].type);
      }
      return out;
    },
    purchased(): Set<string> {
      const out = new Set<string>();
      for (const e of rows) if (e.type === 'purchase') out.add(itemIds[e.item]);
      return out;
    },
    sessions(): HistorySessions {
      if (sessions) return sessions;
      const n = rows.length;
      const items = new Int32Array(n);
      const times = new Float64Array(n);
      const keys = new Float64Array(n);
      const sessionIds: (string | undefined)[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const e = rows[i];
        items[i] = e.item;
        times[i] = e.t;
        keys[i] = e.id;
        sessionIds[i] = e.session;
      }
      const result = sessionise(
        { items, times, sessionIds, numItems: itemIds.length, keys },
        gapMs,
      );
      sessions = {
        sequences: result.sequences as HistorySessions['sequences'],
        itemIds,
      };
      return sessions;
    },
  };
}
