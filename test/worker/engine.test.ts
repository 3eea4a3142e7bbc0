// The worker's Engine in Node (in-process, WASM): how recommend() reuses the hidden state
// between calls as the visitor's list of recent events grows and slides.
import { beforeAll, describe, expect, it } from 'vitest';
import { buildPopulation, PopulationMix } from '../../src/baselines/population';
import { readModelFile, serializeGru } from '../../src/model/serialize';
import { trainGru } from '../../src/train/fit';
import { scaledParts } from '../../src/train/gru-mix';
import { createWorkerApi } from '../../src/worker/api';
import type { WorkerApi } from '../../src/worker/protocol';
import { useBackend } from '../model/helpers';
import { plantedData } from '../train/fixtures';

const NUM_ITEMS = 30;
let model: ArrayBuffer;
let withPopulation: ArrayBuffer;
const ids = (...rows: number[]) => rows.map((r) => `i${r}`);

beforeAll(async () => {
  await useBackend('wasm');
  const data = plantedData(NUM_ITEMS, 60, 30, 5, 17);
  const r = await trainGru(
    data,
    { epochs: 3, batchSize: 16, negatives: 16, lr: 0.1, dropoutHidden: 0, seed: 3 },
    { config: { hiddenSize: 16 }, vocab: Array.from({ length: NUM_ITEMS }, (_, i) => `i${i}`) },
  );
  model = serializeGru(r.model);
  withPopulation = serializeGru(r.model, buildPopulation(data, {}));
  r.model.dispose();
}, 60_000);

async function engine(): Promise<WorkerApi> {
  const api = createWorkerApi();
  await api.init({ force: 'wasm', hiddenSize: 16, numItems: NUM_ITEMS });
  await api.load(model.slice(0));
  return api;
}

const scores = async (api: WorkerApi, prefix: string[]) =>
  (await api.recommend({ prefix, k: NUM_ITEMS, exclude: [], mix: false })).map((s) => [
    s.itemId,
    s.score,
  ]);

describe('Engine.recommend and the kept hidden state', () => {
  it('a grown list steps only its new items: the same scores as reading it whole', async () => {
    const a = await engine();
    await scores(a, ids(1, 2, 3));
    const grown = await scores(a, ids(1, 2, 3, 4, 5));
    expect(grown).toEqual(await scores(await engine(), ids(1, 2, 3, 4, 5)));
  });

  it('a list that lost events at its front keeps reading as a stream (state carries them)', async () => {
    const a = await engine();
    await scores(a, ids(7, 1, 2, 3));
    // The capped history dropped 7 and gained 5: scored as the stream 7 1 2 3 5.
    const slid = await scores(a, ids(1, 2, 3, 5));
    expect(slid).toEqual(await scores(await engine(), ids(7, 1, 2, 3, 5)));
    expect(slid).not.toEqual(await scores(await engine(), ids(1, 2, 3, 5)));
  });

  it('explanations carried from click to click equal those of a fresh engine per list', async () => {
    const kept = await engine();
    const history: number[] = [];
    let explained = 0;
    for (let click = 0; click < 24; click++) {
      // one item per click, two at a time now and then; types vary what may explain
      for (let j = 0; j < (click % 5 === 4 ? 2 : 1); j++) history.push((click * 7 + j * 3) % 30);
      const types = history.map((_, i) => (i % 3 === 0 ? 'click' : 'view')).slice(-20);
      const request = {
        prefix: ids(...history),
        k: 8,
        exclude: [],
        mix: false,
        recentTypes: types,
      };
      const got = await kept.recommend(request);
      expect(got).toEqual(await (await engine()).recommend(request));
      explained += got.filter((s) => s.because !== undefined).length;
    }
    expect(explained).toBeGreaterThan(20); // the comparison covered explanations
  });

  it('any other change starts again from the initial state', async () => {
    const a = await engine();
    await scores(a, ids(7, 1, 2, 3));
    const other = await scores(a, ids(1, 9, 3, 5));
    expect(other).toEqual(await scores(await engine(), ids(1, 9, 3, 5)));
  });
});

describe('Engine.recommend with `onlyJson` (an attribute filter applied to the catalogue)', () => {
  it('gives the top k among the allowed items of the same ranking, GRU alone and mixed', async () => {
    const a = await engine();
    const prefix = ids(1, 2, 3);
    for (const mix of [false, true]) {
      const all = (await a.recommend({ prefix, k: NUM_ITEMS, exclude: ['i9'], mix })).map(
        (s) => s.itemId,
      );
      // the lowest-ranked third of the items, an unknown id and a duplicate among them
      const low = all.slice(-10);
      const onlyJson = JSON.stringify([...low, 'nope', low[0]]);
      const got = await a.recommend({ prefix, k: 4, exclude: ['i9', low[1]], mix, onlyJson });
      expect(got.map((s) => s.itemId)).toEqual(low.filter((id) => id !== low[1]).slice(0, 4));
      // the same list again (rows kept): the same answer
      expect(await a.recommend({ prefix, k: 4, exclude: ['i9', low[1]], mix, onlyJson })).toEqual(
        got,
      );
      expect(await a.recommend({ prefix, k: 4, exclude: [], mix, onlyJson: '[]' })).toEqual([]);
      await expect(
        a.recommend({ prefix, k: 4, exclude: [], mix, onlyJson: '{"i1":1}' }),
      ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    }
  });
});

describe('Engine.recommend: the served mix', () => {
  it('scores β · softmax-scaled GRU + (1 − β) · scaled lists, as the offline mix (scaledParts)', async () => {
    const api = createWorkerApi();
    await api.init({ force: 'wasm', hiddenSize: 16, numItems: NUM_ITEMS });
    await api.load(withPopulation.slice(0), { pretrained: true });
    const rows = [4, 5, 6, 11];
    const got = await api.recommend({ prefix: ids(...rows), k: NUM_ITEMS, exclude: [] });
    expect(got.some((s) => s.via !== 'gru')).toBe(true); // the lists drove some items
    // the reference: the same weights and lists, through the offline mix's scaling
    const file = readModelFile(withPopulation.slice(0));
    const population = file.population as NonNullable<typeof file.population>;
    const scorer = file.model.scorer();
    const gru = scorer.scores(Int32Array.from(rows)).slice();
    const lists = new PopulationMix(population).scores64(Int32Array.from(rows));
    const { g, m } = scaledParts(gru, lists, (i) => !rows.includes(i));
    const beta = population.mix.beta;
    for (const s of got) {
      const r = Number(s.itemId.slice(1));
      expect(s.score).toBe(Math.fround(beta * g[r] + (1 - beta) * m[r]));
      // a list names the item only where its part outweighs the GRU's
      if (s.via !== 'gru') expect((1 - beta) * m[r]).toBeGreaterThan(beta * g[r]);
    }
  });
});

describe('Engine.load of a compact model file', () => {
  it('serves an f16 or i8 file (dequantized at load) like the float32 one', async () => {
    const { readModelFile } = await import('../../src/model/serialize');
    const { model: m } = readModelFile(model);
    const prefix = ids(1, 2, 3, 4);
    const want = await scores(await engine(), prefix);
    for (const precision of ['f16', 'i8'] as const) {
      const api = createWorkerApi();
      await api.init({ force: 'wasm', hiddenSize: 16, numItems: NUM_ITEMS });
      const file = serializeGru(m, null, { precision });
      const info = await api.load(file);
      // the page keeps the compact bytes (its checkpoint is the file it was given)
      expect(info.bytes, precision).toBe(file.byteLength);
      expect(info.bytes, precision).toBeLessThan(model.byteLength);
      const got = await scores(api, prefix);
      // the same top items, scores (≤ 1 here) within the encoding’s rounding (worst measured
      // 2.8e-4 for f16, 1.4e-2 for i8)
      expect(got.map(([id]) => id).slice(0, 5), precision).toEqual(
        want.map(([id]) => id).slice(0, 5),
      );
      const byId = new Map(want.map(([id, s]) => [id, s as number]));
      let worst = 0;
      for (const [id, s] of got)
        worst = Math.max(worst, Math.abs((s as number) - (byId.get(id as string) ?? 9)));
      expect(worst, precision).toBeLessThan(precision === 'f16' ? 1e-3 : 2e-2);
    }
    m.dispose();
  });
});
