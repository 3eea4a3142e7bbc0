// The model the engine serves and where it came from: loaded when the engine starts (the
// site's pretrained model, then the visitor's own checkpoint over it), saved after a run,
// reloaded when another tab saved one, dropped when the engine is lost or the visitor's
// data is forgotten. A damaged checkpoint is reported, deleted and replaced by the
// pretrained model.

import { hasCode, LocalRecError } from '../core/errors';
import type { JsonValue } from '../events/types';
import type { ModelInfo, TrainResponse, WorkerApi } from '../worker/protocol';
import type { WorkerHandle } from './worker-client';

/** The store record the visitor's model is saved under. */
export const CHECKPOINT = 'gru';

/** What the served model needs from the store. */
export interface CheckpointStore {
  getCheckpoint(
    name: string,
  ): Promise<{ metadata: { [key: string]: JsonValue }; data: ArrayBuffer } | undefined>;
  putCheckpoint(
    name: string,
    checkpoint: { metadata: { [key: string]: JsonValue }; data: ArrayBuffer },
  ): Promise<void>;
  deleteCheckpoint(name: string): Promise<void>;
  hasCheckpoint(name: string): Promise<boolean>;
}

export interface ServedModelInfo {
  source: string;
  trainedUntil: number | null;
  trainedThrough: number | null;
  info: ModelInfo;
}

export interface ServedModelDeps {
  store: CheckpointStore;
  /** The site's pretrained model's bytes (a fresh copy each call); absent: none. */
  pretrained?: () => Promise<ArrayBuffer>;
  /** A new model is in use (the recommender's `model` event). */
  changed(model: { source: string; info: ModelInfo }): void;
  /** Reports an error (the recommender's `error` event). */
  report(error: unknown): LocalRecError;
  /** Timeout of one load, ms. */
  callMs: number;
  /** Other tabs hear of a saved model (default: nobody). */
  announce?(): void;
}

export class ServedModel {
  /** The model in use, null when none is loaded. */
  current: ServedModelInfo | null = null;

  constructor(private readonly deps: ServedModelDeps) {}

  /** Whether a model can be served without training first (pretrained or saved). */
  async available(): Promise<boolean> {
    if (this.deps.pretrained) return true;
    return this.deps.store.hasCheckpoint(CHECKPOINT).catch(() => false);
  }

  /**
   * Loads a started engine: the site's model first (fine-tuning starts from it and the mix
   * serves from its population statistics, even when the visitor's own checkpoint is what
   * scores), then the checkpoint.
   */
  async loadInto(handle: WorkerHandle): Promise<void> {
    let pretrained: ModelInfo | null = null;
    if (this.deps.pretrained) {
      const bytes = await this.deps.pretrained();
      pretrained = await handle.call(
        'load',
        (a) => a.load(bytes, { pretrained: true }),
        this.deps.callMs,
      );
    }
    let checkpoint: Awaited<ReturnType<CheckpointStore['getCheckpoint']>>;
    try {
      checkpoint = await this.deps.store.getCheckpoint(CHECKPOINT);
    } catch (error) {
      // A damaged record: discard it and start over (from the pretrained model, if any).
      if (!hasCode(error, 'MODEL_CORRUPT')) throw error;
      this.deps.report(error);
      await this.deps.store.deleteCheckpoint(CHECKPOINT).catch(() => {});
    }
    if (checkpoint) {
      try {
        const saved = checkpoint;
        const info = await handle.call('load', (a) => a.load(saved.data), this.deps.callMs);
        this.set(String(checkpoint.metadata.source ?? 'device'), checkpoint.metadata, info);
        return;
      } catch (error) {
        if (!hasCode(error, 'MODEL_CORRUPT') && !hasCode(error, 'MODEL_MISMATCH')) throw error;
        this.deps.report(error);
        await this.deps.store.deleteCheckpoint(CHECKPOINT).catch(() => {});
      }
    }
    if (pretrained) this.set('pretrained', null, pretrained);
  }

  /** Another tab saved a model: load it into the running engine (if any). */
  async reload(handle: WorkerHandle | null, source: string): Promise<void> {
    if (!handle) return; // the next engine start loads it
    try {
      const checkpoint = await this.deps.store.getCheckpoint(CHECKPOINT);
      if (!checkpoint) return;
      const info = await handle.call('load', (a) => a.load(checkpoint.data), this.deps.callMs);
      this.set(source, checkpoint.metadata, info);
    } catch (error) {
      this.deps.report(error);
    }
  }

  /** Saves a run's model as the visitor's checkpoint, serves it, tells other tabs. */
  async save(
    response: TrainResponse,
    seen: { trainedUntil: number; trainedThrough: number },
  ): Promise<void> {
    await this.deps.store.putCheckpoint(CHECKPOINT, {
      metadata: {
        source: 'device',
        trainedUntil: seen.trainedUntil,
        trainedThrough: seen.trainedThrough,
        events: response.events,
        loss: Number.isFinite(response.loss) ? response.loss : null,
        backend: response.backend,
        savedAt: Date.now(),
        numItems: response.info.numItems,
      },
      data: response.checkpoint,
    });
    this.set('device', seen, response.info);
    this.deps.announce?.();
  }

  /**
   * The visitor's data is gone: unload the engine's model, and serve from the site's
   * pretrained model again at once (it is not the visitor's data).
   */
  async forget(handle: WorkerHandle | null): Promise<void> {
    this.current = null;
    if (!handle) return;
    const call = <T>(what: string, run: (a: WorkerApi) => Promise<T>) =>
      handle.call(what, run, this.deps.callMs);
    await call('unload', (a) => a.unload()).catch(() => {});
    if (!this.deps.pretrained) return;
    try {
      const bytes = await this.deps.pretrained();
      this.set('pretrained', null, await call('load', (a) => a.load(bytes, { pretrained: true })));
    } catch (error) {
      this.deps.report(error);
    }
  }

  private set(
    source: string,
    saved: { trainedUntil?: unknown; trainedThrough?: unknown } | null,
    info: ModelInfo,
  ): void {
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
    this.current = {
      source,
      trainedUntil: num(saved?.trainedUntil),
      trainedThrough: num(saved?.trainedThrough),
      info,
    };
    this.deps.changed({ source, info });
  }
}

/** The bytes of a pretrained model the site serves (MODEL_CORRUPT when unreachable). */
export async function fetchModel(url: string | URL): Promise<ArrayBuffer> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (cause) {
    throw new LocalRecError(
      'MODEL_CORRUPT',
      `could not fetch the pretrained model at ${String(url)}`,
      { cause },
    );
  }
  if (!response.ok) {
    throw new LocalRecError(
      'MODEL_CORRUPT',
      `the pretrained model at ${String(url)} answered HTTP ${response.status}`,
    );
  }
  return response.arrayBuffer();
}
