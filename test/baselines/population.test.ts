import { describe, expect, it } from 'vitest';
import { itemCounts } from '../../src/baselines/common';
import { SRItemKNN } from '../../src/baselines/mix';
import {
  buildPopulation,
  POPULATION_DEFAULTS,
  PopulationMix,
} from '../../src/baselines/population';
import { sequentialRules } from '../../src/baselines/sr';
import { hasCode } from '../../src/core/errors';
import { mulberry32 } from '../../src/core/rng';
import type { Sequences } from '../../src/core/scorer';
import type { PopulationStats } from '../../src/model/population';
import { seqs } from './helpers';

const P = (...items: number[]) => Int32Array.from(items);

/** A seeded generator, so the random log is the same on every run. */
const rng = mulberry32;

/** 40 sequences of 1..15 items over 25 items (two never seen), skewed, with repeats. */
function randomLog(seed: number): Sequences {
  const r = rng(seed);
  const lists: number[][] = [];
  for (let s = 0; s < 40; s++) {
    const len = 1 + Math.floor(r() * 15);
    lists.push(Array.from({ length: len }, () => Math.floor(r() * r() * 23)));
  }
  return seqs(lists, 25);
}

const HAND = seqs(
  [
    [0, 1, 2, 3],
    [1, 2, 4, 2],
    [0, 2, 3, 1],
    [4, 0, 1],
    [3, 3, 5],
  ],
  7,
);

/** Every prefix of every sequence, plus random ones (repeats, unseen items, empty). */
function prefixes(fit: Sequences, seed: number): Int32Array[] {
  const out: Int32Array[] = [P()];
  for (let s = 0; s + 1 < fit.offsets.length; s++) {
    for (let e = fit.offsets[s] + 1; e <= fit.offsets[s + 1]; e++)
      out.push(fit.items.slice(fit.offsets[s], e));
  }
  const r = rng(seed);
  for (let k = 0; k < 60; k++) {
    const len = 1 + Math.floor(r() * 14);
    out.push(Int32Array.from({ length: len }, () => Math.floor(r() * fit.numItems)));
  }
  return out;
}

/**
 * Largest difference to SRItemKNN over many prefixes, relative to the score where it is
 * above 1 (a prefix item's score is divided by a candidate maximum that may be a mere
 * tie-break term, so it can be huge).
 */
function maxDiff(fit: Sequences, params: { alpha: number; w: number; shrink: number; L: number }) {
  const reference = new SRItemKNN(fit, params);
  const mix = new PopulationMix(
    buildPopulation(fit, { ...params, srWidth: fit.numItems, knnWidth: fit.numItems }),
  );
  let diff = 0;
  for (const prefix of prefixes(fit, 7)) {
    const a = reference.scores64(prefix);
    const b = mix.scores64(prefix);
    for (let i = 0; i < fit.numItems; i++)
      diff = Math.max(diff, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(a[i])));
  }
  return diff;
}

/** Expected top-`width` row from a dense row: best first, ties to the lower index. */
function topOf(row: ArrayLike<number>, width: number): { ids: number[]; weights: number[] } {
  const kept = Array.from(row, (v, i) => [v, i] as const)
    .filter(([v]) => v > 0)
    .sort((x, y) => y[0] - x[0] || x[1] - y[1])
    .slice(0, width);
  const ids = kept.map(([, i]) => i);
  const weights = kept.map(([v]) => Math.fround(v));
  while (ids.length < width) {
    ids.push(-1);
    weights.push(0);
  }
  return { ids, weights };
}

/** Cosine of binary user vectors with shrink, computed directly (no shared code). */
function cosine(fit: Sequences, shrink: number): number[][] {
  const n = fit.numItems;
  const sets: Set<number>[] = [];
  for (let s = 0; s + 1 < fit.offsets.length; s++)
    sets.push(new Set(fit.items.subarray(fit.offsets[s], fit.offsets[s + 1])));
  const support = Array.from({ length: n }, (_, i) => sets.filter((u) => u.has(i)).length);
  return Array.from({ length: n }, (_, a) =>
    Array.from({ length: n }, (_, b) => {
      if (a === b) return 0;
      const co = sets.filter((u) => u.has(a) && u.has(b)).length;
      return co / (Math.sqrt(support[a] * support[b]) + shrink);
    }),
  );
}

describe('buildPopulation', () => {
  it('keeps each item’s true top-width SR successors and item-kNN neighbours', () => {
    for (const [fit, srWidth, knnWidth, w, shrink] of [
      [randomLog(11), 3, 3, 20, 0],
      [randomLog(12), 5, 5, 4, 1.5],
      [HAND, 2, 2, 20, 0],
      [randomLog(13), 2, 6, 20, 0],
      [randomLog(14), 7, 1, 3, 0.5],
    ] as const) {
      const pop = buildPopulation(fit, { srWidth, knnWidth, w, shrink });
      expect(Array.from(pop.counts)).toEqual(Array.from(itemCounts(fit)));
      expect(pop.mix).toEqual({
        alpha: 0.2,
        beta: POPULATION_DEFAULTS.beta,
        w,
        shrink,
        L: POPULATION_DEFAULTS.L,
      });
      expect(pop.sr.width).toBe(srWidth);
      expect(pop.knn.width).toBe(knnWidth);
      const rules = sequentialRules(fit, w);
      const sims = cosine(fit, shrink);
      for (let a = 0; a < fit.numItems; a++) {
        const dense = new Float64Array(fit.numItems);
        for (let j = rules.ptr[a]; j < rules.ptr[a + 1]; j++) dense[rules.cols[j]] = rules.vals[j];
        const sr = topOf(dense, srWidth);
        const row = (l: typeof pop.sr) => ({
          ids: Array.from(l.ids.subarray(a * l.width, (a + 1) * l.width)),
          weights: Array.from(l.weights.subarray(a * l.width, (a + 1) * l.width)),
        });
        expect(row(pop.sr)).toEqual(sr);
        expect(row(pop.knn)).toEqual(topOf(sims[a], knnWidth));
      }
    }
  });

  it('breaks ties at the cut by the lower item index', () => {
    // 0 co-occurs once with each of 1..4 (same cosine): width 2 keeps 1 and 2
    const fit = seqs([[0, 1, 2, 3, 4]], 5);
    const pop = buildPopulation(fit, { srWidth: 2, knnWidth: 2 });
    expect(Array.from(pop.knn.ids.subarray(0, 2))).toEqual([1, 2]);
    // SR from 0: 1/1, 1/2, 1/3, 1/4; from 4 nothing follows
    expect(Array.from(pop.sr.ids.subarray(0, 2))).toEqual([1, 2]);
    expect(Array.from(pop.sr.ids.subarray(8, 10))).toEqual([-1, -1]);
    expect(Array.from(pop.sr.weights.subarray(8, 10))).toEqual([0, 0]);
  });

  it('makes lists no wider than the longest row', () => {
    const pop = buildPopulation(HAND, { srWidth: 50, knnWidth: 50 });
    expect(pop.sr.width).toBeLessThanOrEqual(HAND.numItems);
    expect(pop.knn.width).toBeLessThan(HAND.numItems);
    expect(pop.sr.ids.length).toBe(HAND.numItems * pop.sr.width);
  });

  it('keeps 20 SR successors and 50 item-kNN neighbours by default', () => {
    expect(POPULATION_DEFAULTS.srWidth).toBe(20);
    expect(POPULATION_DEFAULTS.knnWidth).toBe(50);
    // 70 items forwards and backwards: up to 40 successors within the window, 69 neighbours
    const line = Array.from({ length: 70 }, (_, i) => i);
    const pop = buildPopulation(seqs([line, [...line].reverse()], 70));
    expect(pop.sr.width).toBe(20);
    expect(pop.knn.width).toBe(50);
    expect(pop.sr.ids.length).toBe(70 * 20);
    expect(pop.knn.ids.length).toBe(70 * 50);
  });

  it('refuses settings out of range with INVALID_INPUT', () => {
    for (const bad of [
      { srWidth: 0 },
      { knnWidth: 2.5 },
      { alpha: 1.5 },
      { beta: -0.1 },
      { w: 0 },
      { L: 2.5 },
      // the single width of earlier versions is not silently ignored
      { width: 5 } as Record<string, number>,
    ]) {
      let error: unknown;
      try {
        buildPopulation(HAND, bad);
      } catch (e) {
        error = e;
      }
      expect(hasCode(error, 'INVALID_INPUT')).toBe(true);
    }
  });
});

describe('PopulationMix', () => {
  it('scores as SRItemKNN when no list was cut (exact where float32 SR sums are)', () => {
    // windows 1 and 2: every SR sum is a multiple of 1/2, exact in float32
    for (const fit of [randomLog(1), randomLog(2), HAND]) {
      for (const params of [
        { alpha: 0.2, w: 2, shrink: 0, L: 10 },
        { alpha: 0.7, w: 1, shrink: 2.5, L: 3 },
        { alpha: 0, w: 2, shrink: 0, L: 1 },
        { alpha: 1, w: 1, shrink: 0, L: 10 },
      ]) {
        expect(maxDiff(fit, params)).toBeLessThanOrEqual(1e-9);
      }
    }
  });

  it('scores as SRItemKNN up to float32 SR weights with the default window', () => {
    for (const fit of [randomLog(3), HAND]) {
      expect(maxDiff(fit, { alpha: 0.2, w: 20, shrink: 0, L: 10 })).toBeLessThanOrEqual(1e-6);
      expect(maxDiff(fit, { alpha: 0.5, w: 5, shrink: 1, L: 4 })).toBeLessThanOrEqual(1e-6);
    }
  });

  // Hand-made lists over 5 items. After prefix [0, 1] (p_1 = 1, p_2 = 0):
  //   SR row of 1: item 0 → 4 (a prefix item), item 2 → 2.0, item 3 → 0.5: candidate max 2.0
  //   kNN: item 4 = 1 · 0.75 (from 1) + ½ · 0.5 (from 0) = 1.0; item 3 = ½ · 0.875 (from 0)
  // With alpha ½ the normalised parts of item 3 are SR ½ · 0.5 / 2 = 0.125 and
  // kNN ½ · 0.4375 = 0.21875: item-kNN wins only after normalisation.
  const stats = (): PopulationStats => ({
    counts: Float32Array.from([1, 1, 1, 1, 1]),
    sr: {
      width: 3,
      ids: Int32Array.from([-1, -1, -1, 0, 2, 3, -1, -1, -1, -1, -1, -1, -1, -1, -1]),
      weights: Float32Array.from([0, 0, 0, 4, 2, 0.5, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    },
    knn: {
      width: 2,
      ids: Int32Array.from([3, 4, 4, -1, -1, -1, 0, -1, 1, 0]),
      weights: Float32Array.from([0.875, 0.5, 0.75, 0, 0, 0, 0.875, 0, 0.75, 0.5]),
    },
    mix: { alpha: 0.5, beta: 0.3, w: 20, shrink: 0, L: 10 },
  });

  it('normalises each part over the candidates and mixes with alpha', () => {
    const m = new PopulationMix(stats());
    const row = m.scores64(P(0, 1));
    expect(row[2]).toBeCloseTo(0.5, 8);
    expect(row[3]).toBeCloseTo(0.125 + 0.21875, 8);
    expect(row[4]).toBeCloseTo(0.5, 8);
    // item 0 is in the prefix, no candidate: its SR weight 4 does not rescale the row
    expect(row[0]).toBeCloseTo(1, 8);
    expect(Array.from(m.scores(P(0, 1)))).toEqual(Array.from(row, Math.fround));
  });

  it('one instance queried prefix after prefix scores exactly as a fresh one per prefix', () => {
    // One instance reuses its row buffers from query to query: nothing may leak from one
    // prefix to the next (the maxima skip each prefix's own items).
    const stats = buildPopulation(randomLog(4), { w: 5, L: 4 });
    const kept = new PopulationMix(stats);
    const r = rng(9);
    for (let t = 0; t < 200; t++) {
      const len = Math.floor(r() * 6);
      // prefixes with the most popular items (so the maxima must skip them) and repeats
      const prefix = Int32Array.from({ length: len }, () => Math.floor(r() * r() * 25));
      const want = new PopulationMix(stats).scores64(prefix);
      expect(Array.from(kept.scores64(prefix))).toEqual(Array.from(want));
    }
  });

  it('explain() names the part and the prefix item that contributed most', () => {
    const m = new PopulationMix(stats());
    expect(m.explain(P(0, 1), 2)).toEqual({ component: 'sr', because: 1 });
    expect(m.explain(P(0, 1), 3)).toEqual({ component: 'itemknn', because: 0 });
    expect(m.explain(P(0, 1), 4)).toEqual({ component: 'itemknn', because: 1 });
    expect(m.explain(P(0, 1), 0)).toEqual({ component: 'sr', because: 1 });
    expect(m.explain(P(0, 1), 1)).toBeNull();
    expect(m.explain(P(), 2)).toBeNull();
    expect(m.explain(P(3), 2)).toBeNull();
    // Only allowed prefix positions are named: item 4's next-best contributor, and no
    // item at all when SR (the last item) drove it.
    const notLast = (p: number) => p !== 1;
    expect(m.explain(P(0, 1), 4, notLast)).toEqual({ component: 'itemknn', because: 0 });
    expect(m.explain(P(0, 1), 2, notLast)).toEqual({ component: 'sr', because: -1 });
    // rows prepared for another prefix of the same length are not reused
    m.scores64(P(1, 0));
    expect(m.explain(P(0, 1), 3)).toEqual({ component: 'itemknn', because: 0 });
    const reused = P(1, 0);
    m.explain(reused, 3);
    reused.set([0, 1]);
    expect(m.explain(reused, 3)).toEqual({ component: 'itemknn', because: 0 });
    // with L = 1 only the last item counts for item-kNN: item 3 is SR's
    const short = new PopulationMix({ ...stats(), mix: { ...stats().mix, L: 1 } });
    expect(short.explain(P(0, 1), 3)).toEqual({ component: 'sr', because: 1 });
    expect(
      hasCode(
        caught(() => m.explain(P(0), 5)),
        'INVALID_INPUT',
      ),
    ).toBe(true);
  });

  it('refuses malformed lists with INVALID_INPUT', () => {
    const s = stats();
    s.knn.ids[3] = 5;
    expect(
      hasCode(
        caught(() => new PopulationMix(s)),
        'INVALID_INPUT',
      ),
    ).toBe(true);
    const t = stats();
    t.sr.weights[0] = 1; // weight on padding
    expect(
      hasCode(
        caught(() => new PopulationMix(t)),
        'INVALID_INPUT',
      ),
    ).toBe(true);
    const u = stats();
    u.counts[1] = Number.NaN;
    expect(
      hasCode(
        caught(() => new PopulationMix(u)),
        'INVALID_INPUT',
      ),
    ).toBe(true);
  });
});

function caught(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}
