/**
 * Population statistics of a pretraining log (src/model/population.ts), and the
 * SR + item-kNN mix served from them on the device.
 *
 * `buildPopulation` keeps, per item, only the `srWidth` strongest SR successors and the
 * `knnWidth` nearest item-kNN neighbours, so a model file carries
 * O(numItems · (srWidth + knnWidth)) numbers instead of the fit sequences or the full
 * matrices. `PopulationMix` applies SRItemKNN's rule (mix.ts) to those lists; when no row
 * was cut (width ≥ longest row) it ranks exactly like SRItemKNN fit on the same
 * sequences, up to the float32 rounding of the stored SR weights (sums closer than
 * float32 precision become ties, which popularity then breaks). A model file stores the
 * weights as float16 (src/model/serialize.ts), so lists read back from one carry that
 * coarser rounding.
 */
import { LocalRecError } from '../core/errors';
import type { Sequences } from '../core/scorer';
import {
  type NeighbourLists,
  type PopulationMixParams,
  type PopulationStats,
  populationProblem,
} from '../model/population';
import { type Csr, checkSequences, itemCounts, maxOf } from './common';
import { ITEMKNN_DEFAULTS, ITEMKNN_TIE, topNeighbours } from './itemknn';
import { SR_ITEMKNN_DEFAULTS } from './mix';
import { checkParam } from './params';
import { BaselineScorer } from './scorer-base';
import { SR_DEFAULTS, SR_TIE, sequentialRules } from './sr';

export interface PopulationParams {
  /** Most SR successors kept per item (lists are no wider than their longest row). */
  srWidth: number;
  /** Most item-kNN neighbours kept per item (lists are no wider than their longest row). */
  knnWidth: number;
  /** SR share of the SR + item-kNN mix. */
  alpha: number;
  /** GRU share of the served mix (recorded for the device, not used here). */
  beta: number;
  /** SR window. */
  w: number;
  /** Item-kNN shrink. */
  shrink: number;
  /** Item-kNN prefix length. */
  L: number;
}

export const POPULATION_DEFAULTS: Readonly<PopulationParams> = {
  // SR lists of 20 instead of 50 changed the served mix's NDCG@10 by less than 0.0001 on
  // the replay protocol's validation users, and keep MovieLens' model file under 2 MB
  srWidth: 20,
  knnWidth: 50,
  alpha: SR_ITEMKNN_DEFAULTS.alpha,
  // The GRU's share of the served mix: 0.5 won the replay protocol's validation users
  // (NDCG@10 0.0791 vs 0.0757 at 0.3, 0.0728 at 0.2; docs/experiments/2026-12-04-on-device-learning.md)
  beta: 0.5,
  w: SR_DEFAULTS.w,
  shrink: ITEMKNN_DEFAULTS.shrink,
  // Item-kNN over the last 20 prefix items, not the offline protocol's 10: with cut lists
  // more prefix items cover more candidates (replay validation users, β 0.5: NDCG@10
  // 0.0800 against 0.0792; docs/experiments/2026-12-04-on-device-learning.md).
  L: 20,
};

/**
 * Counts, top-`srWidth` SR successors and top-`knnWidth` item-kNN neighbours of every
 * item of `fit`.
 */
export function buildPopulation(
  fit: Sequences,
  params: Partial<PopulationParams> = {},
): PopulationStats {
  checkSequences(fit);
  if ('width' in params) {
    // the single width of earlier versions, silently ignored otherwise
    throw new LocalRecError(
      'INVALID_INPUT',
      'population: width is now two settings, srWidth and knnWidth',
      { details: { field: 'population.width' } },
    );
  }
  const p = { ...POPULATION_DEFAULTS, ...params };
  const srWidth = checkParam('population', 'srWidth', p.srWidth, { integer: true, min: 1 });
  const knnWidth = checkParam('population', 'knnWidth', p.knnWidth, { integer: true, min: 1 });
  const mix = checkMix(
    { alpha: p.alpha, beta: p.beta, w: p.w, shrink: p.shrink, L: p.L },
    'population',
  );
  return {
    counts: Float32Array.from(itemCounts(fit)),
    sr: topLists(sequentialRules(fit, mix.w), srWidth),
    // already cut to `knnWidth` (ties to lower indices), without the full similarity matrix
    knn: topLists(topNeighbours(fit, mix.shrink, knnWidth), knnWidth),
    mix,
  };
}

/** Throws INVALID_INPUT naming `label` and the field when a mix setting is out of range. */
function checkMix(m: PopulationMixParams, label: string): PopulationMixParams {
  return {
    alpha: checkParam(label, 'alpha', m.alpha, { min: 0, max: 1 }),
    beta: checkParam(label, 'beta', m.beta, { min: 0, max: 1 }),
    w: checkParam(label, 'w', m.w, { integer: true, min: 1 }),
    shrink: checkParam(label, 'shrink', m.shrink, { min: 0 }),
    L: checkParam(label, 'L', m.L, { integer: true, min: 1 }),
  };
}

/**
 * Each CSR row's `width` largest entries, best first, ties to the lower item index,
 * −1 / 0 padded. Ranked on the CSR's own values (float64 for SR) before rounding to
 * float32. The lists are only as wide as the longest row, so a small catalogue does
 * not carry a row of padding per item.
 */
function topLists(csr: Csr<Float64Array | Float32Array>, width: number): NeighbourLists {
  const { ptr, cols, vals } = csr;
  const n = ptr.length - 1;
  let longest = 0;
  for (let r = 0; r < n; r++) longest = Math.max(longest, ptr[r + 1] - ptr[r]);
  const wd = Math.min(width, longest);
  const ids = new Int32Array(n * wd).fill(-1);
  const weights = new Float32Array(n * wd);
  const order = new Int32Array(longest);
  const byWeight = (x: number, y: number) => vals[y] - vals[x] || cols[x] - cols[y];
  for (let r = 0; r < n; r++) {
    const m = ptr[r + 1] - ptr[r];
    const row = order.subarray(0, m);
    for (let t = 0; t < m; t++) row[t] = ptr[r] + t;
    row.sort(byWeight);
    const keep = Math.min(m, wd);
    for (let t = 0; t < keep; t++) {
      ids[r * wd + t] = cols[row[t]];
      weights[r * wd + t] = vals[row[t]];
    }
  }
  return { width: wd, ids, weights };
}

/**
 * Why `stats` cannot be served over `numItems` items, or null when it can: array
 * lengths, ids in −1..numItems−1 with zero weight on −1 padding, finite weights,
 * counts ≥ 0, mix settings in range. Shared by the model file reader (MODEL_CORRUPT)
 * and `PopulationMix` (INVALID_INPUT).
 */
/** Which part of the mix an item's score mostly came from, and the prefix item behind it. */
export interface PopulationExplanation {
  component: 'sr' | 'itemknn';
  /**
   * Dense index of the prefix item that contributed most to that part; -1 when `explain`
   * was told none of that part's items may be named.
   */
  because: number;
}

/**
 * SRItemKNN (mix.ts) served from population lists instead of the fit sequences:
 * SR row = R[last prefix item, ·], item-kNN row = Σ_{l ≤ L} (1/l) · sim[p_l, ·], each with
 * its popularity tie-break, each divided by its maximum over the candidate items, mixed
 * as alpha · SR + (1 − alpha) · item-kNN. Per query O(prefix · width + numItems), no
 * allocation; `explain` on the prefix just scored costs O(L · width).
 */
export class PopulationMix extends BaselineScorer {
  readonly name = 'sr+itemknn';
  readonly params: Record<string, number>;
  /** Mix settings from the file, `beta` included for the GRU mix above this one. */
  readonly mix: Readonly<PopulationMixParams>;
  private readonly sr: NeighbourLists;
  private readonly knn: NeighbourLists;
  private readonly srBase: Float64Array;
  private readonly knnBase: Float64Array;
  private readonly srRow: Float64Array;
  private readonly knnRow: Float64Array;
  private readonly stamp: Int32Array;
  private query = 0;
  // normalised weights of the two rows for the last prepared prefix
  private wa = 0;
  private wb = 0;
  // that prefix (prepared[0 .. preparedLength)), so explain() after scores64() or after
  // itself on the same prefix reuses the rows instead of rebuilding them per item
  private prepared = new Int32Array(16);
  private preparedLength = -1;

  constructor(stats: PopulationStats) {
    const numItems = stats.counts?.length ?? 0;
    super(numItems);
    const problem = populationProblem(stats, numItems);
    if (problem) throw new LocalRecError('INVALID_INPUT', `population: ${problem}`);
    this.mix = { ...stats.mix };
    this.sr = stats.sr;
    this.knn = stats.knn;
    this.params = {
      alpha: this.mix.alpha,
      w: this.mix.w,
      shrink: this.mix.shrink,
      L: this.mix.L,
      widthSR: this.sr.width,
      widthKNN: this.knn.width,
    };
    // the same tie-break terms as SequentialRules and ItemKNN, from the same counts
    const pop = Float64Array.from(stats.counts);
    const srScale = SR_TIE / (maxOf(pop) + 1);
    this.srBase = pop.map((c) => c * srScale);
    const knnScale = ITEMKNN_TIE / Math.max(1, maxOf(pop));
    this.knnBase = pop.map((c) => c * knnScale);
    this.srRow = new Float64Array(numItems);
    this.knnRow = new Float64Array(numItems);
    this.stamp = new Int32Array(numItems);
  }

  scores64(prefix: Int32Array): Float64Array {
    this.prepare(prefix);
    const { wa, wb, srRow, knnRow } = this;
    const row = this.row64;
    for (let i = 0; i < this.numItems; i++) row[i] = wa * srRow[i] + wb * knnRow[i];
    return row;
  }

  /**
   * The part (SR or item-kNN, each as weighted in the mix, tie-breaks left out) that gave
   * `item` more of its score after `prefix`, and the prefix item behind that part: the
   * last one for SR, for item-kNN the p_l with the largest (1/l) · sim[p_l, item] (the
   * most recent on a tie). SR wins a tie between the parts. Null when neither part
   * scores the item above zero. With `allowed` (by prefix position), only those prefix
   * items may be named: `because` is -1 when the part that drove the item has none.
   */
  explain(
    prefix: Int32Array,
    item: number,
    allowed?: (position: number) => boolean,
  ): PopulationExplanation | null {
    if (!Number.isInteger(item) || item < 0 || item >= this.numItems) {
      throw new LocalRecError('INVALID_INPUT', `item ${item} is outside 0..${this.numItems - 1}`, {
        details: { field: 'item' },
      });
    }
    if (prefix.length === 0) return null;
    this.prepare(prefix);
    const last = prefix[prefix.length - 1];
    const srPart = this.wa * weightOf(this.sr, last, item);
    let knnSum = 0;
    let best = -1;
    let bestValue = 0;
    const depth = Math.min(this.mix.L, prefix.length);
    for (let l = 1; l <= depth; l++) {
      const a = prefix[prefix.length - l];
      const v = (1 / l) * weightOf(this.knn, a, item);
      knnSum += v;
      if (v > bestValue && (!allowed || allowed(prefix.length - l))) {
        bestValue = v;
        best = a;
      }
    }
    const knnPart = this.wb * knnSum;
    if (!(srPart > 0) && !(knnPart > 0)) return null;
    const lastAllowed = !allowed || allowed(prefix.length - 1);
    return srPart >= knnPart
      ? { component: 'sr', because: lastAllowed ? last : -1 }
      : { component: 'itemknn', because: best };
  }

  /** Fills both raw rows for `prefix` and the weights that normalise them over candidates. */
  private prepare(prefix: Int32Array): void {
    if (this.isPrepared(prefix)) return;
    const n = this.numItems;
    const q = ++this.query;
    const stamp = this.stamp;
    for (let j = 0; j < prefix.length; j++) stamp[prefix[j]] = q;
    const a = this.srRow;
    const b = this.knnRow;
    a.set(this.srBase);
    b.set(this.knnBase);
    if (prefix.length > 0) addRow(a, this.sr, prefix[prefix.length - 1], 1);
    const depth = Math.min(this.mix.L, prefix.length);
    for (let l = 1; l <= depth; l++) addRow(b, this.knn, prefix[prefix.length - l], 1 / l);
    let maxA = Number.NEGATIVE_INFINITY;
    let maxB = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      if (stamp[i] === q) continue;
      if (a[i] > maxA) maxA = a[i];
      if (b[i] > maxB) maxB = b[i];
    }
    this.wa = this.mix.alpha / (maxA > 0 ? maxA : 1);
    this.wb = (1 - this.mix.alpha) / (maxB > 0 ? maxB : 1);
    if (prefix.length > this.prepared.length)
      this.prepared = new Int32Array(Math.max(prefix.length, 2 * this.prepared.length));
    this.prepared.set(prefix);
    this.preparedLength = prefix.length;
  }

  private isPrepared(prefix: Int32Array): boolean {
    if (prefix.length !== this.preparedLength) return false;
    for (let j = 0; j < prefix.length; j++) if (prefix[j] !== this.prepared[j]) return false;
    return true;
  }
}

/** row[id] += scale · weight over list row `a` (stops at the padding). */
function addRow(row: Float64Array, lists: NeighbourLists, a: number, scale: number): void {
  const { width, ids, weights } = lists;
  const end = (a + 1) * width;
  for (let j = a * width; j < end; j++) {
    const id = ids[j];
    if (id < 0) break;
    row[id] += scale * weights[j];
  }
}

/** Weight of `item` in list row `a`, 0 when it is not there. */
function weightOf(lists: NeighbourLists, a: number, item: number): number {
  const { width, ids, weights } = lists;
  const end = (a + 1) * width;
  for (let j = a * width; j < end; j++) {
    if (ids[j] === item) return weights[j];
    if (ids[j] < 0) break;
  }
  return 0;
}
