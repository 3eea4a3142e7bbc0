// The real MovieLens file through the protocol: exact counts of PROTOCOL.md, and MostPop
// and SR exactly as REFERENCE.md prints them (4 decimals, means and standard errors).
import { describe, expect, it } from 'vitest';
import { createBaseline } from '../../src/baselines/registry';
import { evaluate } from '../../src/eval/evaluate';
import { METRICS } from '../../src/eval/metrics';
import { movielens, REFERENCE, SETTINGS } from './movielens';

describe('MovieLens latest-small, ml-small-last5 / loo', () => {
  it('has the counts of PROTOCOL.md', () => {
    const d = movielens(5);
    expect(d.counts).toEqual({
      users: 671,
      items: 3496,
      interactions: 90072,
      train: 83362,
      valid: 3355,
      test: 3355,
      evalUsers: 671,
      trainOnlyUsers: 0,
    });
    expect(movielens(1).counts.test).toBe(671);
  });

  const rows: [number, string, 'refit' | 'train'][] = [
    [5, 'pop', 'refit'],
    [5, 'pop', 'train'],
    [5, 'sr', 'refit'],
    [5, 'sr', 'train'],
    [1, 'pop', 'refit'],
    [1, 'sr', 'refit'],
  ];
  for (const [k, model, fit] of rows) {
    it(`k=${k} ${model} (${fit}) matches REFERENCE.md to 4 decimals`, () => {
      const d = movielens(k);
      const scorer = createBaseline(
        model,
        fit === 'refit' ? d.trainValid : d.train,
        SETTINGS[`k${k} ${model}`],
      );
      const r = evaluate(scorer, d, 'test');
      const got = METRICS.map(
        (m) => `${r.metrics[m].mean.toFixed(4)} ± ${r.metrics[m].se.toFixed(4)}`,
      );
      expect(got).toEqual(REFERENCE[`k${k} ${model} ${fit}`]);
    });
  }
});
