// A seeded generator of shop-like click logs for the scale benchmark (bench/scale.ts)
// and tests: no real shop's log is large and public enough to measure 10^5-item catalogs
// and 10^7-event logs on, so the benchmark makes one with the shape that drives the
// costs — which items appear (popularity), how long sequences are, how much the next
// item depends on the last one.
//
// - Popularity: Zipf, P(item of popularity rank r) ∝ 1 / r^s (s ≈ 1 in shop and
//   media logs); the ranks are shuffled over the item ids, so id order says nothing.
// - Session lengths: 1 + a log-normal draw (median ≈ 3, mean ≈ 5, a long tail capped at
//   `maxSessionLength`), the shape of e-commerce click logs (YooChoose, RetailRocket,
//   Diginetica: most sessions a few clicks, a few very long).
// - Sequence structure: items sit in categories of `categorySize` consecutive ids; with
//   probability `stickiness` the next item is from the last item's category (uniform
//   within it), otherwise a fresh Zipf draw. So a next-item model has something to learn.
//
// Output is CSR sequences (items, offsets), what train/ and eval/ take.
import { Rng } from '../core/rng';

export interface SyntheticShopOptions {
  /** Catalog size N. */
  numItems: number;
  /** Total events (the last session is cut to fit). */
  events: number;
  seed?: number;
  /** Zipf exponent s (default 1). */
  zipf?: number;
  /** Log-normal μ, σ of (session length − 1) (defaults 0.7, 1.0). */
  lengthMu?: number;
  lengthSigma?: number;
  maxSessionLength?: number;
  /** Items per category (default 50). */
  categorySize?: number;
  /** Probability the next item is from the last item's category (default 0.5). */
  stickiness?: number;
}

export interface SyntheticShop {
  items: Int32Array;
  offsets: Int32Array;
  numItems: number;
}

/** Zipf CDF over ranks 1..n (Float64Array of cumulative probabilities). */
export function zipfCdf(n: number, s: number): Float64Array {
  const cdf = new Float64Array(n);
  let c = 0;
  for (let r = 0; r < n; r++) {
    c += 1 / (r + 1) ** s;
    cdf[r] = c;
  }
  for (let r = 0; r < n; r++) cdf[r] /= c;
  return cdf;
}

/** The first index whose cdf value exceeds u (binary search). */
function draw(cdf: Float64Array, u: number): number {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cdf[mid] > u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export function syntheticShop(options: SyntheticShopOptions): SyntheticShop {
  const n = options.numItems;
  const total = options.events;
  if (!Number.isInteger(n) || n < 1) throw new RangeError('numItems must be a positive integer');
  if (!Number.isInteger(total) || total < 0)
    throw new RangeError('events must be a non-negative integer');
  const rng = new Rng(options.seed ?? 1);
  const s = options.zipf ?? 1;
  const mu = options.lengthMu ?? 0.7;
  const sigma = options.lengthSigma ?? 1.0;
  const maxLen = options.maxSessionLength ?? 200;
  const cat = Math.max(1, Math.min(n, options.categorySize ?? 50));
  const stick = options.stickiness ?? 0.5;
  const cdf = zipfCdf(n, s);
  // rank -> item id: a seeded Fisher-Yates shuffle
  const idOfRank = new Int32Array(n);
  for (let i = 0; i < n; i++) idOfRank[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = idOfRank[i];
    idOfRank[i] = idOfRank[j];
    idOfRank[j] = t;
  }
  const items = new Int32Array(total);
  // at most one session per event
  const offsetsBuf = new Int32Array(total + 1);
  let sessions = 0;
  let at = 0;
  while (at < total) {
    // Box-Muller normal -> log-normal length
    const u1 = 1 - rng.next();
    const u2 = rng.next();
    const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    const len = Math.min(maxLen, total - at, 1 + Math.floor(Math.exp(mu + sigma * z)));
    offsetsBuf[sessions++] = at;
    let last = -1;
    for (let p = 0; p < len; p++) {
      let item: number;
      if (last >= 0 && rng.next() < stick) {
        const c0 = Math.floor(last / cat) * cat;
        const size = Math.min(cat, n - c0);
        item = c0 + rng.int(size);
      } else {
        item = idOfRank[draw(cdf, rng.next())];
      }
      items[at++] = item;
      last = item;
    }
  }
  offsetsBuf[sessions] = at;
  return { items, offsets: offsetsBuf.slice(0, sessions + 1), numItems: n };
}
