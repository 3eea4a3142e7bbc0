// What one on-device training run does, decided before the engine is asked: fresh or
// continued, from the site's pretrained model or from the last one, on which of the
// visitor's sessions (by the store's sequence numbers: what the model trained through is
// never trained on again, a wrong clock cannot hide new events), with which trainer
// settings. Pure: the recommender and Node tests call it alike.

import { ON_DEVICE_WORKLOAD } from '../worker/backend-choice';
import type { TrainRequest, TrainResponse } from '../worker/protocol';
import {
  FINE_TUNE_TRAIN_DEFAULTS,
  type FineTuneOptions,
  resolveFineTune,
  trainingSlice,
} from './fine-tune';
import type { HistorySessions } from './history';

export interface TrainingOptions {
  /** Train in the background when enough new events arrived (default true). */
  auto?: boolean;
  /** New events that trigger background training (default 5). */
  minNewEvents?: number;
  /** Epochs per training run (default 3 when fine-tuning, 10 from scratch). */
  epochs?: number;
  /** Other trainer settings (src/train TrainOptions: lr, loss, negatives, kernel, …). */
  options?: Record<string, number | string | boolean>;
  /** Longest wait for an idle moment before background training starts, ms (default 2000). */
  idleTimeoutMs?: number;
  /** How runs adapt a pretrained model to the visitor (see FineTuneOptions). */
  fineTune?: FineTuneOptions;
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
  /** The training-step kernel that ran (absent when nothing was trained). */
  kernel?: string;
  /**
   * The library's WebAssembly SIMD step kernels it ran on ('relaxed-simd' or 'simd'), or
   * 'off' (TF.js and JS only; absent when nothing was trained).
   */
  stepSimd?: string;
  mode: 'fresh' | 'continue';
  fellBackFrom: string[];
}

/** What the model in use has seen (null: no model loaded). */
export interface ModelProgress {
  /** Newest event time it trained on, epoch ms. */
  trainedUntil: number | null;
  /** Store sequence number it trained through. */
  trainedThrough: number | null;
}

export interface PlanInput {
  /** The visitor's sessions now, and the largest sequence number among them. */
  data: HistorySessions;
  lastId: number;
  /** What the model in use has seen (null: none loaded). */
  seen: ModelProgress | null;
  /** train()'s own arguments. */
  request: { epochs?: number; mode?: 'fresh' | 'continue' };
  settings: TrainingOptions;
  /** Whether the site gave a pretrained model. */
  hasPretrained: boolean;
  /** Architecture of a model trained from scratch. */
  architecture: TrainRequest['model'];
}

export type TrainingPlan =
  | { run: false; summary: TrainSummary }
  | {
      run: true;
      mode: 'fresh' | 'continue';
      request: TrainRequest;
      /** The visitor's events the run trains on, and their sessions. */
      events: number;
      sessions: number;
      /** What the model will have seen once the run is saved. */
      trainedUntil: number;
      trainedThrough: number;
    };

export function planTraining(input: PlanInput): TrainingPlan {
  const { data, seen, request, settings: t } = input;
  const mode = request.mode ?? (seen ? 'continue' : 'fresh');
  // What the model has seen, by the store's sequence numbers (a model saved without
  // them has seen nothing this device can name: it trains on everything once).
  const afterKey = mode === 'continue' ? (seen?.trainedThrough ?? 0) : 0;
  const tune = resolveFineTune(t.fineTune);
  // From the site's model again on the visitor's recent history, or on from the last
  // model over the sessions it has not seen (also how a device-only model grows).
  const fromPretrained = mode === 'continue' && input.hasPretrained && tune.base === 'pretrained';
  const slice = trainingSlice(data.sequences, {
    afterKey: fromPretrained ? 0 : afterKey,
    maxEvents: fromPretrained ? tune.maxEvents : undefined,
  });
  if (slice.sessions === 0)
    return {
      run: false,
      summary: notTrained('no new sessions with two or more events', { sessions: 0, mode }),
    };
  const { times } = data.sequences;
  let newestSeen = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < times.length; i++) if (times[i] > newestSeen) newestSeen = times[i];
  const { epochs: tuneEpochs, ...tuneTrain } = FINE_TUNE_TRAIN_DEFAULTS;
  // Population negatives come from the whole catalogue, not the visitor's few items.
  const negativesFrom =
    fromPretrained && tune.populationNegatives ? Number.POSITIVE_INFINITY : data.itemIds.length - 1;
  const options = {
    epochs:
      request.epochs ??
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
  return {
    run: true,
    mode,
    events: slice.items.length,
    sessions: slice.sessions,
    trainedUntil: Math.max(newestSeen, seen?.trainedUntil ?? Number.NEGATIVE_INFINITY),
    trainedThrough: input.lastId,
    request: {
      items: slice.items,
      offsets: slice.offsets,
      itemIds: data.itemIds,
      mode,
      options,
      model: input.architecture,
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
  };
}

/** What a planned run did, from the engine's answer (`skipped`: nothing to learn). */
export function runSummary(
  plan: Extract<TrainingPlan, { run: true }>,
  response: TrainResponse,
): TrainSummary {
  if (response.skipped)
    return notTrained(response.skipped, {
      sessions: plan.sessions,
      mode: plan.mode,
      backend: response.backend,
      fellBackFrom: response.fellBackFrom,
    });
  return {
    trained: true,
    events: plan.events,
    epochs: plan.request.options.epochs as number,
    processedEvents: response.events,
    sessions: plan.sessions,
    seconds: response.seconds,
    eventsPerSecond: response.eventsPerSecond,
    loss: response.loss,
    backend: response.backend,
    ...(response.kernel ? { kernel: response.kernel } : {}),
    ...(response.stepSimd ? { stepSimd: response.stepSimd } : {}),
    mode: plan.mode,
    fellBackFrom: response.fellBackFrom,
  };
}

/** The summary of a run that found nothing to train. */
export function notTrained(
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
