import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/model/rng';

describe('Rng', () => {
  it('same seed, same stream; different seeds, different streams', () => {
    const a = new Rng(3);
    const b = new Rng(3);
    const c = new Rng(4);
    const xs = Array.from({ length: 50 }, () => a.next());
    expect(Array.from({ length: 50 }, () => b.next())).toEqual(xs);
    expect(Array.from({ length: 50 }, () => c.next())).not.toEqual(xs);
    for (const x of xs) expect(x >= 0 && x < 1).toBe(true);
  });

  it('a dropout mask is `next() < p ? 0 : 1/(1-p)` over the same stream, and leaves the stream after it', () => {
    const p = 0.3;
    const fast = new Rng(11);
    const ref = new Rng(11);
    for (const size of [1, 7, 1000]) {
      const mask = fast.fillDropoutMask(new Float32Array(size), p);
      const want = Float32Array.from({ length: size }, () => (ref.next() < p ? 0 : 1 / (1 - p)));
      expect(mask).toEqual(want);
    }
    expect(fast.next()).toBe(ref.next());
    // about p of the entries dropped
    const big = new Rng(1).fillDropoutMask(new Float32Array(20000), p);
    const dropped = big.filter((v) => v === 0).length / big.length;
    expect(dropped).toBeGreaterThan(0.28);
    expect(dropped).toBeLessThan(0.32);
  });
});
