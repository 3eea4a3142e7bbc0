import { beforeAll, describe, expect, it } from 'vitest';
import { trainGru } from '../../src/train/fit';
import { chooseBeta, fitMix, GruMixScorer } from '../../src/train/gru-mix';
import { useBackend } from '../model/helpers';
import { plantedData } from './fixtures';

describe('GRU + SR+ItemKNN mix', () => {
  beforeAll(() => useBackend('wasm'));

  it('mixes candidate-normalised rows and picks beta on validation positions', async () => {
    const data = plantedData(30, 20, 25, 4, 9);
    const r = await trainGru(
      data,
      { epochs: 2, batchSize: 8, negatives: 8 },
      { config: { hiddenSize: 8 } },
    );
    const s = new GruMixScorer(r.model.scorer(), fitMix(data), 1);
    const prefix = Int32Array.from([1, 2, 4]);
    const g = Float64Array.from(s.scores64(prefix));
    s.beta = 0;
    const m = Float64Array.from(s.scores64(prefix));
    // each part has candidate maximum 1 (prefix items excluded from the max)
    const candMax = (row: Float64Array) =>
      Math.max(...Array.from(row).filter((_, i) => ![1, 2, 4].includes(i)));
    expect(candMax(g)).toBeCloseTo(1, 6);
    expect(candMax(m)).toBeCloseTo(1, 6);
    s.beta = 0.3;
    const mix = s.scores64(prefix);
    for (let i = 0; i < 30; i++) expect(mix[i]).toBeCloseTo(0.3 * g[i] + 0.7 * m[i], 9);
    // incremental GRU state gives the same row as a fresh one
    s.scores64(Int32Array.from([7]));
    expect(Array.from(s.scores64(prefix))).toEqual(Array.from(mix));
    const users = Int32Array.from({ length: 20 }, (_, i) => i);
    const chosen = chooseBeta(s, data, users, 2, [0, 0.5, 1]);
    expect([0, 0.5, 1]).toContain(chosen.beta);
    expect(chosen.ndcg.length).toBe(3);
    r.model.dispose();
  });
});
