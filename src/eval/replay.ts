/**
 * The `replay` protocol (docs/PROTOCOL.md): what a visitor is served, event by event.
 * This module holds its pure parts — which users are held out, which positions are
 * scored, and the statistics (means with standard errors over positions and clustered
 * by user, paired differences, position ranges). The driver that replays a user through
 * the product's own `Recommender` lives with the CLI (cli/replay.ts).
 *
 * No Node APIs and no other layer: plain typed arrays in, numbers out.
 */
import { LocalRecError } from '../core/errors';
import { METRICS, type MeanSE, type MetricName, metricValue } from './metrics';

export interface ReplaySplitOptions {
  /** Held-out (test) users. Default 100. */
  users?: number;
  /** Validation users, taken after the held-out ones in the same order. Default 100. */
  validationUsers?: number;
  /** Only users with at least this many interactions are eligible. Default 20. */
  minLength?: number;
  /** Seed of the user order. Default 0. */
  seed?: number;
}

export interface ReplaySplit {
  /** Dense user indices (sequence numbers), in hash order. */
  test: Int32Array;
  validation: Int32Array;
  /** Everyone else, ascending: the pretraining population. */
  population: Int32Array;
}

/** Seeded hash of a raw user id: the order users are drawn in. */
export function userHash(userId: number, seed: number): number {
  let h = Math.imul((userId ^ Math.imul(seed, 0x27d4eb2f)) >>> 0, 0x9e3779b1) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  return h >>> 0;
}

/**
 * Held-out and validation users: eligible users (length ≥ minLength) ordered by
 * `userHash(id, seed)` (ties by id), the first `users` held out, the next
 * `validationUsers` for tuning. Everyone else is the population the model is pretrained
 * on, so neither set's histories are ever trained on before their replay.
 */
export function replaySplit(
  userIds: ArrayLike<number>,
  offsets: ArrayLike<number>,
  options: ReplaySplitOptions = {},
): ReplaySplit {
  const nTest = options.users ?? 100;
  const nValid = options.validationUsers ?? 100;
  const minLength = options.minLength ?? 20;
  const seed = options.seed ?? 0;
  for (const [name, v] of [
    ['users', nTest],
    ['validationUsers', nValid],
    ['minLength', minLength],
  ] as const) {
    if (!Number.isInteger(v) || v < 0) {
      throw new LocalRecError('INVALID_INPUT', `${name} must be a non-negative integer`, {
        details: { field: name },
      });
    }
  }
  const eligible: number[] = [];
  for (let u = 0; u < userIds.length; u++)
    if (offsets[u + 1] - offsets[u] >= minLength) eligible.push(u);
  if (eligible.length < nTest + nValid) {
    throw new LocalRecError(
      'INVALID_INPUT',
      `replay needs ${nTest + nValid} users with ≥ ${minLength} interactions, the data has ${eligible.length}`,
      { details: { field: 'users' } },
    );
  }
  const key = eligible.map((u) => userHash(userIds[u], seed));
  const order = eligible.map((_, j) => j).sort((a, b) => key[a] - key[b] || a - b);
  const test = Int32Array.from(order.slice(0, nTest), (j) => eligible[j]);
  const validation = Int32Array.from(order.slice(nTest, nTest + nValid), (j) => eligible[j]);
  const out = new Set([...test, ...validation]);
  const population: number[] = [];
  for (let u = 0; u < userIds.length; u++) if (!out.has(u)) population.push(u);
  return { test, validation, population: Int32Array.from(population) };
}

/** Position ranges reported separately: early positions are where a visitor is new. */
export const POSITION_RANGES: readonly { label: string; from: number; to: number }[] = [
  { label: '5-9', from: 5, to: 9 },
  { label: '10-19', from: 10, to: 19 },
  { label: '20-39', from: 20, to: 39 },
  { label: '40+', from: 40, to: Number.POSITIVE_INFINITY },
];

/** A mean with its SE over positions (std/√n) and clustered by user (`se`, the fairer). */
export interface ReplayMeanSE extends MeanSE {
  /** Standard error over positions, treating them as independent (std / √n). */
  sePositions: number;
}

/**
 * Mean of `values` with the user-clustered SE: √(G/(G−1) · Σ_g (Σ_{j∈g} (x_j − x̄))²) / n
 * for G users (the sandwich estimator of a mean), and the plain SE over positions.
 * `users[j]` is the user of position j; positions of one user need not be adjacent.
 */
export function clusteredMeanSE(values: ArrayLike<number>, users: ArrayLike<number>): ReplayMeanSE {
  const n = values.length;
  if (n === 0) return { mean: Number.NaN, se: Number.NaN, sePositions: Number.NaN };
  let sum = 0;
  for (let j = 0; j < n; j++) sum += values[j];
  const mean = sum / n;
  let ss = 0;
  const byUser = new Map<number, number>();
  for (let j = 0; j < n; j++) {
    const d = values[j] - mean;
    ss += d * d;
    byUser.set(users[j], (byUser.get(users[j]) ?? 0) + d);
  }
  const g = byUser.size;
  let sc = 0;
  for (const s of byUser.values()) sc += s * s;
  return {
    mean,
    se: g > 1 ? Math.sqrt((g / (g - 1)) * sc) / n : 0,
    sePositions: n > 1 ? Math.sqrt(ss / (n - 1)) / Math.sqrt(n) : 0,
  };
}

/** The scored positions of a replay: user and 0-based position t of each. */
export interface ReplayPositions {
  users: Int32Array;
  positions: Int32Array;
}

export type ReplayMetricTable = Record<MetricName, ReplayMeanSE>;

/** Metrics of one model's ranks on the replay's positions (optionally a subset). */
export function replayMetrics(
  ranks: ArrayLike<number>,
  at: ReplayPositions,
  keep?: (j: number) => boolean,
): ReplayMetricTable {
  const idx: number[] = [];
  for (let j = 0; j < ranks.length; j++) if (!keep || keep(j)) idx.push(j);
  const users = Int32Array.from(idx, (j) => at.users[j]);
  const out = {} as ReplayMetricTable;
  const values = new Float64Array(idx.length);
  for (const m of METRICS) {
    idx.forEach((j, q) => {
      values[q] = metricValue(m, ranks[j]);
    });
    out[m] = clusteredMeanSE(values, users);
  }
  return out;
}

/** Paired difference `a − b` on the same positions, every metric, both SEs. */
export function replayPaired(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  at: ReplayPositions,
  keep?: (j: number) => boolean,
): ReplayMetricTable {
  if (a.length !== b.length) {
    throw new RangeError(`paired ranks differ in length (${a.length} vs ${b.length})`);
  }
  const idx: number[] = [];
  for (let j = 0; j < a.length; j++) if (!keep || keep(j)) idx.push(j);
  const users = Int32Array.from(idx, (j) => at.users[j]);
  const values = new Float64Array(idx.length);
  const out = {} as ReplayMetricTable;
  for (const m of METRICS) {
    idx.forEach((j, q) => {
      values[q] = metricValue(m, a[j]) - metricValue(m, b[j]);
    });
    out[m] = clusteredMeanSE(values, users);
  }
  return out;
}

/** Index filter for a position range of POSITION_RANGES. */
export function inRange(
  at: ReplayPositions,
  range: { from: number; to: number },
): (j: number) => boolean {
  return (j) => at.positions[j] >= range.from && at.positions[j] <= range.to;
}

/**
 * Pessimistic rank of `target` in a served ranking (best first, with scores): 1 + the
 * items placed before it + the items after it with an equal score (ties count against
 * the target, as PROTOCOL.md step 7). A target the ranking does not contain ranks after
 * every candidate: `candidates`.
 */
export function servedRank(
  ranking: readonly { itemId: string; score: number }[],
  target: string,
  candidates: number,
): number {
  const at = ranking.findIndex((r) => r.itemId === target);
  if (at < 0) return Math.max(candidates, ranking.length + 1);
  const s = ranking[at].score;
  if (Number.isNaN(s)) return -1;
  let rank = at + 1;
  for (let j = at + 1; j < ranking.length && ranking[j].score === s; j++) rank++;
  return rank;
}

/** The sequences of `users` (dense indices), in that order, with their times. */
export function selectSequences(
  seqs: { items: Int32Array; offsets: Int32Array; times?: Float64Array; numItems: number },
  users: ArrayLike<number>,
): { items: Int32Array; offsets: Int32Array; times?: Float64Array; numItems: number } {
  const offsets = new Int32Array(users.length + 1);
  for (let j = 0; j < users.length; j++) {
    const u = users[j];
    offsets[j + 1] = offsets[j] + seqs.offsets[u + 1] - seqs.offsets[u];
  }
  const items = new Int32Array(offsets[users.length]);
  const times = seqs.times ? new Float64Array(items.length) : undefined;
  for (let j = 0; j < users.length; j++) {
    const u = users[j];
    items.set(seqs.items.subarray(seqs.offsets[u], seqs.offsets[u + 1]), offsets[j]);
    times?.set(
      (seqs.times as Float64Array).subarray(seqs.offsets[u], seqs.offsets[u + 1]),
      offsets[j],
    );
  }
  return times
    ? { items, offsets, times, numItems: seqs.numItems }
    : { items, offsets, numItems: seqs.numItems };
}
