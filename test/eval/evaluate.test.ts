import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hasCode, type LocalRecError } from '../../src/core/errors';
import type { Scorer, ScorerCursor } from '../../src/core/scorer';
import { evaluate, pessimisticRank } from '../../src/eval/evaluate';
import { METRICS, meanSE, metricsFromRanks, metricValue } from '../../src/eval/metrics';
import { type EvalDataset, prepareDataset } from '../../src/eval/protocol';

/** 6 users × 12 items, user u sees items in a user-specific rotation, k = 2. */
function tinyDataset(k = 2): EvalDataset {
  const users: number[] = [];
  const items: number[] = [];
  const times: number[] = [];
  for (let u = 0; u < 6; u++) {
    for (let p = 0; p < 12; p++) {
      users.push(u);
      items.push((p * 5 + u) % 12);
      times.push(p);
    }
  }
  return prepareDataset({ users, items, times }, { k });
}

function scorerOf(
  name: string,
  numItems: number,
  f: (prefix: Int32Array) => ArrayLike<number>,
): Scorer {
  return {
    name,
    numItems,
    scores: (prefix) => Float32Array.from(f(prefix)),
  };
}

function catchError(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('pessimisticRank', () => {
  it('counts every other candidate with a score >= the target (ties go against it)', () => {
    const stamps = new Int32Array(5);
    expect(pessimisticRank([1, 2, 2, 3, 0], 1, stamps, 1)).toBe(3); // 2 (tie) and 3
    expect(pessimisticRank([5, 5, 5, 5, 5], 0, stamps, 1)).toBe(5);
    expect(pessimisticRank([9, 1, 1, 1, 1], 0, stamps, 1)).toBe(1);
  });

  it('skips items stamped as prefix, but never the target itself', () => {
    const stamps = Int32Array.from([7, 7, 0, 0, 0]);
    expect(pessimisticRank([9, 9, 1, 0, 0], 2, stamps, 7)).toBe(1);
    expect(pessimisticRank([9, 9, 1, 0, 0], 0, stamps, 7)).toBe(1); // target in prefix: counted alone
    expect(pessimisticRank([1, 2, 3, 4, Number.NaN], 0, stamps, 7)).toBe(-1);
  });
});

describe('evaluate', () => {
  it('gives a constant scorer the last rank among the candidates', () => {
    const d = tinyDataset();
    const r = evaluate(
      scorerOf('const', d.numItems, () => new Float32Array(d.numItems)),
      d,
      'test',
    );
    // test position j (0-based) of a 12-long sequence with k = 2: prefix of 10 + j items
    for (let u = 0; u < 6; u++) {
      expect(r.ranks[u * 2]).toBe(12 - 10);
      expect(r.ranks[u * 2 + 1]).toBe(12 - 11);
    }
  });

  it('excludes prefix items: scoring them highest does not hurt the target', () => {
    const d = tinyDataset();
    // The oracle knows the next item from the full sequence; prefix items get +100.
    const seqOf = (prefix: Int32Array) => {
      for (let u = 0; u < d.numUsers; u++) {
        const o = d.full.offsets[u];
        const s = d.full.items.subarray(o, d.full.offsets[u + 1]);
        if (prefix.length < s.length && prefix.every((x, j) => s[j] === x)) return s;
      }
      throw new Error('unknown prefix');
    };
    const oracle = scorerOf('oracle', d.numItems, (prefix) => {
      const row = new Float32Array(d.numItems);
      for (const i of prefix) row[i] = 100;
      row[seqOf(prefix)[prefix.length]] = 1;
      return row;
    });
    for (const split of ['valid', 'test'] as const) {
      const r = evaluate(oracle, d, split);
      expect(Array.from(r.ranks)).toEqual(new Array(12).fill(1));
      for (const m of METRICS) expect(r.metrics[m]).toEqual({ mean: 1, se: 0 });
    }
  });

  it('uses the true prefix: validation prefixes end before the validation target', () => {
    const d = tinyDataset();
    const lengths: number[] = [];
    evaluate(
      scorerOf('spy', d.numItems, (prefix) => {
        lengths.push(prefix.length);
        return new Float32Array(d.numItems);
      }),
      d,
      'valid',
    );
    expect(lengths).toEqual(new Array(6).fill([8, 9]).flat());
  });

  it('uses cursor() when there is one and gets the same ranks', () => {
    const d = tinyDataset();
    // Scores depend on the prefix (last item + length), so any push bug changes ranks.
    const rowFor = (prefix: ArrayLike<number>) => {
      const row = new Float32Array(d.numItems);
      const last = prefix[prefix.length - 1];
      for (let i = 0; i < d.numItems; i++) row[i] = ((i * 7 + last * 3 + prefix.length) % 11) / 11;
      return row;
    };
    let cursors = 0;
    const withCursor: Scorer = {
      name: 'seq',
      numItems: d.numItems,
      scores: () => {
        throw new Error('scores() must not be called when cursor() exists');
      },
      cursor(): ScorerCursor {
        cursors++;
        const seen: number[] = [];
        return { push: (i) => seen.push(i), scores: () => rowFor(seen), dispose: () => {} };
      },
    };
    const a = evaluate(withCursor, d, 'test');
    const b = evaluate(scorerOf('plain', d.numItems, rowFor), d, 'test');
    expect(cursors).toBe(6);
    expect(Array.from(a.ranks)).toEqual(Array.from(b.ranks));
  });

  it('throws SCORE_NAN naming the model and the position', () => {
    const d = tinyDataset();
    const nan = scorerOf('broken-model', d.numItems, (prefix) => {
      const row = new Float32Array(d.numItems);
      if (prefix.length === 11) row[3] = Number.NaN;
      return row;
    });
    const error = catchError(() => evaluate(nan, d, 'test'));
    expect(hasCode(error, 'SCORE_NAN')).toBe(true);
    expect((error as LocalRecError).message).toMatch(/broken-model/);
    expect((error as LocalRecError).message).toMatch(/test position 2\/2 of user 0/);
    expect(evaluate(nan, d, 'valid').n).toBe(12); // no NaN at validation positions
  });

  it('rejects a scorer over another catalog size', () => {
    const d = tinyDataset();
    const error = catchError(() =>
      evaluate(
        scorerOf('x', 5, () => new Float32Array(5)),
        d,
        'test',
      ),
    );
    expect(hasCode(error, 'INVALID_INPUT')).toBe(true);
  });
});

describe('metrics', () => {
  it('maps ranks to HR, MRR and NDCG', () => {
    expect(metricValue('HR@10', 10)).toBe(1);
    expect(metricValue('HR@10', 11)).toBe(0);
    expect(metricValue('HR@20', 20)).toBe(1);
    expect(metricValue('MRR@20', 4)).toBe(0.25);
    expect(metricValue('MRR@20', 21)).toBe(0);
    expect(metricValue('NDCG@10', 1)).toBe(1);
    expect(metricValue('NDCG@10', 3)).toBe(0.5);
    expect(metricValue('NDCG@10', 11)).toBe(0);
  });

  it('reports the standard error as sample std / sqrt(n)', () => {
    const { mean, se } = meanSE([0, 1, 1, 0]);
    expect(mean).toBe(0.5);
    expect(se).toBeCloseTo(Math.sqrt(1 / 3) / 2, 12);
  });

  it('stays within bounds and in order for any ranks', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 200 }),
        (ranks) => {
          const m = metricsFromRanks(ranks);
          for (const name of METRICS) {
            expect(m[name].mean).toBeGreaterThanOrEqual(0);
            expect(m[name].mean).toBeLessThanOrEqual(1);
            expect(m[name].se).toBeGreaterThanOrEqual(0);
          }
          expect(m['HR@10'].mean).toBeLessThanOrEqual(m['HR@20'].mean);
          expect(m['NDCG@10'].mean).toBeLessThanOrEqual(m['HR@10'].mean + 1e-12);
          expect(m['MRR@20'].mean).toBeLessThanOrEqual(m['HR@20'].mean + 1e-12);
        },
      ),
    );
  });
});
