/** mulberry32 from a raw 32-bit state: small, fast, seedable; for sampling, not crypto. */
export function mulberry32(state: number): () => number {
  let a = state >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Seeded pseudo-random numbers for initialisation, dropout masks and negative
 * sampling. Generated in JS (not by a backend kernel) so that the same seed gives the
 * same numbers on every TF.js backend.
 */
export class Rng {
  private state: number;

  constructor(seed: number) {
    // splitmix-style scramble so that seeds 0, 1, 2 ... give unrelated streams.
    this.state = (Math.imul(seed >>> 0, 0x9e3779b9) ^ 0x6d2b79f5) >>> 0;
  }

  /** Uniform in [0, 1) (mulberry32). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Uniform in [-limit, limit). */
  fillUniform(out: Float32Array, limit: number, from = 0, to = out.length): Float32Array {
    for (let i = from; i < to; i++) out[i] = (this.next() * 2 - 1) * limit;
    return out;
  }

  /**
   * Skips the next n draws; returns the state they started from (to draw them elsewhere,
   * e.g. `SimdKernels.dropoutMask`: draw k of the n is mulberry32 at that state + k·0x6d2b79f5).
   */
  skip(n: number): number {
    const s = this.state;
    this.state = (s + Math.imul(n, 0x6d2b79f5)) >>> 0;
    return s;
  }

  /**
   * Inverted-dropout mask: each entry 0 with probability `p`, else `1 / (1 - p)`, so
   * the expected activation is unchanged and no rescaling is needed at scoring time.
   */
  fillDropoutMask(out: Float32Array, p: number): Float32Array {
    const keep = 1 / (1 - p);
    // `next() < p` with the generator inlined and its state in a local (a training step
    // draws two masks, B·(E+H) numbers): same numbers, ~2x faster than calling next()
    // (u / 2^32 < p exactly when u < p·2^32: scaling by a power of two is exact)
    const cut = p * 4294967296;
    let s = this.state;
    for (let i = 0; i < out.length; i++) {
      s = (s + 0x6d2b79f5) >>> 0;
      let t = Math.imul(s ^ (s >>> 15), s | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      out[i] = (t ^ (t >>> 14)) >>> 0 < cut ? 0 : keep;
    }
    this.state = s;
    return out;
  }
}
