// ServedModel and the stored backend decision in Node, over a fake engine and a store in
// a Map: what is loaded at start, what a damaged checkpoint leads to, what a saved run
// writes, what forget() serves; when the backend decision is written.
import { describe, expect, it } from 'vitest';
import { LocalRecError } from '../../src/core/errors';
import { BACKEND_SETTING, decideBackend } from '../../src/runtime/backend-decision';
import { CHECKPOINT, type CheckpointStore, ServedModel } from '../../src/runtime/served-model';
import type {
  BackendStatus,
  EngineInit,
  ModelInfo,
  TrainResponse,
} from '../../src/worker/protocol';
import { fakeHandle } from './fakes';

const info = (numItems: number) => ({ numItems }) as ModelInfo;

function memoryStore() {
  const checkpoints = new Map<string, { metadata: Record<string, never>; data: ArrayBuffer }>();
  const settings = new Map<string, unknown>();
  let corrupt = false;
  const store: CheckpointStore & {
    checkpoints: typeof checkpoints;
    settings: typeof settings;
    corrupt(): void;
    getSetting(n: string): Promise<unknown>;
    putSetting(n: string, v: never): Promise<void>;
  } = {
    checkpoints,
    settings,
    corrupt: () => {
      corrupt = true;
    },
    async getCheckpoint(name) {
      if (corrupt) throw new LocalRecError('MODEL_CORRUPT', 'truncated');
      return checkpoints.get(name);
    },
    async putCheckpoint(name, c) {
      checkpoints.set(name, c as never);
    },
    async deleteCheckpoint(name) {
      corrupt = false;
      checkpoints.delete(name);
    },
    async hasCheckpoint(name) {
      return checkpoints.has(name);
    },
    async getSetting(n) {
      return settings.get(n);
    },
    async putSetting(n, v) {
      settings.set(n, v);
    },
  };
  return store;
}

/** An engine whose load() answers numItems = the file's byte length. */
function engine() {
  const loaded: { bytes: number; pretrained: boolean }[] = [];
  const handle = fakeHandle({
    load: async (data, o) => {
      if (data.byteLength === 0) throw new LocalRecError('MODEL_MISMATCH', 'wrong items');
      loaded.push({ bytes: data.byteLength, pretrained: !!o?.pretrained });
      return info(data.byteLength);
    },
    unload: async () => {
      loaded.push({ bytes: -1, pretrained: false });
    },
  });
  return { handle, loaded };
}

function model(store: CheckpointStore, pretrained?: number) {
  const events: string[] = [];
  const reported: string[] = [];
  let announced = 0;
  const m = new ServedModel({
    store,
    pretrained: pretrained === undefined ? undefined : async () => new ArrayBuffer(pretrained),
    changed: (e) => events.push(`${e.source}:${e.info.numItems}`),
    report: (e) => {
      reported.push((e as LocalRecError).code);
      return e as LocalRecError;
    },
    callMs: 1000,
    announce: () => announced++,
  });
  return { m, events, reported, announced: () => announced };
}

describe('ServedModel', () => {
  it('loads the pretrained model first, then serves the saved checkpoint over it', async () => {
    const store = memoryStore();
    store.checkpoints.set(CHECKPOINT, {
      metadata: { source: 'device', trainedThrough: 7, trainedUntil: 99 } as never,
      data: new ArrayBuffer(12),
    });
    const { handle, loaded } = engine();
    const { m, events } = model(store, 10);
    await m.loadInto(handle);
    expect(loaded).toEqual([
      { bytes: 10, pretrained: true },
      { bytes: 12, pretrained: false },
    ]);
    expect(events).toEqual(['device:12']);
    expect(m.current).toMatchObject({ source: 'device', trainedThrough: 7, trainedUntil: 99 });
  });

  it('a damaged checkpoint is reported, deleted, and the pretrained model serves', async () => {
    for (const damage of ['unreadable', 'mismatch'] as const) {
      const store = memoryStore();
      store.checkpoints.set(CHECKPOINT, { metadata: {}, data: new ArrayBuffer(0) });
      if (damage === 'unreadable') store.corrupt();
      const { handle } = engine();
      const { m, events, reported } = model(store, 10);
      await m.loadInto(handle);
      expect(reported).toEqual([damage === 'unreadable' ? 'MODEL_CORRUPT' : 'MODEL_MISMATCH']);
      expect(store.checkpoints.has(CHECKPOINT)).toBe(false);
      expect(events).toEqual(['pretrained:10']);
      expect(m.current).toMatchObject({ source: 'pretrained', trainedThrough: null });
    }
  });

  it('nothing to serve without a pretrained model or a checkpoint', async () => {
    const store = memoryStore();
    const { m } = model(store);
    expect(await m.available()).toBe(false);
    await m.loadInto(engine().handle);
    expect(m.current).toBeNull();
    store.checkpoints.set(CHECKPOINT, { metadata: {}, data: new ArrayBuffer(3) });
    expect(await m.available()).toBe(true);
    expect(await model(memoryStore(), 4).m.available()).toBe(true);
  });

  it('save() writes what the model trained through, serves it and tells other tabs', async () => {
    const store = memoryStore();
    const { m, events, announced } = model(store);
    const response = {
      checkpoint: new ArrayBuffer(5),
      info: info(5),
      events: 40,
      loss: Number.NaN,
      backend: 'wasm',
    } as TrainResponse;
    await m.save(response, { trainedUntil: 123, trainedThrough: 9 });
    expect(store.checkpoints.get(CHECKPOINT)?.metadata).toMatchObject({
      source: 'device',
      trainedUntil: 123,
      trainedThrough: 9,
      events: 40,
      loss: null, // NaN is not JSON
      backend: 'wasm',
      numItems: 5,
    });
    expect(events).toEqual(['device:5']);
    expect(announced()).toBe(1);
    expect(m.current).toMatchObject({ trainedThrough: 9 });
  });

  it("forget() unloads the visitor's model and serves the pretrained one again", async () => {
    const store = memoryStore();
    const { handle, loaded } = engine();
    const { m, events } = model(store, 10);
    await m.save({ checkpoint: new ArrayBuffer(5), info: info(5) } as TrainResponse, {
      trainedUntil: 1,
      trainedThrough: 1,
    });
    await m.forget(handle);
    expect(loaded).toEqual([
      { bytes: -1, pretrained: false },
      { bytes: 10, pretrained: true },
    ]);
    expect(events.at(-1)).toBe('pretrained:10');
    const bare = model(store);
    await bare.m.save({ checkpoint: new ArrayBuffer(5), info: info(5) } as TrainResponse, {
      trainedUntil: 1,
      trainedThrough: 1,
    });
    await bare.m.forget(null);
    expect(bare.m.current).toBeNull();
  });
});

describe('decideBackend', () => {
  const status = (backend: string, key: string) =>
    ({
      backend,
      key,
      reason: 'measured',
      trials: [],
      decidedAt: 0,
      failed: [],
    }) as unknown as BackendStatus;

  it("passes the stored decision and the site's workload to the trial, stores a changed answer", async () => {
    const store = memoryStore();
    store.settings.set(BACKEND_SETTING, status('webgl', 'old'));
    const requests: EngineInit[] = [];
    const handle = fakeHandle({
      init: async (r) => {
        requests.push(r);
        return status('wasm', 'new');
      },
    });
    const out = await decideBackend(
      handle,
      store,
      { exclude: ['webgpu'] },
      { hiddenSize: 32, numItems: 100, trainOptions: { batchSize: 64, negatives: 'x' as never } },
      1000,
    );
    expect(out.backend).toBe('wasm');
    expect(requests[0]).toMatchObject({
      exclude: ['webgpu'],
      cached: { backend: 'webgl', key: 'old' },
      hiddenSize: 32,
      numItems: 100,
      batchSize: 64,
    });
    expect(requests[0].negatives).toBeUndefined(); // not a number: the default
    expect(store.settings.get(BACKEND_SETTING)).toMatchObject({ backend: 'wasm', key: 'new' });
  });

  it('writes nothing when the answer is the stored one, or when writing is not allowed', async () => {
    const store = memoryStore();
    const puts: string[] = [];
    const put = store.putSetting;
    store.putSetting = async (n, v) => {
      puts.push(n);
      return put(n, v);
    };
    store.settings.set(BACKEND_SETTING, status('wasm', 'k'));
    const same = fakeHandle({ init: async () => status('wasm', 'k') });
    await decideBackend(same, store, {}, { hiddenSize: 8, numItems: 16 }, 1000);
    expect(puts).toEqual([]);
    const changed = fakeHandle({ init: async () => status('cpu', 'k2') });
    await decideBackend(changed, store, {}, { hiddenSize: 8, numItems: 16 }, 1000, () => false);
    expect(puts).toEqual([]); // after forget(): nothing may re-create the database
  });
});
