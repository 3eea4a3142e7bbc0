import type { Scorer, ScorerCursor } from '../core/scorer';
import { type GruConfig, inputSize } from './config';
import type { GruArrays } from './params';
import { RowDots } from './row-dots';

/**
 * Scoring from the model's weights in plain Float32Arrays. For one sequence at a time a
 * GRU step is ~2·3H·(E+H) flops and a full score row N·(H+1): tens of microseconds in
 * JS, less than the dispatch cost of the ~15 TF.js ops it would take, with no tensors to
 * leak and the same numbers on every backend.
 *
 * The GRU cell here is the one the training kernels compute (step-js.ts for the hybrid
 * kernel, train/kernels/device-ops.ts for the device kernel; test/model/consistency.test.ts
 * holds them equal), written for one sequence in the model's weight layout with exact
 * `Math.exp`/`Math.tanh`: the training step's batched, transposed form with `fastmath`
 * would change the served scores in their last bits.
 */
export class GruJsScorer implements Scorer {
  readonly name: string;
  readonly numItems: number;
  private readonly h: number;
  private readonly e: number;
  private readonly buf: Float32Array;
  /** The scoring pass in WebAssembly SIMD (row-dots.ts); null: the JS loop below. */
  private dots: RowDots | null | undefined;
  // scratch of one step
  private readonly a: Float32Array;
  private readonly ah: Float32Array;
  private readonly z: Float32Array;
  private readonly rh: Float32Array;

  constructor(
    readonly config: GruConfig,
    private readonly w: GruArrays,
    name = 'gru',
  ) {
    this.name = name;
    this.numItems = config.numItems;
    this.h = config.hiddenSize;
    this.e = inputSize(config);
    this.buf = new Float32Array(config.numItems);
    this.a = new Float32Array(3 * this.h);
    this.ah = new Float32Array(3 * this.h);
    this.z = new Float32Array(this.h);
    this.rh = new Float32Array(this.h);
  }

  /** A zero hidden state (start of a sequence). */
  initialState(): Float32Array {
    return new Float32Array(this.h);
  }

  /** Advance `state` in place by one item (no dropout: inference). */
  step(state: Float32Array, item: number): void {
    if (!Number.isInteger(item) || item < 0 || item >= this.numItems) {
      throw new RangeError(`item ${item} outside 0..${this.numItems - 1}`);
    }
    const { h, e, w } = this;
    const h3 = 3 * h;
    const a = this.a;
    const ah = this.ah;
    const wx = w.wx;
    const wh = w.wh;
    // a = x·Wx + b with x the item's input vector
    const src = w.emb ?? w.items;
    const xo = item * (w.emb ? e : h + 1);
    a.set(w.b);
    for (let i = 0; i < e; i++) {
      const xi = src[xo + i];
      const ro = i * h3;
      for (let j = 0; j < h3; j++) a[j] += xi * wx[ro + j];
    }
    // hidden contributions to r, z
    ah.fill(0);
    const h2 = 2 * h;
    for (let i = 0; i < h; i++) {
      const hi = state[i];
      if (hi === 0) continue;
      const ro = i * h3;
      for (let j = 0; j < h2; j++) ah[j] += hi * wh[ro + j];
    }
    const z = this.z;
    for (let j = 0; j < h; j++) {
      const r = 1 / (1 + Math.exp(-(a[j] + ah[j])));
      z[j] = 1 / (1 + Math.exp(-(a[h + j] + ah[h + j])));
      this.rh[j] = r * state[j];
    }
    const rh = this.rh;
    for (let i = 0; i < h; i++) {
      const v = rh[i];
      if (v === 0) continue;
      const ro = i * h3 + h2;
      for (let j = 0; j < h; j++) ah[h2 + j] += v * wh[ro + j];
    }
    for (let j = 0; j < h; j++) {
      const n = Math.tanh(a[h2 + j] + ah[h2 + j]);
      state[j] = state[j] + z[j] * (n - state[j]);
    }
  }

  /** The score of one item given a hidden state (the same sums as `scoresFromState`). */
  logit(state: Float32Array, item: number): number {
    return rowDot(state, this.w.items, item * (this.h + 1), this.h);
  }

  /**
   * Scores of every item given a hidden state (reuses one buffer): `[h, 1] · itemsᵀ`, N·(H+1)
   * multiply-adds, the whole cost of a recommendation at catalog scale. Two rows at a time
   * (each state element loaded once for both) with four partial sums per row (independent
   * add chains the CPU can overlap): 100k items × H 64 in ~2.8 ms against ~5.5 ms for the
   * plain loop in V8 here (bench/scale.ts). Each row's sum is the same as `rowDot`'s.
   * Where WebAssembly SIMD runs, the same sums run there (row-dots.ts), bit for bit.
   */
  scoresFromState(state: Float32Array, out?: Float32Array): Float32Array {
    if (this.dots === undefined) this.dots = RowDots.of(this.w.items, this.numItems, this.h);
    if (this.dots) return this.dots.scores(state, out);
    return this.scoresFromStateJs(state, out);
  }

  /** Which scoring pass runs: `wasm-simd` or `js`. */
  get scoringPass(): 'wasm-simd' | 'js' {
    if (this.dots === undefined) this.dots = RowDots.of(this.w.items, this.numItems, this.h);
    return this.dots ? 'wasm-simd' : 'js';
  }

  /** `scoresFromState` in JS: the loop everywhere WebAssembly SIMD cannot run. */
  scoresFromStateJs(state: Float32Array, out: Float32Array = this.buf): Float32Array {
    const { h, w } = this;
    const items = w.items;
    const n = this.numItems;
    const stride = h + 1;
    const h4 = h & ~3;
    let k = 0;
    for (; k + 2 <= n; k += 2) {
      const o0 = k * stride;
      const o1 = o0 + stride;
      let a0 = 0;
      let b0 = 0;
      let c0 = 0;
      let d0 = 0;
      let a1 = 0;
      let b1 = 0;
      let c1 = 0;
      let d1 = 0;
      let j = 0;
      for (; j < h4; j += 4) {
        const x = state[j];
        const y = state[j + 1];
        const z = state[j + 2];
        const v = state[j + 3];
        a0 += x * items[o0 + j];
        b0 += y * items[o0 + j + 1];
        c0 += z * items[o0 + j + 2];
        d0 += v * items[o0 + j + 3];
        a1 += x * items[o1 + j];
        b1 += y * items[o1 + j + 1];
        c1 += z * items[o1 + j + 2];
        d1 += v * items[o1 + j + 3];
      }
      let s0 = items[o0 + h] + (a0 + b0 + (c0 + d0));
      let s1 = items[o1 + h] + (a1 + b1 + (c1 + d1));
      for (; j < h; j++) {
        s0 += state[j] * items[o0 + j];
        s1 += state[j] * items[o1 + j];
      }
      out[k] = s0;
      out[k + 1] = s1;
    }
    for (; k < n; k++) out[k] = rowDot(state, items, k * stride, h);
    return out;
  }

  scores(prefix: Int32Array): Float32Array {
    const st = this.initialState();
    for (let i = 0; i < prefix.length; i++) this.step(st, prefix[i]);
    return this.scoresFromState(st);
  }

  cursor(): ScorerCursor {
    const st = this.initialState();
    return {
      push: (item: number) => this.step(st, item),
      scores: () => this.scoresFromState(st),
      dispose: () => {},
    };
  }

  /**
   * The k best items after `prefix`, best first, leaving out `exclude` (e.g. items
   * already seen). Selection in one pass with a small min-heap.
   */
  topK(
    prefix: Int32Array,
    k: number,
    exclude?: ArrayLike<number>,
  ): { items: Int32Array; scores: Float32Array } {
    const s = this.scores(prefix);
    return topKOf(s, k, exclude);
  }

  /** Top-k of a score row (e.g. from a cursor), leaving out `exclude`. */
  topKFromScores(
    scores: Float32Array,
    k: number,
    exclude?: ArrayLike<number>,
  ): { items: Int32Array; scores: Float32Array } {
    return topKOf(scores, k, exclude);
  }
}

/** `items[o + h] + state · items[o .. o + h)`, summed as `scoresFromState` sums each row. */
function rowDot(state: Float32Array, items: Float32Array, o: number, h: number): number {
  const h4 = h & ~3;
  let a = 0;
  let b = 0;
  let c = 0;
  let d = 0;
  let j = 0;
  for (; j < h4; j += 4) {
    a += state[j] * items[o + j];
    b += state[j + 1] * items[o + j + 1];
    c += state[j + 2] * items[o + j + 2];
    d += state[j + 3] * items[o + j + 3];
  }
  let s = items[o + h] + (a + b + (c + d));
  for (; j < h; j++) s += state[j] * items[o + j];
  return s;
}

/**
 * The k best of a score row, best first (ties: lower index first), leaving out `exclude`
 * and NaN scores; with `among`, only those indices are candidates (distinct, any order).
 */
export function topKOf(
  s: Float32Array,
  k: number,
  exclude?: ArrayLike<number>,
  among?: ArrayLike<number>,
): { items: Int32Array; scores: Float32Array } {
  const n = s.length;
  let skip: Uint8Array | null = null;
  if (exclude && exclude.length > 0) {
    skip = new Uint8Array(n);
    for (let i = 0; i < exclude.length; i++) {
      const v = exclude[i];
      if (v >= 0 && v < n) skip[v] = 1;
    }
  }
  k = Math.max(0, Math.min(k, n));
  const hi = new Int32Array(k);
  const hv = new Float32Array(k);
  let size = 0;
  // min-heap on score; ties: lower item id ranks first (so it is kept, larger id evicted)
  const less = (a: number, b: number) => hv[a] < hv[b] || (hv[a] === hv[b] && hi[a] > hi[b]);
  const swap = (a: number, b: number) => {
    const ti = hi[a];
    hi[a] = hi[b];
    hi[b] = ti;
    const tv = hv[a];
    hv[a] = hv[b];
    hv[b] = tv;
  };
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < size && less(l, m)) m = l;
      if (r < size && less(r, m)) m = r;
      if (m === i) return;
      swap(i, m);
      i = m;
    }
  };
  const count = among ? among.length : n;
  if (k > 0) {
    for (let c0 = 0; c0 < count; c0++) {
      const i = among ? among[c0] : c0;
      if (skip?.[i] || !(i >= 0 && i < n)) continue;
      const v = s[i];
      if (Number.isNaN(v)) continue;
      if (size < k) {
        hi[size] = i;
        hv[size] = v;
        let c = size++;
        while (c > 0) {
          const p = (c - 1) >> 1;
          if (!less(c, p)) break;
          swap(c, p);
          c = p;
        }
      } else if (v > hv[0] || (v === hv[0] && i < hi[0])) {
        hi[0] = i;
        hv[0] = v;
        down(0);
      }
    }
  }
  const order = Array.from({ length: size }, (_, i) => i).sort(
    (a, b) => hv[b] - hv[a] || hi[a] - hi[b],
  );
  return {
    items: Int32Array.from(order, (i) => hi[i]),
    scores: Float32Array.from(order, (i) => hv[i]),
  };
}
