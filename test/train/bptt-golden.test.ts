import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GruArrays } from '../../src/model/params';
import { setSimdKernelsEnabled } from '../../src/model/simd';
import { trainGru } from '../../src/train/fit';
import type { TrainOptions } from '../../src/train/options';
import { useBackend } from '../model/helpers';
import { plantedData } from './fixtures';

/** FNV-1a over the bytes of every weight array: changes with any bit of any weight. */
function fnv(a: GruArrays): string {
  let h = 0x811c9dc5;
  for (const arr of [a.items, a.emb, a.wx, a.wh, a.b]) {
    if (!arr) continue;
    const u8 = new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
    for (let i = 0; i < u8.length; i++) h = Math.imul(h ^ u8[i], 0x01000193);
  }
  return (h >>> 0).toString(16);
}

// One-step training (bptt 1) must stay bit for bit what it was before BPTT existed:
// these hashes and losses were recorded on the code before the BPTT change (commit
// 51e4072), with the WASM backend, the hybrid kernel's products on TF.js and its gates in
// JS. The library's WebAssembly SIMD kernels (model/simd.ts) are off here: their sums
// run in another order (and fuse multiply-adds where the CPU can), so they cannot match
// these bits; test/model/simd.test.ts and the gradient tests cover them.
const opts: Partial<TrainOptions> = {
  epochs: 2,
  batchSize: 8,
  negatives: 8,
  dropoutHidden: 0.2,
  dropoutEmbedding: 0.1,
  lrEnd: 0,
  seed: 5,
};
const GOLDEN: Record<string, { hash: string; losses: number[] }> = {
  hybrid: { hash: '144b69cc', losses: [2.790594194863642, 2.717813548694483] },
  device: { hash: '1134ff05', losses: [2.7905941879190874, 2.7178135366943956] },
};

describe('one-step training is unchanged (bit for bit)', () => {
  beforeAll(async () => {
    setSimdKernelsEnabled(false);
    await useBackend('wasm');
  });
  afterAll(() => setSimdKernelsEnabled(true));
  for (const [engine, bptt] of [
    ['hybrid', {}],
    ['device', {}],
    ['hybrid', { bptt: 1 }],
    ['device', { bptt: 1 }],
  ] as const) {
    it(`${engine} ${JSON.stringify(bptt)}`, async () => {
      const data = plantedData(20, 12, 15, 2, 3);
      const r = await trainGru(data, { ...opts, engine, ...bptt }, { config: { hiddenSize: 8 } });
      const got = { hash: fnv(r.model.toArrays()), losses: r.history.map((e) => e.loss) };
      r.model.dispose();
      if (process.env.PRINT_GOLDEN) console.log(engine, JSON.stringify(got));
      expect(got).toEqual(GOLDEN[engine]);
    });
  }
});
