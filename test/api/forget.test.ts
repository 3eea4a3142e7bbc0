// forget() as a visitor meets it: when it resolves the store and the recommender are
// empty and usable, calls made around it do not fail, and nothing re-creates the database
// until the page writes again (fake-indexeddb in Node; the demo e2e checks the page).
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createStore } from '../../src/api/create-store';
import type { LocalRecError } from '../../src/api/errors';
import { createRecommender, type Recommender } from '../../src/api/recommender';
import { serializeGru } from '../../src/model/serialize';
import { aloneElection } from '../../src/runtime/leader';
import { inProcessHandle } from '../../src/runtime/worker-client';
import { trainGru } from '../../src/train/fit';
import { createWorkerApi } from '../../src/worker/api';
import { useBackend } from '../model/helpers';
import { freshFactory } from '../store/helpers';
import { plantedData } from '../train/fixtures';

const names = async (factory: IDBFactory) => (await factory.databases()).map((d) => d.name);
const open: Recommender[] = [];
afterEach(() => {
  for (const r of open.splice(0)) r.close();
});

describe('store.forget()', () => {
  it('reads answer empty afterwards without re-creating the database; a write does', async () => {
    const factory = freshFactory();
    const store = await createStore({ namespace: 'f1', indexedDB: factory });
    await store.setCatalog([{ id: 'a' }]);
    await store.trackMany([
      { itemId: 'a', type: 'view' },
      { itemId: 'b', type: 'purchase' },
    ]);
    await store.putCheckpoint('m', { metadata: {}, data: new ArrayBuffer(4) });
    await store.forget();
    expect(await names(factory)).not.toContain('localrec:f1');
    expect((await store.readSequences()).sequences.items).toHaveLength(0);
    expect(await store.readEventsAfter(0, 0)).toMatchObject({ events: [], lastId: null });
    expect(await store.getCatalog()).toEqual([]);
    expect(await store.hasCheckpoint('m')).toBe(false);
    expect(await store.getCheckpoint('m')).toBeUndefined();
    expect(await store.listCheckpoints()).toEqual([]);
    expect((await store.stats()).events).toBe(0);
    expect((await store.exportData()).events).toEqual([]);
    expect(await names(factory)).not.toContain('localrec:f1');
    // The visitor comes back: the first write creates a fresh database.
    await store.track({ itemId: 'c', type: 'view' });
    expect(await names(factory)).toContain('localrec:f1');
    expect((await store.exportData()).events.map((e) => e.itemId)).toEqual(['c']);
    store.close();
  });

  it('calls running or made while it deletes settle normally, before or after the delete', async () => {
    const factory = freshFactory();
    const store = await createStore({ namespace: 'f2', indexedDB: factory });
    await store.trackMany(
      Array.from({ length: 200 }, (_, i) => ({ itemId: `i${i % 9}`, type: 'view' })),
    );
    const reads = [store.readSequences(), store.stats(), store.exportData()];
    const forgetting = store.forget();
    const during = [store.readSequences(), store.getCatalog()];
    await forgetting;
    const settled = await Promise.allSettled([...reads, ...during]);
    expect(settled.map((r) => r.status)).toEqual(Array(5).fill('fulfilled'));
    // Reads made during the delete answer as of after it.
    expect(
      (settled[3] as PromiseFulfilledResult<{ sequences: { items: Int32Array } }>).value.sequences
        .items,
    ).toHaveLength(0);
    expect(await names(factory)).not.toContain('localrec:f2');
    store.close();
  });
});

describe('recommender.forget()', () => {
  let pretrained: ArrayBuffer;
  beforeAll(async () => {
    await useBackend('wasm');
    const data = plantedData(20, 40, 20, 5, 17);
    const r = await trainGru(
      data,
      { epochs: 2, batchSize: 16, negatives: 8, lr: 0.1, seed: 1 },
      { config: { hiddenSize: 8 }, vocab: Array.from({ length: 20 }, (_, i) => `i${i}`) },
    );
    pretrained = serializeGru(r.model);
    r.model.dispose();
  }, 60_000);

  it('leaves it empty, serving from the pretrained model, with no error and no database', async () => {
    const factory = freshFactory();
    const errors: LocalRecError[] = [];
    const catalog = Array.from({ length: 20 }, (_, i) => ({ id: `i${i}`, title: `Item ${i}` }));
    const rec = await createRecommender(
      {
        namespace: 'f3',
        indexedDB: factory,
        catalog,
        pretrained: pretrained.slice(0),
        training: { auto: false, fineTune: { blend: 1 } },
      },
      { startEngine: async () => inProcessHandle(createWorkerApi()), electLeader: aloneElection },
    );
    open.push(rec);
    rec.on('error', (e) => errors.push(e));
    await rec.trackMany(['i5', 'i17', 'i3', 'i5'].map((itemId) => ({ itemId, type: 'click' })));
    await rec.train({ mode: 'continue' });
    expect((await rec.status()).model?.source).toBe('device');
    // A recommend racing the forget, and the page's refresh after it.
    const racing = rec.recommend({ k: 5 });
    await rec.forget();
    expect(await racing).toHaveLength(5);
    const after = await rec.recommend({ k: 5, filter: { title: 'Item 2' } });
    expect(after.map((r) => r.itemId)).toEqual(['i2']); // the site's catalogue still filters
    const status = await rec.status();
    expect(status).toMatchObject({ runsIn: 'main-thread', lastError: null, lastTraining: null });
    expect(status.model?.source).toBe('pretrained');
    expect((await rec.stats()).events).toBe(0);
    expect((await rec.recommend({ k: 3 })).every((r) => r.scorer === 'gru')).toBe(true);
    expect(errors).toEqual([]);
    expect(await names(factory)).not.toContain('localrec:f3');
    // Tracking again starts a new history in a new database.
    await rec.track({ itemId: 'i5', type: 'view' });
    expect(await names(factory)).toContain('localrec:f3');
    expect((await rec.stats()).events).toBe(1);
  });
});
