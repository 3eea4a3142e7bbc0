/**
 * A seeded synthetic interaction log whose next-item distribution is known exactly, and
 * its Bayes-optimal scorer (the oracle). It turns "how much of the achievable accuracy
 * does a model reach" into a number: evaluate the models and the oracle on the same
 * protocol positions (docs/SYNTHETIC.md).
 *
 * The world (fixed by the seed):
 *  - Z latent intents, each a uniformly drawn subset I_z of S items (subsets overlap:
 *    an item lies in Z·S/N intents on average, so one item says little about the intent);
 *  - every item i has `successors` distinct successor items s_i,1..b with weights
 *    ∝ 2^-r (r = 0..b-1): a first-order chain.
 *
 * One user = one sequence of length L ~ U{minLength..maxLength}, no repeats:
 *  - z_0 ~ U{0..Z-1}; before each later step, with probability `switch` the intent is
 *    redrawn uniformly (0 = one intent for the whole sequence: the longest memory);
 *  - emission e(x | z, prev) = wI·[x∈I_z]/S + wC·C(x | prev) + wN/N, where C is the
 *    successor distribution of prev (uniform 1/N at the first step) and wN = 1 − wI − wC;
 *  - items already in the sequence are never emitted again: the next item is drawn from
 *    e restricted to unseen items and renormalised (the protocol ranks unseen items only).
 *
 * Oracle: a forward filter over z. With b_t the posterior of z_t given x_0..x_t,
 *   π_{t+1}(z) = (1 − ρ)·b_t(z) + ρ/Z,   q_z(x) = e(x | z, x_t)·[x unseen] / D_z,
 *   D_z = 1 − Σ_{y seen} e(y | z, x_t),
 *   P(x_{t+1} = x | x_0..x_t) = Σ_z π_{t+1}(z)·q_z(x),   b_{t+1}(z) ∝ π_{t+1}(z)·q_z(x_{t+1}).
 * Exact, O(L·Z + Z·S + N) per prefix.
 *
 * Pure: no Node APIs, no other layer but core.
 */
import { LocalRecError } from '../core/errors';
import { mulberry32 } from '../core/rng';
import type { Float64Scorer } from './evaluate';
import type { InteractionLog } from './protocol';

export interface SyntheticOptions {
  /** Seed of the world (intents, successors) and of the sequences. */
  seed: number;
  /** Catalog size N; raw item ids are 1..N. */
  numItems: number;
  /** Users = sequences; raw user ids are 1..users. */
  numUsers: number;
  /** Sequence length is uniform on minLength..maxLength (inclusive). */
  minLength: number;
  maxLength: number;
  /** Number of latent intents Z. */
  intents: number;
  /** Items per intent S. */
  intentSize: number;
  /** Share of the intent component wI (intent strength). */
  intent: number;
  /** Share of the successor-chain component wC; noise wN = 1 − intent − chain (> 0). */
  chain: number;
  /** Successors per item (chain fan-out b). */
  successors: number;
  /**
   * Probability that the intent is redrawn before each step after the first (memory
   * length ≈ 1/switch steps; 0 = the whole sequence).
   */
  switch: number;
}

export const SYNTHETIC_DEFAULTS: Readonly<SyntheticOptions> = {
  seed: 1,
  numItems: 500,
  numUsers: 5000,
  minLength: 15,
  maxLength: 40,
  intents: 40,
  intentSize: 40,
  intent: 0.6,
  chain: 0.3,
  successors: 3,
  switch: 0,
};

/** Two named settings of docs/SYNTHETIC.md; other knobs as SYNTHETIC_DEFAULTS. */
export const SYNTHETIC_PRESETS: Readonly<Record<string, Partial<SyntheticOptions>>> = {
  /** Strong long memory: one intent per sequence, most of each step's mass on it. */
  strong: { intent: 0.6, chain: 0.3, switch: 0 },
  /** Weak memory: the chain dominates, the intent is weak and lasts ~3 steps. */
  weak: { intent: 0.2, chain: 0.6, switch: 0.3 },
};

/** The fixed part of a synthetic setting: intents and successor chains. */
export interface SyntheticWorld {
  options: SyntheticOptions;
  /** Intent z's items: intentItems[z·S .. z·S + S). */
  intentItems: Int32Array;
  /** membership[z·N + x] = 1 when x ∈ I_z. */
  membership: Uint8Array;
  /** Item i's successors: succ[i·b .. i·b + b). */
  succ: Int32Array;
  /** Successor weights (length b, sum 1). */
  succWeights: Float64Array;
}

export interface SyntheticLog extends InteractionLog {
  users: Int32Array;
  items: Int32Array;
  times: Float64Array;
  /** World item index (0-based) per interaction: raw id − 1. */
  world: SyntheticWorld;
  /** Sequence offsets (CSR) into the arrays above, one sequence per user. */
  offsets: Int32Array;
}

function bad(field: string, message: string): LocalRecError {
  return new LocalRecError('INVALID_INPUT', `synthetic ${field}: ${message}`, {
    details: { field },
  });
}

/** Defaults + preset + overrides, checked. Throws INVALID_INPUT naming the knob. */
export function syntheticOptions(
  overrides: Partial<SyntheticOptions> = {},
  preset?: string,
): SyntheticOptions {
  if (preset !== undefined && !Object.hasOwn(SYNTHETIC_PRESETS, preset)) {
    throw bad(
      'preset',
      `unknown preset '${preset}' (${Object.keys(SYNTHETIC_PRESETS).join(', ')})`,
    );
  }
  const o: SyntheticOptions = {
    ...SYNTHETIC_DEFAULTS,
    ...(preset ? SYNTHETIC_PRESETS[preset] : {}),
    ...overrides,
  };
  const int = (name: keyof SyntheticOptions, min: number) => {
    const v = o[name];
    if (!Number.isInteger(v) || v < min) throw bad(name, `must be an integer >= ${min}, got ${v}`);
  };
  int('seed', 0);
  int('numItems', 2);
  int('numUsers', 1);
  int('minLength', 1);
  int('maxLength', o.minLength);
  int('intents', 1);
  int('intentSize', 1);
  int('successors', 1);
  if (o.intentSize > o.numItems) throw bad('intentSize', `${o.intentSize} > numItems`);
  if (o.successors >= o.numItems) throw bad('successors', `must be < numItems`);
  if (o.maxLength >= o.numItems) throw bad('maxLength', `must be < numItems (no repeats)`);
  for (const name of ['intent', 'chain', 'switch'] as const) {
    if (!(o[name] >= 0 && o[name] <= 1)) throw bad(name, `must be in [0, 1], got ${o[name]}`);
  }
  // Noise > 0 keeps every unseen item possible, so the renormalisation never divides by 0.
  if (!(1 - o.intent - o.chain > 1e-9)) {
    throw bad('chain', `intent + chain must be < 1 (noise = 1 − intent − chain > 0)`);
  }
  return o;
}

/** k distinct values of 0..n-1 (partial Fisher–Yates on a scratch permutation). */
function sampleDistinct(
  rng: () => number,
  n: number,
  k: number,
  scratch: Int32Array,
  out: Int32Array,
  at: number,
): void {
  for (let j = 0; j < n; j++) scratch[j] = j;
  for (let j = 0; j < k; j++) {
    const r = j + Math.floor(rng() * (n - j));
    const v = scratch[r];
    scratch[r] = scratch[j];
    scratch[j] = v;
    out[at + j] = v;
  }
}

/** The world of a setting: a function of (seed, N, Z, S, b) only. */
export function syntheticWorld(options: SyntheticOptions): SyntheticWorld {
  const o = syntheticOptions(options);
  const N = o.numItems;
  const Z = o.intents;
  const S = o.intentSize;
  const b = o.successors;
  // Separate streams for the world and the sequences: changing the user count or the
  // lengths leaves the world alone.
  const rng = mulberry32(Math.imul(o.seed, 0x9e3779b1) ^ 0x5eed1);
  const scratch = new Int32Array(N);
  const intentItems = new Int32Array(Z * S);
  const membership = new Uint8Array(Z * N);
  for (let z = 0; z < Z; z++) {
    sampleDistinct(rng, N, S, scratch, intentItems, z * S);
    for (let j = 0; j < S; j++) membership[z * N + intentItems[z * S + j]] = 1;
  }
  const succ = new Int32Array(N * b);
  const tmp = new Int32Array(b + 1);
  for (let i = 0; i < N; i++) {
    // b distinct successors, none equal to i: draw b+1 distinct and drop i if present.
    sampleDistinct(rng, N, b + 1, scratch, tmp, 0);
    let w = 0;
    for (let j = 0; j <= b && w < b; j++) if (tmp[j] !== i) succ[i * b + w++] = tmp[j];
  }
  const succWeights = new Float64Array(b);
  let total = 0;
  for (let r = 0; r < b; r++) total += succWeights[r] = 2 ** -r;
  for (let r = 0; r < b; r++) succWeights[r] /= total;
  return { options: o, intentItems, membership, succ, succWeights };
}

/**
 * The log of a setting. Users 1..numUsers, items 1..N (raw ids), times strictly
 * increasing within a user (60 s apart) so the protocol's order is the generated order.
 */
export function generateSynthetic(options: SyntheticOptions): SyntheticLog {
  const world = syntheticWorld(options);
  const o = world.options;
  const { intentItems, succ, succWeights } = world;
  const N = o.numItems;
  const Z = o.intents;
  const S = o.intentSize;
  const b = o.successors;
  const wI = o.intent;
  const wIC = o.intent + o.chain;
  const rng = mulberry32(Math.imul(o.seed, 0x85ebca6b) ^ 0xc0ffee);
  const lengths = new Int32Array(o.numUsers);
  const offsets = new Int32Array(o.numUsers + 1);
  for (let u = 0; u < o.numUsers; u++) {
    lengths[u] = o.minLength + Math.floor(rng() * (o.maxLength - o.minLength + 1));
    offsets[u + 1] = offsets[u] + lengths[u];
  }
  const total = offsets[o.numUsers];
  const users = new Int32Array(total);
  const items = new Int32Array(total);
  const times = new Float64Array(total);
  const stamp = new Int32Array(N);
  const t0 = 1_700_000_000;
  for (let u = 0; u < o.numUsers; u++) {
    let z = Math.floor(rng() * Z);
    let prev = -1;
    for (let t = 0; t < lengths[u]; t++) {
      if (t > 0 && rng() < o.switch) z = Math.floor(rng() * Z);
      // Rejection from e(· | z, prev) until an unseen item: exactly e restricted to unseen
      // items, renormalised (noise > 0 bounds the expected tries by 1 / (wN·(1 − L/N))).
      let x: number;
      for (;;) {
        const c = rng();
        if (c < wI) x = intentItems[z * S + Math.floor(rng() * S)];
        else if (c < wIC && prev >= 0) {
          const r = rng();
          let k = 0;
          let acc = succWeights[0];
          while (r >= acc && k < b - 1) acc += succWeights[++k];
          x = succ[prev * b + k];
        } else x = Math.floor(rng() * N);
        if (stamp[x] !== u + 1) break;
      }
      stamp[x] = u + 1;
      const at = offsets[u] + t;
      users[at] = u + 1;
      items[at] = x + 1;
      times[at] = t0 + 60 * t;
      prev = x;
    }
  }
  return { users, items, times, world, offsets };
}

/**
 * Exact next-item probabilities of the world after `prefix` (world item indices 0..N-1,
 * distinct, oldest first): a length-N row summing to 1 over unseen items, 0 on seen ones.
 * `out` (length N) is reused when given.
 */
export function oracleProbabilities(
  world: SyntheticWorld,
  prefix: ArrayLike<number>,
  out: Float64Array = new Float64Array(world.options.numItems),
): Float64Array {
  const o = world.options;
  const N = o.numItems;
  const Z = o.intents;
  const S = o.intentSize;
  const b = o.successors;
  const { membership, intentItems, succ, succWeights } = world;
  const wI = o.intent;
  const wC = o.chain;
  const wN = 1 - o.intent - o.chain;
  const rho = o.switch;
  const belief = new Float64Array(Z).fill(1 / Z);
  const pi = new Float64Array(Z);
  const seenInIntent = new Float64Array(Z);
  const seen = new Uint8Array(N);
  let numSeen = 0;
  // π for the step about to be emitted, after `t` observed items.
  const predict = (t: number) => {
    for (let z = 0; z < Z; z++) pi[z] = t === 0 ? 1 / Z : (1 - rho) * belief[z] + rho / Z;
  };
  // Mass of the seen items under the chain + noise part (same for every z).
  const sharedSeenMass = (prev: number): number => {
    let chainSeen: number;
    if (prev < 0) chainSeen = numSeen / N;
    else {
      chainSeen = 0;
      for (let r = 0; r < b; r++) if (seen[succ[prev * b + r]]) chainSeen += succWeights[r];
    }
    return wC * chainSeen + (wN * numSeen) / N;
  };
  // Chain part C(x | prev) of one item.
  const chainOf = (x: number, prev: number): number => {
    if (prev < 0) return 1 / N;
    let c = 0;
    for (let r = 0; r < b; r++) if (succ[prev * b + r] === x) c += succWeights[r];
    return c;
  };
  let prev = -1;
  for (let t = 0; t < prefix.length; t++) {
    const x = prefix[t];
    if (!(x >= 0 && x < N) || !Number.isInteger(x) || seen[x]) {
      throw new LocalRecError(
        'INVALID_INPUT',
        `oracle: prefix item ${x} at ${t} is outside 0..${N - 1} or repeated (the generator never repeats)`,
      );
    }
    predict(t);
    const shared = sharedSeenMass(prev);
    const base = wC * chainOf(x, prev) + wN / N;
    let norm = 0;
    for (let z = 0; z < Z; z++) {
      const D = 1 - shared - (wI * seenInIntent[z]) / S;
      const q = (base + (membership[z * N + x] ? wI / S : 0)) / D;
      belief[z] = pi[z] * q;
      norm += belief[z];
    }
    for (let z = 0; z < Z; z++) belief[z] /= norm;
    seen[x] = 1;
    numSeen++;
    for (let z = 0; z < Z; z++) if (membership[z * N + x]) seenInIntent[z]++;
    prev = x;
  }
  predict(prefix.length);
  const shared = sharedSeenMass(prev);
  // a_z = π(z)/D_z; P(x) = Σ_z a_z·wI/S·[x∈I_z] + (Σ_z a_z)·(wC·C(x|prev) + wN/N).
  let A = 0;
  const a = pi;
  for (let z = 0; z < Z; z++) {
    a[z] = pi[z] / (1 - shared - (wI * seenInIntent[z]) / S);
    A += a[z];
  }
  out.fill(A * (wN / N + (prev < 0 ? wC / N : 0)));
  if (prev >= 0) for (let r = 0; r < b; r++) out[succ[prev * b + r]] += A * wC * succWeights[r];
  for (let z = 0; z < Z; z++) {
    const v = (a[z] * wI) / S;
    for (let j = 0; j < S; j++) out[intentItems[z * S + j]] += v;
  }
  for (let x = 0; x < N; x++) if (seen[x]) out[x] = 0;
  return out;
}

/**
 * The oracle as a protocol scorer (eval's `Float64Scorer` shape) over a prepared
 * dataset's dense items: `itemIds` maps dense index → raw id (1..N). Exact only when the
 * protocol kept every item of the world, so anything else is refused.
 *
 * Exact ties (items of one intent have the same probability) are broken by a fixed,
 * target-independent order (a term 1e-12·(N − x)/N, far below any probability gap):
 * under pessimistic ranking a tie would otherwise cost the oracle, while any fixed order
 * has the same expected metric.
 */
export class SyntheticOracle implements Float64Scorer {
  readonly name = 'oracle';
  readonly numItems: number;
  private readonly toWorld: Int32Array;
  private readonly prefixBuf: Int32Array;
  private readonly probs: Float64Array;
  private readonly row: Float64Array;
  private readonly row32: Float32Array;

  constructor(
    readonly world: SyntheticWorld,
    itemIds: ArrayLike<number>,
  ) {
    const N = world.options.numItems;
    this.numItems = itemIds.length;
    const seenIds = new Uint8Array(N);
    this.toWorld = new Int32Array(itemIds.length);
    for (let j = 0; j < itemIds.length; j++) {
      const x = itemIds[j] - 1;
      if (!(Number.isInteger(x) && x >= 0 && x < N) || seenIds[x]) {
        throw new LocalRecError(
          'INVALID_INPUT',
          `oracle: item id ${itemIds[j]} is not one of the world's ids 1..${N}`,
        );
      }
      seenIds[x] = 1;
      this.toWorld[j] = x;
    }
    if (itemIds.length !== N) {
      throw new LocalRecError(
        'INVALID_INPUT',
        `oracle: the catalog has ${itemIds.length} of the world's ${N} items (the protocol's filter dropped some): the oracle would not be exact`,
      );
    }
    this.prefixBuf = new Int32Array(world.options.maxLength + 1);
    this.probs = new Float64Array(N);
    this.row = new Float64Array(N);
    this.row32 = new Float32Array(N);
  }

  /** Probability of each dense item after a dense prefix (plus the tie-break term). */
  scores64(prefix: Int32Array): Float64Array {
    const N = this.numItems;
    const buf =
      prefix.length <= this.prefixBuf.length ? this.prefixBuf : new Int32Array(prefix.length);
    for (let t = 0; t < prefix.length; t++) buf[t] = this.toWorld[prefix[t]];
    const p = oracleProbabilities(this.world, buf.subarray(0, prefix.length), this.probs);
    for (let j = 0; j < N; j++) {
      const x = this.toWorld[j];
      this.row[j] = p[x] + (1e-12 * (N - x)) / N;
    }
    return this.row;
  }

  scores(prefix: Int32Array): Float32Array {
    this.row32.set(this.scores64(prefix));
    return this.row32;
  }
}

/** True when `log` holds exactly the interactions `generateSynthetic(options)` makes. */
export function matchesSynthetic(log: InteractionLog, generated: SyntheticLog): boolean {
  const n = generated.items.length;
  if (log.users.length !== n || log.items.length !== n || log.times.length !== n) return false;
  for (let j = 0; j < n; j++) {
    if (
      log.users[j] !== generated.users[j] ||
      log.items[j] !== generated.items[j] ||
      log.times[j] !== generated.times[j]
    )
      return false;
  }
  return true;
}

/** The log as CSV text in the columns `localrec eval` reads (userId,itemId,timestamp). */
export function syntheticCsv(log: SyntheticLog): string {
  const parts: string[] = ['userId,itemId,timestamp\n'];
  for (let j = 0; j < log.items.length; j++)
    parts.push(`${log.users[j]},${log.items[j]},${log.times[j]}\n`);
  return parts.join('');
}
