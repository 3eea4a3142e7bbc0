import { type GruConfig, inputSize } from './config';
import { Rng } from './rng';

/**
 * The weights of a one-layer GRU4Rec model, as plain row-major arrays (training,
 * serialisation, JS-side scoring).
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
export interface GruArrays {
  items: Float32Array;
  emb: Float32Array | null;
  wx: Float32Array;
  wh: Float32Array;
  b: Float32Array;
}

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
