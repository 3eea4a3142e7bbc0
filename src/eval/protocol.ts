/**
 * The offline protocol `ml-small-last5` (and `loo` = k 1) of shared/eval/PROTOCOL.md as
 * one pure function: raw (user, item, time) arrays in, filtered + ordered + split
 * dataset out. Works for any interaction log, not only MovieLens.
 *
 * Steps (PROTOCOL.md numbering):
 *  2. drop items with < minItemCount interactions, then users with < minUserCount of the
 *     remaining ones: one pass each, in that order (no iteration to a fixed point);
 *  3. order each user's interactions by time, ties by the per-user hash h(u, i)
 *     ascending (an item-only order would leak, see PROTOCOL.md);
 *  4. last k positions = test, the k before = validation, earlier = training. Users with
 *     fewer than 2k + 1 interactions are training data only (`counts.trainOnlyUsers`).
 *
 * No Node APIs: it runs in the browser too.
 */
import { LocalRecError } from '../core/errors';
import type { Sequences } from '../core/scorer';

/** Parallel arrays, one entry per interaction. Ids are raw (site) ids as numbers. */
export interface InteractionLog {
  users: ArrayLike<number>;
  items: ArrayLike<number>;
  times: ArrayLike<number>;
}

export interface ProtocolOptions {
  /** Test (and validation) positions per user. 5 = `ml-small-last5`, 1 = `loo`. */
  k?: number;
  /** Items with fewer interactions are dropped first. Default 5. */
  minItemCount?: number;
  /** Then users with fewer remaining interactions are dropped. Default 3. */
  minUserCount?: number;
}

export interface DatasetCounts {
  /** Users after filtering (evaluated + training-only). */
  users: number;
  /** Catalog size: items left after filtering. */
  items: number;
  /** Interactions after filtering. */
  interactions: number;
  /** Training interactions (all of a training-only user's interactions included). */
  train: number;
  /** Validation positions (= k × evalUsers). */
  valid: number;
  /** Test positions (= k × evalUsers). */
  test: number;
  /** Users with at least 2k + 1 interactions: they have validation and test positions. */
  evalUsers: number;
  /** Users with fewer than 2k + 1 interactions: training data only. */
  trainOnlyUsers: number;
}

export interface EvalDataset {
  /** Protocol name, e.g. `ml-small-last5` style: `last5` or `loo`. */
  protocol: string;
  k: number;
  numUsers: number;
  numItems: number;
  /** Dense item index -> raw item id (ascending raw ids). */
  itemIds: Float64Array;
  /** Dense user index -> raw user id (ascending raw ids). */
  userIds: Float64Array;
  /** Every kept user's full ordered sequence (dense items), with times. Sequence s = user s. */
  full: Sequences;
  /** Dense users that have validation and test positions, ascending. */
  evalUsers: Int32Array;
  /** Fit data for validation (and for "train only" test rows): training parts only. */
  train: Sequences;
  /** Fit data for "refit" test rows: training + validation parts. */
  trainValid: Sequences;
  counts: DatasetCounts;
}

/** The per-user tie-break key of PROTOCOL.md step 3 (u, i raw ids). */
export function tieBreakHash(u: number, i: number): number {
  return Math.imul(i ^ Math.imul(u, 0x9e3779b1), 0x85ebca6b) >>> 0;
}

/** Protocol name for a k: `last5`-style names for k > 1, `loo` for k = 1. */
export function protocolName(k: number): string {
  return k === 1 ? 'loo' : `last${k}`;
}

function checkCount(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) {
    throw new LocalRecError('INVALID_INPUT', `${name} must be a positive integer, got ${v}`, {
      details: { field: name },
    });
  }
}

/** Sorted unique values of `values[idx]` for idx where keep[idx]. */
function sortedUnique(values: ArrayLike<number>, keep: Uint8Array): Float64Array {
  const set = new Set<number>();
  for (let j = 0; j < keep.length; j++) if (keep[j]) set.add(values[j]);
  const out = Float64Array.from(set);
  out.sort();
  return out;
}

function denseIndex(ids: Float64Array): Map<number, number> {
  const m = new Map<number, number>();
  for (let j = 0; j < ids.length; j++) m.set(ids[j], j);
  return m;
}

/**
 * Apply the protocol to a raw log. Throws `INVALID_INPUT` on mismatched lengths,
 * non-finite values or a bad k.
 */
export function prepareDataset(log: InteractionLog, options: ProtocolOptions = {}): EvalDataset {
  const k = options.k ?? 5;
  const minItem = options.minItemCount ?? 5;
  const minUser = options.minUserCount ?? 3;
  checkCount('k', k);
  checkCount('minItemCount', minItem);
  checkCount('minUserCount', minUser);
  const { users, items, times } = log;
  const n = users.length;
  if (items.length !== n || times.length !== n) {
    throw new LocalRecError(
      'INVALID_INPUT',
      `users, items and times must have the same length (${n}, ${items.length}, ${times.length})`,
    );
  }
  for (let j = 0; j < n; j++) {
    if (!Number.isFinite(users[j]) || !Number.isFinite(items[j]) || !Number.isFinite(times[j])) {
      const field = !Number.isFinite(users[j])
        ? 'user'
        : !Number.isFinite(items[j])
          ? 'item'
          : 'time';
      throw new LocalRecError(
        'INVALID_INPUT',
        `interaction ${j}: ${field} is not a finite number`,
        {
          details: { field, index: j },
        },
      );
    }
  }

  // Step 2a: item filter (counts over the whole log).
  const itemCount = new Map<number, number>();
  for (let j = 0; j < n; j++) itemCount.set(items[j], (itemCount.get(items[j]) ?? 0) + 1);
  const keep = new Uint8Array(n);
  for (let j = 0; j < n; j++) keep[j] = (itemCount.get(items[j]) as number) >= minItem ? 1 : 0;
  // Step 2b: user filter over what is left, one pass.
  const userCount = new Map<number, number>();
  for (let j = 0; j < n; j++)
    if (keep[j]) userCount.set(users[j], (userCount.get(users[j]) ?? 0) + 1);
  for (let j = 0; j < n; j++)
    if (keep[j] && (userCount.get(users[j]) as number) < minUser) keep[j] = 0;

  // Catalog = items present in the kept interactions; dense ids in ascending raw order.
  const itemIds = sortedUnique(items, keep);
  const userIds = sortedUnique(users, keep);
  const itemIndex = denseIndex(itemIds);
  const userIndex = denseIndex(userIds);
  const numItems = itemIds.length;
  const numUsers = userIds.length;

  // Counting sort of kept interactions by dense user.
  const offsets = new Int32Array(numUsers + 1);
  const denseUser = new Int32Array(n);
  let total = 0;
  for (let j = 0; j < n; j++) {
    if (!keep[j]) continue;
    const u = userIndex.get(users[j]) as number;
    denseUser[j] = u;
    offsets[u + 1]++;
    total++;
  }
  for (let u = 0; u < numUsers; u++) offsets[u + 1] += offsets[u];
  const order = new Int32Array(total);
  const fill = offsets.slice(0, numUsers);
  for (let j = 0; j < n; j++) if (keep[j]) order[fill[denseUser[j]]++] = j;

  // Step 3: per-user order by (time, h(u, i)), then input order (stable) for exact duplicates.
  const hash = new Float64Array(n);
  for (let j = 0; j < n; j++) if (keep[j]) hash[j] = tieBreakHash(users[j], items[j]);
  const cmp = (a: number, b: number): number => times[a] - times[b] || hash[a] - hash[b] || a - b;
  for (let u = 0; u < numUsers; u++) order.subarray(offsets[u], offsets[u + 1]).sort(cmp);

  const fullItems = new Int32Array(total);
  const fullTimes = new Float64Array(total);
  for (let p = 0; p < total; p++) {
    const j = order[p];
    fullItems[p] = itemIndex.get(items[j]) as number;
    fullTimes[p] = times[j];
  }
  const full: Sequences = { items: fullItems, offsets, times: fullTimes, numItems };

  // Step 4: split.
  const evalList: number[] = [];
  for (let u = 0; u < numUsers; u++) if (offsets[u + 1] - offsets[u] >= 2 * k + 1) evalList.push(u);
  const evalUsers = Int32Array.from(evalList);
  const isEval = new Uint8Array(numUsers);
  for (const u of evalList) isEval[u] = 1;
  const train = truncate(full, (u, len) => (isEval[u] ? len - 2 * k : len));
  const trainValid = truncate(full, (u, len) => (isEval[u] ? len - k : len));

  return {
    protocol: protocolName(k),
    k,
    numUsers,
    numItems,
    itemIds,
    userIds,
    full,
    evalUsers,
    train,
    trainValid,
    counts: {
      users: numUsers,
      items: numItems,
      interactions: total,
      train: train.items.length,
      valid: k * evalUsers.length,
      test: k * evalUsers.length,
      evalUsers: evalUsers.length,
      trainOnlyUsers: numUsers - evalUsers.length,
    },
  };
}

/** Copy of `seqs` keeping the first `keepLen(s, len)` items of each sequence. */
export function truncate(seqs: Sequences, keepLen: (s: number, len: number) => number): Sequences {
  const numSeq = seqs.offsets.length - 1;
  const offsets = new Int32Array(numSeq + 1);
  for (let s = 0; s < numSeq; s++) {
    const len = seqs.offsets[s + 1] - seqs.offsets[s];
    offsets[s + 1] = offsets[s] + Math.max(0, Math.min(len, keepLen(s, len)));
  }
  const items = new Int32Array(offsets[numSeq]);
  const times = seqs.times ? new Float64Array(offsets[numSeq]) : undefined;
  for (let s = 0; s < numSeq; s++) {
    const from = seqs.offsets[s];
    const len = offsets[s + 1] - offsets[s];
    items.set(seqs.items.subarray(from, from + len), offsets[s]);
    if (times && seqs.times) times.set(seqs.times.subarray(from, from + len), offsets[s]);
  }
  return times
    ? { items, offsets, times, numItems: seqs.numItems }
    : { items, offsets, numItems: seqs.numItems };
}
