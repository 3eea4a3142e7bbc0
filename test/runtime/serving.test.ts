// Serving in Node over the in-memory store and a fake engine: no engine start when there
// is nothing to score with, the GRU's candidates filled up by the fallback, the fallback
// when the engine is starting, backing off or failing.
import { describe, expect, it } from 'vitest';
import { createStore } from '../../src/api/create-store';
import { LocalRecError } from '../../src/core/errors';
import { VisitorHistory } from '../../src/runtime/history';
import { Serving, type ServingDeps } from '../../src/runtime/serving';
import type { ModelInfo, ScoredItem, ScoreRequest } from '../../src/worker/protocol';
import { fakeHandle } from './fakes';

const T0 = Date.UTC(2026, 0, 1);
const CATALOG = ['a', 'b', 'c', 'd', 'e'].map((id, i) => ({
  id,
  attributes: { color: i % 2 ? 'red' : 'blue' },
}));

async function setup(engine: {
  model?: boolean;
  ready?: boolean;
  scores?: (r: ScoreRequest) => Promise<ScoredItem[]>;
}) {
  const store = await createStore({
    namespace: `s${Math.random().toString(36).slice(2)}`,
    indexedDB: null,
    broadcast: false,
  });
  await store.trackMany([
    { itemId: 'c', type: 'view', timestamp: T0 },
    { itemId: 'd', type: 'purchase', timestamp: T0 + 1000 },
  ]);
  const requests: ScoreRequest[] = [];
  const reported: unknown[] = [];
  let readies = 0;
  const handle = fakeHandle({
    recommend: async (r) => {
      requests.push(r);
      return engine.scores ? engine.scores(r) : [{ itemId: 'e', score: 1 }];
    },
  });
  const deps: ServingDeps = {
    history: new VisitorHistory(store),
    engines: {
      started: false,
      ready: async () => {
        readies++;
        return engine.ready ?? true;
      },
      call: (what, run) => handle.call(what, run, 1000),
    },
    model: {
      current: engine.model
        ? {
            source: 'pretrained',
            trainedUntil: null,
            trainedThrough: null,
            info: { numItems: 5 } as ModelInfo,
          }
        : null,
      available: async () => engine.model ?? false,
    },
    readCatalog: async () => CATALOG,
    report: (e) => reported.push(e),
    serving: { beta: 0.3 },
    answerMs: 0,
  };
  const serving = new Serving(deps);
  serving.setSiteCatalog(CATALOG);
  return { serving, requests, reported, readies: () => readies };
}

describe('Serving', () => {
  it('answers from the fallback without starting an engine when nothing can score', async () => {
    const s = await setup({ model: false });
    const r = await s.serving.recommend({ k: 3 });
    expect(s.readies()).toBe(0);
    // the purchase is excluded; the visitor's own item, then the catalogue in the site's order
    expect(r.map((x) => [x.itemId, x.scorer])).toEqual([
      ['c', 'pop'],
      ['a', 'catalog'],
      ['b', 'catalog'],
    ]);
  });

  it("the GRU's candidates first, filled up by the fallback; the request carries the mix settings", async () => {
    const s = await setup({ model: true });
    const r = await s.serving.recommend({ k: 3 });
    expect(r.map((x) => [x.itemId, x.scorer])).toEqual([
      ['e', 'gru'],
      ['c', 'pop'],
      ['a', 'catalog'],
    ]);
    expect(s.requests[0]).toMatchObject({
      prefix: ['c', 'd'],
      k: 4, // k + the excluded purchase
      exclude: ['d'],
      mix: true,
      beta: 0.3,
    });
  });

  it('sends an attribute filter to the engine as the catalogue items that pass it', async () => {
    const s = await setup({
      model: true,
      scores: async (r) =>
        (r.onlyJson ? (JSON.parse(r.onlyJson) as string[]) : ['d', 'e']).map((itemId, i) => ({
          itemId,
          score: -i,
        })),
    });
    const blue = await s.serving.recommend({ k: 3, filter: { color: 'blue' } });
    // the engine chose among a, c, e (its own order) and was asked for k + exclusions only
    expect(s.requests[0]).toMatchObject({ onlyJson: '["a","c","e"]', k: 4 });
    expect(blue.map((x) => [x.itemId, x.scorer])).toEqual([
      ['a', 'gru'],
      ['c', 'gru'],
      ['e', 'gru'],
    ]);
    // the same filter again: the same list (kept); another filter: its own
    await s.serving.recommend({ k: 1, filter: { color: 'blue' } });
    await s.serving.recommend({ k: 1, filter: { color: ['red'] } });
    expect(s.requests[1].onlyJson).toBe(s.requests[0].onlyJson);
    expect(s.requests[2].onlyJson).toBe('["b","d"]');
    // a new catalogue: computed again
    s.serving.setSiteCatalog([{ id: 'z', attributes: { color: 'blue' } }]);
    await s.serving.recommend({ k: 1, filter: { color: 'blue' } });
    expect(s.requests[3].onlyJson).toBe('["z"]');
    // a predicate may accept items outside the catalogue: the page filters an over-fetch
    await s.serving.recommend({ k: 1, filter: (_item, id) => id !== 'e' });
    expect(s.requests[4].onlyJson).toBeUndefined();
    expect(s.requests[4].k).toBe(5); // max(200, 20k), capped at the model's 5 items
  });

  it('answers from the fallback while the engine is not ready, and when it fails', async () => {
    const starting = await setup({ model: true, ready: false });
    expect((await starting.serving.recommend({ k: 1 }))[0].scorer).toBe('pop');
    expect(starting.requests).toHaveLength(0);
    const failing = await setup({
      model: true,
      scores: async () => {
        throw new LocalRecError('WORKER_TIMEOUT', 'slow');
      },
    });
    expect((await failing.serving.recommend({ k: 1 }))[0].scorer).toBe('pop');
    expect(failing.reported).toMatchObject([{ code: 'WORKER_TIMEOUT' }]);
  });

  it('similar() refuses an empty id and never returns the item itself', async () => {
    const s = await setup({ model: false });
    await expect(s.serving.similar('', 3)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    const r = await s.serving.similar('a', 3);
    expect(r.map((x) => x.itemId)).not.toContain('a');
    expect(r).toHaveLength(3);
  });
});
