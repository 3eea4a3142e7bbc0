// createRecommender(): the product a page uses. Events go into the store (main thread);
// training and GRU scoring run in the engine (a module worker, through Comlink); one tab
// of the origin trains at a time; checkpoints live in IndexedDB and reload on the next
// visit; without a trained model, recommend() falls back to the baselines.

import {
  FINE_TUNE_TRAIN_DEFAULTS,
  type FineTuneOptions,
  resolveFineTune,
  trainingSlice,
} from '../runtime/fine-tune';
import { VisitorHistory } from '../runtime/history';
import { electLeader, type LeaderElection } from '../runtime/leader';
import {
  type ExplainContext,
  fallbackCandidates,
  fillUp,
  finish,
  type Recommendation,
  type RecommendOptions,
  resolveRecommendOptions,
} from '../runtime/recommend';
import { startWorker, type WorkerClientOptions, type WorkerHandle } from '../runtime/worker-client';
import {
  type BackendPreferences,
  candidateBackends,
  ON_DEVICE_WORKLOAD,
} from '../worker/backend-choice';
import type {
  BackendStatus,
  ModelInfo,
  ScoredItem,
  TrainProgressMessage,
  TrainResponse,
  WorkerApi,
} from '../worker/protocol';
import { createStore, validateCatalog } from './create-store';
import { hasCode, invalidInput, LocalRecError } from './errors';
import type { CatalogItem, LocalRecStore, StoreOptions, TrackEvent } from './store-types';

export type {
  Recommendation,
  RecommendFilter,
  RecommendOptions,
  ScorerName,
} from '../runtime/recommend';

export interface TrainingOptions {
  /** Train in the background when enough new events arrived (default true). */
  auto?: boolean;
  /** New events that trigger background training (default 5). */
  minNewEvents?: number;
  /** Epochs per training run (default 3 when fine-tuning, 10 from scratch). */
  epochs?: number;
  /** Other trainer settings (src/train TrainOptions: lr, loss, negatives, …). */
  options?: Record<string, number | string | boolean>;
  /** Longest wait for an idle moment before background training starts, ms (default 2000). */
  idleTimeoutMs?: number;
  /** How runs adapt a pretrained model to the visitor (see FineTuneOptions). */
  fineTune?: FineTuneOptions;
}

export interface RecommenderOptions extends StoreOptions {
  /** Items of the site (id, title, attributes): used by filters and returned with results. */
  catalog?: readonly CatalogItem[];
  /**
   * A model trained on many visitors (`localrec pretrain` writes one): a URL the site
   * serves, or the bytes. Used until the device has trained its own; fine-tuned from.
   */
  pretrained?: string | URL | ArrayBuffer;
  /** Where `localrec.worker.js` is served (default: beside the library file). */
  workerUrl?: string | URL;
  /** `false`: run the engine on the main thread (in small slices) even where Workers exist. */
  useWorker?: boolean;
  /** Force or exclude TF.js backends (default: measured, fastest wins). */
  backend?: BackendPreferences;
  training?: TrainingOptions;
  /** Architecture of a model trained from scratch on the device. */
  model?: { hiddenSize?: number; embedding?: 'tied' | 'separate'; embeddingSize?: number };
  /**
   * `mix` (default true): when the pretrained model carries population statistics
   * (`localrec pretrain` writes them), serve the GRU + sequential rules + item-kNN mix,
   * the strongest scorer in the replay protocol; false: the GRU alone. `beta` overrides
   * the GRU's share of the mix that the model file carries (0..1).
   */
  serving?: { mix?: boolean; beta?: number };
  /**
   * Timeouts, ms. `startMs`: the worker's first answer (default 30 000); `callMs`: one
   * call into the engine (default 30 000); `trainMs`: a training run (default 15 min);
   * `answerMs`: how long `recommend()`/`similar()` wait for an engine that is still
   * starting before they answer from the on-page fallback (default 0: at once; call
   * `warmUp()` first to wait for the model). The start goes on in the background and the
   * next call uses the model (the `model` event says when). After a failed start the engine is retried with a growing delay
   * (2 s doubling to 5 min); until then calls answer from the fallback at once and
   * `train()` rejects at once.
   */
  timeouts?: { startMs?: number; callMs?: number; trainMs?: number; answerMs?: number };
}

/** What a training run did. */
export interface TrainSummary {
  /** False when there was nothing new to learn from (`reason` says why). */
  trained: boolean;
  reason?: string;
  /** The visitor's events the run trained on (each counted once, whatever the epochs). */
  events: number;
  /** Passes over them. */
  epochs: number;
  /** Training positions processed over all epochs (what `eventsPerSecond` divides). */
  processedEvents: number;
  /** Sessions the events came from. */
  sessions: number;
  seconds: number;
  /** processedEvents per second of training. */
  eventsPerSecond: number;
  loss: number;
  backend: string;
  mode: 'fresh' | 'continue';
  fellBackFrom: string[];
}

export interface RecommenderStatus {
  namespace: string;
  persistent: boolean;
  consent: string;
  /** Whether the engine runs in a worker or (no Worker support) on the main thread. */
  engine: 'worker' | 'main-thread' | 'not-started';
  /** The backend in use and why (trial step times); null before the engine started. */
  backend: BackendStatus | null;
  /**
   * The model in use: where it came from, the newest event time it trained on
   * (`trainedUntil`, epoch ms) and the store sequence number it trained through
   * (`trainedThrough`: events written after it are new to the model).
   */
  model:
    | (ModelInfo & { source: string; trainedUntil: number | null; trainedThrough: number | null })
    | null;
  leader: boolean;
  leaderMode: LeaderElection['mode'];
  training: boolean;
  lastTraining: TrainSummary | null;
  lastError: { code: string; message: string } | null;
}

export type RecommenderEvents = {
  progress: TrainProgressMessage;
  trained: TrainSummary;
  /** A new model is in use (trained here, in another tab, or loaded). */
  model: { source: string; info: ModelInfo };
  error: LocalRecError;
};

/**
 * What the recommender runs on, replaceable by Node tools and tests (the replay protocol
 * drives the engine in-process; a test elects a leader at once). A page passes none.
 */
export interface RecommenderDeps {
  /** Starts the engine (default: the module worker, or in-process without Workers). */
  startEngine?: (options: WorkerClientOptions) => Promise<WorkerHandle>;
  /** Elects the tab that trains (default: Web Locks, else a BroadcastChannel heartbeat). */
  electLeader?: (name: string) => LeaderElection;
}

const CHECKPOINT = 'gru';
/** The device's backend decision (a setting of the store), reused while its key matches. */
const BACKEND_SETTING = 'backend-decision';
const OLD_BACKEND_RECORD = 'backend-decision';
const DEFAULT_HIDDEN = 64;
/**
 * How long recommend() waits for a starting engine before answering from the fallback:
 * not at all by default (the `model` event tells the page when to ask again).
 */
const DEFAULT_ANSWER_MS = 0;
/** First delay before a failed engine start is retried; it doubles up to the maximum. */
const START_RETRY_FIRST_MS = 2000;
const START_RETRY_MAX_MS = 5 * 60_000;
/** Latest events whose types decide what may explain a recommendation. */
const EXPLAIN_EVENTS = 20;
/** Most recent events the GRU reads as the visitor's prefix. */
const HISTORY_PREFIX_MAX = 5000;

type Listener<T> = (value: T) => void;

function toError(error: unknown): LocalRecError {
  if (error instanceof LocalRecError) return error;
  return (
    LocalRecError.fromJSON(error) ??
    new LocalRecError('WORKER_CRASHED', String((error as Error)?.message ?? error), {
      cause: error,
    })
  );
}

export class Recommender {
  private handle: WorkerHandle | null = null;
  private starting: Promise<WorkerHandle> | null = null;
  /** The training backend's choice for the current engine (null until started). */
  private backendReady: Promise<BackendStatus> | null = null;
  private modelMeta: {
    source: string;
    trainedUntil: number | null;
    trainedThrough: number | null;
    info: ModelInfo;
  } | null = null;
  private listeners = new Map<keyof RecommenderEvents, Set<Listener<never>>>();
  private trainingRun: Promise<TrainSummary> | null = null;
  private lastTraining: TrainSummary | null = null;
  private lastError: LocalRecError | null = null;
  private pendingEvents = 0;
  private idleTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly history: VisitorHistory;
  private catalogCache: Promise<Map<string, CatalogItem>> | null = null;
  /** The catalogue this page gave (options or setCatalog), in its order; else the stored one. */
  private siteCatalog: readonly CatalogItem[] | null = null;
  private readonly leader: LeaderElection;
  private readonly modelChannel: BroadcastChannel | null;
  private readonly unsubscribe: () => void;
  private closed = false;
  /** Since forget(), until events arrive: nothing of ours may re-create the database. */
  private forgotten = false;
  /** The last failed engine start and when the next may be tried. */
  private startFailure: { error: LocalRecError; retryAt: number; delayMs: number } | null = null;

  constructor(
    readonly store: LocalRecStore,
    private readonly options: RecommenderOptions,
    private readonly deps: RecommenderDeps = {},
  ) {
    this.history = new VisitorHistory(store, options.sessionGapMs);
    this.leader = (deps.electLeader ?? electLeader)(`${store.namespace}`);
    this.leader.onChange((isLeader) => {
      if (isLeader) this.scheduleTraining();
    });
    this.modelChannel =
      typeof BroadcastChannel === 'undefined'
        ? null
        : new BroadcastChannel(`localrec:${store.namespace}:model`);
    if (this.modelChannel) {
      this.modelChannel.onmessage = (event) => {
        if ((event.data as { type?: string })?.type === 'model-updated')
          void this.reloadCheckpoint('other-tab');
      };
    }
    this.unsubscribe = store.subscribe((change, origin) => {
      if (change.kind === 'events') {
        this.forgotten = false;
        this.history.markStale();
        this.pendingEvents += change.count;
        this.scheduleTraining();
      } else if (change.kind === 'catalog') this.catalogCache = null;
      // (This tab's own forget() runs afterForget itself, before it resolves.)
      else if (change.kind === 'forget' && origin === 'remote') void this.afterForget();
    });
  }

  // ---- events ------------------------------------------------------------------------

  on<E extends keyof RecommenderEvents>(
    event: E,
    listener: Listener<RecommenderEvents[E]>,
  ): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => set.delete(listener as Listener<never>);
  }

  private emit<E extends keyof RecommenderEvents>(event: E, value: RecommenderEvents[E]): void {
    for (const l of this.listeners.get(event) ?? []) {
      try {
        (l as Listener<RecommenderEvents[E]>)(value);
      } catch (error) {
        console.error('localrec: a listener threw', error);
      }
    }
  }

  private fail(error: unknown): LocalRecError {
    const e = toError(error);
    if (e === this.lastError) return e; // one failure, one report (several callers may see it)
    this.lastError = e;
    this.emit('error', e);
    return e;
  }

  // ---- tracking (the store) ----------------------------------------------------------

  track(event: TrackEvent): Promise<void> {
    return this.store.track(event);
  }
  trackMany(events: readonly TrackEvent[]): Promise<void> {
    return this.store.trackMany(events);
  }
  /** Replaces the catalogue: used by filters and the fallback's catalogue order at once. */
  async setCatalog(items: readonly CatalogItem[]): Promise<void> {
    const valid = validateCatalog(items);
    this.siteCatalog = valid;
    this.catalogCache = null;
    try {
      await this.store.setCatalog(valid);
    } catch (error) {
      throw this.fail(error);
    }
  }
  exportData() {
    return this.store.exportData();
  }
  stats() {
    return this.store.stats();
  }
  consent() {
    return this.store.consent();
  }
  setConsent(consent: Parameters<LocalRecStore['setConsent']>[0]) {
    return this.store.setConsent(consent);
  }

  /** Deletes everything of this visitor: events, vocabulary, catalog, models. */
  async forget(): Promise<void> {
    await this.abortTraining();
    await this.store.forget();
    await this.afterForget();
  }

  private async afterForget(): Promise<void> {
    this.forgotten = true;
    this.lastTraining = null;
    this.history.reset();
    this.catalogCache = null;
    this.pendingEvents = 0;
    this.modelMeta = null;
    const handle = this.handle;
    if (!handle || handle.crashed) return;
    await handle.call('unload', (a) => a.unload(), this.callMs()).catch(() => {});
    // The site's pretrained model is not the visitor's data: serve from it again at once.
    if (this.options.pretrained !== undefined) {
      try {
        const bytes = await this.pretrainedBytes();
        this.setModel(
          'pretrained',
          null,
          await handle.call('load', (a) => a.load(bytes, { pretrained: true }), this.callMs()),
        );
      } catch (error) {
        this.fail(error);
      }
    }
  }

  private async pretrainedBytes(): Promise<ArrayBuffer> {
    const pretrained = this.options.pretrained as string | URL | ArrayBuffer;
    return pretrained instanceof ArrayBuffer ? pretrained.slice(0) : fetchModel(pretrained);
  }

  // ---- the engine --------------------------------------------------------------------

  private callMs(): number {
    return this.options.timeouts?.callMs ?? 30_000;
  }

  /** Starts (or restarts after a crash) the engine, chooses the backend, loads the model. */
  private async engine(): Promise<WorkerHandle> {
    if (this.closed) throw new LocalRecError('DB_CLOSED', 'the recommender was closed');
    if (this.handle && !this.handle.crashed) return this.handle;
    if (this.handle?.crashed) {
      // A worker that died between calls is replaced; the page hears about it.
      const crash = this.handle.crashed;
      this.handle.terminate();
      this.handle = null;
      this.modelMeta = null;
      this.fail(
        new LocalRecError('WORKER_CRASHED', `the engine died and is restarted: ${crash.message}`, {
          cause: crash,
        }),
      );
    }
    const failed = this.startFailure;
    if (failed && Date.now() < failed.retryAt) {
      throw new LocalRecError(
        failed.error.code,
        `${failed.error.message} (the engine is retried in ${Math.ceil((failed.retryAt - Date.now()) / 1000)} s)`,
        { cause: failed.error, details: { retryAt: failed.retryAt } },
      );
    }
    this.starting ??= this.startEngine()
      .then(
        (handle) => {
          this.startFailure = null;
          return handle;
        },
        (error: unknown) => {
          // Back off: no new worker (and no refetch of its script) until the delay passed.
          const delayMs = Math.min(
            START_RETRY_MAX_MS,
            failed ? failed.delayMs * 2 : START_RETRY_FIRST_MS,
          );
          const e = this.fail(error);
          this.startFailure = { error: e, retryAt: Date.now() + delayMs, delayMs };
          throw e;
        },
      )
      .finally(() => {
        this.starting = null;
      });
    return this.starting;
  }

  /**
   * Starts the worker and loads the models: enough to recommend, since scoring runs in
   * plain JS whatever the TF.js backend. The backend trial (which can take seconds on a
   * first visit) runs after, in the background; training waits for it (`trainingEngine`).
   */
  private async startEngine(): Promise<WorkerHandle> {
    const handle = await (this.deps.startEngine ?? startWorker)({
      workerUrl: this.options.workerUrl,
      startTimeoutMs: this.options.timeouts?.startMs,
      useWorker: this.options.useWorker,
    });
    try {
      candidateBackends(this.options.backend ?? {}); // INVALID_INPUT early, on the page
      this.handle = handle;
      this.backendReady = null;
      await this.loadInitialModel(handle);
      this.backendReady = this.chooseBackend(handle);
      this.backendReady.catch(() => {}); // reported by the training that waits for it
      return handle;
    } catch (error) {
      if (this.handle === handle) this.handle = null;
      handle.terminate();
      throw error;
    }
  }

  /** The backend trial (or the decision cached from an earlier visit), then its record. */
  private async chooseBackend(handle: WorkerHandle): Promise<BackendStatus> {
    const prefs = this.options.backend ?? {};
    const cached = (await this.store.getSetting(BACKEND_SETTING).catch(() => undefined)) as
      | BackendStatus
      | undefined;
    const status = await handle.call(
      'init',
      (a) =>
        a.init({
          force: prefs.force,
          exclude: prefs.exclude ? [...prefs.exclude] : undefined,
          prefer: prefs.prefer ? [...prefs.prefer] : undefined,
          cached,
          hiddenSize: this.options.model?.hiddenSize ?? DEFAULT_HIDDEN,
          numItems: Math.max(16, (this.options.catalog?.length ?? 0) || 1000),
          // the trial runs at the site's training batch and negatives, when it sets them
          ...trialWorkload(this.options.training?.options),
        }),
      this.options.timeouts?.startMs ?? 120_000,
    );
    const changed = !cached || cached.key !== status.key || cached.backend !== status.backend;
    if (changed && !this.forgotten) {
      await this.store
        .putSetting(BACKEND_SETTING, JSON.parse(JSON.stringify(status)))
        .catch(() => {});
      // Where earlier releases kept it: a checkpoint with no model bytes.
      await this.store.deleteCheckpoint(OLD_BACKEND_RECORD).catch(() => {});
    }
    return status;
  }

  /** The engine with its training backend chosen (a failed choice is tried again next time). */
  private async trainingEngine(): Promise<WorkerHandle> {
    const handle = await this.engine();
    this.backendReady ??= this.chooseBackend(handle);
    const ready = this.backendReady;
    try {
      await ready;
    } catch (error) {
      if (this.backendReady === ready) this.backendReady = null;
      throw error;
    }
    return handle;
  }

  private async loadInitialModel(handle: WorkerHandle): Promise<void> {
    // The site's model first: fine-tuning starts from it and the mix serves from its
    // population statistics, even when the visitor's own checkpoint is what scores.
    let pretrained: ModelInfo | null = null;
    if (this.options.pretrained !== undefined) {
      const bytes = await this.pretrainedBytes();
      pretrained = await handle.call(
        'load',
        (a) => a.load(bytes, { pretrained: true }),
        this.callMs(),
      );
    }
    let checkpoint: Awaited<ReturnType<LocalRecStore['getCheckpoint']>>;
    try {
      checkpoint = await this.store.getCheckpoint(CHECKPOINT);
    } catch (error) {
      // A damaged record: discard it and start over (from the pretrained model, if any).
      if (!hasCode(error, 'MODEL_CORRUPT')) throw error;
      this.fail(error);
      await this.store.deleteCheckpoint(CHECKPOINT).catch(() => {});
    }
    if (checkpoint) {
      try {
        const info = await handle.call('load', (a) => a.load(checkpoint.data), this.callMs());
        this.setModel(String(checkpoint.metadata.source ?? 'device'), checkpoint.metadata, info);
        return;
      } catch (error) {
        if (!hasCode(error, 'MODEL_CORRUPT') && !hasCode(error, 'MODEL_MISMATCH')) throw error;
        this.fail(error);
        await this.store.deleteCheckpoint(CHECKPOINT).catch(() => {});
      }
    }
    if (pretrained) this.setModel('pretrained', null, pretrained);
  }

  private setModel(
    source: string,
    saved: { trainedUntil?: unknown; trainedThrough?: unknown } | null,
    info: ModelInfo,
  ): void {
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
    this.modelMeta = {
      source,
      trainedUntil: num(saved?.trainedUntil),
      trainedThrough: num(saved?.trainedThrough),
      info,
    };
    this.emit('model', { source, info });
  }

  private async reloadCheckpoint(source: string): Promise<void> {
    if (!this.handle || this.handle.crashed) return; // the next engine start loads it
    try {
      const checkpoint = await this.store.getCheckpoint(CHECKPOINT);
      if (!checkpoint) return;
      const handle = this.handle;
      const info = await handle.call('load', (a) => a.load(checkpoint.data), this.callMs());
      this.setModel(source, checkpoint.metadata, info);
    } catch (error) {
      this.fail(error);
    }
  }

  private async callEngine<T>(
    what: string,
    run: (api: WorkerApi) => Promise<T>,
    timeoutMs = this.callMs(),
  ): Promise<T> {
    const handle = await this.engine();
    try {
      return await handle.call(what, run, timeoutMs);
    } catch (error) {
      if (hasCode(error, 'WORKER_CRASHED') || hasCode(error, 'WORKER_TIMEOUT')) {
        // A dead or hung worker is replaced on the next call.
        handle.terminate();
        if (this.handle === handle) {
          this.handle = null;
          this.modelMeta = null;
        }
      }
      throw error;
    }
  }

  /**
   * Loads the engine (worker, saved or pretrained model) and chooses its training backend,
   * ahead of the first use; recommend() after it answers from the model.
   */
  async warmUp(): Promise<RecommenderStatus> {
    await this.trainingEngine();
    return this.status();
  }

  // ---- training ------------------------------------------------------------------------

  private scheduleTraining(): void {
    const t = this.options.training ?? {};
    if (
      this.closed ||
      t.auto === false ||
      !this.leader.isLeader ||
      this.trainingRun ||
      this.idleTimer
    )
      return;
    if (this.pendingEvents < (t.minNewEvents ?? 5)) return;
    const timeout = t.idleTimeoutMs ?? 2000;
    const run = () => {
      this.idleTimer = null;
      if (!this.leader.isLeader) return;
      this.train().catch(() => {}); // reported through on('error')
    };
    const ric = (
      globalThis as { requestIdleCallback?: (cb: () => void, o: { timeout: number }) => number }
    ).requestIdleCallback;
    this.idleTimer = setTimeout(() => {
      if (ric) ric(run, { timeout });
      else run();
    }, 50);
  }

  /**
   * Trains now (fine-tunes the current model on the sessions it has not seen, or trains
   * one from scratch) and saves the checkpoint. Resolves when done; `abortTraining()`
   * rejects it with TRAINING_ABORTED. One run at a time per origin (Web Locks).
   */
  train(options: { epochs?: number; mode?: 'fresh' | 'continue' } = {}): Promise<TrainSummary> {
    this.trainingRun ??= this.runTraining(options).finally(() => {
      this.trainingRun = null;
      if (this.pendingEvents > 0) this.scheduleTraining();
    });
    return this.trainingRun;
  }

  private async runTraining(options: {
    epochs?: number;
    mode?: 'fresh' | 'continue';
  }): Promise<TrainSummary> {
    const locks = (globalThis.navigator as (Navigator & { locks?: LockManager }) | undefined)
      ?.locks;
    const body = () => this.trainBody(options);
    try {
      return locks
        ? await locks.request(`localrec:${this.store.namespace}:train`, body)
        : await body();
    } catch (error) {
      throw this.fail(error);
    }
  }

  private async trainBody(options: {
    epochs?: number;
    mode?: 'fresh' | 'continue';
  }): Promise<TrainSummary> {
    await this.trainingEngine();
    this.pendingEvents = 0;
    const view = await this.history.current();
    const data = view.sessions();
    const meta = this.modelMeta;
    const mode = options.mode ?? (meta ? 'continue' : 'fresh');
    // What the model has seen, by the store's sequence numbers (a model saved without
    // them has seen nothing this device can name: it trains on everything once).
    const afterKey = mode === 'continue' ? (meta?.trainedThrough ?? 0) : 0;
    const t = this.options.training ?? {};
    const tune = resolveFineTune(t.fineTune);
    // From the site's model again on the visitor's recent history, or on from the last
    // model over the sessions it has not seen (also how a device-only model grows).
    const fromPretrained =
      mode === 'continue' && this.options.pretrained !== undefined && tune.base === 'pretrained';
    const slice = trainingSlice(data.sequences, {
      afterKey: fromPretrained ? 0 : afterKey,
      maxEvents: fromPretrained ? tune.maxEvents : undefined,
    });
    const { times } = data.sequences;
    let newestSeen = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < times.length; i++) if (times[i] > newestSeen) newestSeen = times[i];
    if (slice.sessions === 0)
      return notTrained('no new sessions with two or more events', { sessions: 0, mode });
    const { epochs: tuneEpochs, ...tuneTrain } = FINE_TUNE_TRAIN_DEFAULTS;
    // Population negatives come from the whole catalogue, not the visitor's few items.
    const negativesFrom =
      fromPretrained && tune.populationNegatives
        ? Number.POSITIVE_INFINITY
        : data.itemIds.length - 1;
    const trainOptions = {
      epochs:
        options.epochs ??
        t.epochs ??
        (fromPretrained ? (tuneEpochs as number) : mode === 'continue' ? 3 : 10),
      batchSize: Math.min(ON_DEVICE_WORKLOAD.batchSize, slice.sessions),
      negatives: Math.min(ON_DEVICE_WORKLOAD.negatives, Math.max(1, negativesFrom)),
      // A visitor has few sessions: train on all of them to their ends (the trainer's
      // default for large logs ends the epoch when the sessions run out).
      tail: 'shrink',
      ...(fromPretrained ? tuneTrain : {}),
      ...(t.options ?? {}),
    };
    const progress = (p: TrainProgressMessage) => this.emit('progress', p);
    const response: TrainResponse = await this.callEngine(
      'train',
      (a) =>
        a.train(
          {
            items: slice.items,
            offsets: slice.offsets,
            itemIds: data.itemIds,
            mode,
            options: trainOptions,
            model: this.options.model ?? { hiddenSize: DEFAULT_HIDDEN },
            ...(fromPretrained
              ? {
                  fineTune: {
                    base: 'pretrained' as const,
                    blend: tune.blend,
                    populationNegatives: tune.populationNegatives,
                  },
                }
              : {}),
          },
          this.handle?.callback(progress) ?? progress,
        ),
      this.options.timeouts?.trainMs ?? 15 * 60_000,
    );
    if (response.skipped) {
      return (this.lastTraining = notTrained(response.skipped, {
        sessions: slice.sessions,
        mode,
        backend: response.backend,
        fellBackFrom: response.fellBackFrom,
      }));
    }
    const trainedUntil = Math.max(newestSeen, meta?.trainedUntil ?? Number.NEGATIVE_INFINITY);
    const trainedThrough = view.lastId;
    await this.store.putCheckpoint(CHECKPOINT, {
      metadata: {
        source: 'device',
        trainedUntil,
        trainedThrough,
        events: response.events,
        loss: Number.isFinite(response.loss) ? response.loss : null,
        backend: response.backend,
        savedAt: Date.now(),
        numItems: response.info.numItems,
      },
      data: response.checkpoint,
    });
    this.setModel('device', { trainedUntil, trainedThrough }, response.info);
    this.modelChannel?.postMessage({ type: 'model-updated' });
    const summary: TrainSummary = {
      trained: true,
      events: slice.items.length,
      epochs: trainOptions.epochs,
      processedEvents: response.events,
      sessions: slice.sessions,
      seconds: response.seconds,
      eventsPerSecond: response.eventsPerSecond,
      loss: response.loss,
      backend: response.backend,
      mode,
      fellBackFrom: response.fellBackFrom,
    };
    this.lastTraining = summary;
    this.emit('trained', summary);
    return summary;
  }

  /**
   * Resolves once no training is pending: a background run that is scheduled for an idle
   * moment starts now, and a running one is awaited (its failure is reported through
   * on('error'), not here). For tests and offline replays that must see the model every
   * tracked event leads to; a page has no need to call it.
   */
  async settled(): Promise<void> {
    // The change listener that schedules training runs after the store's write resolves.
    await Promise.resolve();
    for (;;) {
      if (this.idleTimer) {
        clearTimeout(this.idleTimer);
        this.idleTimer = null;
        if (this.leader.isLeader && !this.closed) this.train().catch(() => {});
      }
      const run = this.trainingRun;
      if (!run) return;
      await run.catch(() => {});
    }
  }

  /** Stops a running training (its promise rejects with TRAINING_ABORTED; nothing is saved). */
  async abortTraining(): Promise<void> {
    if (!this.trainingRun || !this.handle || this.handle.crashed) return;
    await this.handle
      .call('abortTraining', (a) => a.abortTraining(), this.callMs())
      .catch(() => {});
    await this.trainingRun.catch(() => {});
  }

  // ---- recommending --------------------------------------------------------------------

  private catalog(): Promise<Map<string, CatalogItem>> {
    // The page's own catalogue when it gave one (in its order, for the catalogue-order
    // fallback); else what the store holds (set by another page or tab).
    const site = this.siteCatalog;
    this.catalogCache ??= site
      ? Promise.resolve(new Map(site.map((i) => [i.id, i])))
      : this.store.getCatalog().then((items) => new Map(items.map((i) => [i.id, i])));
    return this.catalogCache;
  }

  /**
   * Top-k items for this visitor: from the GRU when a model is loaded (trained here or
   * pretrained), else from the baselines on the visitor's own history, then the
   * catalog. Each result names its scorer and, where possible, the item that explains it.
   */
  async recommend(options: RecommendOptions = {}): Promise<Recommendation[]> {
    const o = resolveRecommendOptions(options);
    const [view, catalog] = await Promise.all([this.history.current(), this.catalog()]);
    // The whole history (capped): the engine keeps the hidden state between calls, so a
    // growing prefix costs only its new items.
    const prefix = view.recent(HISTORY_PREFIX_MAX);
    if (o.contextItem && prefix[prefix.length - 1] !== o.contextItem) prefix.push(o.contextItem);
    const exclude = new Set(o.exclude ?? view.purchased());
    const fallback = () => fallbackCandidates(view.sessions(), prefix, catalog.values());
    // The latest events' types: explanations name what the visitor did, and never an item
    // only viewed when they did more (the item on screen counts as viewed).
    const recentTypes = view.recentTypes(EXPLAIN_EVENTS);
    if (prefix.length > Math.min(view.size, HISTORY_PREFIX_MAX)) recentTypes.push('view');
    const explain: ExplainContext = {
      typeOf: view.strongest(HISTORY_PREFIX_MAX),
      didMore: recentTypes.some((t) => t !== 'view'),
    };
    if (o.contextItem && !o.keepContextItem) exclude.add(o.contextItem);
    const gru = await this.gruCandidates(
      (k) => (a) =>
        a.recommend({
          prefix,
          k,
          exclude: [...exclude],
          mix: this.options.serving?.mix !== false,
          recentTypes: recentTypes.slice(-EXPLAIN_EVENTS),
          ...(this.options.serving?.beta !== undefined ? { beta: this.options.serving.beta } : {}),
        }),
      o.k,
      exclude.size,
      !!o.filter,
    );
    if (gru) {
      // Fewer than k when the model knows fewer items or the filter removed them: the
      // fallback ranking (sequential rules, popularity, catalogue order) fills up.
      return fillUp(
        finish(gru, o.k, exclude, o.filter, catalog, explain),
        fallback,
        o.k,
        exclude,
        o.filter,
        catalog,
        explain,
      );
    }
    return finish(fallback(), o.k, exclude, o.filter, catalog, explain);
  }

  /** Items to show on the page of `itemId`: what tends to come next after it. */
  async similar(
    itemId: string,
    k = 10,
    options: { exclude?: readonly string[] } = {},
  ): Promise<Recommendation[]> {
    if (typeof itemId !== 'string' || itemId === '') {
      throw new LocalRecError('INVALID_INPUT', 'itemId must be a non-empty string', {
        details: { field: 'itemId' },
      });
    }
    const o = resolveRecommendOptions({ k, exclude: options.exclude });
    const exclude = new Set([itemId, ...(o.exclude ?? [])]);
    const catalog = await this.catalog();
    const gru = await this.gruCandidates(
      (kk) => (a) => a.similar(itemId, kk, [...exclude]),
      o.k,
      exclude.size,
      false,
    );
    const view = await this.history.current();
    const fallback = () => fallbackCandidates(view.sessions(), [itemId], catalog.values());
    if (gru?.length)
      return fillUp(
        finish(gru, o.k, exclude, undefined, catalog),
        fallback,
        o.k,
        exclude,
        undefined,
        catalog,
      );
    return finish(fallback(), o.k, exclude, undefined, catalog);
  }

  private async hasCheckpoint(): Promise<boolean> {
    return this.store.hasCheckpoint(CHECKPOINT).catch(() => false);
  }

  /** GRU candidates, or null when no model can score (not trained, engine failing). */
  private async gruCandidates(
    ask: (k: number) => (a: WorkerApi) => Promise<ScoredItem[]>,
    k: number,
    excluded: number,
    filtered: boolean,
  ): Promise<
    { itemId: string; score: number; scorer: 'gru' | 'sr' | 'itemknn'; because?: string }[] | null
  > {
    // Nothing to score with yet (no pretrained model, no saved checkpoint): answer from
    // the baselines at once instead of starting the worker and measuring backends.
    if (!this.handle && this.options.pretrained === undefined && !(await this.hasCheckpoint()))
      return null;
    if (!this.handle || this.handle.crashed) {
      // Starting (or backing off after a failure): wait a little, else answer from the
      // fallback now and let the start finish in the background.
      const backingOff = this.startFailure !== null && Date.now() < this.startFailure.retryAt;
      if (backingOff) return null;
      // (A failed start is reported once, where it fails.)
      const started = this.engine().then(
        () => true,
        () => false,
      );
      const answerMs = this.options.timeouts?.answerMs ?? DEFAULT_ANSWER_MS;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const ready = await Promise.race([
        started,
        new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), answerMs);
        }),
      ]);
      clearTimeout(timer);
      if (!ready) return null;
    }
    if (!this.modelMeta) return null;
    // Over-fetch when a filter may drop items; the whole catalog at worst.
    const want = Math.min(
      this.modelMeta.info.numItems,
      filtered ? Math.max(200, k * 20) : k + excluded,
    );
    try {
      const scored = await this.callEngine('recommend', ask(want));
      return scored.map(({ via, ...s }) => ({ ...s, scorer: via ?? ('gru' as const) }));
    } catch (error) {
      this.fail(error);
      return null;
    }
  }

  /**
   * @internal Testing aid for the fault catalogue (e2e specs): loses the engine's WebGL
   * context or crashes the worker. Not for production use.
   */
  async debugFault(kind: 'lose-webgl-context' | 'crash'): Promise<boolean> {
    const handle = await this.engine();
    return handle.call('debugFault', (a) => a.debugFault(kind), this.callMs());
  }

  // ---- status and lifecycle ------------------------------------------------------------

  async status(): Promise<RecommenderStatus> {
    let backend: BackendStatus | null = null;
    if (this.handle && !this.handle.crashed) {
      backend =
        (await this.handle.call('info', (a) => a.info(), this.callMs()).catch(() => null))
          ?.backend ?? null;
    }
    return {
      namespace: this.store.namespace,
      persistent: this.store.persistent,
      consent: this.store.consent(),
      engine: this.handle && !this.handle.crashed ? this.handle.mode : 'not-started',
      backend,
      model: this.modelMeta
        ? {
            ...this.modelMeta.info,
            source: this.modelMeta.source,
            trainedUntil: this.modelMeta.trainedUntil,
            trainedThrough: this.modelMeta.trainedThrough,
          }
        : null,
      leader: this.leader.isLeader,
      leaderMode: this.leader.mode,
      training: this.trainingRun !== null,
      lastTraining: this.lastTraining,
      lastError: this.lastError
        ? { code: this.lastError.code, message: this.lastError.message }
        : null,
    };
  }

  /** Stops training, the worker, leadership and the store connection. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.unsubscribe();
    this.leader.release();
    this.modelChannel?.close();
    this.handle?.terminate();
    this.handle = null;
    this.store.close();
  }
}

async function fetchModel(url: string | URL): Promise<ArrayBuffer> {
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

/**
 * Creates the recommender of a site: opens (or creates) the visitor's store, sets the
 * catalog, elects the training tab. The engine (worker, backend, model) starts on first
 * use or with `warmUp()`.
 *
 * @example
 * const rec = await createRecommender({ namespace: 'shop', pretrained: '/models/shop.bin', catalog });
 * await rec.track({ itemId: 'sku-42', type: 'view' });
 * const items = await rec.recommend({ k: 8 });
 */
export async function createRecommender(
  options: RecommenderOptions = {},
  deps: RecommenderDeps = {},
): Promise<Recommender> {
  // Options are checked before storage is opened: a refused call leaves no database behind.
  const catalog = options.catalog === undefined ? undefined : validateCatalog(options.catalog);
  if (options.backend) candidateBackends(options.backend);
  const beta = options.serving?.beta;
  if (beta !== undefined && !(typeof beta === 'number' && beta >= 0 && beta <= 1))
    throw invalidInput('serving.beta', `must be a number in [0, 1], got ${String(beta)}`);
  resolveFineTune(options.training?.fineTune);
  const store = await createStore(options);
  const rec = new Recommender(store, options, deps);
  // The site's catalogue serves from memory at once; the store's copy (for the page's
  // later visits and other tabs) is written in the background, in short chunks, and not
  // at all when it is the one already stored.
  if (catalog) rec.setCatalog(catalog).catch(() => {}); // reported through on('error')
  return rec;
}

/** The summary of a run that found nothing to train. */
function notTrained(
  reason: string,
  at: Pick<TrainSummary, 'sessions' | 'mode'> &
    Partial<Pick<TrainSummary, 'backend' | 'fellBackFrom'>>,
): TrainSummary {
  return {
    trained: false,
    reason,
    events: 0,
    epochs: 0,
    processedEvents: 0,
    seconds: 0,
    eventsPerSecond: 0,
    loss: Number.NaN,
    backend: '',
    fellBackFrom: [],
    ...at,
  };
}

/** Batch size and negatives a site set for training (numbers only), for the backend trial. */
function trialWorkload(options: Record<string, number | string | boolean> | undefined): {
  batchSize?: number;
  negatives?: number;
} {
  const out: { batchSize?: number; negatives?: number } = {};
  const b = options?.batchSize;
  const s = options?.negatives;
  if (typeof b === 'number' && Number.isInteger(b) && b > 0) out.batchSize = b;
  if (typeof s === 'number' && Number.isInteger(s) && s >= 0) out.negatives = s;
  return out;
}
