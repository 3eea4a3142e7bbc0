import { describe, expect, it } from 'vitest';
import { hasCode } from '../../src/core/errors';
import type { Scorer, Sequences } from '../../src/core/scorer';
import { evaluate } from '../../src/eval/evaluate';
import { pairedDifference } from '../../src/eval/metrics';
import { prepareDataset } from '../../src/eval/protocol';
import {
  generateSynthetic,
  matchesSynthetic,
  oracleProbabilities,
  type SyntheticOptions,
  SyntheticOracle,
  syntheticOptions,
  syntheticWorld,
} from '../../src/eval/synthetic';

function catchError(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('generateSynthetic', () => {
  const opts = syntheticOptions({ numUsers: 50, numItems: 100, intents: 8, intentSize: 10 });

  it('is a function of the seed', () => {
    const a = generateSynthetic(opts);
    const b = generateSynthetic(opts);
    expect(a.items).toEqual(b.items);
    expect(a.users).toEqual(b.users);
    expect(a.times).toEqual(b.times);
    expect(matchesSynthetic(a, b)).toBe(true);
    const c = generateSynthetic({ ...opts, seed: opts.seed + 1 });
    expect(matchesSynthetic(a, c)).toBe(false);
    expect(syntheticWorld(opts).intentItems).toEqual(a.world.intentItems);
    expect(syntheticWorld({ ...opts, seed: 2 }).intentItems).not.toEqual(a.world.intentItems);
  });

  it('keeps the world when only the users change', () => {
    const a = generateSynthetic(opts);
    const b = generateSynthetic({ ...opts, numUsers: 10, maxLength: 30 });
    expect(b.world.intentItems).toEqual(a.world.intentItems);
    expect(b.world.succ).toEqual(a.world.succ);
  });

  it('writes sequences of the asked lengths, no repeats, increasing times', () => {
    const log = generateSynthetic(opts);
    for (let u = 0; u < opts.numUsers; u++) {
      const from = log.offsets[u];
      const to = log.offsets[u + 1];
      expect(to - from).toBeGreaterThanOrEqual(opts.minLength);
      expect(to - from).toBeLessThanOrEqual(opts.maxLength);
      const items = log.items.subarray(from, to);
      expect(new Set(items).size).toBe(items.length);
      for (let j = from; j < to; j++) {
        expect(log.users[j]).toBe(u + 1);
        expect(log.items[j]).toBeGreaterThanOrEqual(1);
        expect(log.items[j]).toBeLessThanOrEqual(opts.numItems);
        if (j > from) expect(log.times[j]).toBeGreaterThan(log.times[j - 1]);
      }
    }
  });

  it('refuses knobs that make no world', () => {
    for (const bad of [
      { intent: 0.7, chain: 0.3 },
      { maxLength: 10, minLength: 11 },
      { numItems: 30, maxLength: 30 },
      { switch: 1.5 },
      { intentSize: 600 },
    ] as Partial<SyntheticOptions>[]) {
      expect(
        hasCode(
          catchError(() => syntheticOptions(bad)),
          'INVALID_INPUT',
        ),
      ).toBe(true);
    }
    expect(
      hasCode(
        catchError(() => syntheticOptions({}, 'nope')),
        'INVALID_INPUT',
      ),
    ).toBe(true);
  });
});

describe('oracleProbabilities', () => {
  it('is a distribution over the unseen items after any prefix', () => {
    const opts = syntheticOptions({ numUsers: 40, switch: 0.1 });
    const log = generateSynthetic(opts);
    const prefix = new Int32Array(opts.maxLength);
    for (let u = 0; u < 40; u++) {
      const from = log.offsets[u];
      const len = log.offsets[u + 1] - from;
      for (let t = 0; t < len; t++) prefix[t] = log.items[from + t] - 1;
      for (const t of [0, 1, Math.floor(len / 2), len - 1]) {
        const p = oracleProbabilities(log.world, prefix.subarray(0, t));
        let sum = 0;
        for (let x = 0; x < p.length; x++) {
          expect(p[x]).toBeGreaterThanOrEqual(0);
          sum += p[x];
        }
        expect(Math.abs(sum - 1)).toBeLessThan(1e-12);
        for (let j = 0; j < t; j++) expect(p[prefix[j]]).toBe(0);
        // The next true item is possible.
        expect(p[log.items[from + t] - 1]).toBeGreaterThan(0);
      }
    }
  });

  /**
   * Monte-Carlo check of the oracle against the generator on a world small enough that
   * prefixes repeat: for every prefix of length 1..3 seen at least 200 times, the counts
   * of the next item are compared with n·P(x | prefix) by Pearson's chi-square.
   *  - each prefix: statistic below its chi-square quantile at 1 − 1e-5 (Wilson–Hilferty);
   *  - all prefixes together: sum within 4 standard deviations (±4·√(2·df)) of its df.
   * The same check run with a wrong model (memory forgotten: switch = 1 instead of 0.2)
   * must fail, so the test can tell.
   */
  const small = syntheticOptions({
    seed: 7,
    numItems: 8,
    numUsers: 60000,
    minLength: 4,
    maxLength: 4,
    intents: 3,
    intentSize: 3,
    intent: 0.5,
    chain: 0.3,
    successors: 2,
    switch: 0.2,
  });

  function chiSquare(options: SyntheticOptions, oracleOptions: SyntheticOptions) {
    const log = generateSynthetic(options);
    const world = syntheticWorld(oracleOptions);
    const N = options.numItems;
    const counts = new Map<string, Float64Array>();
    for (let u = 0; u < options.numUsers; u++) {
      const from = log.offsets[u];
      for (let t = 1; t < 4; t++) {
        const key = Array.from(log.items.subarray(from, from + t)).join(',');
        let c = counts.get(key);
        if (!c) counts.set(key, (c = new Float64Array(N)));
        c[log.items[from + t] - 1]++;
      }
    }
    let worstExcess = Number.NEGATIVE_INFINITY;
    let total = 0;
    let totalDf = 0;
    let tested = 0;
    for (const [key, c] of counts) {
      let n = 0;
      for (const v of c) n += v;
      if (n < 200) continue;
      const prefix = key.split(',').map((s) => Number(s) - 1);
      const p = oracleProbabilities(world, prefix);
      let chi = 0;
      let df = -1;
      for (let x = 0; x < N; x++) {
        if (prefix.includes(x)) {
          expect(c[x]).toBe(0);
          continue;
        }
        const e = n * p[x];
        chi += ((c[x] - e) * (c[x] - e)) / e;
        df++;
      }
      const z = 4.265; // standard normal quantile at 1 − 1e-5
      const h = 2 / (9 * df);
      const quantile = df * (1 - h + z * Math.sqrt(h)) ** 3;
      worstExcess = Math.max(worstExcess, chi - quantile);
      total += chi;
      totalDf += df;
      tested++;
    }
    return { worstExcess, total, totalDf, tested };
  }

  it('matches the generator’s frequencies (chi-square)', () => {
    const r = chiSquare(small, small);
    expect(r.tested).toBeGreaterThan(100);
    expect(r.worstExcess).toBeLessThan(0);
    expect(Math.abs(r.total - r.totalDf)).toBeLessThan(4 * Math.sqrt(2 * r.totalDf));
  });

  it('the same check rejects an oracle that forgets the intent', () => {
    const r = chiSquare(small, { ...small, switch: 1 });
    expect(r.total - r.totalDf).toBeGreaterThan(4 * Math.sqrt(2 * r.totalDf));
  });
});

/** First-order model: counts of (previous item → item) in the fit data. */
function bigram(fit: Sequences): Scorer {
  const N = fit.numItems;
  const counts = new Float64Array(N * N);
  const pop = new Float64Array(N);
  for (let s = 0; s + 1 < fit.offsets.length; s++) {
    for (let j = fit.offsets[s]; j < fit.offsets[s + 1]; j++) {
      pop[fit.items[j]]++;
      if (j > fit.offsets[s]) counts[fit.items[j - 1] * N + fit.items[j]]++;
    }
  }
  const row = new Float64Array(N);
  return {
    name: 'bigram',
    numItems: N,
    scores: () => {
      throw new Error('scores64 only');
    },
    scores64: (prefix: Int32Array) => {
      const prev = prefix[prefix.length - 1];
      for (let x = 0; x < N; x++) row[x] = counts[prev * N + x] + pop[x] * 1e-7;
      return row;
    },
  } as Scorer;
}

describe('SyntheticOracle on the protocol', () => {
  const opts = syntheticOptions(
    { numItems: 200, numUsers: 1500, intents: 20, intentSize: 20 },
    'strong',
  );
  const log = generateSynthetic(opts);
  const data = prepareDataset(log);

  it('keeps every item and interaction through the protocol filter', () => {
    expect(data.numItems).toBe(opts.numItems);
    expect(data.counts.interactions).toBe(log.items.length);
  });

  it('beats a first-order (last-item) model at strong memory', () => {
    const oracle = evaluate(new SyntheticOracle(log.world, data.itemIds), data, 'test');
    const first = evaluate(bigram(data.trainValid), data, 'test');
    for (const m of ['NDCG@10', 'HR@20'] as const) {
      const d = pairedDifference(m, oracle.ranks, first.ranks);
      // A clear margin, not just a positive sign: at least 0.05 and 5 paired SEs.
      expect(d.mean).toBeGreaterThan(0.05);
      expect(d.mean).toBeGreaterThan(5 * d.se);
    }
  });

  it('refuses a catalog that lost items to the filter', () => {
    const ids = data.itemIds.subarray(1);
    expect(
      hasCode(
        catchError(() => new SyntheticOracle(log.world, ids)),
        'INVALID_INPUT',
      ),
    ).toBe(true);
  });
});
