import { LocalRecError } from '../core/errors';
import type { Scorer } from '../core/scorer';
import { checkInt, checkNumber } from '../model/config';
import type { OptimizerKind } from '../model/optimizer';
import type { KernelName } from './kernels/kernel';
import { type LossKind, lossFor } from './losses';

/** Progress report, every `syncEvery` steps and at each epoch end. */
export interface TrainProgress {
  epoch: number;
  /** Step within the epoch. */
  step: number;
  /** Steps per epoch (known up front: the batcher is deterministic). */
  stepsPerEpoch: number;
  /** Mean loss per event since the previous report. */
  loss: number;
  /** Training events processed in this run so far. */
  events: number;
  /** Events per second of training time so far (wall clock, syncs included, `validate` excluded). */
  eventsPerSecond: number;
  /** True on the report that closes an epoch. */
  epochEnd: boolean;
  /** Validation score of that epoch when `validate` is given. */
  validation?: number;
}

export interface TrainOptions {
  epochs: number;
  /** Session-parallel slots B. */
  batchSize: number;
  /**
   * What happens when the sessions run out: `wrap` (default) starts the session order
   * again, so the batch stays full and slots carry on across epochs (an epoch = as many
   * events as the data has); `drop` ends the epoch at the first slot without a next
   * session (the tails of the sessions still running are never trained: 14% of
   * MovieLens's training events at B 64, 28% at B 128); `shrink` finishes the running
   * sessions in ever smaller batches (every event trained, but each epoch ends with many
   * tiny-batch steps on the last few long sessions, which skews the model toward them).
   * Validation NDCG@10 on ml-small-last5 (B 64, 10 epochs): wrap 0.0734, drop 0.0674.
   */
  tail: 'drop' | 'shrink' | 'wrap';
  loss: LossKind;
  /** Shared negative samples per step, on top of the batch's own targets. */
  negatives: number;
  /**
   * Use a full softmax over the catalog (every item a column) when the catalog has at
   * most this many items; otherwise sampled. 0 = always sampled.
   */
  fullSoftmaxMaxItems: number;
  /** Negatives drawn ∝ popularity^alpha. */
  sampleAlpha: number;
  /**
   * Item counts added to the training data's own when drawing negatives (index = model
   * row; shorter than the catalogue means 0 for the rest). Fine-tuning on one visitor
   * passes the pretraining population's counts: drawn from the visitor's few items
   * alone, every negative would be an item the visitor already has, and the model would
   * learn nothing about the rest of the catalogue.
   */
  popularity?: ArrayLike<number>;
  /**
   * logQ correction weight for sampled cross-entropy: scores of candidate j get
   * `− logQ · log E[count of j among the step's candidates]` (0 = off).
   */
  logQ: number;
  /** Mask accidental hits (a column holding the row's own target again). */
  maskHits: boolean;
  /** BPR-max score regulariser λ. */
  bprReg: number;
  /** ELU as final activation for BPR-max. */
  elu: boolean;
  dropoutEmbedding: number;
  dropoutHidden: number;
  /**
   * Where the hidden dropout (`dropoutHidden`) applies. `state` (default, GRU4Rec): on the
   * GRU output, which is both the scores' input and the state carried to the next step,
   * so every step erases a share of the memory. `scores`: on the scores' input only, the
   * state carried on undropped (dropout between layers, not on the recurrent connection:
   * Zaremba et al. 2014); the gradient reaching a step through the next step's state is
   * then not masked. Same model at inference (no dropout there). Both step kernels.
   */
  dropoutHiddenOn: 'state' | 'scores';
  optimizer: OptimizerKind;
  /**
   * The training-step kernel (src/train/kernels/). `auto` (default): the one `kernelFor`
   * picks for the active backend, the same one the backend trial timed. `hybrid`:
   * elementwise maths in JS, only the matrix products on the backend (six round trips
   * per step). `device`: every op of the GRU step on the backend, the loss in JS (two
   * read-backs per step). `resident`: the whole step, loss and optimiser included, on the
   * backend, the loss read every 100 steps (sampled cross-entropy only: asked for BPR-max
   * or a full softmax it refuses with INVALID_INPUT; `auto` then runs `device`). Same
   * maths (tested equal to 1e-5; resident to 1e-4 over 200 steps); speeds in docs/MODEL.md.
   */
  kernel: 'auto' | KernelName;
  /**
   * @deprecated Use `kernel` (same values); read as `kernel` when that is not given, and
   * removed in the next version. ("Engine" names the worker that trains and scores.)
   */
  engine?: 'auto' | KernelName;
  /**
   * Truncated backpropagation through time: the gradient of each step's loss flows back
   * through the carried state over windows of this many consecutive steps, and the
   * weights are updated once per window (with the window's summed gradient). 1 = the
   * GRU4Rec one-step training (the state carried but detached; the default here). A slot
   * whose session ends inside a window starts the next session from a zero state and
   * passes no gradient back into the previous one. Both step kernels support it.
   */
  bptt: number;
  lr: number;
  /**
   * Learning-rate schedule: the rate goes linearly from `lr` at the first step to
   * `lr · lrEnd` at the last step of the run (1 = constant, the default here). On
   * ml-small-last5 validation decaying to zero helps 100 units (+0.0018 NDCG@10, three
   * seeds: the eval default, GRU_EVAL_DEFAULTS) and hurts 64 units (−0.0049 / −0.0062,
   * two seeds: the on-device Recommender's size), see docs/experiments/2026-11-27-gru-tuning.md.
   */
  lrEnd: number;
  momentum: number;
  /** Adagrad/Adam epsilon. */
  eps: number;
  seed: number;
  /**
   * Divergence threshold: a mean loss above `maxLossFactor` × the loss of uniform scores
   * (log M for cross-entropy, log 2 for BPR-max) counts as diverged, like NaN/±∞. With
   * Adagrad/Adam an exploding learning rate gives huge but finite losses rather than NaN.
   */
  maxLossFactor: number;
  /**
   * Read the loss back (divergence check + progress) every this many steps; with the
   * resident kernel at least every 100 (each read is a GPU stall).
   */
  syncEvery: number;
  /** Yield to the event loop (abort, messages) at least this often, ms. */
  yieldEveryMs: number;
  signal?: AbortSignal;
  onProgress?: (p: TrainProgress) => void;
  /**
   * Validation hook, called after each epoch with a scorer of the current weights;
   * returns a score, higher is better (e.g. NDCG@10 on validation positions). With
   * `patience`, training stops when it has not improved for that many epochs and the
   * best epoch's weights are returned.
   */
  validate?: (scorer: Scorer, epoch: number) => number | Promise<number>;
  patience: number;
}

/** Longest BPTT window: every step of a window keeps its activations until the update. */
export const MAX_BPTT = 256;

export const DEFAULT_TRAIN_OPTIONS: TrainOptions = {
  epochs: 10,
  batchSize: 128,
  tail: 'wrap',
  loss: 'cross-entropy',
  negatives: 128,
  fullSoftmaxMaxItems: 0,
  sampleAlpha: 0.5,
  logQ: 1,
  maskHits: true,
  bprReg: 1,
  elu: false,
  dropoutEmbedding: 0.1,
  dropoutHidden: 0.3,
  dropoutHiddenOn: 'state',
  optimizer: 'adagrad',
  kernel: 'auto',
  bptt: 1,
  lr: 0.05,
  lrEnd: 1,
  momentum: 0.3,
  eps: 1e-6,
  seed: 0,
  maxLossFactor: 100,
  syncEvery: 32,
  yieldEveryMs: 100,
  patience: Number.POSITIVE_INFINITY,
};

export function resolveTrainOptions(o: Partial<TrainOptions>): TrainOptions {
  const r: TrainOptions = { ...DEFAULT_TRAIN_OPTIONS };
  for (const [k, v] of Object.entries(o))
    if (v !== undefined) (r as unknown as Record<string, unknown>)[k] = v;
  // The deprecated name of `kernel` (one version): `kernel` wins when both are given.
  if (o.kernel === undefined && o.engine !== undefined) r.kernel = o.engine;
  delete r.engine;
  checkInt('epochs', r.epochs, 0);
  checkInt('batchSize', r.batchSize, 1);
  checkInt('negatives', r.negatives, 0);
  checkInt('fullSoftmaxMaxItems', r.fullSoftmaxMaxItems, 0);
  checkInt('syncEvery', r.syncEvery, 1);
  checkInt('bptt', r.bptt, 1);
  if (r.bptt > MAX_BPTT) {
    throw new LocalRecError('INVALID_INPUT', `bptt ${r.bptt} above ${MAX_BPTT}`, {
      details: { field: 'bptt' },
    });
  }
  checkNumber('sampleAlpha', r.sampleAlpha, 0, 10);
  checkNumber('logQ', r.logQ, 0, 10);
  checkNumber('bprReg', r.bprReg, 0, 1e6);
  checkNumber('dropoutEmbedding', r.dropoutEmbedding, 0, 0.99);
  checkNumber('dropoutHidden', r.dropoutHidden, 0, 0.99);
  checkNumber('lr', r.lr, 0, Number.MAX_VALUE);
  checkNumber('lrEnd', r.lrEnd, 0, 1);
  checkNumber('momentum', r.momentum, 0, 0.9999);
  checkNumber('eps', r.eps, 0, 1);
  checkNumber('maxLossFactor', r.maxLossFactor, 1, Number.MAX_VALUE);
  lossFor(r.loss);
  if (r.tail !== 'drop' && r.tail !== 'shrink' && r.tail !== 'wrap') {
    throw new LocalRecError('INVALID_INPUT', `unknown tail ${r.tail}`, {
      details: { field: 'tail' },
    });
  }
  if (r.dropoutHiddenOn !== 'state' && r.dropoutHiddenOn !== 'scores') {
    throw new LocalRecError('INVALID_INPUT', `unknown dropoutHiddenOn ${r.dropoutHiddenOn}`, {
      details: { field: 'dropoutHiddenOn' },
    });
  }
  if (
    r.kernel !== 'auto' &&
    r.kernel !== 'hybrid' &&
    r.kernel !== 'device' &&
    r.kernel !== 'resident'
  ) {
    throw new LocalRecError('INVALID_INPUT', `unknown kernel ${r.kernel}`, {
      details: { field: 'kernel' },
    });
  }
  if (r.optimizer !== 'adagrad' && r.optimizer !== 'adam') {
    throw new LocalRecError('INVALID_INPUT', `unknown optimizer ${r.optimizer}`, {
      details: { field: 'optimizer' },
    });
  }
  return r;
}
