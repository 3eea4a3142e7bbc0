// The trainer/scorer engine: everything that needs TF.js, behind the EngineApi of
// protocol.ts. It runs in the module worker (worker-entry.ts) or, where Workers are
// missing, on the main thread loaded from the same bundle (the page's own bundle still
// never imports TF.js). It owns the model and the backend; the page owns the store.
import * as tf from '@tensorflow/tfjs-core';
import { transfer } from 'comlink';
import { PopulationMix } from '../baselines/population';
import { isLocalRecErrorLike, LocalRecError } from '../core/errors';
import { version } from '../core/version';
import { blendToward } from '../model/blend';
import { type GruJsScorer, topKOf } from '../model/js-scorer';
import { GruModel } from '../model/model';
import type { PopulationStats } from '../model/population';
import { readModelFile, serializeGru } from '../model/serialize';
import { trainGru } from '../train/fit';
import { markSoftwareBackend } from '../train/kernels';
import { countBackendWork } from '../train/kernels/counters';
import type { TrainOptions } from '../train/options';
import {
  candidateBackends,
  chooseBackend,
  decisionKey,
  ON_DEVICE_WORKLOAD,
} from './backend-choice';
import type {
  BackendName,
  BackendStatus,
  EngineApi,
  EngineInit,
  ModelInfo,
  ScoredItem,
  ScoreRequest,
  TrainProgressMessage,
  TrainRequest,
  TrainResponse,
} from './protocol';
import { runTrials } from './tf/trial';

/** Errors that say something about the data or the request, not about the backend. */
const NOT_BACKEND_FAULTS = new Set([
  'TRAINING_DIVERGED',
  'TRAINING_ABORTED',
  'INVALID_INPUT',
  'MODEL_CORRUPT',
  'MODEL_MISMATCH',
]);

/** The site's pretrained model: what fine-tuning starts from and the mix serves from. */
interface Anchor {
  model: GruModel;
  rowOf: Map<string, number>;
  population: PopulationStats | null;
  mix: PopulationMix | null;
}

export class Engine implements EngineApi {
  private anchor: Anchor | null = null;
  /** Rows of recent `onlyJson` lists, for the model in use. */
  private readonly amongCache = new Map<string, Int32Array>();
  /** The served mix's row, reused between calls. */
  private mixRow: Float32Array | null = null;
  /** Current model row → anchor row (−1: an item the pretrained model does not know). */
  private anchorRowOf: Int32Array | null = null;
  private model: GruModel | null = null;
  private scorer: GruJsScorer | null = null;
  private rowOf = new Map<string, number>();
  /** The serialised form of `model`: what a failed backend falls back to. */
  private lastGood: ArrayBuffer | null = null;
  private backend: BackendStatus | null = null;
  private training: AbortController | null = null;

  async init(request: EngineInit): Promise<BackendStatus> {
    const names = candidateBackends({ force: request.force, exclude: request.exclude });
    const batchSize = request.batchSize ?? ON_DEVICE_WORKLOAD.batchSize;
    const negatives = request.negatives ?? ON_DEVICE_WORKLOAD.negatives;
    const key = decisionKey({
      prefer: request.prefer ?? [],
      version,
      hidden: request.hiddenSize,
      numItems: request.numItems,
      batchSize,
      negatives,
      userAgent: globalThis.navigator?.userAgent ?? 'node',
    });
    const cached = request.cached;
    // A backend initialisation started before this (TF.js starts its highest-priority
    // backend, WASM's asynchronously, on the first op) must finish first: while it is
    // pending, TF.js refuses every op on any backend, even one set since ("Backend 'cpu'
    // has not yet been initialized"), which broke a warm start on a cached 'cpu' decision.
    const pending = (tf.engine() as unknown as { pendingBackendInit?: Promise<unknown> | null })
      .pendingBackendInit;
    if (pending) await pending.catch(() => {});
    if (
      cached &&
      cached.key === key &&
      names.includes(cached.backend) &&
      (await tf.setBackend(cached.backend))
    ) {
      this.backend = { ...cached, failed: [] };
      // the kernel its trial timed (an emulated GPU gets the device kernel: kernelFor)
      const trial = cached.trials.find((t) => t.name === cached.backend);
      markSoftwareBackend(cached.backend, trial?.software === true);
      this.watchDevice();
      return this.backend;
    }
    const trials = await runTrials(names, {
      numItems: Math.max(16, request.numItems),
      hiddenSize: request.hiddenSize,
      batchSize,
      negatives,
      budgetMs: request.trialBudgetMs ?? 20_000,
    });
    const decision = chooseBackend(trials, key, Date.now(), request.prefer ?? []);
    if (!(await tf.setBackend(decision.backend))) {
      throw new LocalRecError(
        'BACKEND_UNAVAILABLE',
        `${decision.backend} stopped working after its trial`,
      );
    }
    this.backend = { ...decision, failed: [] };
    this.watchDevice();
    // Weights loaded before the decision live on the old backend: move them.
    if (this.lastGood) await this.loadBuffer(this.lastGood.slice(0));
    return this.backend;
  }

  /** WebGPU reports a lost device through a promise: remember it for backendHealthy(). */
  private watchDevice(): void {
    this.deviceLost = false;
    const device = (tf.backend() as unknown as { device?: { lost?: Promise<unknown> } }).device;
    device?.lost?.then(() => {
      this.deviceLost = true;
    });
  }

  async load(checkpoint: ArrayBuffer, options: { pretrained?: boolean } = {}): Promise<ModelInfo> {
    return await this.loadBuffer(checkpoint, options.pretrained === true);
  }

  private async loadBuffer(checkpoint: ArrayBuffer, pretrained = false): Promise<ModelInfo> {
    // f16 and i8 files are dequantized once into float32 here (docs/MODEL.md, "Compact weights")
    const { model, population } = readModelFile(checkpoint);
    if (!model.vocab) {
      model.dispose();
      throw new LocalRecError(
        'MODEL_MISMATCH',
        'the model has no vocabulary: it cannot map site item ids',
      );
    }
    if (pretrained) {
      this.anchor?.model.dispose();
      // Its own object over the same (immutable) arrays: disposing one never frees the other.
      const copy = GruModel.fromArrays(model.config, model.toArrays(), model.vocab, model.meta);
      this.anchor = {
        model: copy,
        rowOf: new Map(model.vocab.map((id, row) => [id, row])),
        population,
        mix: population ? new PopulationMix(population) : null,
      };
    }
    this.setModel(model, checkpoint);
    return this.modelInfo() as ModelInfo;
  }

  private setModel(model: GruModel, buffer: ArrayBuffer): void {
    this.model?.dispose();
    this.model = model;
    this.scorer = model.scorer();
    this.lastGood = buffer;
    this.rowOf = new Map((model.vocab ?? []).map((id, row) => [id, row]));
    this.amongCache.clear();
    const anchor = this.anchor;
    this.anchorRowOf = anchor
      ? Int32Array.from(model.vocab ?? [], (id) => anchor.rowOf.get(id) ?? -1)
      : null;
  }

  async unload(): Promise<void> {
    this.model?.dispose();
    this.model = null;
    this.scorer = null;
    this.lastGood = null;
    this.rowOf.clear();
    this.anchor?.model.dispose();
    this.anchor = null;
    this.anchorRowOf = null;
  }

  private modelInfo(): ModelInfo | null {
    const m = this.model;
    if (!m) return null;
    return {
      numItems: m.numItems,
      hiddenSize: m.config.hiddenSize,
      trainedEvents: m.meta.trainedEvents,
      epochs: m.meta.epochs,
      bytes: this.lastGood?.byteLength ?? 0,
      ...(this.scorer ? { scoring: this.scorer.scoringPass } : {}),
    };
  }

  async train(
    request: TrainRequest,
    onProgress?: (p: TrainProgressMessage) => void,
  ): Promise<TrainResponse> {
    if (this.training) {
      throw new LocalRecError('INVALID_INPUT', 'training is already running in this worker');
    }
    const abort = new AbortController();
    this.training = abort;
    const fellBackFrom: BackendName[] = [];
    try {
      for (;;) {
        try {
          const response = await this.trainOnce(request, abort.signal, onProgress);
          response.fellBackFrom = fellBackFrom;
          return transfer(response, [response.checkpoint]);
        } catch (error) {
          // A lost context can also surface as NaN losses: ask the backend, not the error.
          if (
            isLocalRecErrorLike(error) &&
            NOT_BACKEND_FAULTS.has(error.code) &&
            this.backendHealthy()
          ) {
            throw error;
          }
          // The backend failed mid-training (WebGL context lost, GPU device lost, OOM):
          // that run is discarded, the last good weights are kept, and the next-best
          // measured backend carries on.
          const failed = this.backend?.backend ?? (tf.getBackend() as BackendName);
          fellBackFrom.push(failed);
          const next = await this.fallBack(failed, error);
          if (!next) {
            throw new LocalRecError(
              'BACKEND_UNAVAILABLE',
              `training failed on every backend (last: ${failed}: ${message(error)})`,
              {
                cause: error,
              },
            );
          }
        }
      }
    } finally {
      this.training = null;
    }
  }

  private async fallBack(failed: BackendName, error: unknown): Promise<BackendName | null> {
    const status = this.backend;
    if (!status) return null;
    status.failed.push({ name: failed, error: message(error), at: Date.now() });
    const bad = new Set(status.failed.map((f) => f.name));
    const options = status.trials
      .filter((t) => t.ok && !bad.has(t.name) && t.stepMs !== undefined)
      .sort((a, b) => (a.stepMs as number) - (b.stepMs as number));
    for (const option of options) {
      let ok = false;
      try {
        ok = await tf.setBackend(option.name);
      } catch {}
      if (!ok) {
        status.failed.push({
          name: option.name,
          error: 'setBackend failed during fallback',
          at: Date.now(),
        });
        continue;
      }
      status.backend = option.name;
      this.watchDevice();
      status.reason = `${option.name}: fallback after ${failed} failed (${message(error)})`;
      // Tensors of the failed backend are gone or unusable: reload the last good weights.
      if (this.lastGood) await this.loadBuffer(this.lastGood.slice(0));
      return option.name;
    }
    return null;
  }

  private async trainOnce(
    request: TrainRequest,
    signal: AbortSignal,
    onProgress?: (p: TrainProgressMessage) => void,
  ): Promise<TrainResponse> {
    const { items, offsets, itemIds } = request;
    const fresh = request.mode === 'fresh' || !this.model;
    const tune = request.fineTune;
    const anchor = !fresh && tune?.base === 'pretrained' ? this.anchor : null;
    const base = fresh ? null : (anchor?.model ?? this.model);
    const rowOf = anchor ? anchor.rowOf : this.rowOf;
    // Map the page's item indices to model rows; items the model has not seen are
    // appended (the model grows, old rows kept).
    const rows = new Int32Array(itemIds.length);
    const added: string[] = [];
    if (base) {
      let next = base.numItems;
      for (let i = 0; i < itemIds.length; i++) {
        const known = rowOf.get(itemIds[i]);
        if (known !== undefined) rows[i] = known;
        else {
          rows[i] = next++;
          added.push(itemIds[i]);
        }
      }
    } else {
      for (let i = 0; i < itemIds.length; i++) rows[i] = i;
    }
    if (anchor && tune?.blend === 0 && added.length === 0) {
      // The result would be the pretrained model itself: nothing to train, nothing to save.
      return {
        checkpoint: new ArrayBuffer(0),
        info: this.modelInfo() as ModelInfo,
        events: 0,
        seconds: 0,
        eventsPerSecond: 0,
        loss: Number.NaN,
        backend: (this.backend?.backend ?? tf.getBackend()) as BackendName,
        fellBackFrom: [],
        skipped:
          'fine-tuning keeps the pretrained weights (blend 0) and the model knows every item of this visitor',
      };
    }
    const mapped = Int32Array.from(items, (i) => rows[i]);
    const numItems = base ? base.numItems + added.length : itemIds.length;
    const backend = (this.backend?.backend ?? tf.getBackend()) as BackendName;
    // The step kernel is the one `kernelFor` picks for the backend (trainGru's default
    // engine 'auto'), the one the backend trial timed.
    const options: Partial<TrainOptions> = {
      ...(request.options as Partial<TrainOptions>),
      ...(anchor?.population && tune?.populationNegatives
        ? { popularity: anchor.population.counts }
        : {}),
      signal,
      onProgress: onProgress
        ? (p) =>
            onProgress({
              ...p,
              backend,
              backendWork: {
                steps: (p.epoch - 1) * p.stepsPerEpoch + p.step,
                ...work.counts,
              },
            })
        : undefined,
    };
    // what the run asks of the backend (reads, launches, uploads: a GPU step's costs),
    // reported with the progress and the result for benchmarks (bench/gpu-check,
    // bench/train-browser.ts)
    const work = countBackendWork();
    let result: Awaited<ReturnType<typeof trainGru>>;
    try {
      result = await trainGru(
        { items: mapped, offsets, numItems },
        options,
        base ? { model: base, vocab: added } : { vocab: itemIds, config: request.model },
      );
    } finally {
      work.stop();
    }
    // A lost WebGL context makes reads return zeros rather than throw: never keep weights
    // that came back from a backend that is no longer healthy.
    if (!this.backendHealthy()) {
      result.model.dispose();
      throw new Error(`the ${backend} backend lost its context/device during training`);
    }
    let model = result.model;
    if (base && tune && tune.blend < 1) {
      model = blendToward(base, result.model, tune.blend);
      result.model.dispose();
    }
    const checkpoint = serializeGru(model);
    this.setModel(model, checkpoint.slice(0));
    const last = result.history[result.history.length - 1];
    return {
      checkpoint,
      info: this.modelInfo() as ModelInfo,
      events: result.events,
      seconds: result.seconds,
      eventsPerSecond: result.eventsPerSecond,
      loss: last?.loss ?? Number.NaN,
      backend,
      kernel: result.kernel,
      stepSimd: result.stepSimd,
      stepMs: result.stepMs,
      backendWork: { steps: result.steps, ...work.counts },
      fellBackFrom: [],
    };
  }

  /** False when the active GPU backend lost its context/device (then it cannot be trusted). */
  private backendHealthy(): boolean {
    const b = tf.backend() as unknown as {
      gpgpu?: { gl?: WebGLRenderingContext };
      device?: unknown;
    };
    if (b.gpgpu?.gl?.isContextLost?.()) return false;
    if (b.device && this.deviceLost) return false;
    return true;
  }

  private deviceLost = false;

  async debugFault(kind: 'lose-webgl-context' | 'crash'): Promise<boolean> {
    if (kind === 'crash') {
      setTimeout(() => {
        throw new Error('localrec: simulated worker crash (debugFault)');
      });
      return true;
    }
    const gl = (tf.backend() as unknown as { gpgpu?: { gl?: WebGLRenderingContext } }).gpgpu?.gl;
    const ext = gl?.getExtension('WEBGL_lose_context');
    if (!ext) return false;
    ext.loseContext();
    return true;
  }

  async abortTraining(): Promise<void> {
    this.training?.abort();
  }

  private requireModel(): { model: GruModel; scorer: GruJsScorer } {
    if (!this.model || !this.scorer)
      throw new LocalRecError('NOT_TRAINED', 'no model is loaded in the engine');
    return { model: this.model, scorer: this.scorer };
  }

  private rows(ids: readonly string[]): number[] {
    const out: number[] = [];
    for (const id of ids) {
      const row = this.rowOf.get(id);
      if (row !== undefined) out.push(row);
    }
    return out;
  }

  /** The rows a request may return (`onlyJson`), each once; undefined: every row. */
  private among(request: ScoreRequest): Int32Array | undefined {
    const json = request.onlyJson;
    if (json === undefined) return undefined;
    const kept = this.amongCache.get(json);
    if (kept) return kept;
    let ids: unknown;
    try {
      ids = JSON.parse(json);
    } catch {
      ids = null;
    }
    if (!Array.isArray(ids))
      throw new LocalRecError('INVALID_INPUT', 'onlyJson must be a JSON array of item ids', {
        details: { field: 'onlyJson' },
      });
    const seen = new Set<number>();
    for (const id of ids) {
      const row = typeof id === 'string' ? this.rowOf.get(id) : undefined;
      if (row !== undefined) seen.add(row);
    }
    const rows = Int32Array.from(seen);
    if (this.amongCache.size >= AMONG_KEPT) this.amongCache.clear();
    this.amongCache.set(json, rows);
    return rows;
  }

  async recommend(request: ScoreRequest): Promise<ScoredItem[]> {
    const { model, scorer } = this.requireModel();
    const { prefix, allowed } = this.prefixOf(request);
    const gru = this.stateAfter(scorer, prefix);
    const explainGru = gruExplainer(scorer, model, prefix, this.trail(prefix), allowed);
    if (request.mix !== false && this.anchor?.mix && this.anchor.population && this.anchorRowOf)
      return this.recommendMix(model, gru, prefix, allowed, explainGru, request);
    const top = topKOf(gru, request.k, this.rows(request.exclude), this.among(request));
    return Array.from(top.items, (row, i) => explainGru.item(row, top.scores[i]));
  }

  /**
   * The served mix: β · GRU + (1 − β) · (SR + item-kNN from the population's neighbour
   * lists), each part scaled to a candidate maximum of 1 over the items not in the prefix
   * (the GRU through its softmax), as the offline `gru+sr+itemknn` model. Each item says
   * which part drove it and, for SR / item-kNN, the visitor's item behind it.
   */
  private recommendMix(
    model: GruModel,
    gru: Float32Array,
    prefix: Int32Array,
    allowed: (position: number) => boolean,
    explainGru: ReturnType<typeof gruExplainer>,
    request: ScoreRequest,
  ): ScoredItem[] {
    const anchor = this.anchor as Anchor & { mix: PopulationMix; population: PopulationStats };
    const toAnchor = this.anchorRowOf as Int32Array;
    const beta = request.beta ?? anchor.population.mix.beta;
    const n = model.numItems;
    const anchorRows: number[] = [];
    const anchorAllowed: boolean[] = [];
    prefix.forEach((r, p) => {
      if (toAnchor[r] < 0) return;
      anchorRows.push(toAnchor[r]);
      anchorAllowed.push(allowed(p));
    });
    const anchorPrefix = Int32Array.from(anchorRows);
    // The population's row over the anchor's items (this model's rows map into it; items
    // it does not know score 0).
    const fromLists = anchor.mix.scores64(anchorPrefix);
    if (this.mixRow?.length !== n) this.mixRow = new Float32Array(n);
    const row = this.mixRow;
    const scale = mixInto(row, gru, fromLists, toAnchor, prefix, beta);
    const top = topKOf(row, request.k, this.rows(request.exclude), this.among(request));
    const anchorVocab = anchor.model.vocab as readonly string[];
    return Array.from(top.items, (r, i) => {
      const { g, m } = scale.parts(r);
      if (toAnchor[r] >= 0 && (1 - beta) * m > beta * g) {
        const why = anchor.mix.explain(anchorPrefix, toAnchor[r], (p) => anchorAllowed[p]);
        if (why) {
          // The part that drove it; its item only when that may explain (else nothing).
          return {
            itemId: explainGru.vocab[r],
            score: top.scores[i],
            via: why.component,
            ...(why.because >= 0 ? { because: anchorVocab[why.because] } : {}),
          };
        }
      }
      return { ...explainGru.item(r, top.scores[i]), via: 'gru' as const };
    });
  }

  /**
   * Scores after `prefix`. The page sends the visitor's most recent events; between two
   * calls that list grows at its end and, once the history is capped (retention, or the
   * page's prefix length), loses a few events at its front. The hidden state after the
   * previous list is kept and only the new items are stepped, so a call costs O(new
   * items), not O(history): the state then still carries the dropped events, as a GRU
   * that reads the visitor's events as a stream would (their weight after thousands of
   * later steps is nil). Any other change (events inserted in the middle, another
   * visitor) starts from the initial state.
   */
  private stateAfter(scorer: GruJsScorer, prefix: Int32Array): Float32Array {
    const cached = this.cachedState;
    let state: Float32Array | null = null;
    let from = 0;
    if (cached && cached.scorer === scorer) {
      const c = cached.prefix;
      // cached[dropped:] must be where the new list starts.
      for (let dropped = 0; dropped <= Math.min(MAX_DROPPED, c.length - 1); dropped++) {
        const kept = c.length - dropped;
        if (kept > prefix.length) continue;
        let same = true;
        for (let i = 0; same && i < kept; i++) same = c[dropped + i] === prefix[i];
        if (same) {
          state = cached.state.slice();
          from = kept;
          break;
        }
      }
    }
    // States after each of the last steps, for explanations (leave one event out).
    const trail = state && cached ? cached.trail.slice() : [];
    // The leave-one-out states still in the explanation window, each stepped through the
    // new items as the full state is: the same steps a fresh computation would take.
    const variants = new Map<number, Float32Array>();
    if (state && cached) {
      const dropped = cached.prefix.length - from;
      for (const [p, variant] of cached.variants) {
        const at = p - dropped;
        if (at < prefix.length - EXPLAIN_WINDOW) continue;
        for (let i = from; i < prefix.length; i++) scorer.step(variant, prefix[i]);
        variants.set(at, variant);
      }
    }
    state ??= scorer.initialState();
    for (let i = from; i < prefix.length; i++) {
      scorer.step(state, prefix[i]);
      if (i >= prefix.length - TRAIL) trail.push(state.slice());
    }
    if (trail.length > TRAIL) trail.splice(0, trail.length - TRAIL);
    this.cachedState = { scorer, prefix: prefix.slice(), state: state.slice(), trail, variants };
    return scorer.scoresFromState(state);
  }

  /**
   * The states after the last steps of `prefix` (the one `stateAfter` just read), oldest
   * first: `trail[t]` follows position `prefix.length − trail.length + t`.
   */
  private trail(prefix: Int32Array): {
    trail: readonly Float32Array[];
    variants: Map<number, Float32Array>;
  } {
    const c = this.cachedState;
    return c && c.prefix.length === prefix.length
      ? c
      : { trail: [], variants: new Map<number, Float32Array>() };
  }

  /** The request's prefix as model rows, and which of its positions may explain a result. */
  private prefixOf(request: ScoreRequest): {
    prefix: Int32Array;
    allowed: (position: number) => boolean;
  } {
    const rows: number[] = [];
    const types: (string | undefined)[] = [];
    const given = request.recentTypes ?? [];
    const offset = request.prefix.length - given.length;
    request.prefix.forEach((id, i) => {
      const row = this.rowOf.get(id);
      if (row === undefined) return;
      rows.push(row);
      types.push(i >= offset ? given[i - offset] : undefined);
    });
    // An item only viewed never explains when the visitor did more among these events.
    const didMore = given.some((t) => t !== 'view');
    return {
      prefix: Int32Array.from(rows),
      allowed: (p) => !didMore || (types[p] !== undefined && types[p] !== 'view'),
    };
  }

  private cachedState: {
    scorer: GruJsScorer;
    prefix: Int32Array;
    state: Float32Array;
    trail: Float32Array[];
    /**
     * By prefix position (in the explanation window): the state after the prefix without
     * that event, filled in as explanations need them and carried on to the next list.
     */
    variants: Map<number, Float32Array>;
  } | null = null;

  async similar(itemId: string, k: number, exclude: string[]): Promise<ScoredItem[]> {
    const { model, scorer } = this.requireModel();
    const row = this.rowOf.get(itemId);
    if (row === undefined) return [];
    // What the model predicts next after viewing this item alone.
    const top = scorer.topK(Int32Array.of(row), k, [row, ...this.rows(exclude)]);
    const vocab = model.vocab as readonly string[];
    return Array.from(top.items, (r, i) => ({
      itemId: vocab[r],
      score: top.scores[i],
      because: itemId,
    }));
  }

  async info() {
    return { model: this.modelInfo(), backend: this.backend, numTensors: tf.memory().numTensors };
  }
}

/**
 * The served mix's row into `out`: β · exp(s − max s) + (1 − β) · lists / max lists, the
 * maxima over the items not in the prefix. The same arithmetic, item by item, as
 * `scaledParts` (train/gru-mix.ts) and the offline `gru+sr+itemknn` model, in two passes
 * over the catalogue and no per-call arrays (test/worker/engine.test.ts holds them equal).
 */
function mixInto(
  out: Float32Array,
  gru: Float32Array,
  fromLists: Float64Array,
  toAnchor: Int32Array,
  prefix: Int32Array,
  beta: number,
): { parts(row: number): { g: number; m: number } } {
  const n = out.length;
  // prefix items are not candidates: mark them in `out` (rewritten below) as NaN
  for (const r of prefix) out[r] = Number.NaN;
  let mx = Number.NEGATIVE_INFINITY;
  let mm = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(out[i])) continue;
    if (gru[i] > mx) mx = gru[i];
    const a = toAnchor[i];
    const v = a >= 0 ? fromLists[a] : 0;
    if (v > mm) mm = v;
  }
  const w = mm > 0 ? 1 / mm : 1;
  const b1 = 1 - beta;
  for (let i = 0; i < n; i++) {
    const a = toAnchor[i];
    out[i] = beta * Math.exp(gru[i] - mx) + b1 * ((a >= 0 ? fromLists[a] : 0) * w);
  }
  return {
    parts(row) {
      const a = toAnchor[row];
      return { g: Math.exp(gru[row] - mx), m: (a >= 0 ? fromLists[a] : 0) * w };
    },
  };
}

/** `onlyJson` lists whose rows the engine keeps (a page's recent attribute filters). */
const AMONG_KEPT = 8;

/** Events a list may lose at its front between two calls and still reuse the kept state. */
const MAX_DROPPED = 64;

/** States kept after the last steps: the window a GRU explanation looks back over, plus one. */
const EXPLAIN_WINDOW = 10;
const TRAIL = EXPLAIN_WINDOW + 1;

/**
 * A GRU result with its explanation: of the visitor's last EXPLAIN_WINDOW events (those
 * allowed to explain), the one whose removal lowers the item's score the most, i.e. the
 * event with the largest contribution (the state before it, stepped over the events
 * after it, against the state after all). No event with a positive contribution: no
 * explanation. Computed on first use, at EXPLAIN_WINDOW · (EXPLAIN_WINDOW + 1) / 2 steps.
 */
function gruExplainer(
  scorer: GruJsScorer,
  model: GruModel,
  prefix: Int32Array,
  kept: { trail: readonly Float32Array[]; variants: Map<number, Float32Array> },
  allowed: (position: number) => boolean,
) {
  const { trail } = kept;
  const vocab = model.vocab as readonly string[];
  const n = prefix.length;
  let without: { position: number; state: Float32Array }[] | null = null;
  const variants = () => {
    if (without) return without;
    without = [];
    const first = n - trail.length; // trail[t] follows position first + t
    for (let p = n - 1; p >= Math.max(0, n - EXPLAIN_WINDOW); p--) {
      if (!allowed(p)) continue;
      let state = kept.variants.get(p);
      if (!state) {
        const before =
          p === 0 ? scorer.initialState() : p - 1 >= first ? trail[p - 1 - first] : null;
        if (!before) continue;
        state = before.slice();
        for (let q = p + 1; q < n; q++) scorer.step(state, prefix[q]);
        kept.variants.set(p, state);
      }
      without.push({ position: p, state });
    }
    return without;
  };
  return {
    vocab,
    item(row: number, score: number): ScoredItem {
      const final = trail[trail.length - 1];
      let because = -1;
      if (final) {
        const full = scorer.logit(final, row);
        let best = 0;
        for (const v of variants()) {
          if (prefix[v.position] === row) continue;
          const contribution = full - scorer.logit(v.state, row);
          if (contribution > best) {
            best = contribution;
            because = prefix[v.position];
          }
        }
      }
      return { itemId: vocab[row], score, ...(because >= 0 ? { because: vocab[because] } : {}) };
    },
  };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
