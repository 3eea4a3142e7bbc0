// The public types of createRecommender(): its options, status, events and the
// dependencies a Node tool or test may replace.

import type { RunsIn } from '../runtime/engine-supervisor';
import type { LeaderElection } from '../runtime/leader';
import type { TrainingOptions, TrainSummary } from '../runtime/training-plan';
import type { WorkerClientOptions, WorkerHandle } from '../runtime/worker-client';
import type { BackendPreferences } from '../worker/backend-choice';
import type { BackendStatus, ModelInfo, TrainProgressMessage } from '../worker/protocol';
import type { LocalRecError } from './errors';
import type { CatalogItem, StoreOptions } from './store-types';

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
  /**
   * Where the engine (the code that trains and scores) runs: in a worker, or on the main
   * thread (no Worker support, or `useWorker: false`); 'not-started' before its first use.
   */
  runsIn: RunsIn;
  /** @deprecated Use `runsIn` (the same value); removed in the next version. */
  engine: RunsIn;
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
