/**
 * GRU + SR+ItemKNN mix: each model's row is normalised over the candidate items
 * (the items not in the prefix), then mixed as β · GRU + (1 − β) · SR+ItemKNN, the rule
 * REFERENCE.md uses for SR+ItemKNN itself. The GRU row is turned into probabilities
 * first (softmax), so both parts are non-negative with maximum 1. β is chosen on
 * validation positions only (`chooseBeta`).
 */
import { SRItemKNN } from '../baselines/mix';
import type { Scorer, Sequences } from '../core/scorer';
import type { GruJsScorer } from '../model/js-scorer';

export class GruMixScorer implements Scorer {
  readonly name = 'gru+sr+itemknn';
  readonly numItems: number;
  private readonly row: Float64Array;
  private readonly stamp: Int32Array;
  private q = 0;
  // incremental GRU state: the prefix it was advanced over
  private state: Float32Array;
  private last: Int32Array = new Int32Array(0);

  constructor(
    readonly gru: GruJsScorer,
    readonly mix: SRItemKNN,
    public beta: number,
  ) {
    this.numItems = gru.numItems;
    this.row = new Float64Array(this.numItems);
    this.stamp = new Int32Array(this.numItems);
    this.state = gru.initialState();
  }

  /** GRU scores after `prefix`, stepping only the new items when it extends the last one. */
  private gruRow(prefix: Int32Array): Float32Array {
    let same = prefix.length >= this.last.length;
    for (let i = 0; same && i < this.last.length; i++) same = prefix[i] === this.last[i];
    if (!same) {
      this.state = this.gru.initialState();
      this.last = new Int32Array(0);
    }
    for (let i = this.last.length; i < prefix.length; i++) this.gru.step(this.state, prefix[i]);
    this.last = prefix.slice();
    return this.gru.scoresFromState(this.state);
  }

  /** Both normalised rows (candidate max = 1) for a prefix. */
  parts(prefix: Int32Array): { g: Float64Array; m: Float64Array } {
    const q = ++this.q;
    for (let j = 0; j < prefix.length; j++) this.stamp[prefix[j]] = q;
    return scaledParts(this.gruRow(prefix), this.mix.scores64(prefix), (i) => this.stamp[i] !== q);
  }

  scores64(prefix: Int32Array): Float64Array {
    const { g, m } = this.parts(prefix);
    const b = this.beta;
    for (let i = 0; i < this.numItems; i++) this.row[i] = b * g[i] + (1 - b) * m[i];
    return this.row;
  }

  scores(prefix: Int32Array): Float32Array {
    return Float32Array.from(this.scores64(prefix));
  }
}

/**
 * The two parts of the mix for one prefix, each scaled to a maximum of 1 over the
 * candidates (`isCandidate`): the GRU's scores through their softmax (exp(s − max)), the
 * SR + item-kNN row divided by its candidate maximum (left as it is when that maximum is
 * not positive). The offline mix and the browser's served mix (src/worker/engine.ts)
 * both score with it.
 */
export function scaledParts(
  s: ArrayLike<number>,
  mix: ArrayLike<number>,
  isCandidate: (i: number) => boolean,
): { g: Float64Array; m: Float64Array } {
  const n = s.length;
  let mx = Number.NEGATIVE_INFINITY;
  let mm = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    if (!isCandidate(i)) continue;
    if (s[i] > mx) mx = s[i];
    if (mix[i] > mm) mm = mix[i];
  }
  const w = mm > 0 ? 1 / mm : 1;
  const g = new Float64Array(n);
  const m = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    g[i] = Math.exp(s[i] - mx);
    m[i] = mix[i] * w;
  }
  return { g, m };
}

/**
 * β maximising NDCG@10 over validation positions (PROTOCOL.md ranks: candidates are
 * the items not in the prefix, ties pessimistic). `users` are dense user indices of
 * `full`, each with its last `2k` items being validation (first k) and test (last k):
 * only the validation ones are read.
 */
export function chooseBeta(
  s: GruMixScorer,
  full: Sequences,
  users: Int32Array,
  k: number,
  grid: readonly number[] = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1],
): { beta: number; ndcg: number[] } {
  const sums = new Float64Array(grid.length);
  let count = 0;
  const n = s.numItems;
  const inPrefix = new Int32Array(n);
  let stampNo = 0;
  for (const u of users) {
    const o = full.offsets[u];
    const len = full.offsets[u + 1] - o;
    const first = len - 2 * k;
    if (first < 1) continue;
    for (let p = first; p < first + k; p++) {
      const prefix = full.items.subarray(o, o + p);
      const t = full.items[o + p];
      const { g, m } = s.parts(prefix);
      stampNo++;
      for (let j = 0; j < prefix.length; j++) inPrefix[prefix[j]] = stampNo;
      for (let gi = 0; gi < grid.length; gi++) {
        const b = grid[gi];
        const st = b * g[t] + (1 - b) * m[t];
        let above = 0;
        for (let j = 0; j < n && above < 10; j++) {
          if (j === t || inPrefix[j] === stampNo) continue;
          if (b * g[j] + (1 - b) * m[j] >= st) above++;
        }
        if (above < 10) sums[gi] += 1 / Math.log2(above + 2);
      }
      count++;
    }
  }
  const ndcg = Array.from(sums, (v) => v / Math.max(count, 1));
  let best = 0;
  for (let i = 1; i < grid.length; i++) if (ndcg[i] > ndcg[best]) best = i;
  return { beta: grid[best], ndcg };
}

export function fitMix(fit: Sequences, alpha = 0.2): SRItemKNN {
  return new SRItemKNN(fit, { alpha });
}
