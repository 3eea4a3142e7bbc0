/**
 * What a pretrained model file carries about the population it was trained on, beside
 * the GRU weights: what the device needs to serve the GRU + SR + item-kNN mix and to
 * fine-tune against the whole catalogue (negatives ∝ population popularity), without
 * fetching anything per visitor. Dense item indices are those of the model's vocabulary.
 */

/** Fixed-width neighbour lists: row i is ids/weights[i·width .. (i+1)·width), best first, −1 pads. */
export interface NeighbourLists {
  width: number;
  ids: Int32Array;
  weights: Float32Array;
}

export interface PopulationStats {
  /** Interactions of each item in the pretraining data (length numItems). */
  counts: Float32Array;
  /** Sequential rules: each item's strongest successors, weight Σ 1/d over gaps d ≤ w. */
  sr: NeighbourLists;
  /** Item-kNN: each item's most similar items, cosine of binary user vectors (+ shrink). */
  knn: NeighbourLists;
  /** Settings of the mix these lists were built for. */
  mix: PopulationMixParams;
}

export interface PopulationMixParams {
  /** SR share of the SR + item-kNN mix (the rest item-kNN). */
  alpha: number;
  /** GRU share of the served mix: β · GRU + (1 − β) · (SR + item-kNN). */
  beta: number;
  /** SR window the rules were counted with. */
  w: number;
  /** Item-kNN shrink the similarities were built with. */
  shrink: number;
  /** How many of the most recent prefix items item-kNN sums over (weights 1/l). */
  L: number;
}

/** Why `stats` is not valid population statistics for `numItems` items, or null. */
export function populationProblem(stats: PopulationStats, numItems: number): string | null {
  const { counts, sr, knn, mix } = stats;
  if (!(counts instanceof Float32Array) || counts.length !== numItems)
    return `counts must be a Float32Array of ${numItems} items`;
  for (let i = 0; i < numItems; i++) {
    if (!(counts[i] >= 0 && counts[i] < Number.POSITIVE_INFINITY))
      return `count of item ${i} is ${counts[i]}`;
  }
  for (const [name, lists] of [
    ['sr', sr],
    ['knn', knn],
  ] as const) {
    if (typeof lists !== 'object' || lists === null) return `${name} lists missing`;
    const problem = listsProblem(lists, numItems);
    if (problem) return `${name}: ${problem}`;
  }
  if (typeof mix !== 'object' || mix === null) return 'mix settings missing';
  const range = (name: keyof PopulationMixParams, lo: number, hi: number, integer = false) => {
    const v = mix[name];
    return typeof v === 'number' && v >= lo && v <= hi && (!integer || Number.isInteger(v))
      ? null
      : `mix ${name} must be ${integer ? 'an integer' : 'a number'} in [${lo}, ${hi}], got ${String(v)}`;
  };
  return (
    range('alpha', 0, 1) ??
    range('beta', 0, 1) ??
    range('w', 1, Number.MAX_SAFE_INTEGER, true) ??
    range('shrink', 0, Number.MAX_VALUE) ??
    range('L', 1, Number.MAX_SAFE_INTEGER, true)
  );
}

function listsProblem(lists: NeighbourLists, numItems: number): string | null {
  const { width, ids, weights } = lists;
  if (!Number.isSafeInteger(width) || width < 0) return `width ${width}`;
  if (!(ids instanceof Int32Array) || !(weights instanceof Float32Array))
    return 'ids must be an Int32Array and weights a Float32Array';
  if (ids.length !== numItems * width || weights.length !== ids.length)
    return `expected ${numItems * width} ids and weights, got ${ids.length} and ${weights.length}`;
  for (let j = 0; j < ids.length; j++) {
    const id = ids[j];
    if (id < -1 || id >= numItems) return `id ${id} at ${j} is outside -1..${numItems - 1}`;
    // SR counts and cosine similarities: never negative (PopulationMix relies on it)
    if (!(Number.isFinite(weights[j]) && weights[j] >= 0)) return `weight ${weights[j]} at ${j}`;
    if (id === -1 && weights[j] !== 0) return `padding at ${j} has weight ${weights[j]}`;
  }
  return null;
}
