import * as tf from '@tensorflow/tfjs-core';
import { LocalRecError } from '../core/errors';
import type { Sequences } from '../core/scorer';
import type { GruConfig } from '../model/config';
import { GruJsScorer } from '../model/js-scorer';
import { GruModel } from '../model/model';
import type { GruArrays } from '../model/params';
import { Rng } from '../model/rng';
import type { SimdVariant } from '../model/simd';
import { checkSequences, SessionStream, sessionOrder, sessionParallelSteps } from './batcher';
import type { KernelName } from './kernels';
import { RESIDENT_LOSS_READ_EVERY } from './kernels/resident';
import { lossFor } from './losses';
import { resolveTrainOptions, type TrainOptions, type TrainProgress } from './options';
import { NegativeSampler } from './sampler';
import { allFinite, StepRunner } from './step';

export interface EpochStat {
  epoch: number;
  loss: number;
  events: number;
  seconds: number;
  validation?: number;
}

export interface TrainResult {
  /** The trained model (a new object; the input model is left untouched). */
  model: GruModel;
  history: EpochStat[];
  events: number;
  /** Training steps (mini-batches) run. */
  steps: number;
  /** Wall time of the whole call, validation included. */
  seconds: number;
  /** Seconds spent in `validate` (part of `seconds`). */
  validationSeconds: number;
  /** Training events per second of training time (validation time excluded). */
  eventsPerSecond: number;
  /** Epoch (1-based) whose weights were returned. */
  bestEpoch: number;
  stoppedEarly: boolean;
  backend: string;
  /** The training-step kernel that ran (train/kernels/, chosen by `kernelFor`). */
  kernel: KernelName;
  /**
   * The library's WebAssembly SIMD step kernels the hybrid kernel ran on (model/simd.ts),
   * or 'off' (TF.js products, JS gates and loss; always 'off' on the device kernel).
   */
  stepSimd: SimdVariant | 'off';
  /**
   * Where a training step's time went, in milliseconds per step, averaged over the
   * run: preparing its rows and masks, the kernel's forward + loss + backward
   * (`compute`, which includes `products` and `loss`), and the optimiser (`update`).
   */
  stepMs: StepTiming;
  fullSoftmax: boolean;
}

export interface StepTiming {
  steps: number;
  prep: number;
  compute: number;
  products: number;
  loss: number;
  update: number;
}

export interface TrainInput {
  /** Continue from these weights (incremental training). Left untouched. */
  model?: GruModel;
  /** Architecture of a fresh model (ignored with `model`). */
  config?: Partial<Omit<GruConfig, 'numItems'>>;
  /** Vocabulary of a fresh model, or the ids of items added beyond `model.numItems`. */
  vocab?: readonly string[];
}

/**
 * Train a GRU4Rec model on sequences (session-parallel, one step per mini-batch) and
 * return a new model. With `input.model`, training continues from its weights on the
 * given (new) sequences; if `data.numItems` is larger, the catalog grows first (new
 * rows initialised, old rows kept). Fresh optimiser state each call.
 *
 * Fails with `TRAINING_DIVERGED` when the loss becomes NaN/±∞ or explodes (checked every
 * `syncEvery` steps, at least 100 with the resident kernel, and at the end: no model is
 * returned), `TRAINING_ABORTED` when
 * `signal` aborts, `INVALID_INPUT` for bad sequences/options. Every tensor it
 * created is freed on every path.
 */
export async function trainGru(
  data: Sequences,
  options: Partial<TrainOptions> = {},
  input: TrainInput = {},
): Promise<TrainResult> {
  const opts = resolveTrainOptions(options);
  checkSequences(data);
  let base: GruModel;
  let ownBase = false;
  if (input.model) {
    base = input.model;
    if (data.numItems > base.numItems) {
      // `input.vocab` names the added items (those beyond the model's catalog)
      const added = input.vocab;
      base = base.grow(data.numItems, {
        ...(base.vocab || added ? { newIds: added ?? [] } : {}),
        seed: opts.seed,
      });
      ownBase = true;
    }
  } else {
    base = GruModel.create(
      { ...input.config, numItems: data.numItems },
      { seed: opts.seed, ...(input.vocab ? { vocab: input.vocab } : {}) },
    );
    ownBase = true;
  }
  const config = base.config;
  const startMeta = base.meta;
  const vocab = base.vocab;
  const init = base.toArrays();
  if (ownBase) base.dispose();

  // popularity (for negatives and logQ)
  const counts = new Float64Array(config.numItems);
  for (let i = 0; i < data.items.length; i++) counts[data.items[i]]++;
  const rng = new Rng(opts.seed);
  let drawCounts: Float64Array = counts;
  if (opts.popularity) {
    drawCounts = counts.slice();
    const extra = opts.popularity;
    for (let j = 0; j < Math.min(extra.length, drawCounts.length); j++) drawCounts[j] += extra[j];
  }
  const sampler =
    opts.negatives > 0 ? new NegativeSampler(drawCounts, opts.sampleAlpha, rng) : null;
  let logQ: Float32Array | null = null;
  const loss = lossFor(opts.loss);
  if (loss.logQ && opts.logQ > 0) {
    // expected count of item j among a step's candidates: B targets ∝ pop + S ∝ pop^α
    let total = 0;
    for (const c of counts) total += c;
    logQ = new Float32Array(config.numItems);
    for (let j = 0; j < config.numItems; j++) {
      const fromTargets = (opts.batchSize * counts[j]) / Math.max(total, 1);
      const fromNeg = sampler ? opts.negatives * Math.exp(sampler.logProb[j]) : 0;
      logQ[j] = Math.log(Math.max(fromTargets + fromNeg, 1e-9));
    }
  }

  const runner = new StepRunner(config, init, opts, logQ);
  // The resident kernel's loss lives on the backend: each check is a read (a GPU stall),
  // so it checks at most once in RESIDENT_LOSS_READ_EVERY steps.
  const syncEvery =
    runner.kernelName === 'resident'
      ? Math.max(opts.syncEvery, RESIDENT_LOSS_READ_EVERY)
      : opts.syncEvery;
  const order = sessionOrder(data);
  const stream = opts.tail === 'wrap' ? new SessionStream(data, opts.batchSize, order) : null;
  const tail = opts.tail === 'shrink' ? 'shrink' : 'drop'; // when there is no stream
  let stepsPerEpoch = 0;
  let eventsPerEpoch = 0;
  if (stream) {
    stepsPerEpoch = stream.stepsPerEpoch;
    eventsPerEpoch = stream.stepsPerEpoch * stream.rows;
  } else {
    for (const b of sessionParallelSteps(data, opts.batchSize, order, tail)) {
      stepsPerEpoch++;
      eventsPerEpoch += b.inputs.length;
    }
  }
  const epochSteps = () =>
    stream ? stream.epoch() : sessionParallelSteps(data, opts.batchSize, order, tail);

  // loss of uniform scores, the yardstick of the divergence threshold
  const columns = runner.usesFullSoftmax ? config.numItems : opts.batchSize + opts.negatives;
  const maxLoss = opts.maxLossFactor * loss.chance(columns);
  const bad = (sum: number, n: number) => !Number.isFinite(sum) || (n > 0 && sum / n > maxLoss);
  const history: EpochStat[] = [];
  let best: { score: number; epoch: number; arrays: GruArrays } | null = null;
  let sinceBest = 0;
  let stoppedEarly = false;
  let events = 0;
  let steps = 0;
  const t0 = performance.now();
  let validationMs = 0; // excluded from events/s
  const trainSec = () => (performance.now() - t0 - validationMs) / 1000;
  let lastYield = t0;
  let lastEpoch = 0;
  let final: GruArrays | null = null;

  const fail = (e: unknown): never => {
    runner.dropPending();
    runner.dispose();
    throw e;
  };
  const diverged = (epoch: number, step: number) =>
    new LocalRecError('TRAINING_DIVERGED', `loss is not finite (epoch ${epoch}, step ${step})`, {
      details: { epoch, step },
    });

  try {
    for (let epoch = 1; epoch <= opts.epochs; epoch++) {
      const te = performance.now();
      // a stream's slots (and their hidden states) carry on across epochs
      if (!stream || epoch === 1) runner.resetHidden();
      let step = 0;
      let epochLoss = 0;
      for (const batch of epochSteps()) {
        if (opts.signal?.aborted) {
          throw new LocalRecError('TRAINING_ABORTED', 'training aborted', {
            cause: opts.signal.reason,
          });
        }
        if (opts.lrEnd !== 1) {
          const done = (epoch - 1 + step / stepsPerEpoch) / opts.epochs;
          runner.setLrScale(1 - (1 - opts.lrEnd) * done);
        }
        await runner.step(batch, sampler ? sampler.next(opts.negatives) : null);
        step++;
        steps++;
        events += batch.inputs.length;
        if (step % syncEvery === 0) {
          // (with bptt > 1 the losses of an unfinished window are not in yet: `n` counts
          // the events whose losses are)
          const { sum: s, events: n } = await runner.takeLoss();
          if (bad(s, n)) throw diverged(epoch, step);
          epochLoss += s;
          if (n > 0)
            opts.onProgress?.(
              progress(epoch, step, stepsPerEpoch, s / n, events, trainSec(), false),
            );
        }
        const now = performance.now();
        if (now - lastYield >= opts.yieldEveryMs) {
          await yieldToEventLoop();
          lastYield = performance.now();
        }
      }
      await runner.flush(); // an unfinished BPTT window
      const { sum: s, events: n } = await runner.takeLoss();
      if (bad(s, n)) throw diverged(epoch, step);
      epochLoss += s;
      lastEpoch = epoch;
      const stat: EpochStat = {
        epoch,
        loss: epochLoss / eventsPerEpoch,
        events: eventsPerEpoch,
        seconds: (performance.now() - te) / 1000,
      };
      let stop = false;
      if (opts.validate) {
        const arrays = await runner.arrays();
        if (!allFinite(arrays)) throw diverged(epoch, step);
        const tv = performance.now();
        const v = await opts.validate(new GruJsScorer(config, arrays), epoch);
        validationMs += performance.now() - tv;
        stat.validation = v;
        if (!best || v > best.score) {
          best = { score: v, epoch, arrays };
          sinceBest = 0;
        } else if (++sinceBest >= opts.patience) {
          stop = true;
        }
      }
      history.push(stat);
      const p = progress(
        epoch,
        step,
        stepsPerEpoch,
        n ? s / n : stat.loss,
        events,
        trainSec(),
        true,
      );
      if (stat.validation !== undefined) p.validation = stat.validation;
      opts.onProgress?.(p);
      if (stop) {
        stoppedEarly = true;
        break;
      }
    }
    final = await runner.arrays();
    if (!allFinite(final)) throw diverged(lastEpoch, 0);
  } catch (e) {
    fail(e);
  }
  runner.dispose();
  const end = performance.now();
  const seconds = (end - t0) / 1000;
  const trainSeconds = (end - t0 - validationMs) / 1000;
  const useBest = best && best.epoch !== lastEpoch;
  const meta = {
    trainedEvents: startMeta.trainedEvents + events,
    epochs: startMeta.epochs + (useBest ? best!.epoch : lastEpoch),
    seed: startMeta.seed,
  };
  const model = GruModel.fromArrays(config, useBest ? best!.arrays : final!, vocab, meta);
  return {
    model,
    history,
    events,
    steps,
    seconds,
    validationSeconds: validationMs / 1000,
    eventsPerSecond: events / Math.max(trainSeconds, 1e-9),
    bestEpoch: useBest ? best!.epoch : lastEpoch,
    stoppedEarly,
    backend: tf.getBackend(),
    kernel: runner.kernelName,
    stepSimd: runner.stepSimd,
    stepMs: perStep(runner.timing, steps),
    fullSoftmax: runner.usesFullSoftmax,
  };
}

function perStep(t: StepRunner['timing'], steps: number): StepTiming {
  const r = (v: number) => Number((v / Math.max(steps, 1)).toFixed(4));
  return {
    steps,
    prep: r(t.prep),
    compute: r(t.compute),
    products: r(t.products),
    loss: r(t.loss),
    update: r(t.update),
  };
}

function progress(
  epoch: number,
  step: number,
  stepsPerEpoch: number,
  loss: number,
  events: number,
  /** Training seconds so far (validation excluded). */
  sec: number,
  epochEnd: boolean,
): TrainProgress {
  return {
    epoch,
    step,
    stepsPerEpoch,
    loss,
    events,
    eventsPerSecond: events / Math.max(sec, 1e-9),
    epochEnd,
  };
}

/**
 * Lets the event loop run queued tasks (an abort, a message) and comes back at once.
 * Not `setTimeout(0)` every time: in a page or worker, timers set from a timer's own
 * task are clamped to ≥ 4 ms after five levels of nesting (the HTML spec), which a
 * training loop resuming from its last yield is, so each yield cost ≥ 4 ms (4% of
 * training at one yield per 100 ms; measured in a Chromium 156 worker: 4.23 ms a yield,
 * against 0.045 ms for a MessageChannel message); in Node a zero timeout waits ~1 ms.
 * `setImmediate` (Node) and a MessageChannel message (browsers) do not wait. Messages
 * may be served before timers, so once a second the yield is a timer all the same.
 */
let channel: MessageChannel | null = null;
const waiting: (() => void)[] = [];
let lastTimer = 0;
export function yieldToEventLoop(): Promise<void> {
  // (looked up on globalThis: the browser build's types have no setImmediate)
  const immediate = (globalThis as { setImmediate?: (f: () => void) => unknown }).setImmediate;
  return new Promise((resolve) => {
    if (typeof immediate === 'function') {
      immediate(resolve);
      return;
    }
    const now = performance.now();
    if (typeof MessageChannel !== 'function' || now - lastTimer >= 1000) {
      lastTimer = now;
      setTimeout(resolve, 0);
      return;
    }
    if (!channel) {
      channel = new MessageChannel();
      channel.port1.onmessage = () => waiting.shift()?.();
    }
    waiting.push(resolve);
    channel.port2.postMessage(null);
  });
}
