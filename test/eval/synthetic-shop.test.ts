import { describe, expect, it } from 'vitest';
import { syntheticShop, zipfCdf } from '../../src/eval/synthetic-shop';

describe('syntheticShop', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = syntheticShop({ numItems: 1000, events: 5000, seed: 7 });
    const b = syntheticShop({ numItems: 1000, events: 5000, seed: 7 });
    const c = syntheticShop({ numItems: 1000, events: 5000, seed: 8 });
    expect(a.items).toEqual(b.items);
    expect(a.offsets).toEqual(b.offsets);
    expect(a.items).not.toEqual(c.items);
  });

  it('gives exactly the events asked for, as valid CSR sequences', () => {
    const s = syntheticShop({ numItems: 500, events: 12345, seed: 3 });
    expect(s.items.length).toBe(12345);
    expect(s.offsets[0]).toBe(0);
    expect(s.offsets[s.offsets.length - 1]).toBe(12345);
    for (let i = 1; i < s.offsets.length; i++)
      expect(s.offsets[i]).toBeGreaterThan(s.offsets[i - 1]);
    for (const it of s.items) expect(it >= 0 && it < 500).toBe(true);
  });

  it('has e-commerce-like session lengths (median ~3, mean ~5, a long tail)', () => {
    const s = syntheticShop({ numItems: 2000, events: 100_000, seed: 1 });
    const lens: number[] = [];
    for (let i = 1; i < s.offsets.length; i++) lens.push(s.offsets[i] - s.offsets[i - 1]);
    lens.sort((a, b) => a - b);
    const mean = 100_000 / lens.length;
    expect(lens[lens.length >> 1]).toBeGreaterThanOrEqual(2);
    expect(lens[lens.length >> 1]).toBeLessThanOrEqual(4);
    expect(mean).toBeGreaterThan(3);
    expect(mean).toBeLessThan(7);
    expect(lens[lens.length - 1]).toBeGreaterThan(30);
  });

  it('has Zipf popularity: count ∝ 1/rank roughly (without category stickiness)', () => {
    const n = 1000;
    const s = syntheticShop({ numItems: n, events: 200_000, seed: 2, stickiness: 0 });
    const counts = new Array<number>(n).fill(0);
    for (const it of s.items) counts[it]++;
    counts.sort((a, b) => b - a);
    // log-log slope between ranks 1..100 close to -1
    const slope = (Math.log(counts[99]) - Math.log(counts[0])) / (Math.log(100) - Math.log(1));
    expect(slope).toBeGreaterThan(-1.2);
    expect(slope).toBeLessThan(-0.8);
    // the most popular item is not id 0: ranks are shuffled over ids
    const byId = new Array<number>(n).fill(0);
    for (const it of s.items) byId[it]++;
    expect(byId.indexOf(counts[0])).not.toBe(0);
  });

  it('zipfCdf ends at 1 and rises', () => {
    const c = zipfCdf(100, 1);
    expect(c[99]).toBeCloseTo(1, 12);
    let harmonic = 0;
    for (let r = 1; r <= 100; r++) harmonic += 1 / r;
    expect(c[0]).toBeCloseTo(1 / harmonic, 12);
    for (let i = 1; i < 100; i++) expect(c[i]).toBeGreaterThan(c[i - 1]);
  });
});
