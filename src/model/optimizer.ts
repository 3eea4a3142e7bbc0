/**
 * Optimisers over plain Float32Arrays, applied in JS after the gradients are read
 * back from the device. Why not on the device: on the WASM backend a row `gather` of
 * the item matrix costs ~4-6 ms and each `tensorScatterUpdate` (a copy of the whole
 * [N, H+1] matrix) ~2-3 ms, against ~0.1 ms to copy those rows in JS; and every extra
 * op costs ~0.1-0.2 ms of dispatch. Reading the step's gradients back is one memcpy per
 * tensor on WASM/CPU.
 *
 * - `adagrad` with momentum, as in the GRU4Rec papers:
 *     acc += g²;  u = lr · g / sqrt(acc + ε);  v = μ·v + u;  W −= v   (v = u when μ = 0)
 * - `adam` (Kingma & Ba) with bias correction; for item rows it is "lazy" Adam (only
 *   the touched rows' moments move).
 *
 * Item matrices get *sparse* (row-wise) updates: only the rows a step touched (its
 * inputs, targets and sampled negatives) change, weights and optimiser state alike.
 */
import type { SimdStore } from './simd';

export type OptimizerKind = 'adagrad' | 'adam';

export interface OptimizerHyper {
  kind: OptimizerKind;
  lr: number;
  /** Adagrad momentum μ (0 = plain Adagrad). */
  momentum: number;
  /** Adam β1, β2. */
  beta1: number;
  beta2: number;
  eps: number;
}

/**
 * A weight array with its optimiser state; updated in place. When `w` lives in a
 * `SimdStore` (model/simd.ts) the state is allocated there too and Adagrad runs in
 * WebAssembly SIMD lanes (float32 throughout; ~4x the JS loop's speed); Adam, and arrays
 * elsewhere, take the JS loops below (float64 arithmetic, rounded once on store).
 */
export class OptimizedArray {
  readonly s1: Float32Array;
  readonly s2: Float32Array | null;
  private readonly store: SimdStore | null;

  constructor(
    readonly w: Float32Array,
    /** Row width (elements per row) for sparse updates. */
    readonly width: number,
    private readonly hp: OptimizerHyper,
    store: SimdStore | null = null,
  ) {
    this.store = store?.holds(w) && hp.kind === 'adagrad' ? store : null;
    const alloc = (n: number) => (this.store ? this.store.alloc(n) : new Float32Array(n));
    this.s1 = alloc(w.length);
    this.s2 = hp.kind === 'adam' || hp.momentum > 0 ? alloc(w.length) : null;
  }

  /** Update elements [from, to) with gradient g[gFrom ..]. */
  private apply(from: number, to: number, g: ArrayLike<number>, gFrom: number, step: number): void {
    const { w, s1, s2, hp } = this;
    if (hp.kind === 'adam') {
      const b1 = hp.beta1;
      const b2 = hp.beta2;
      const c1 = 1 - b1 ** step;
      const c2 = 1 - b2 ** step;
      const lr = hp.lr / c1;
      const m = s1;
      const v = s2!;
      for (let i = from, k = gFrom; i < to; i++, k++) {
        const gi = g[k];
        m[i] = b1 * m[i] + (1 - b1) * gi;
        v[i] = b2 * v[i] + (1 - b2) * gi * gi;
        w[i] -= (lr * m[i]) / (Math.sqrt(v[i] / c2) + hp.eps);
      }
      return;
    }
    const { lr, eps, momentum } = hp;
    if (s2) {
      for (let i = from, k = gFrom; i < to; i++, k++) {
        const gi = g[k];
        const a = s1[i] + gi * gi;
        s1[i] = a;
        const v = momentum * s2[i] + (lr * gi) / Math.sqrt(a + eps);
        s2[i] = v;
        w[i] -= v;
      }
    } else {
      for (let i = from, k = gFrom; i < to; i++, k++) {
        const gi = g[k];
        const a = s1[i] + gi * gi;
        s1[i] = a;
        w[i] -= (lr * gi) / Math.sqrt(a + eps);
      }
    }
  }

  /** Dense update of the whole array. */
  dense(g: Float32Array, step: number): void {
    const { hp, store } = this;
    if (store?.adagrad(this.w, this.s1, this.s2, g, hp.lr, hp.momentum, hp.eps)) return;
    this.apply(0, this.w.length, g, 0, step);
  }

  /** Row-wise update: `rows[u]` gets gradient row u of `g` ([U, width]). Rows unique. */
  rows(rows: Int32Array, g: Float32Array, step: number): void {
    const { hp, store } = this;
    const c = this.width;
    if (store?.adagradRows(this.w, this.s1, this.s2, rows, g, c, hp.lr, hp.momentum, hp.eps))
      return;
    for (let u = 0; u < rows.length; u++) this.apply(rows[u] * c, rows[u] * c + c, g, u * c, step);
  }
}
