// How long events are kept: a property of events that validation (refusing events the
// store would prune at once) and the store (pruning) both apply. Lives with the events
// so the store depends on events, never the other way round.

export interface RetentionPolicy {
  /** Keep at most this many events (oldest pruned first). `Infinity` disables. */
  maxEvents: number;
  /** Drop events older than this many days. `Infinity` disables. */
  maxAgeDays: number;
}

/**
 * Defaults: a year of typical browsing in a few MB.
 *
 * Arithmetic. An engaged visitor of one site produces ~20 events per visit and ~10
 * visits a month: ~2,400 events a year; a heavy daily user ~50 a day: ~18,000 a year.
 * An event row (`{id, t, item, type, session}`) structured-clones to ~60-100 bytes;
 * with its by-time index entry (~20 B) and the engine's per-row overhead (LevelDB in
 * Chromium, SQLite in Firefox/Safari) ~150 B on disk; `stats().bytesEstimate` measures
 * ~130 B per event of serialised rows + overhead (bench/store.ts).
 * 20,000 events × 150 B ≈ 3 MB, plus a vocabulary of at most 20,000 ids × ~60 B
 * ≈ 1.2 MB worst case. So: 20,000 events and 365 days; the age cap binds for
 * typical visitors, the count cap for heavy ones. Events with large `properties`
 * (up to 1 KB each) can raise this, which is why `properties` is capped.
 */
export const DEFAULT_RETENTION: Readonly<RetentionPolicy> = Object.freeze({
  maxEvents: 20_000,
  maxAgeDays: 365,
});

export const DAY_MS = 24 * 60 * 60 * 1000;
