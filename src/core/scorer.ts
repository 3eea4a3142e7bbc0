/**
 * The one contract every recommender of localrec implements: the GRU model and each
 * classical baseline. Eval, the demo's side-by-side comparison and the runtime's
 * cold-start fallback all talk to models through it alone.
 *
 * Item ids here are dense indices `0 .. numItems - 1` (the vocabulary maps site ids to
 * them). A prefix is a user's/session's items, oldest first.
 */
export interface Scorer {
  /** Short name used in tables and in `recommend()` results, e.g. `pop`, `sr`, `gru`. */
  readonly name: string;
  /** Size of the catalog the scores cover. */
  readonly numItems: number;
  /**
   * Score of every item (length `numItems`, higher = more likely next) after `prefix`.
   * Pure with respect to the prefix. May return a reused buffer: copy it to keep it.
   */
  scores(prefix: Int32Array): Float32Array;
  /**
   * Optional incremental form for sequence models whose cost grows with the prefix
   * (the GRU): feed items one at a time and read scores at any point. Eval uses it when
   * present so a user's positions cost O(length) instead of O(length²).
   */
  cursor?(): ScorerCursor;
}

export interface ScorerCursor {
  /** Consume the next item of the sequence. */
  push(item: number): void;
  /** Scores after everything pushed so far (same contract as `Scorer.scores`). */
  scores(): Float32Array;
  /** Free any resources (tensors). */
  dispose(): void;
}

/**
 * Sequences in CSR form: sequence s is `items[offsets[s] .. offsets[s + 1])`, oldest
 * first. `offsets.length === numSequences + 1`. The shape the store returns and the
 * trainer, eval and baselines take.
 */
export interface Sequences {
  items: Int32Array;
  offsets: Int32Array;
  /** Optional event times (ms or s, as given), aligned with `items`. */
  times?: Float64Array;
  numItems: number;
}
