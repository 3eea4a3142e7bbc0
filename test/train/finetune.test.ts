import { beforeAll, describe, expect, it, vi } from 'vitest';
import { blendToward } from '../../src/model/blend';
import { GruModel } from '../../src/model/model';
import { trainGru } from '../../src/train/fit';
import { useBackend } from '../model/helpers';
import { seqs } from './fixtures';

beforeAll(() => useBackend('wasm'));

describe('population negatives (TrainOptions.popularity)', () => {
  // A visitor who only ever touched items 0..2 of a 10-item catalogue.
  const visitor = seqs([[0, 1, 2, 0, 1, 2, 0, 1, 2]], 10);
  const base = GruModel.create({ numItems: 10, hiddenSize: 8 }, { seed: 1 });
  const bias = (m: GruModel, i: number) => m.toArrays().items[i * 9 + 8];
  const options = {
    epochs: 2,
    batchSize: 1,
    negatives: 8,
    lr: 0.1,
    dropoutHidden: 0,
    tail: 'shrink' as const,
  };

  it('without them, negatives come from the visitor’s own items: the rest never moves', async () => {
    const r = await trainGru(visitor, options, { model: base });
    for (let i = 3; i < 10; i++) expect(bias(r.model, i)).toBe(bias(base, i));
    r.model.dispose();
  });

  it('with them, the items the population likes are contrasted too', async () => {
    const popularity = [0, 0, 0, 0, 0, 50, 50, 50, 50, 50];
    const r = await trainGru(visitor, { ...options, popularity }, { model: base });
    for (let i = 5; i < 10; i++) expect(bias(r.model, i)).toBeLessThan(bias(base, i));
    // items nobody has stay out of the draw
    expect(bias(r.model, 3)).toBe(bias(base, 3));
    r.model.dispose();
  });
});

describe('blendToward', () => {
  it('interpolates every weight of known items and keeps the rows of new ones', () => {
    const base = GruModel.create(
      { numItems: 4, hiddenSize: 3 },
      { seed: 1, vocab: ['a', 'b', 'c', 'd'] },
    );
    const grown = base.grow(5, { newIds: ['e'], seed: 2 });
    const t = grown.toArrays();
    const tuned = GruModel.fromArrays(
      grown.config,
      {
        items: t.items.map((v) => v + 1),
        emb: null,
        wx: t.wx.map((v) => v + 1),
        wh: t.wh.map((v) => v - 1),
        b: t.b.map((v) => v + 2),
      },
      grown.vocab,
      grown.meta,
    );
    const half = blendToward(base, tuned, 0.5).toArrays();
    const a = base.toArrays();
    const known = 4 * 4;
    for (let i = 0; i < known; i++) expect(half.items[i]).toBeCloseTo(a.items[i] + 0.5, 6);
    for (let i = known; i < half.items.length; i++)
      expect(half.items[i]).toBe(tuned.toArrays().items[i]);
    expect(half.wh[0]).toBeCloseTo(a.wh[0] - 0.5, 6);
    expect(half.b[2]).toBeCloseTo(a.b[2] + 1, 6);
    expect(blendToward(base, tuned, 0).toArrays().wx).toEqual(a.wx);
    expect(blendToward(base, tuned, 1).toArrays().wx).toEqual(tuned.toArrays().wx);
    expect(() => blendToward(base, tuned, 1.5)).toThrow(RangeError);
    expect(() => blendToward(tuned, base, 0.5)).toThrow(/not trained from this base/);
  });
});

describe('a large vocabulary: items new to the model', () => {
  it('grows the item matrix once per fine-tune, whatever the number of new items', async () => {
    const n = 2000;
    const vocab = Array.from({ length: n }, (_, i) => `i${i}`);
    const base = GruModel.create({ numItems: n, hiddenSize: 8 }, { seed: 1, vocab });
    // 40 new items (ids n..n+39) among a visitor's 200 events
    const items: number[] = [];
    for (let i = 0; i < 200; i++) items.push(i % 5 === 0 ? n + ((i / 5) % 40) : (i * 37) % n);
    const visitor = seqs([items.slice(0, 100), items.slice(100)], n + 40);
    const added = Array.from({ length: 40 }, (_, i) => `new${i}`);
    const grow = vi.spyOn(GruModel.prototype, 'grow');
    const r = await trainGru(
      visitor,
      { epochs: 1, batchSize: 4, negatives: 16 },
      {
        model: base,
        vocab: added,
      },
    );
    expect(grow).toHaveBeenCalledTimes(1);
    expect(grow.mock.calls[0][0]).toBe(n + 40);
    grow.mockRestore();
    expect(r.model.numItems).toBe(n + 40);
    expect(r.model.vocab?.slice(n)).toEqual(added);
    // the rows the visitor never touched (not drawn as negatives either) are kept bit for bit
    const a = base.toArrays().items;
    const b = r.model.toArrays().items;
    const touched = new Set(items);
    for (let i = 0; i < n; i++) {
      if (touched.has(i)) continue;
      for (let j = 0; j < 9; j++) expect(b[i * 9 + j]).toBe(a[i * 9 + j]);
    }
    base.dispose();
    r.model.dispose();
  });
});
