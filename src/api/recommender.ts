// createRecommender(): the product a page uses, a facade over parts that each own one job
// (src/runtime/): the visitor's history (history.ts), the engine's supervision (start,
// restart, back-off, backend trial: engine-supervisor.ts, backend-decision.ts), the model
// it serves (served-model.ts), when to train (training-scheduler.ts) and what a run
// trains on (training-plan.ts), recommending with its fallback (recommend.ts). Events go
// into the store (main thread); training and GRU scoring run in the engine (a module
// worker, through Comlink); one tab of the origin trains at a time; without a model,
// recommend() falls back to the baselines.

import { decideBackend } from '../runtime/backend-decision';
import { EngineSupervisor } from '../runtime/engine-supervisor';
import { resolveFineTune } from '../runtime/fine-tune';
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
import { ServedModel, type ServedModelInfo } from '../runtime/served-model';
import {
  notTrained,
  planTraining,
  type TrainingOptions,
  type TrainSummary,
} from '../runtime/training-plan';
import { TrainingScheduler } from '../runtime/training-scheduler';
import { startWorker, type WorkerClientOptions, type WorkerHandle } from '../runtime/worker-client';
import { type BackendPreferences, candidateBackends } from '../worker/backend-choice';
import type {
  BackendStatus,
  ModelInfo,
  ScoredItem,
  TrainProgressMessage,
  WorkerApi,
} from '../worker/protocol';
import { createStore, validateCatalog } from './create-store';
import { invalidInput, LocalRecError } from './errors';
import type { CatalogItem, LocalRecStore, StoreOptions, TrackEvent } from './store-types';

export type {
  Recommendation,
  RecommendFilter,
  RecommendOptions,
  ScorerName,
} from '../runtime/recommend';
export type { TrainingOptions, TrainSummary } from '../runtime/training-plan';

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

const DEFAULT_HIDDEN = 64;
/**
 * How long recommend() waits for a starting engine before answering from the fallback:
 * not at all by default (the `model` event tells the page when to ask again).
 */
const DEFAULT_ANSWER_MS = 0;
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
  private listeners = new Map<keyof RecommenderEvents, Set<Listener<never>>>();
  private lastError: LocalRecError | null = null;
  private lastTraining: TrainSummary | null = null;
  private readonly history: VisitorHistory;
  private readonly engines: EngineSupervisor;
  private readonly model: ServedModel;
  private readonly scheduler: TrainingScheduler;
  private catalogCache: Promise<Map<string, CatalogItem>> | null = null;
  /** The catalogue this page gave (options or setCatalog), in its order; else the stored one. */
  private siteCatalog: readonly CatalogItem[] | null = null;
  private readonly leader: LeaderElection;
  private readonly modelChannel: BroadcastChannel | null;
  private readonly unsubscribe: () => void;
  private closed = false;
  /** Since forget(), until events arrive: nothing of ours may re-create the database. */
  private forgotten = false;

  constructor(
    readonly store: LocalRecStore,
    private readonly options: RecommenderOptions,
    deps: RecommenderDeps = {},
  ) {
    const report = (error: unknown) => this.fail(error);
    this.history = new VisitorHistory(store, options.sessionGapMs);
    this.modelChannel =
      typeof BroadcastChannel === 'undefined'
        ? null
        : new BroadcastChannel(`localrec:${store.namespace}:model`);
    const pretrained = options.pretrained;
    this.model = new ServedModel({
      store,
      pretrained:
        pretrained === undefined
          ? undefined
          : () =>
              Promise.resolve(
                pretrained instanceof ArrayBuffer ? pretrained.slice(0) : fetchModel(pretrained),
              ),
      changed: (model) => this.emit('model', model),
      report,
      callMs: this.callMs(),
      announce: () => this.modelChannel?.postMessage({ type: 'model-updated' }),
    });
    const startEngine = deps.startEngine ?? startWorker;
    this.engines = new EngineSupervisor({
      start: () =>
        startEngine({
          workerUrl: options.workerUrl,
          startTimeoutMs: options.timeouts?.startMs,
          useWorker: options.useWorker,
        }),
      load: (handle) => {
        candidateBackends(options.backend ?? {}); // INVALID_INPUT early, on the page
        return this.model.loadInto(handle);
      },
      chooseBackend: (handle) =>
        decideBackend(
          handle,
          store,
          options.backend ?? {},
          {
            hiddenSize: options.model?.hiddenSize ?? DEFAULT_HIDDEN,
            numItems: Math.max(16, (options.catalog?.length ?? 0) || 1000),
            trainOptions: options.training?.options,
          },
          options.timeouts?.startMs ?? 120_000,
          () => !this.forgotten,
        ),
      lost: () => {
        this.model.current = null;
      },
      report,
      callMs: this.callMs(),
    });
    this.leader = (deps.electLeader ?? electLeader)(`${store.namespace}`);
    this.scheduler = new TrainingScheduler({
      leader: this.leader,
      ready: () => this.engines.trainingEngine(),
      run: (o) => this.trainOnce(o),
      report,
      settings: options.training ?? {},
      lockName: `localrec:${store.namespace}:train`,
    });
    if (this.modelChannel) {
      this.modelChannel.onmessage = (event) => {
        if ((event.data as { type?: string })?.type === 'model-updated')
          void this.model.reload(this.engines.current, 'other-tab');
      };
    }
    this.unsubscribe = store.subscribe((change, origin) => {
      if (change.kind === 'events') {
        this.forgotten = false;
        this.history.markStale();
        this.scheduler.eventsArrived(change.count);
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
    this.scheduler.reset();
    this.history.reset();
    this.catalogCache = null;
    await this.model.forget(this.engines.current);
  }

  // ---- the engine and training ---------------------------------------------------------

  private callMs(): number {
    return this.options.timeouts?.callMs ?? 30_000;
  }

  /**
   * Loads the engine (worker, saved or pretrained model) and chooses its training backend,
   * ahead of the first use; recommend() after it answers from the model.
   */
  async warmUp(): Promise<RecommenderStatus> {
    await this.engines.trainingEngine();
    return this.status();
  }

  /**
   * Trains now (fine-tunes the current model on the sessions it has not seen, or trains
   * one from scratch) and saves the checkpoint. Resolves when done; `abortTraining()`
   * rejects it with TRAINING_ABORTED. One run at a time per origin (Web Locks).
   */
  train(options: { epochs?: number; mode?: 'fresh' | 'continue' } = {}): Promise<TrainSummary> {
    return this.scheduler.train(options);
  }

  /** One run: what to train on (training-plan.ts), the engine trains, the model is saved. */
  private async trainOnce(options: {
    epochs?: number;
    mode?: 'fresh' | 'continue';
  }): Promise<TrainSummary> {
    const view = await this.history.current();
    const plan = planTraining({
      data: view.sessions(),
      lastId: view.lastId,
      seen: this.model.current,
      request: options,
      settings: this.options.training ?? {},
      hasPretrained: this.options.pretrained !== undefined,
      architecture: this.options.model ?? { hiddenSize: DEFAULT_HIDDEN },
    });
    if (!plan.run) return plan.summary;
    const progress = (p: TrainProgressMessage) => this.emit('progress', p);
    const response = await this.engines.call(
      'train',
      (a) => a.train(plan.request, this.engines.current?.callback(progress) ?? progress),
      this.options.timeouts?.trainMs ?? 15 * 60_000,
    );
    if (response.skipped) {
      return (this.lastTraining = notTrained(response.skipped, {
        sessions: plan.sessions,
        mode: plan.mode,
        backend: response.backend,
        fellBackFrom: response.fellBackFrom,
      }));
    }
    await this.model.save(response, plan);
    const summary: TrainSummary = {
      trained: true,
      events: plan.events,
      epochs: plan.request.options.epochs as number,
      processedEvents: response.events,
      sessions: plan.sessions,
      seconds: response.seconds,
      eventsPerSecond: response.eventsPerSecond,
      loss: response.loss,
      backend: response.backend,
      mode: plan.mode,
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
  settled(): Promise<void> {
    return this.scheduler.settled();
  }

  /** Stops a running training (its promise rejects with TRAINING_ABORTED; nothing is saved). */
  async abortTraining(): Promise<void> {
    const run = this.scheduler.running;
    const handle = this.engines.current;
    if (!run || !handle) return;
    await handle.call('abortTraining', (a) => a.abortTraining(), this.callMs()).catch(() => {});
    await run.catch(() => {});
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
    if (!this.engines.current && !(await this.model.available())) return null;
    // Starting (or backing off after a failure): wait a little, else answer from the
    // fallback now and let the start finish in the background.
    if (!(await this.engines.ready(this.options.timeouts?.answerMs ?? DEFAULT_ANSWER_MS)))
      return null;
    const model = this.model.current;
    if (!model) return null;
    // Over-fetch when a filter may drop items; the whole catalog at worst.
    const want = Math.min(model.info.numItems, filtered ? Math.max(200, k * 20) : k + excluded);
    try {
      const scored = await this.engines.call('recommend', ask(want));
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
    const handle = await this.engines.engine();
    return handle.call('debugFault', (a) => a.debugFault(kind), this.callMs());
  }

  // ---- status and lifecycle ------------------------------------------------------------

  async status(): Promise<RecommenderStatus> {
    const handle = this.engines.current;
    const backend: BackendStatus | null = handle
      ? ((await handle.call('info', (a) => a.info(), this.callMs()).catch(() => null))?.backend ??
        null)
      : null;
    const model: ServedModelInfo | null = this.model.current;
    return {
      namespace: this.store.namespace,
      persistent: this.store.persistent,
      consent: this.store.consent(),
      engine: this.engines.runsIn,
      backend,
      model: model
        ? {
            ...model.info,
            source: model.source,
            trainedUntil: model.trainedUntil,
            trainedThrough: model.trainedThrough,
          }
        : null,
      leader: this.leader.isLeader,
      leaderMode: this.leader.mode,
      training: this.scheduler.running !== null,
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
    this.scheduler.close();
    this.unsubscribe();
    this.leader.release();
    this.modelChannel?.close();
    this.engines.close();
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
