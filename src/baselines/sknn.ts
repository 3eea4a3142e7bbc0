/**
 * Session-based kNN (Ludewig & Jannach 2018, "Evaluation of session-based recommendation
 * algorithms", sections on SKNN and V-SKNN), with every fit sequence as a past session
 * and the whole true prefix as the current session.
 *
 * - SKNN: sessions as binary item sets; sim(s, n) = |s ∩ n| / sqrt(|s| · |n|) (cosine);
 *   the k most similar past sessions (all sessions are candidates: no sampling);
 *   score(i) = Σ_{n in N_k(s)} sim(s, n) · 1[i ∈ n].
 * - V-SKNN: the current session as a real vector whose last item weighs 1 and earlier
 *   items decay linearly with their position (weight j / |s| for the j-th of |s| items;
 *   a repeated item keeps its latest weight); sim = dot product with the binary past
 *   session; the k most similar sessions vote sim(s, n) / step(n) for their items, where
 *   step(n) = 1 + the number of prefix items after the latest one n shares (the
 *   neighbour-recency decay of the V-SKNN implementation Ludewig & Jannach evaluate;
 *   without it the REFERENCE.md row is missed by 0.013 HR@10, with it matched).
 *
 * Neighbour ties are broken by sequence index (lower first). Query cost: one pass over
 * the inverted index of the prefix items, O(Σ_{i in s} #sessions(i)), then O(k · |n|).
 */
import type { Sequences } from '../core/scorer';
import { type BinaryIncidence, binaryIncidence, checkSequences } from './common';
import { checkParam } from './params';
import { BaselineScorer } from './scorer-base';

export interface SKNNParams {
  /** Number of neighbour sessions. */
  k: number;
}

export const SKNN_DEFAULTS: SKNNParams = { k: 20 };
export const VSKNN_DEFAULTS: SKNNParams = { k: 50 };

abstract class SessionKNNBase extends BaselineScorer {
  readonly params: Record<string, number>;
  protected readonly inc: BinaryIncidence;
  protected readonly k: number;
  /** Per-sequence accumulators (reset after each query through `touched`). */
  protected readonly acc: Float64Array;
  protected readonly touched: Int32Array;
  /** Per-sequence: 1 + how many prefix items follow the latest item it shares. */
  protected readonly step: Int32Array;
  /** Per-item query weights and the stamp that marks them valid for this query. */
  protected readonly weight: Float64Array;
  protected readonly stamp: Int32Array;
  protected query = 0;
  private readonly topSeq: Int32Array;
  private readonly topSim: Float64Array;

  constructor(model: string, fit: Sequences, params: Partial<SKNNParams>, defaults: SKNNParams) {
    checkSequences(fit);
    super(fit.numItems);
    const p = { ...defaults, ...params };
    this.k = checkParam(model, 'k', p.k, { integer: true, min: 1 });
    this.params = { k: this.k };
    this.inc = binaryIncidence(fit);
    const numSeq = this.inc.seqPtr.length - 1;
    this.acc = new Float64Array(numSeq);
    this.touched = new Int32Array(numSeq);
    this.step = new Int32Array(numSeq);
    this.weight = new Float64Array(fit.numItems);
    this.stamp = new Int32Array(fit.numItems);
    this.topSeq = new Int32Array(this.k);
    this.topSim = new Float64Array(this.k);
  }

  /**
   * Mark the query's items (this.weight / this.stamp for this.query) and return the
   * number of distinct items.
   */
  protected abstract weighQuery(prefix: Int32Array): number;

  /** Similarity of a past session from its accumulated overlap weight. */
  protected abstract similarity(overlap: number, seqLen: number, querySize: number): number;

  /** Weight of a neighbour's votes given `step` (1 = it holds the last prefix item). */
  protected abstract decay(step: number): number;

  scores64(prefix: Int32Array): Float64Array {
    const row = this.row64;
    row.fill(0);
    if (prefix.length === 0) return row;
    this.query++;
    const size = this.weighQuery(prefix);
    const { itemPtr, itemSeqs, seqPtr, seqItems } = this.inc;
    const acc = this.acc;
    const touched = this.touched;
    let count = 0;
    // Overlap of every past session with the query, through the inverted index.
    for (let j = prefix.length - 1; j >= 0; j--) {
      const a = prefix[j];
      if (this.stamp[a] !== this.query) continue;
      this.stamp[a] = -this.query; // visit each distinct item once
      const w = this.weight[a];
      for (let q = itemPtr[a]; q < itemPtr[a + 1]; q++) {
        const s = itemSeqs[q];
        if (acc[s] === 0) {
          touched[count++] = s;
          this.step[s] = prefix.length - j; // first touch = latest shared item
        }
        acc[s] += w;
      }
    }
    // Top k by similarity, ties to the lower sequence index.
    const k = this.k;
    const topSeq = this.topSeq;
    const topSim = this.topSim;
    let filled = 0;
    for (let t = 0; t < count; t++) {
      const s = touched[t];
      const sim = this.similarity(acc[s], seqPtr[s + 1] - seqPtr[s], size);
      acc[s] = 0;
      if (filled === k && !(sim > topSim[k - 1] || (sim === topSim[k - 1] && s < topSeq[k - 1])))
        continue;
      let at = filled < k ? filled++ : k - 1;
      while (at > 0 && (topSim[at - 1] < sim || (topSim[at - 1] === sim && topSeq[at - 1] > s))) {
        topSim[at] = topSim[at - 1];
        topSeq[at] = topSeq[at - 1];
        at--;
      }
      topSim[at] = sim;
      topSeq[at] = s;
    }
    for (let t = 0; t < filled; t++) {
      const s = topSeq[t];
      const sim = topSim[t] * this.decay(this.step[s]);
      for (let j = seqPtr[s]; j < seqPtr[s + 1]; j++) row[seqItems[j]] += sim;
    }
    return row;
  }
}

/** SKNN: binary sessions, cosine similarity. */
export class SKNN extends SessionKNNBase {
  readonly name: string = 'sknn';

  constructor(fit: Sequences, params: Partial<SKNNParams> = {}) {
    super('sknn', fit, params, SKNN_DEFAULTS);
  }

  protected weighQuery(prefix: Int32Array): number {
    let size = 0;
    for (let j = 0; j < prefix.length; j++) {
      const a = prefix[j];
      if (this.stamp[a] !== this.query) {
        this.stamp[a] = this.query;
        this.weight[a] = 1;
        size++;
      }
    }
    return size;
  }

  protected similarity(overlap: number, seqLen: number, querySize: number): number {
    return overlap / Math.sqrt(querySize * seqLen);
  }

  protected decay(_step: number): number {
    return 1;
  }
}

/** V-SKNN: linearly decaying weights on the current session, dot-product similarity. */
export class VSKNN extends SessionKNNBase {
  readonly name: string = 'vsknn';

  constructor(fit: Sequences, params: Partial<SKNNParams> = {}) {
    super('vsknn', fit, params, VSKNN_DEFAULTS);
  }

  protected weighQuery(prefix: Int32Array): number {
    let size = 0;
    const len = prefix.length;
    for (let j = 0; j < len; j++) {
      const a = prefix[j];
      if (this.stamp[a] !== this.query) {
        this.stamp[a] = this.query;
        size++;
      }
      this.weight[a] = (j + 1) / len; // the latest occurrence wins
    }
    return size;
  }

  protected similarity(overlap: number, _seqLen: number, _querySize: number): number {
    return overlap;
  }

  /** Votes of a neighbour whose latest shared item is `step` items back weigh 1/step. */
  protected decay(step: number): number {
    return 1 / step;
  }
}

export function fitSKNN(fit: Sequences, params: Partial<SKNNParams> = {}): SKNN {
  return new SKNN(fit, params);
}

export function fitVSKNN(fit: Sequences, params: Partial<SKNNParams> = {}): VSKNN {
  return new VSKNN(fit, params);
}
