import type { SimdVariant } from '../model/simd';
import type { StepTiming } from '../train/fit';
import type { KernelName } from '../train/kernels/kernel';
import type { TrainProgress } from '../train/options';

/**
 * Wire types of the worker boundary (Comlink). Type-only: importing this module pulls no
 * code into the main-thread bundle. A thrown LocalRecError arrives as a LocalRecError with
 * its code and details (error-transfer.ts).
 */

export type BackendName = 'webgpu' | 'webgl' | 'wasm' | 'cpu';
export const BACKEND_NAMES: readonly BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

export interface BackendProbe {
  name: BackendName;
  /** Initialised and passed the numerical self-check. */
  ok: boolean;
  /** Why it is not usable (init failed, self-check mismatch, timeout). */
  error?: string;
  /** Milliseconds to initialise and run the self-check. */
  initMs?: number;
  /**
   * GPU backends: true on a CPU emulation (SwiftShader, llvmpipe, a WebGPU fallback
   * adapter), false on a renderer known to be a hardware GPU, absent when the browser
   * masks or does not name it (WebKit's "Apple GPU").
   */
  software?: boolean;
  /** Free-form facts: WebGL renderer, WebGPU adapter, WASM SIMD/threads. */
  info?: Record<string, string | number | boolean>;
}

export interface CapabilityReport {
  /** Library version of the worker that answered. */
  version: string;
  /** TF.js core version inside the worker. */
  tfjsVersion: string;
  backends: BackendProbe[];
  /** Raw WebGL renderer string (unmasked when the browser allows), if WebGL exists. */
  webglRenderer?: string;
  crossOriginIsolated: boolean;
  hardwareConcurrency: number;
  userAgent: string;
}

export interface ProbeOptions {
  /** Which backends to try (default all four). */
  backends?: BackendName[];
  /** Per-backend initialisation timeout in ms (default 20 000). */
  backendTimeoutMs?: number;
}

/** The surface the worker exposes through Comlink. */
export interface WorkerApi extends EngineApi {
  ping(): Promise<string>;
  probe(options?: ProbeOptions): Promise<CapabilityReport>;
}

// ---- the trainer/scorer engine -------------------------------------------------------

/** One backend's trial: whether it works here and how fast a real training step ran. */
export interface BackendTrial {
  name: BackendName;
  /** Initialised, passed the numerical self-check and ran the timed trial. */
  ok: boolean;
  /**
   * GPU backends: true when emulated (SwiftShader, WebGPU fallback adapter), false when the
   * renderer is known hardware, absent when unknown or masked (see tf/renderer.ts).
   */
  software?: boolean;
  /** Median milliseconds of one real training step in the trial. */
  stepMs?: number;
  /** The training-step kernel the trial ran (the one training runs on this backend). */
  kernel?: KernelName;
  /** Why it was not usable. */
  error?: string;
}

/** A decision of which backend to use, with the measurements behind it. */
export interface BackendStatus {
  backend: BackendName;
  reason: string;
  trials: BackendTrial[];
  key: string;
  decidedAt: number;
  /** Backends that failed during use (context lost, device lost), most recent last. */
  failed: { name: BackendName; error: string; at: number }[];
}

export interface EngineInit {
  /** Preferences of the site. */
  force?: BackendName;
  exclude?: BackendName[];
  prefer?: BackendName[];
  /** A decision cached from an earlier visit; reused when its key still matches. */
  cached?: BackendStatus;
  /** Size of the trial model. */
  hiddenSize: number;
  numItems: number;
  /**
   * The trial's batch size and shared negatives: those the site trains with (default 32
   * and 256, the on-device defaults). A GPU's advantage grows with the batch: measured on
   * an H100, WebGPU trained 2.1x faster than WASM at batch 256 / 2,048 negatives and 1.8x
   * slower at batch 128 / 128, so a trial at the wrong size picks the wrong backend.
   */
  batchSize?: number;
  negatives?: number;
  /** Per-backend trial budget, ms. */
  trialBudgetMs?: number;
}

export interface ModelInfo {
  numItems: number;
  hiddenSize: number;
  trainedEvents: number;
  epochs: number;
  bytes: number;
  /**
   * How the engine scores every item: `wasm-simd` (a WebAssembly SIMD pass) where the
   * browser and the page's CSP allow it, else `js`. The same scores either way.
   */
  scoring?: 'wasm-simd' | 'js';
}

export interface TrainRequest {
  /** Sessions in CSR form with indices into `itemIds`. Transferred. */
  items: Int32Array;
  offsets: Int32Array;
  itemIds: string[];
  /** `continue`: fine-tune the loaded model (growing its catalog); `fresh`: new weights. */
  mode: 'continue' | 'fresh';
  /** TrainOptions of src/train (plain data only). */
  options: Record<string, number | string | boolean>;
  /** Architecture of a fresh model. */
  model?: { hiddenSize?: number; embedding?: 'tied' | 'separate'; embeddingSize?: number };
  /** How a `continue` run adapts a pretrained model to the visitor (see FineTuneRequest). */
  fineTune?: FineTuneRequest;
}

/**
 * On-device fine-tuning of the site's pretrained model. `base: 'pretrained'` starts every
 * run from the pretrained weights (on the visitor's whole recent history), so runs do not
 * compound; `blend` keeps the result near them: weights = pretrained + blend · (tuned −
 * pretrained) (items the pretrained model never saw keep their tuned rows);
 * `populationNegatives` samples negatives ∝ the pretraining population's popularity
 * (carried in the model file) instead of the visitor's own few items.
 */
export interface FineTuneRequest {
  base: 'current' | 'pretrained';
  blend: number;
  populationNegatives: boolean;
}

/**
 * What a training run asked of the TF.js backend so far, counted at its engine
 * (train/kernels/counters.ts): steps, kernel launches, GPU programs (WebGL/WebGPU; null
 * elsewhere), uploads and reads back. Includes anything else the worker ran meanwhile (a
 * `recommend` between steps).
 */
export interface BackendWork {
  steps: number;
  dispatches: number;
  programs: number | null;
  uploads: number;
  reads: number;
}

/** The trainer's progress report (src/train), with the backend it runs on. */
export type TrainProgressMessage = TrainProgress & {
  backend: BackendName;
  backendWork?: BackendWork;
};

export interface TrainResponse {
  /** The new checkpoint (serialised model). Transferred. */
  checkpoint: ArrayBuffer;
  info: ModelInfo;
  events: number;
  seconds: number;
  eventsPerSecond: number;
  loss: number;
  backend: BackendName;
  /** The training-step kernel that ran (absent when there was nothing to train). */
  kernel?: KernelName;
  /** The WebAssembly SIMD step kernels the hybrid kernel ran on, or 'off' (see TrainResult). */
  stepSimd?: SimdVariant | 'off';
  /** Where a step's time went, ms per step (see TrainResult.stepMs). */
  stepMs?: StepTiming;
  /** What the run asked of the TF.js backend (absent when there was nothing to train). */
  backendWork?: BackendWork;
  /** Backends given up on during this run (the epoch was discarded and redone). */
  fellBackFrom: BackendName[];
  /** Set when there was nothing to train (the model is unchanged; `checkpoint` is empty). */
  skipped?: string;
}

export interface ScoreRequest {
  /** The visitor's items, oldest first (site ids; unknown ids are skipped). */
  prefix: string[];
  k: number;
  /** Site ids never to return. */
  exclude: string[];
  /**
   * Serve the GRU + SR + item-kNN mix when the pretrained model carries population
   * statistics (default true); false: the GRU alone.
   */
  mix?: boolean;
  /** The GRU's share of the mix (default: the one the model file carries). */
  beta?: number;
  /**
   * Event types of the last events of `prefix` (aligned with its end; at most 20): an
   * explanation never names an item only viewed when the visitor did more (clicked,
   * added to cart, bought) among them.
   */
  recentTypes?: string[];
  /**
   * When given, only these site ids may be returned (the page's filter applied to its
   * catalogue): the top k among them of the same ranking, not a filtered top k. A JSON
   * array of ids, as one string: the page sends the same string for the same filter, one
   * copy across the boundary, and the engine keeps the rows it read from it.
   */
  onlyJson?: string;
}

export interface ScoredItem {
  itemId: string;
  score: number;
  /** The prefix item that explains it best, if any. */
  because?: string;
  /** The part of the served mix that drove the item (absent: the GRU alone). */
  via?: 'gru' | 'sr' | 'itemknn';
}

export interface EngineApi {
  init(request: EngineInit): Promise<BackendStatus>;
  /**
   * Loads a serialised model (a checkpoint or a site's pretrained file). With
   * `pretrained: true` it is also kept as the anchor fine-tuning starts from and the
   * source of the population statistics the mix serves from.
   */
  load(checkpoint: ArrayBuffer, options?: { pretrained?: boolean }): Promise<ModelInfo>;
  unload(): Promise<void>;
  train(
    request: TrainRequest,
    onProgress?: (p: TrainProgressMessage) => void,
  ): Promise<TrainResponse>;
  abortTraining(): Promise<void>;
  recommend(request: ScoreRequest): Promise<ScoredItem[]>;
  similar(itemId: string, k: number, exclude: string[]): Promise<ScoredItem[]>;
  info(): Promise<{ model: ModelInfo | null; backend: BackendStatus | null; numTensors: number }>;
  /**
   * Testing aid for the fault catalogue: `lose-webgl-context` loses the WebGL context of
   * the active backend (as a GPU reset would), `crash` throws at the worker's top level.
   */
  debugFault(kind: 'lose-webgl-context' | 'crash'): Promise<boolean>;
}
