import { describe, expect, it } from 'vitest';
import { GruJsScorer, topKOf } from '../../src/model/js-scorer';
import { GruModel } from '../../src/model/model';

describe('GruJsScorer.scoresFromState (the unrolled catalog pass)', () => {
  // odd N (the one-row tail) and H not a multiple of 4 (the per-element tail)
  for (const [n, h] of [
    [1, 4],
    [7, 5],
    [101, 64],
    [64, 3],
  ]) {
    it(`equals the plain dot product and logit() at N ${n}, H ${h}`, () => {
      const model = GruModel.create({ numItems: n, hiddenSize: h }, { seed: 3 });
      const arrays = model.toArrays();
      const scorer = new GruJsScorer(model.config, arrays);
      const state = scorer.initialState();
      for (const i of [0, n - 1, n >> 1]) scorer.step(state, i);
      const s = scorer.scoresFromState(state);
      for (let k = 0; k < n; k++) {
        let ref = arrays.items[k * (h + 1) + h];
        for (let j = 0; j < h; j++) ref += state[j] * arrays.items[k * (h + 1) + j];
        expect(s[k]).toBeCloseTo(ref, 5);
        // the same sum, bit for bit (explanations subtract logits of the served scores)
        expect(s[k]).toBe(Math.fround(scorer.logit(state, k)));
      }
      model.dispose();
    });
  }
});

describe('topKOf', () => {
  it('returns the k best, best first, skipping exclusions and NaN, ties by lower id', () => {
    const s = Float32Array.from([0.5, 2, Number.NaN, 2, -1, 3, 0.5]);
    const top = topKOf(s, 4, [5]);
    expect(Array.from(top.items)).toEqual([1, 3, 0, 6]);
    expect(Array.from(top.scores)).toEqual([2, 2, 0.5, 0.5]);
  });

  it('matches a full sort on a large random row', () => {
    const n = 100_000;
    const s = new Float32Array(n);
    let x = 12345;
    for (let i = 0; i < n; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      s[i] = x / 2 ** 32;
    }
    const exclude = [0, 10, 99_999];
    const top = topKOf(s, 20, exclude);
    const ref = Array.from({ length: n }, (_, i) => i)
      .filter((i) => !exclude.includes(i))
      .sort((a, b) => s[b] - s[a] || a - b)
      .slice(0, 20);
    expect(Array.from(top.items)).toEqual(ref);
  });
});
