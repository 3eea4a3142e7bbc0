// How the device adapts a site's pretrained model to its visitor: the defaults, and which
// of the visitor's sessions a run trains on. Pure (no TF.js, no store): the Recommender
// calls it on the page, tests call it in Node.
import { invalidInput as invalid } from '../core/errors';

export interface FineTuneOptions {
  /**
   * `pretrained` (default when the site gives a pretrained model): every run starts
   * again from the site's model and trains on the visitor's recent history, so updates
   * never compound; `current`: continue from the last model on the sessions it has not
   * seen.
   */
  base?: 'pretrained' | 'current';
  /**
   * How far the result may move from the pretrained weights: pretrained + blend ·
   * (tuned − pretrained). 0 keeps the pretrained model (items it never saw still get
   * their tuned rows), 1 takes the tuned model as it is.
   */
  blend?: number;
  /** Negatives ∝ the pretraining population's popularity (from the model file). */
  populationNegatives?: boolean;
  /** Most recent events a run from the pretrained model trains on. */
  maxEvents?: number;
}

export type ResolvedFineTune = Required<FineTuneOptions>;

/**
 * Defaults chosen on the replay protocol's validation users (docs/MODEL.md, "On the device:
 * what a visitor is served"), never on its held-out users.
 */
export const FINE_TUNE_DEFAULTS: ResolvedFineTune = {
  base: 'pretrained',
  // Every blend above 0 served the validation users worse than the untouched model
  // (NDCG@10: blend 0.5 −0.0006, 1 −0.0031 at lr 0.01; docs/experiments/2026-12-04-on-device-learning.md): by default the
  // device keeps the pretrained weights and learns rows only for items new to the model.
  blend: 0,
  populationNegatives: true,
  maxEvents: 500,
};

/** Trainer settings of a run from the pretrained model (TrainOptions of src/train). */
export const FINE_TUNE_TRAIN_DEFAULTS: Readonly<Record<string, number | string | boolean>> = {
  epochs: 1,
  lr: 0.01,
  momentum: 0,
  dropoutEmbedding: 0,
  dropoutHidden: 0,
};

export function resolveFineTune(options: FineTuneOptions = {}): ResolvedFineTune {
  const r = { ...FINE_TUNE_DEFAULTS };
  for (const [k, v] of Object.entries(options))
    if (v !== undefined) (r as Record<string, unknown>)[k] = v;
  if (r.base !== 'pretrained' && r.base !== 'current')
    throw invalid(
      'training.fineTune.base',
      `must be 'pretrained' or 'current', got ${String(r.base)}`,
    );
  if (typeof r.blend !== 'number' || !(r.blend >= 0 && r.blend <= 1))
    throw invalid('training.fineTune.blend', `must be a number in [0, 1], got ${String(r.blend)}`);
  if (typeof r.populationNegatives !== 'boolean')
    throw invalid('training.fineTune.populationNegatives', 'must be a boolean');
  if (!Number.isInteger(r.maxEvents) || r.maxEvents < 2)
    throw invalid(
      'training.fineTune.maxEvents',
      `must be an integer ≥ 2, got ${String(r.maxEvents)}`,
    );
  return r;
}

export interface SessionSlice {
  items: Int32Array;
  offsets: Int32Array;
  /** Sessions kept. */
  sessions: number;
}

/**
 * The sessions a run trains on: those with at least two events (one next-item pair)
 * holding an event the model has not seen, i.e. one whose store sequence number (`keys`)
 * is above `afterKey` (sequence numbers only grow, so a wrong clock cannot hide new
 * events), in store order; with `maxEvents`, only the most recent events of them (an
 * older session cut at its front), so a long-time visitor's run stays short.
 */
export function trainingSlice(
  sequences: { items: Int32Array; offsets: Int32Array; times: Float64Array; keys?: Float64Array },
  options: { afterKey?: number; maxEvents?: number } = {},
): SessionSlice {
  const { items, offsets, times, keys } = sequences;
  const afterKey = options.afterKey ?? Number.NEGATIVE_INFINITY;
  if (afterKey > Number.NEGATIVE_INFINITY && !keys)
    throw new RangeError("trainingSlice: afterKey needs the sequences' keys");
  const cap = options.maxEvents ?? Number.POSITIVE_INFINITY;
  const keep: number[] = [];
  for (let s = 0; s + 1 < offsets.length; s++) {
    if (offsets[s + 1] - offsets[s] < 2) continue;
    let unseen = afterKey === Number.NEGATIVE_INFINITY;
    for (let p = offsets[s]; !unseen && p < offsets[s + 1]; p++)
      unseen = (keys as Float64Array)[p] > afterKey;
    if (unseen) keep.push(s);
  }
  // Newest sessions first (by their last event) until the cap is reached.
  const byEnd = [...keep].sort(
    (a, b) => times[offsets[b + 1] - 1] - times[offsets[a + 1] - 1] || b - a,
  );
  const from = new Map<number, number>();
  let left = cap;
  for (const s of byEnd) {
    if (left < 2) break;
    const len = offsets[s + 1] - offsets[s];
    const take = Math.min(len, left);
    from.set(s, offsets[s + 1] - take);
    left -= take;
  }
  const kept = keep.filter((s) => from.has(s));
  let total = 0;
  for (const s of kept) total += offsets[s + 1] - (from.get(s) as number);
  const out = new Int32Array(total);
  const outOffsets = new Int32Array(kept.length + 1);
  let at = 0;
  kept.forEach((s, j) => {
    const start = from.get(s) as number;
    out.set(items.subarray(start, offsets[s + 1]), at);
    at += offsets[s + 1] - start;
    outOffsets[j + 1] = at;
  });
  return { items: out, offsets: outOffsets, sessions: kept.length };
}
