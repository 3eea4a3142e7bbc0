import { describe, expect, it } from 'vitest';
import { fullMixTopK, mixTopK } from '../../src/worker/mix-top';

/** Seeded LCG in [0, 1). */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

describe('mixTopK (the served mix without an exp per item)', () => {
  it('gives the full row’s list, scores and parts on random instances', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const r = lcg(seed);
      const n = 50 + Math.floor(r() * 3000);
      const s = new Float32Array(n);
      // coarse scores on some seeds: many exact ties
      const coarse = seed % 3 === 0;
      for (let i = 0; i < n; i++) s[i] = coarse ? Math.round(r() * 8) / 2 : (r() - 0.5) * 12;
      const mix = new Float64Array(n);
      const nonZero = seed % 5 === 0 ? 0 : Math.floor(r() * 200);
      for (let j = 0; j < nonZero; j++) mix[Math.floor(r() * n)] = r() * (seed % 2 ? 1 : 0.001);
      const inPrefix = new Uint8Array(n);
      for (let j = 0; j < 1 + Math.floor(r() * 10); j++) inPrefix[Math.floor(r() * n)] = 1;
      const exclude = Array.from({ length: Math.floor(r() * 15) }, () => Math.floor(r() * n));
      const beta = [1, 0.5, 0.1, 0.9][seed % 4];
      const k = [1, 10, 20, 200][seed % 4];
      const a = mixTopK(s, mix, inPrefix, beta, k, exclude);
      const b = fullMixTopK(s, mix, inPrefix, beta, k, exclude);
      expect(Array.from(a.items), `seed ${seed}`).toEqual(Array.from(b.items));
      expect(Array.from(a.scores)).toEqual(Array.from(b.scores));
      expect(Array.from(a.g)).toEqual(Array.from(b.g));
      expect(Array.from(a.m)).toEqual(Array.from(b.m));
    }
  });

  it('falls back to the full row outside its assumptions (negative or zero β, negative m)', () => {
    const s = Float32Array.from([3, 1, 2, 0, 5]);
    const mix = Float64Array.from([0, -1, 0, 2, 0]);
    const inPrefix = new Uint8Array(5);
    for (const beta of [0, 0.5]) {
      const a = mixTopK(s, mix, inPrefix, beta, 3, []);
      const b = fullMixTopK(s, mix, inPrefix, beta, 3, []);
      expect(Array.from(a.items)).toEqual(Array.from(b.items));
    }
  });
});
