import { beforeAll, describe, expect, it } from 'vitest';
import { trainGru } from '../../src/train/fit';
import { useBackend } from '../model/helpers';
import { plantedData } from './fixtures';

describe('learns a planted pattern', () => {
  beforeAll(() => useBackend('wasm'));

  for (const loss of ['cross-entropy', 'bpr-max'] as const) {
    it(`${loss}: after item a, item b ranks first`, async () => {
      const data = plantedData(40, 60, 30, 5, 17);
      const r = await trainGru(
        data,
        { epochs: 8, batchSize: 16, negatives: 16, loss, lr: 0.1, dropoutHidden: 0, seed: 2 },
        { config: { hiddenSize: 16 } },
      );
      const sc = r.model.scorer();
      const top = sc.topK(Int32Array.from([3, 9, 5]), 3);
      expect(top.items[0]).toBe(17);
      // and b is not first after some other item
      const other = sc.topK(Int32Array.from([3, 9, 8]), 1);
      expect(other.items[0]).not.toBe(17);
      r.model.dispose();
    });
  }
});
