import * as tf from '@tensorflow/tfjs-core';
import { type GruConfig, inputSize } from './config';
import { Rng } from './rng';

/**
 * The weights of a one-layer GRU4Rec model, as tensors on the active backend.
 *
 * Shapes (N items, H hidden units, E input width = H when tied):
 *   items: [N, H + 1]  output item vectors with the per-item output bias as the last
 *                      column, so one gather / matMul / sparse update serves both;
 *                      when tied, columns 0..H-1 are also the input embedding.
 *   emb:   [N, E]      separate input embedding (only when `embedding: 'separate'`).
 *   wx:    [E, 3H]     input-to-gates, fused in gate order reset | update | candidate.
 *   wh:    [H, 3H]     hidden-to-gates, same order.
 *   b:     [3H]        gate biases.
 */
export interface GruParams {
  items: tf.Tensor2D;
  emb: tf.Tensor2D | null;
  wx: tf.Tensor2D;
  wh: tf.Tensor2D;
  b: tf.Tensor1D;
}

/** The same weights as plain arrays (serialisation, JS-side scoring, tests). */
export interface GruArrays {
  items: Float32Array;
  emb: Float32Array | null;
  wx: Float32Array;
  wh: Float32Array;
  b: Float32Array;
}

export const PARAM_NAMES = ['items', 'emb', 'wx', 'wh', 'b'] as const;

/** Expected element count of each array for a config. */
export function paramSizes(c: GruConfig): Record<keyof GruArrays, number> {
  const h = c.hiddenSize;
  const e = inputSize(c);
  return {
    items: c.numItems * (h + 1),
    emb: c.embedding === 'separate' ? c.numItems * e : 0,
    wx: e * 3 * h,
    wh: h * 3 * h,
    b: 3 * h,
  };
}

function glorotLimit(fanIn: number, fanOut: number): number {
  return Math.sqrt(6 / (fanIn + fanOut));
}

/**
 * Fill the item rows `fromRow .. numRows-1` of an items matrix [numRows, H + 1]:
 * uniform Glorot over the [N, H] block, zero bias.
 */
export function initItemRows(
  out: Float32Array,
  numRows: number,
  h: number,
  fromRow: number,
  rng: Rng,
  limit: number,
): void {
  for (let r = fromRow; r < numRows; r++) {
    const o = r * (h + 1);
    rng.fillUniform(out, limit, o, o + h);
    out[o + h] = 0;
  }
}

export function initEmbRows(
  out: Float32Array,
  numRows: number,
  e: number,
  fromRow: number,
  rng: Rng,
  limit: number,
): void {
  rng.fillUniform(out, limit, fromRow * e, numRows * e);
}

/**
 * Fresh weights: per-gate uniform Glorot (each [in, H] gate block gets its own
 * sqrt(6 / (in + H)) range), zero biases. Drawn in JS from `seed` so the same seed
 * gives the same weights on every backend.
 */
export function initArrays(c: GruConfig, seed: number): GruArrays {
  const rng = new Rng(seed);
  const h = c.hiddenSize;
  const e = inputSize(c);
  const n = c.numItems;
  const items = new Float32Array(n * (h + 1));
  initItemRows(items, n, h, 0, rng, glorotLimit(n, h));
  let emb: Float32Array | null = null;
  if (c.embedding === 'separate') {
    emb = new Float32Array(n * e);
    initEmbRows(emb, n, e, 0, rng, glorotLimit(n, e));
  }
  const wx = new Float32Array(e * 3 * h);
  const wh = new Float32Array(h * 3 * h);
  // Row-major [in, 3H]: gate g occupies columns g*H .. (g+1)*H-1 of every row.
  for (const [m, rows] of [
    [wx, e],
    [wh, h],
  ] as const) {
    for (let g = 0; g < 3; g++) {
      const lim = glorotLimit(rows, h);
      for (let r = 0; r < rows; r++)
        rng.fillUniform(m, lim, r * 3 * h + g * h, r * 3 * h + (g + 1) * h);
    }
  }
  return { items, emb, wx, wh, b: new Float32Array(3 * h) };
}

export function arraysToParams(c: GruConfig, a: GruArrays): GruParams {
  const h = c.hiddenSize;
  const e = inputSize(c);
  return {
    items: tf.tensor2d(a.items, [c.numItems, h + 1]),
    emb: a.emb ? tf.tensor2d(a.emb, [c.numItems, e]) : null,
    wx: tf.tensor2d(a.wx, [e, 3 * h]),
    wh: tf.tensor2d(a.wh, [h, 3 * h]),
    b: tf.tensor1d(a.b),
  };
}

/** Read weights back to JS (one sync read per tensor; not for hot paths). */
export function paramsToArrays(p: GruParams): GruArrays {
  return {
    items: p.items.dataSync() as Float32Array,
    emb: p.emb ? (p.emb.dataSync() as Float32Array) : null,
    wx: p.wx.dataSync() as Float32Array,
    wh: p.wh.dataSync() as Float32Array,
    b: p.b.dataSync() as Float32Array,
  };
}

export function cloneParams(p: GruParams): GruParams {
  return {
    items: tf.clone(p.items),
    emb: p.emb ? tf.clone(p.emb) : null,
    wx: tf.clone(p.wx),
    wh: tf.clone(p.wh),
    b: tf.clone(p.b),
  };
}

export function disposeParams(p: GruParams): void {
  p.items.dispose();
  p.emb?.dispose();
  p.wx.dispose();
  p.wh.dispose();
  p.b.dispose();
}

/** True when every weight is finite (one read per tensor). */
export function paramsFinite(p: GruParams): boolean {
  const all = tf.tidy(() => {
    const parts = [p.items, p.wx, p.wh, p.b, ...(p.emb ? [p.emb] : [])].map((t) =>
      tf.all(tf.isFinite(t)),
    );
    return tf.all(tf.stack(parts));
  });
  const ok = all.dataSync()[0] === 1;
  all.dispose();
  return ok;
}
