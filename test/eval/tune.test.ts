import { describe, expect, it } from 'vitest';
import type { Scorer, Sequences } from '../../src/core/scorer';
import { prepareDataset } from '../../src/eval/protocol';
import { gridPoints, tune } from '../../src/eval/tune';

describe('gridPoints', () => {
  it('crosses the grid over the base, first key outermost', () => {
    expect(gridPoints({ a: [1, 2], b: [5, 6] }, { c: 9 })).toEqual([
      { c: 9, a: 1, b: 5 },
      { c: 9, a: 1, b: 6 },
      { c: 9, a: 2, b: 5 },
      { c: 9, a: 2, b: 6 },
    ]);
    expect(gridPoints({}, { c: 1 })).toEqual([{ c: 1 }]);
  });
});

describe('tune', () => {
  it('fits on training data, scores validation positions only, returns the best point', async () => {
    const users: number[] = [];
    const items: number[] = [];
    const times: number[] = [];
    for (let u = 0; u < 5; u++) {
      for (let p = 0; p < 13; p++) {
        users.push(u);
        items.push((p * 7 + u) % 13);
        times.push(p);
      }
    }
    const d = prepareDataset({ users, items, times }, { k: 2 });
    const fits: Sequences[] = [];
    const prefixLengths = new Set<number>();
    // Scorer whose quality depends on the parameter: `good` = 1 ranks the true next item first.
    const create = (fit: Sequences, p: Record<string, number>): Scorer => {
      fits.push(fit);
      return {
        name: 'spy',
        numItems: d.numItems,
        scores(prefix) {
          prefixLengths.add(prefix.length);
          const row = new Float32Array(d.numItems);
          if (p.good === 1) {
            const u = prefix[0]; // user u starts with item u
            row[(prefix.length * 7 + u) % 13] = 1;
          }
          return row;
        },
      };
    };
    const r = await tune(create, d, { good: [0, 1, 0.5] });
    expect(r.best).toEqual({ good: 1 });
    expect(r.bestValue).toBe(1);
    expect(r.points.map((x) => x.params.good)).toEqual([0, 1, 0.5]);
    expect(fits.every((f) => f === d.train)).toBe(true);
    // 13 interactions, k = 2: validation positions have prefixes of 9 and 10 items; test 11, 12
    expect([...prefixLengths].sort((a, b) => a - b)).toEqual([9, 10]);
  });
});
