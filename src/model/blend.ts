import { inputSize } from './config';
import { GruModel } from './model';

/**
 * Weights `base + blend · (tuned − base)`: a fine-tuned model pulled back toward the
 * model it started from (blend 1 = the tuned model, 0 = the base). Rows of items the
 * base never had (the catalogue grew during fine-tuning) keep their tuned values, so new
 * items stay recommendable. `tuned` must have been trained from `base` (same
 * architecture, its catalogue a superset in the same order).
 */
export function blendToward(base: GruModel, tuned: GruModel, blend: number): GruModel {
  if (!(blend >= 0 && blend <= 1)) throw new RangeError(`blend must be in [0, 1], got ${blend}`);
  const c = tuned.config;
  if (
    base.config.hiddenSize !== c.hiddenSize ||
    base.config.embedding !== c.embedding ||
    base.numItems > tuned.numItems
  ) {
    throw new RangeError('blendToward: the tuned model was not trained from this base');
  }
  const a = base.toArrays();
  const t = tuned.toArrays();
  const mix = (from: Float32Array, to: Float32Array, upTo = to.length): Float32Array => {
    const out = to.slice();
    for (let i = 0; i < upTo; i++) out[i] = from[i] + blend * (to[i] - from[i]);
    return out;
  };
  return GruModel.fromArrays(
    c,
    {
      items: mix(a.items, t.items, base.numItems * (c.hiddenSize + 1)),
      emb: t.emb && a.emb ? mix(a.emb, t.emb, base.numItems * inputSize(c)) : t.emb,
      wx: mix(a.wx, t.wx),
      wh: mix(a.wh, t.wh),
      b: mix(a.b, t.b),
    },
    tuned.vocab,
    tuned.meta,
  );
}
