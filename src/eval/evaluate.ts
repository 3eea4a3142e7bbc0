/**
 * True-prefix, full-ranking evaluation (PROTOCOL.md steps 5-8).
 *
 * For every validation or test position of every evaluated user, the scorer sees the
 * user's whole true prefix (all items before the position). Items of that prefix are
 * not candidates, except the target itself (a repeated item can still be predicted:
 * MovieLens has no repeats, other logs may). Rank = 1 + number of other candidates with
 * a score >= the target's (pessimistic ties). A NaN anywhere in a score row throws
 * `SCORE_NAN` naming the model and the position.
 *
 * Cost: one O(numItems) pass per position over a reused score row; the prefix set is a
 * stamp array that grows with the user's sequence, so nothing big is allocated per
 * position.
 */
import { LocalRecError } from '../core/errors';
import type { Scorer } from '../core/scorer';
import { type MetricTable, metricsFromRanks } from './metrics';
import type { EvalDataset } from './protocol';

/**
 * Optional extension a scorer may implement: the same scores in float64. Eval prefers
 * it, because a float32 row cannot carry both a score and a tie-breaking term ~1e-9
 * below it (SR and ItemKNN break ties by popularity that way, as REFERENCE.md defines).
 */
export interface Float64Scorer extends Scorer {
  scores64(prefix: Int32Array): Float64Array;
}

export function hasScores64(s: Scorer): s is Float64Scorer {
  return typeof (s as Partial<Float64Scorer>).scores64 === 'function';
}

export type Split = 'valid' | 'test';

export interface EvaluateOptions {
  /** Called now and then with (positions done, positions total). */
  onProgress?: (done: number, total: number) => void;
  /** Evaluate only the first `maxUsers` evaluated users (quick looks; default all). */
  maxUsers?: number;
}

export interface EvalResult {
  split: Split;
  /** Number of positions scored. */
  n: number;
  metrics: MetricTable;
  /** Rank of each position's target, users in `evalUsers` order, positions oldest first. */
  ranks: Int32Array;
  seconds: number;
}

/** First position (relative to the user's sequence start) of a split, and its length k. */
export function splitStart(split: Split, len: number, k: number): number {
  return split === 'valid' ? len - 2 * k : len - k;
}

/**
 * Rank of `target` in `row` among candidates (items whose stamp differs from `stamp`,
 * plus the target): 1 + #{j != target : candidate, row[j] >= row[target]}.
 * Returns -1 when a NaN is met (the caller reports it).
 */
export function pessimisticRank(
  row: ArrayLike<number>,
  target: number,
  stamps: Int32Array,
  stamp: number,
): number {
  const st = row[target];
  if (Number.isNaN(st)) return -1;
  let above = 0;
  const n = stamps.length;
  for (let j = 0; j < n; j++) {
    const v = row[j];
    if (v >= st) {
      if (stamps[j] !== stamp && j !== target) above++;
    } else if (Number.isNaN(v)) {
      return -1;
    }
  }
  return above + 1;
}

/** Score every position of one split with `scorer` and return ranks and metrics. */
export function evaluate(
  scorer: Scorer,
  data: EvalDataset,
  split: Split,
  options: EvaluateOptions = {},
): EvalResult {
  const t0 = now();
  const { k, full, numItems } = data;
  if (scorer.numItems !== numItems) {
    throw new LocalRecError(
      'INVALID_INPUT',
      `model ${scorer.name} scores ${scorer.numItems} items, the dataset has ${numItems}`,
    );
  }
  const users =
    options.maxUsers === undefined ? data.evalUsers : data.evalUsers.subarray(0, options.maxUsers);
  const total = users.length * k;
  const ranks = new Int32Array(total);
  const stamps = new Int32Array(numItems);
  const widened = new Float64Array(numItems);
  const seq = full.items;
  const use64 = hasScores64(scorer);
  const useCursor = !use64 && typeof scorer.cursor === 'function';
  let done = 0;
  const progressEvery = Math.max(1, Math.floor(total / 100));
  for (let ui = 0; ui < users.length; ui++) {
    const u = users[ui];
    const o = full.offsets[u];
    const len = full.offsets[u + 1] - o;
    const first = splitStart(split, len, k);
    const stamp = ui + 1;
    for (let p = 0; p < first; p++) stamps[seq[o + p]] = stamp;
    const cursor = useCursor ? scorer.cursor?.() : undefined;
    try {
      if (cursor) for (let p = 0; p < first; p++) cursor.push(seq[o + p]);
      for (let p = first; p < first + k; p++) {
        const prefix = seq.subarray(o, o + p);
        const raw: ArrayLike<number> = use64
          ? (scorer as Float64Scorer).scores64(prefix)
          : cursor
            ? cursor.scores()
            : scorer.scores(prefix);
        if (raw.length !== numItems) {
          throw new LocalRecError(
            'INVALID_INPUT',
            `model ${scorer.name} returned ${raw.length} scores for ${numItems} items`,
          );
        }
        // One array type through the hot loop keeps it monomorphic (float32 rows are
        // widened exactly).
        let row: Float64Array;
        if (raw instanceof Float64Array) row = raw;
        else {
          row = widened;
          row.set(raw);
        }
        const target = seq[o + p];
        const rank = pessimisticRank(row, target, stamps, stamp);
        if (rank < 0) {
          throw new LocalRecError(
            'SCORE_NAN',
            `model ${scorer.name} returned a NaN score at ${split} position ${p - first + 1}/${k} of user ${data.userIds[u]} (prefix length ${p}, target item ${data.itemIds[target]})`,
            { details: { model: scorer.name, split, user: data.userIds[u], position: p } },
          );
        }
        ranks[ui * k + (p - first)] = rank;
        stamps[target] = stamp;
        if (cursor) cursor.push(target);
        done++;
        if (options.onProgress && done % progressEvery === 0) options.onProgress(done, total);
      }
    } finally {
      cursor?.dispose();
    }
  }
  options.onProgress?.(total, total);
  return { split, n: total, metrics: metricsFromRanks(ranks), ranks, seconds: (now() - t0) / 1000 };
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}
