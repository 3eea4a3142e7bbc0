// ItemKNN, SKNN, V-SKNN and SR+ItemKNN on the real MovieLens file: every metric within
// 0.002 of REFERENCE.md at its listed settings (and the standard errors too). Rows on
// the same data share ItemKNN counts / SR rules through a FitCache (property-tested to
// change no score in baselines.test.ts) to keep this file quick.
import { describe, expect, it } from 'vitest';
import { FitCache } from '../../src/baselines/cache';
import { createBaseline } from '../../src/baselines/registry';
import { evaluate } from '../../src/eval/evaluate';
import { METRICS } from '../../src/eval/metrics';
import { movielens, parseRef, REFERENCE, SETTINGS } from '../eval/movielens';

const rows: [number, string, 'refit' | 'train'][] = [
  [5, 'itemknn', 'refit'],
  [5, 'itemknn', 'train'],
  [5, 'sknn', 'refit'],
  [5, 'vsknn', 'refit'],
  [5, 'sr+itemknn', 'refit'],
  [5, 'sr+itemknn', 'train'],
  [1, 'itemknn', 'refit'],
  [1, 'sr+itemknn', 'refit'],
];

const cache = new FitCache();

describe('kNN baselines on MovieLens vs REFERENCE.md (tolerance 0.002)', () => {
  for (const [k, model, fit] of rows) {
    it(`k=${k} ${model} (${fit})`, () => {
      const d = movielens(k);
      const data = fit === 'refit' ? d.trainValid : d.train;
      const scorer = createBaseline(model, data, SETTINGS[`k${k} ${model}`], cache);
      const r = evaluate(scorer, d, 'test');
      const ref = REFERENCE[`k${k} ${model} ${fit}`].map(parseRef);
      METRICS.forEach((m, j) => {
        expect(Math.abs(r.metrics[m].mean - ref[j].mean), `${m} mean`).toBeLessThanOrEqual(0.002);
        expect(Math.abs(r.metrics[m].se - ref[j].se), `${m} se`).toBeLessThanOrEqual(0.0002);
      });
    });
  }
});
