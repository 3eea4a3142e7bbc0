import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FitCache } from '../../src/baselines/cache';
import { ItemKNN } from '../../src/baselines/itemknn';
import { SRItemKNN } from '../../src/baselines/mix';
import { MostPop } from '../../src/baselines/pop';
import { BASELINES, createBaseline } from '../../src/baselines/registry';
import { SKNN, VSKNN } from '../../src/baselines/sknn';
import { SequentialRules, sequentialRules, sequentialRulesRow } from '../../src/baselines/sr';
import { hasCode } from '../../src/core/errors';
import { arbLog, order, seqs } from './helpers';

const P = (...items: number[]) => Int32Array.from(items);

describe('MostPop', () => {
  it('scores items by their number of fit interactions', () => {
    const m = new MostPop(
      seqs(
        [
          [0, 1, 1],
          [2, 1],
        ],
        4,
      ),
    );
    expect(Array.from(m.scores64(P(0)))).toEqual([1, 3, 1, 0]);
    expect(Array.from(m.scores(P()))).toEqual([1, 3, 1, 0]);
  });
});

describe('SR', () => {
  it('adds 1/d for b at distance d <= w after a, within one sequence', () => {
    const m = new SequentialRules(seqs([[0, 1, 2], [0, 2], [3]], 4), { w: 2 });
    const row = m.scores64(P(3, 0)); // last item 0
    // R[0,1] = 1, R[0,2] = 1/2 (seq 1) + 1 (seq 2); 3 never follows 0
    expect(row[1]).toBeCloseTo(1, 8);
    expect(row[2]).toBeCloseTo(1.5, 8);
    expect(row[3]).toBeLessThan(1e-8);
    const w1 = new SequentialRules(seqs([[0, 1, 2], [0, 2], [3]], 4), { w: 1 });
    expect(w1.scores64(P(0))[2]).toBeCloseTo(1, 8); // only the adjacent pair counts
  });

  it('breaks ties of R by popularity only', () => {
    // after 0: items 1 and 2 both have R = 1; 2 is more popular; 4 has R = 0 but pop 3
    const m = new SequentialRules(seqs([[0, 1], [0, 2], [2, 4, 4, 4], [3]], 5), { w: 1 });
    const o = order(m.scores64(P(0)));
    expect(o.slice(0, 3)).toEqual([2, 1, 4]);
  });

  it('equals a brute-force R on random logs', () => {
    fc.assert(
      fc.property(arbLog(6), fc.integer({ min: 1, max: 4 }), (lists, w) => {
        const m = new SequentialRules(seqs(lists, 6), { w });
        for (let a = 0; a < 6; a++) {
          const want = new Array(6).fill(0);
          for (const l of lists)
            for (let p = 0; p < l.length; p++)
              for (let d = 1; d <= w && p + d < l.length; d++)
                if (l[p] === a) want[l[p + d]] += 1 / d;
          const row = m.scores64(P(a));
          for (let b = 0; b < 6; b++) expect(row[b]).toBeCloseTo(want[b], 6);
        }
      }),
    );
  });

  it('one row without the matrix (the fallback after the last item) is bit-identical to it', () => {
    fc.assert(
      fc.property(arbLog(6), fc.integer({ min: 1, max: 4 }), (lists, w) => {
        const fit = seqs(lists, 6);
        const rules = sequentialRules(fit, w);
        for (let a = 0; a < 6; a++) {
          const dense = new Float64Array(6);
          for (let j = rules.ptr[a]; j < rules.ptr[a + 1]; j++)
            dense[rules.cols[j]] = rules.vals[j];
          expect(Array.from(sequentialRulesRow(fit, a, w))).toEqual(Array.from(dense));
        }
      }),
    );
  });
});

describe('ItemKNN', () => {
  it('is cosine over users with shrink, recent items weighted 1/l', () => {
    // users: {0,1}, {0,1,2}, {1,2}; n0 = 2, n1 = 3, n2 = 2; C01 = 2, C02 = 1, C12 = 2
    const fit = seqs(
      [
        [0, 1],
        [0, 1, 2],
        [2, 1],
      ],
      4,
    );
    const m = new ItemKNN(fit, { shrink: 0, L: 1 });
    const row = m.scores64(P(0));
    expect(row[1]).toBeCloseTo(2 / Math.sqrt(6), 6);
    expect(row[2]).toBeCloseTo(1 / 2, 6);
    expect(row[0]).toBeLessThan(1e-8); // zero diagonal
    const shrunk = new ItemKNN(fit, { shrink: 1, L: 1 }).scores64(P(0));
    expect(shrunk[2]).toBeCloseTo(1 / 3, 6);
    // L = 2, prefix [2, 0]: sim[0,·] + sim[2,·]/2
    const l2 = new ItemKNN(fit, { shrink: 0, L: 2 }).scores64(P(2, 0));
    expect(l2[1]).toBeCloseTo(2 / Math.sqrt(6) + (0.5 * 2) / Math.sqrt(6), 6);
    // L = 1 ignores the older item 2
    expect(m.scores64(P(2, 0))[1]).toBeCloseTo(2 / Math.sqrt(6), 6);
  });

  it('breaks ties by popularity (1e-9 · pop / max pop)', () => {
    // sim[0,1] = sim[0,2] = 1/2 (binary supports equal), but item 2 has a repeat: pop 3 vs 2
    const fit = seqs([[0, 1], [0, 2], [2, 2], [1]], 3);
    const row = new ItemKNN(fit, { shrink: 0, L: 1 }).scores64(P(0));
    expect(row[1]).toBeCloseTo(0.5, 6);
    expect(row[2]).toBeGreaterThan(row[1]);
    expect(row[2] - row[1]).toBeLessThan(1e-8);
  });

  it('equals a brute-force cosine on random logs', () => {
    fc.assert(
      fc.property(arbLog(6), fc.integer({ min: 0, max: 5 }), (lists, shrink) => {
        const m = new ItemKNN(seqs(lists, 6), { shrink, L: 1 });
        const sets = lists.map((l) => new Set(l));
        const n = (i: number) => sets.filter((s) => s.has(i)).length;
        for (let a = 0; a < 6; a++) {
          const row = m.scores64(P(a));
          for (let b = 0; b < 6; b++) {
            const c = sets.filter((s) => s.has(a) && s.has(b)).length;
            const want = a === b || c === 0 ? 0 : c / (Math.sqrt(n(a) * n(b)) + shrink);
            expect(row[b]).toBeCloseTo(want, 5);
          }
        }
      }),
    );
  });
});

describe('ItemKNN neighbors', () => {
  it("keeps each item's top-k similarities (ties to lower indices), same values as the full matrix", () => {
    fc.assert(
      fc.property(
        arbLog(7),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 0, max: 3 }),
        (lists, k, shrink) => {
          const fit = seqs(lists, 7);
          const full = new ItemKNN(fit, { shrink, L: 1 });
          const pruned = new ItemKNN(fit, { shrink, L: 1, neighbors: k });
          for (let a = 0; a < 7; a++) {
            const f = full.scores64(P(a)).slice();
            const g = pruned.scores64(P(a));
            // expected: the k largest non-zero similarities of row a, ties by index (the
            // 1e-9 popularity tie-break of the scores is rounded away: pruning ignores it)
            const sims = f.map((v) => Math.round(v * 1e6) / 1e6);
            const keep = new Set(
              order(sims)
                .filter((b) => sims[b] > 0)
                .slice(0, k),
            );
            for (let b = 0; b < 7; b++) {
              if (keep.has(b)) expect(g[b]).toBeCloseTo(f[b], 7);
              else expect(g[b]).toBeLessThan(1e-6);
            }
          }
        },
      ),
    );
  });
});

describe('SKNN and V-SKNN', () => {
  it('SKNN votes with the cosine of the k nearest sessions', () => {
    // query {0,1}: s0={0,1,2} cos=2/sqrt(6), s1={0,3} cos=1/2, s2={4} cos=0
    const fit = seqs([[0, 1, 2], [0, 3], [4]], 5);
    const row = new SKNN(fit, { k: 2 }).scores64(P(0, 1));
    expect(row[2]).toBeCloseTo(2 / Math.sqrt(6), 9);
    expect(row[3]).toBeCloseTo(1 / 2, 9);
    expect(row[4]).toBe(0);
    const k1 = new SKNN(fit, { k: 1 }).scores64(P(0, 1));
    expect(k1[3]).toBe(0); // only the nearest session votes
  });

  it('V-SKNN weighs the query linearly by position and decays votes by 1/step', () => {
    // query [0, 1, 2] -> weights 1/3, 2/3, 1
    // s0 = {0, 5}: sim 1/3, latest shared item 0 is 3 back -> vote 1/9
    // s1 = {2, 6}: sim 1, shares the last item -> vote 1
    // s2 = {1, 2, 7}: sim 5/3, vote 5/3
    const fit = seqs(
      [
        [0, 5],
        [2, 6],
        [1, 2, 7],
      ],
      8,
    );
    const row = new VSKNN(fit, { k: 3 }).scores64(P(0, 1, 2));
    expect(row[5]).toBeCloseTo(1 / 9, 9);
    expect(row[6]).toBeCloseTo(1, 9);
    expect(row[7]).toBeCloseTo(5 / 3, 9);
    const k2 = new VSKNN(fit, { k: 2 }).scores64(P(0, 1, 2));
    expect(k2[5]).toBe(0); // s0 is the least similar
  });
});

describe('SR+ItemKNN', () => {
  it('normalises each row by its max over non-prefix items, then mixes', () => {
    const fit = seqs(
      [
        [0, 1, 2, 3],
        [1, 3, 0],
        [2, 0, 1],
      ],
      5,
    );
    const prefix = P(2, 0);
    const sr = new SequentialRules(fit, { w: 2 }).scores64(prefix).slice();
    const knn = new ItemKNN(fit, { shrink: 0, L: 2 }).scores64(prefix).slice();
    const max = (r: Float64Array) => Math.max(...[1, 3, 4].map((i) => r[i]));
    const m = new SRItemKNN(fit, { alpha: 0.3, w: 2, shrink: 0, L: 2 });
    const row = m.scores64(prefix);
    for (const i of [1, 3, 4]) {
      expect(row[i]).toBeCloseTo((0.3 * sr[i]) / max(sr) + (0.7 * knn[i]) / max(knn), 9);
    }
  });

  it('alpha 1 and 0 rank like SR and ItemKNN alone', () => {
    fc.assert(
      fc.property(arbLog(7), (lists) => {
        const fit = seqs(lists, 7);
        const prefix = Int32Array.from(lists[0]);
        const cand = (r: Float64Array) => order(r).filter((i) => !prefix.includes(i));
        const sr = cand(new SequentialRules(fit, { w: 3 }).scores64(prefix).slice());
        const knn = cand(new ItemKNN(fit, { shrink: 0, L: 3 }).scores64(prefix).slice());
        expect(
          cand(new SRItemKNN(fit, { alpha: 1, w: 3, shrink: 0, L: 3 }).scores64(prefix)),
        ).toEqual(sr);
        expect(
          cand(new SRItemKNN(fit, { alpha: 0, w: 3, shrink: 0, L: 3 }).scores64(prefix)),
        ).toEqual(knn);
      }),
      { numRuns: 50 },
    );
  });
});

describe('FitCache', () => {
  it('shares fit products between grid points without changing any score', () => {
    fc.assert(
      fc.property(arbLog(6), (lists) => {
        const fit = seqs(lists, 6);
        const cache = new FitCache();
        const prefix = Int32Array.from(lists[0]);
        for (const params of [
          { alpha: 0.3, w: 2, shrink: 0, L: 2 },
          { alpha: 0.7, w: 2, shrink: 3, L: 1 },
          { alpha: 0.5, w: 4, shrink: 0, L: 3 },
        ]) {
          const cached = new SRItemKNN(fit, params, cache).scores64(prefix).slice();
          const fresh = new SRItemKNN(fit, params).scores64(prefix);
          expect(Array.from(cached)).toEqual(Array.from(fresh));
        }
      }),
      { numRuns: 30 },
    );
  });
});

describe('registry', () => {
  it('creates every baseline with REFERENCE defaults; float32 scores mirror float64', () => {
    const fit = seqs(
      [
        [0, 1, 2, 3],
        [1, 3, 0],
        [2, 0, 1],
      ],
      5,
    );
    for (const name of Object.keys(BASELINES)) {
      const m = createBaseline(name, fit);
      expect(m.name).toBe(name);
      expect(m.params).toEqual(BASELINES[name as keyof typeof BASELINES].defaults);
      const p = P(2, 0);
      const a = Array.from(m.scores64(p), Math.fround);
      expect(Array.from(m.scores(p))).toEqual(a);
    }
    expect(createBaseline('sr', fit).params).toEqual({ w: 20 });
    expect(createBaseline('sr+itemknn', fit).params).toEqual({
      alpha: 0.2,
      w: 20,
      shrink: 0,
      L: 10,
    });
  });

  it('rejects unknown names, unknown and out-of-range parameters with INVALID_INPUT', () => {
    const fit = seqs([[0, 1]], 2);
    const attempts = [
      () => createBaseline('nope', fit),
      () => createBaseline('sr', fit, { window: 3 }),
      () => createBaseline('sr', fit, { w: 0 }),
      () => createBaseline('itemknn', fit, { shrink: -1 }),
      () => createBaseline('sr+itemknn', fit, { alpha: 1.5 }),
      () => createBaseline('sknn', fit, { k: 2.5 }),
      () => new MostPop(seqs([[0, 3]], 2)),
    ];
    for (const f of attempts) {
      let error: unknown;
      try {
        f();
      } catch (e) {
        error = e;
      }
      expect(hasCode(error, 'INVALID_INPUT')).toBe(true);
    }
  });
});
