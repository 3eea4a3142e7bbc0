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
import type { Recommendation, RecommendOptions } from '../runtime/recommend';
import { fetchModel, ServedModel, type ServedModelInfo } from '../runtime/served-model';
import { Serving } from '../runtime/serving';
import { planTraining, runSummary, type TrainSummary } from '../runtime/training-plan';
import { TrainingScheduler } from '../runtime/training-scheduler';
import { startWorker } from '../runtime/worker-client';
import { candidateBackends } from '../worker/backend-choice';
import type { BackendStatus, TrainProgressMessage } from '../worker/protocol';
import { createStore, validateCatalog } from './create-store';
import { invalidInput, LocalRecError } from './errors';
import type {
  RecommenderDeps,
  RecommenderEvents,
  RecommenderOptions,
  RecommenderStatus,
} from './recommender-types';
import type { CatalogItem, LocalRecStore, TrackEvent } from './store-types';

export type {
  Recommendation,
  RecommendFilter,
  RecommendOptions,
  ScorerName,
} from '../runtime/recommend';
export type { TrainingOptions, TrainSummary } from '../runtime/training-plan';

export type {
  RecommenderDeps,
  RecommenderEvents,
  RecommenderOptions,
  RecommenderStatus,
} from './recommender-types';

const DEFAULT_HIDDEN = 64;
/**
 * How long recommend() waits for a starting engine before answering from the fallback:
 * not at all by default (the `model` event tells the page when to ask again).
 */
const DEFAULT_ANSWER_MS = 0;

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
  private readonly serving: Serving;
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
    this.serving = new Serving({
      history: this.history,
      engines: this.engines,
      model: this.model,
      readCatalog: () => store.getCatalog(),
      report,
      serving: options.serving,
      answerMs: options.timeouts?.answerMs ?? DEFAULT_ANSWER_MS,
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
      } else if (change.kind === 'catalog') this.serving.catalogChanged();
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
    this.serving.setSiteCatalog(valid);
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
    this.serving.catalogChanged();
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
    const summary = runSummary(plan, response);
    if (summary.trained) await this.model.save(response, plan);
    this.lastTraining = summary;
    if (summary.trained) this.emit('trained', summary);
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

  /**
   * Top-k items for this visitor: from the GRU when a model is loaded (trained here or
   * pretrained), else from the baselines on the visitor's own history, then the
   * catalog. Each result names its scorer and, where possible, the item that explains it.
   */
  recommend(options: RecommendOptions = {}): Promise<Recommendation[]> {
    return this.serving.recommend(options);
  }

  /** Items to show on the page of `itemId`: what tends to come next after it. */
  similar(
    itemId: string,
    k = 10,
    options: { exclude?: readonly string[] } = {},
  ): Promise<Recommendation[]> {
    return this.serving.similar(itemId, k, options);
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
      runsIn: this.engines.runsIn,
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
