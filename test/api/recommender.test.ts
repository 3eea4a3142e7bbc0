// The Recommender in Node: the product's own code path (store in memory, training
// trigger, fine-tuning, recommend with its mix) over the Engine run in-process on WASM,
// as the replay protocol drives it. Tiny models on planted data.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createRecommender,
  type Recommender,
  type RecommenderOptions,
} from '../../src/api/recommender';
import { buildPopulation } from '../../src/baselines/population';
import { LocalRecError } from '../../src/core/errors';
import { serializeGru } from '../../src/model/serialize';
import { aloneElection } from '../../src/runtime/leader';
import { inProcessHandle } from '../../src/runtime/worker-client';
import { trainGru } from '../../src/train/fit';
import { createWorkerApi } from '../../src/worker/api';
import { useBackend } from '../model/helpers';
import { freshFactory } from '../store/helpers';
import { plantedData } from '../train/fixtures';

const NUM_ITEMS = 30;
let pretrained: ArrayBuffer;
const open: Recommender[] = [];

beforeAll(async () => {
  await useBackend('wasm');
  // The population: random sessions in which item 5 is always followed by item 17.
  const data = plantedData(NUM_ITEMS, 60, 30, 5, 17);
  const r = await trainGru(
    data,
    { epochs: 6, batchSize: 16, negatives: 16, lr: 0.1, dropoutHidden: 0, seed: 2 },
    { config: { hiddenSize: 16 }, vocab: Array.from({ length: NUM_ITEMS }, (_, i) => `i${i}`) },
  );
  pretrained = serializeGru(r.model, buildPopulation(data, { beta: 0.3 }));
  r.model.dispose();
}, 60_000);

afterEach(() => {
  for (const r of open.splice(0)) r.close();
});

let clock = Date.UTC(2026, 0, 1);

async function recommender(options: Partial<RecommenderOptions>): Promise<Recommender> {
  const rec = await createRecommender(
    {
      namespace: `t${Math.random().toString(36).slice(2)}`,
      indexedDB: null,
      broadcast: false,
      now: () => clock,
      backend: { force: 'wasm' },
      catalog: Array.from({ length: NUM_ITEMS }, (_, i) => ({ id: `i${i}`, title: `Item ${i}` })),
      pretrained: pretrained.slice(0),
      ...options,
    },
    { startEngine: async () => inProcessHandle(createWorkerApi()), electLeader: aloneElection },
  );
  open.push(rec);
  // recommend() does not wait for a starting engine: these tests are about the model.
  if (options.pretrained !== undefined || !('pretrained' in options)) await rec.warmUp();
  return rec;
}

/** The visitor's habit, unknown to the population: item 3 then item 9, in 8 sessions. */
async function trackHabit(rec: Recommender): Promise<void> {
  for (let s = 0; s < 8; s++) {
    for (const item of ['i3', 'i9', `i${20 + (s % 5)}`]) {
      clock += 60_000;
      await rec.track({ itemId: item, type: 'click', timestamp: clock });
    }
    clock += 2 * 3600_000; // a new session
    await rec.settled();
  }
}

async function rankAfter3(rec: Recommender, target: string): Promise<number> {
  const list = await rec.recommend({
    k: NUM_ITEMS - 1,
    exclude: ['i3'],
    context: { itemId: 'i3' },
  });
  return list.findIndex((r) => r.itemId === target) + 1;
}

const GRU_ONLY = { serving: { mix: false } };
// Strong enough to see in a 30-item toy (the product's defaults are gentler).
const STRONG = { epochs: 5, options: { lr: 0.1 } };

describe('Recommender on the device (Node, in-process engine)', () => {
  it('fine-tuning from the pretrained model learns the visitor’s own pattern', async () => {
    const untouched = await recommender({ ...GRU_ONLY, training: { auto: false } });
    await trackHabit(untouched);
    const tuned = await recommender({
      ...GRU_ONLY,
      training: { ...STRONG, fineTune: { blend: 1 } },
    });
    const trained: number[] = [];
    tuned.on('trained', (s) => trained.push(s.events));
    await trackHabit(tuned);
    expect(trained.length).toBeGreaterThanOrEqual(3); // every 5 new events, in the background
    expect((await tuned.status()).model?.source).toBe('device');
    const before = await rankAfter3(untouched, 'i9');
    const after = await rankAfter3(tuned, 'i9');
    expect(after).toBe(1);
    expect(before).toBeGreaterThan(1);
  });

  it('blend 0 (the default) keeps the pretrained weights: nothing to train for known items', async () => {
    const untouched = await recommender({ ...GRU_ONLY, training: { auto: false } });
    const kept = await recommender({
      ...GRU_ONLY,
      training: { ...STRONG, fineTune: { blend: 0 } },
    });
    await trackHabit(untouched);
    await trackHabit(kept);
    // every background run found nothing to learn, and status() says why
    const last = (await kept.status()).lastTraining;
    expect(last).toMatchObject({ trained: false, events: 0 });
    const summary = await kept.train();
    expect(summary).toMatchObject({ trained: false, events: 0 });
    expect(summary.reason).toMatch(/keeps the pretrained weights/);
    const a = await untouched.recommend({ k: 10, context: { itemId: 'i3' } });
    const b = await kept.recommend({ k: 10, context: { itemId: 'i3' } });
    expect(b.map((r) => [r.itemId, r.score])).toEqual(a.map((r) => [r.itemId, r.score]));
  });

  it('blend 0 still gives items new to the model trained rows: they become recommendable', async () => {
    const rec = await recommender({ ...GRU_ONLY, training: { auto: false, ...STRONG } });
    // 'new' (not in the pretrained vocabulary) always follows item 3 for this visitor.
    for (let s = 0; s < 8; s++) {
      for (const item of ['i3', 'new', `i${20 + (s % 5)}`]) {
        clock += 60_000;
        await rec.track({ itemId: item, type: 'click', timestamp: clock });
      }
      clock += 2 * 3600_000;
    }
    const before = await rec.recommend({
      k: NUM_ITEMS,
      exclude: ['i3'],
      context: { itemId: 'i3' },
    });
    expect(before.find((r) => r.itemId === 'new')?.scorer ?? 'catalog').not.toBe('gru');
    const summary = await rec.train();
    expect(summary.trained).toBe(true);
    expect((await rec.status()).model?.numItems).toBe(NUM_ITEMS + 1);
    const after = await rec.recommend({ k: 5, exclude: ['i3'], context: { itemId: 'i3' } });
    expect(after[0]).toMatchObject({ itemId: 'new', scorer: 'gru' });
  });

  it('runs from the pretrained model do not compound; runs that continue do', async () => {
    const extra = async (rec: Recommender) => {
      for (const item of ['i7', 'i8', 'i9']) {
        clock += 60_000;
        await rec.track({ itemId: item, type: 'view', timestamp: clock });
      }
    };
    const scores = async (rec: Recommender) =>
      (await rec.recommend({ k: 10, context: { itemId: 'i22' } })).map((r) => r.score);
    // Trained twice along the way vs once at the end, on the same history.
    const compare = async (base: 'pretrained' | 'current') => {
      const options = {
        ...GRU_ONLY,
        training: { auto: false, ...STRONG, fineTune: { base, blend: 1 } },
      };
      const twice = await recommender(options);
      const once = await recommender(options);
      const t0 = clock;
      await trackHabit(twice);
      await twice.train();
      await extra(twice);
      await twice.train();
      clock = t0;
      await trackHabit(once);
      await extra(once);
      await once.train();
      return { twice: await scores(twice), once: await scores(once) };
    };
    const fromPretrained = await compare('pretrained');
    expect(fromPretrained.twice).toEqual(fromPretrained.once);
    const continued = await compare('current');
    expect(continued.twice).not.toEqual(continued.once);
  });

  it('serves the mix when the model file carries population statistics, naming the part', async () => {
    const rec = await recommender({ training: { auto: false } });
    for (const item of ['i1', 'i5']) {
      clock += 60_000;
      await rec.track({ itemId: item, type: 'view', timestamp: clock });
    }
    const list = await rec.recommend({ k: 10 });
    expect(list).toHaveLength(10);
    // After item 5 the population always went to 17: the top item, from SR or the GRU.
    expect(list[0].itemId).toBe('i17');
    const parts = new Set(list.map((r) => r.scorer));
    for (const p of parts) expect(['gru', 'sr', 'itemknn']).toContain(p);
    const explained = list.find((r) => r.scorer === 'sr' || r.scorer === 'itemknn');
    expect(explained?.explanation?.because).toMatch(/^i(1|5)$/);
    expect(explained?.explanation?.text).toMatch(/^(Often chosen after|Similar to) Item (1|5)$/);
  });

  it('train() counts the visitor’s events once, with the epochs beside them', async () => {
    const rec = await recommender({
      ...GRU_ONLY,
      training: { auto: false, ...STRONG, fineTune: { blend: 1 } },
    });
    await trackHabit(rec); // 8 sessions of 3 events
    const s = await rec.train();
    expect(s).toMatchObject({ trained: true, events: 24, sessions: 8, epochs: 5 });
    // each session's last event is only a target: 2 training positions a session and epoch
    expect(s.processedEvents).toBe(8 * 2 * 5);
  });

  it('a session stamped ahead of the clock does not hide later sessions from training', async () => {
    // A device-trained model that continues on the sessions it has not seen.
    const rec = await recommender({ pretrained: undefined, training: { auto: false } });
    const ahead = clock + 23 * 3600_000; // accepted: within the day ahead the store allows
    await rec.trackMany([
      { itemId: 'i1', type: 'click', timestamp: ahead },
      { itemId: 'i2', type: 'click', timestamp: ahead + 1000 },
    ]);
    expect(await rec.train()).toMatchObject({ trained: true, mode: 'fresh', events: 2 });
    const seen = (await rec.status()).model?.trainedThrough;
    expect(seen).toBe(2);
    // Later writes, stamped by the (earlier) device clock: new to the model all the same.
    clock += 60_000;
    await rec.trackMany([
      { itemId: 'i3', type: 'click', timestamp: clock },
      { itemId: 'i4', type: 'click', timestamp: clock + 1000 },
      { itemId: 'i5', type: 'click', timestamp: clock + 2000 },
    ]);
    const second = await rec.train();
    expect(second).toMatchObject({ trained: true, mode: 'continue', events: 3, sessions: 1 });
    expect((await rec.status()).model?.trainedThrough).toBe(5);
    expect(await rec.train()).toMatchObject({
      trained: false,
      reason: expect.stringMatching(/no new sessions/),
    });
  });

  it('explains by the event that contributed most, in the words of what the visitor did', async () => {
    const rec = await recommender({ ...GRU_ONLY, training: { auto: false } });
    const at = (type: string, itemId: string) => {
      clock += 60_000;
      return { itemId, type, timestamp: clock };
    };
    // After 5 the population always went to 17: the purchase of 5 is what drives 17.
    await rec.trackMany([at('click', 'i3'), at('click', 'i8'), at('purchase', 'i5')]);
    const list = await rec.recommend({ k: 5, exclude: [] });
    const top = list.find((r) => r.itemId === 'i17');
    expect(top?.explanation).toEqual({ because: 'i5', text: 'Because you bought Item 5' });
    // An impression after the clicks explains nothing, whatever its place in the prefix.
    await rec.track(at('view', 'i9'));
    const after = await rec.recommend({ k: 10, exclude: [] });
    expect(after.some((r) => r.explanation?.because === 'i9')).toBe(false);
    expect(after.some((r) => r.explanation !== undefined)).toBe(true);
    for (const r of after)
      if (r.explanation) expect(r.explanation.text).toMatch(/^Because you (bought|clicked) /);
  });

  it('the item on screen (context) is not recommended unless kept; the list is the one after it', async () => {
    const rec = await recommender({ ...GRU_ONLY, training: { auto: false } });
    clock += 60_000;
    await rec.track({ itemId: 'i1', type: 'view', timestamp: clock });
    // every item the catalogue has, but the one on screen
    const onFive = await rec.recommend({ k: NUM_ITEMS, context: { itemId: 'i5' } });
    expect(onFive).toHaveLength(NUM_ITEMS - 1);
    expect(onFive.map((r) => r.itemId)).not.toContain('i5');
    expect(onFive[0].itemId).toBe('i17'); // after 5 the population always went to 17
    const kept = await rec.recommend({ k: NUM_ITEMS, context: { itemId: 'i5', keepItem: true } });
    expect(kept.map((r) => r.itemId)).toContain('i5');
    await expect(
      rec.recommend({ context: { itemId: 'i5', keepItem: 1 as never } }),
    ).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      details: { field: 'context.keepItem' },
    });
  });

  it('fills up to k from the fallback when the model knows fewer items, filters included', async () => {
    // 5 catalogue items the pretrained model has never seen, the blue ones among them
    const extra = Array.from({ length: 5 }, (_, i) => ({
      id: `x${i}`,
      title: `Extra ${i}`,
      attributes: { color: i < 3 ? 'blue' : 'red' },
    }));
    const rec = await recommender({
      ...GRU_ONLY,
      training: { auto: false },
      catalog: [
        ...Array.from({ length: NUM_ITEMS }, (_, i) => ({ id: `i${i}`, title: `Item ${i}` })),
        ...extra,
      ],
    });
    clock += 60_000;
    await rec.track({ itemId: 'i1', type: 'view', timestamp: clock });
    const all = await rec.recommend({ k: NUM_ITEMS + 4, exclude: [] });
    expect(all).toHaveLength(NUM_ITEMS + 4);
    expect(new Set(all.map((r) => r.itemId)).size).toBe(NUM_ITEMS + 4);
    expect(all.map((r) => r.rank)).toEqual(all.map((_, i) => i + 1));
    expect(all.filter((r) => r.itemId.startsWith('x')).every((r) => r.scorer !== 'gru')).toBe(true);
    const blue = await rec.recommend({ k: 10, filter: { color: 'blue' } });
    expect(blue.map((r) => r.itemId).sort()).toEqual(['x0', 'x1', 'x2']);
    const similar = await rec.similar('i5', NUM_ITEMS + 3);
    expect(similar).toHaveLength(NUM_ITEMS + 3);
    expect(similar.map((r) => r.itemId)).not.toContain('i5');
  });

  it('a worker that died between calls is replaced and reported (error event, lastError)', async () => {
    let dead: LocalRecError | undefined;
    let starts = 0;
    const rec = await createRecommender(
      {
        namespace: `t${Math.random().toString(36).slice(2)}`,
        indexedDB: null,
        broadcast: false,
        backend: { force: 'wasm' },
        pretrained: pretrained.slice(0),
        training: { auto: false },
      },
      {
        startEngine: async () => {
          starts++;
          dead = undefined;
          const inner = inProcessHandle(createWorkerApi());
          return {
            ...inner,
            get crashed() {
              return dead;
            },
          };
        },
        electLeader: aloneElection,
      },
    );
    open.push(rec);
    const errors: string[] = [];
    rec.on('error', (e) => errors.push(e.code));
    await rec.recommend({ k: 3 });
    expect(starts).toBe(1);
    dead = new LocalRecError('WORKER_CRASHED', 'the worker at x failed: boom');
    const again = await rec.recommend({ k: 3 });
    expect(again).toHaveLength(3);
    expect(starts).toBe(2);
    expect(errors).toEqual(['WORKER_CRASHED']);
    expect((await rec.status()).lastError?.message).toMatch(/engine died and is restarted: .*boom/);
  });

  it('answers from the fallback while the engine starts, and backs off after a failed start', async () => {
    let starts = 0;
    const hanging = await createRecommender(
      {
        namespace: `t${Math.random().toString(36).slice(2)}`,
        indexedDB: null,
        broadcast: false,
        pretrained: pretrained.slice(0),
        catalog: Array.from({ length: NUM_ITEMS }, (_, i) => ({ id: `i${i}` })),
        training: { auto: false },
        timeouts: { answerMs: 50 },
      },
      {
        startEngine: () => {
          starts++;
          return new Promise(() => {}); // a worker that never answers
        },
        electLeader: aloneElection,
      },
    );
    open.push(hanging);
    await hanging.track({ itemId: 'i3', type: 'view' });
    const t0 = performance.now();
    const first = await hanging.recommend({ k: 3 });
    expect(performance.now() - t0).toBeLessThan(1000); // answerMs, not the 30 s start timeout
    expect(first.map((r) => r.scorer)).toEqual(['pop', 'catalog', 'catalog']);
    await hanging.recommend({ k: 3 });
    expect(starts).toBe(1); // the one start goes on; no second worker

    const errors: LocalRecError[] = [];
    const failing = await createRecommender(
      {
        namespace: `t${Math.random().toString(36).slice(2)}`,
        indexedDB: null,
        broadcast: false,
        pretrained: pretrained.slice(0),
        training: { auto: false },
      },
      {
        startEngine: async () => {
          starts++;
          throw new LocalRecError('WORKER_CRASHED', 'could not start the worker');
        },
        electLeader: aloneElection,
      },
    );
    open.push(failing);
    failing.on('error', (e) => errors.push(e));
    starts = 0;
    await failing.track({ itemId: 'i3', type: 'view' });
    expect((await failing.recommend({ k: 2 })).map((r) => r.scorer)).toEqual(['pop']);
    const t1 = performance.now();
    expect(await failing.similar('i3', 2)).toEqual([]); // nothing but i3 itself is known
    await expect(failing.train()).rejects.toMatchObject({
      code: 'WORKER_CRASHED',
      message: expect.stringMatching(/retried in \d+ s/),
    });
    expect(performance.now() - t1).toBeLessThan(1000);
    expect(starts).toBe(1); // backing off: no restart storm
    expect(errors.filter((e) => e.message === 'could not start the worker')).toHaveLength(1);
  });

  it('serves from the model while the backend trial is still running; training waits for it', async () => {
    let releaseTrial: () => void = () => {};
    const trialGate = new Promise<void>((r) => {
      releaseTrial = r;
    });
    const rec = await createRecommender(
      {
        namespace: `t${Math.random().toString(36).slice(2)}`,
        indexedDB: null,
        broadcast: false,
        pretrained: pretrained.slice(0),
        backend: { force: 'wasm' },
        training: { auto: false, fineTune: { blend: 1 } },
        ...GRU_ONLY,
      },
      {
        startEngine: async () => {
          const api = createWorkerApi();
          // A first visit's backend trial, held until the test lets it finish.
          const init = api.init;
          api.init = async (r) => {
            await trialGate;
            return init(r);
          };
          return inProcessHandle(api);
        },
        electLeader: aloneElection,
      },
    );
    open.push(rec);
    const model = new Promise((r) => rec.on('model', r));
    await rec.track({ itemId: 'i5', type: 'view' });
    await rec.recommend({ k: 1 }); // starts the engine
    await model;
    expect((await rec.recommend({ k: 1 }))[0]).toMatchObject({ itemId: 'i17', scorer: 'gru' });
    let trained = false;
    await rec.trackMany([
      { itemId: 'i3', type: 'click', timestamp: clock + 1 },
      { itemId: 'i9', type: 'click', timestamp: clock + 2 },
    ]);
    const training = rec.train().then((s) => {
      trained = s.trained;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(trained).toBe(false); // waiting for the backend
    releaseTrial();
    await training;
    expect(trained).toBe(true);
    expect((await rec.status()).backend?.backend).toBe('wasm');
  });

  it('keeps the backend decision as a setting, not a checkpoint, and reuses it next visit', async () => {
    const factory = freshFactory();
    const options = {
      namespace: 'backend-setting',
      indexedDB: factory,
      broadcast: false,
      pretrained: pretrained.slice(0),
      training: { auto: false },
    };
    const deps = {
      startEngine: async () => inProcessHandle(createWorkerApi()),
      electLeader: aloneElection,
    };
    const first = await createRecommender(options, deps);
    open.push(first);
    const status = await first.warmUp();
    expect(await first.store.getSetting('backend-decision')).toMatchObject({
      backend: status.backend?.backend,
      key: status.backend?.key,
    });
    expect((await first.store.listCheckpoints()).map((c) => c.name)).toEqual([]);
    first.close();
    const again = await createRecommender(options, deps);
    open.push(again);
    // The cached decision: no trials were run this time.
    expect((await again.warmUp()).backend).toMatchObject({ backend: status.backend?.backend });
    expect((await again.warmUp()).backend?.reason).toBe(status.backend?.reason);
  });

  it('a refused createRecommender leaves no database behind', async () => {
    const factory = freshFactory();
    for (const bad of [
      { backend: { force: 'tpu' as never } },
      { catalog: 'x' as never },
      { catalog: [{ id: 'a' }, { id: 'a' }] },
      { serving: { beta: -1 } },
      { training: { fineTune: { maxEvents: 0 } } },
    ]) {
      await expect(
        createRecommender({ namespace: 'refused', indexedDB: factory, broadcast: false, ...bad }),
      ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    }
    expect(await factory.databases()).toEqual([]);
  });

  it('refuses bad serving / fine-tuning options before opening anything', async () => {
    await expect(recommender({ serving: { beta: 2 } })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      details: { field: 'serving.beta' },
    });
    await expect(recommender({ training: { fineTune: { blend: -0.1 } } })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      details: { field: 'training.fineTune.blend' },
    });
  });
});
