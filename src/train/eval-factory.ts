/**
 * The `gru` model of `localrec eval` (registered lazily in cli/models.ts): trains
 * GRU4Rec on the fit sequences with numeric hyper-parameters and returns its Scorer.
 * Structurally a `ModelFactory` of cli/models.ts (not imported: src does not depend on
 * cli).
 */

import { LocalRecError } from '../core/errors';
import type { Scorer, Sequences } from '../core/scorer';
import { evaluate } from '../eval/evaluate';
import type { EvalDataset } from '../eval/protocol';
import type { GruJsScorer } from '../model/js-scorer';
import { ensureNodeBackend } from './backend-node';
import { trainGru } from './fit';
import { chooseBeta, fitMix, GruMixScorer } from './gru-mix';
import { lossOfCode } from './losses';
import type { TrainOptions } from './options';

/** Defaults chosen on validation positions of ml-small-last5 (docs/experiments/2026-11-27-gru-tuning.md). */
export const GRU_EVAL_DEFAULTS: Readonly<Record<string, number>> = {
  hiddenSize: 100,
  epochs: 10,
  batchSize: 128,
  negatives: 128,
  /** Position in the loss registry (train/losses/registry.ts): 0 = sampled cross-entropy, 1 = BPR-max */
  loss: 0,
  lr: 0.05,
  /**
   * Final learning rate as a fraction of `lr` (linear decay; 1 = constant). 0 chosen on
   * validation for 100 units; with hiddenSize=64 constant (1) validated better.
   */
  lrEnd: 0,
  momentum: 0.3,
  /**
   * Truncated BPTT window in steps (1 = one-step GRU4Rec training). 2 chosen on
   * validation over 1, 2, 4 and 8 (docs/experiments/2026-12-05-bptt.md).
   */
  bptt: 2,
  dropoutEmbedding: 0.1,
  dropoutHidden: 0.3,
  /** Where the hidden dropout applies (TrainOptions.dropoutHiddenOn): 0 = state, 1 = scores */
  dropoutHiddenOn: 0,
  sampleAlpha: 0.5,
  logQ: 1,
  bprReg: 1,
  elu: 0,
  /** 0 = tied (constrained) embedding, 1 = separate */
  separate: 0,
  seed: 0,
  /** Early stopping: epochs without improvement of validation NDCG@10 (0 = off). */
  patience: 0,
  /** Evaluated users whose validation positions drive early stopping. */
  stopUsers: 250,
};

interface FactoryContext {
  phase?: 'train' | 'refit';
  data?: EvalDataset;
  onProgress?: (fraction: number, note?: string) => void;
}

export function trainOptionsFrom(p: Record<string, number>): Partial<TrainOptions> {
  return {
    epochs: p.epochs,
    batchSize: p.batchSize,
    negatives: p.negatives,
    loss: lossOfCode(p.loss),
    lr: p.lr,
    lrEnd: p.lrEnd,
    momentum: p.momentum,
    bptt: p.bptt,
    dropoutEmbedding: p.dropoutEmbedding,
    dropoutHidden: p.dropoutHidden,
    dropoutHiddenOn: dropoutHiddenOnOfCode(p.dropoutHiddenOn),
    sampleAlpha: p.sampleAlpha,
    logQ: p.logQ,
    bprReg: p.bprReg,
    elu: p.elu === 1,
    seed: p.seed,
  };
}

function dropoutHiddenOnOfCode(code: number | undefined): TrainOptions['dropoutHiddenOn'] {
  if (code === undefined || code === 0) return 'state';
  if (code === 1) return 'scores';
  throw new LocalRecError('INVALID_INPUT', `dropoutHiddenOn ${code}: 0 (state) or 1 (scores)`, {
    details: { field: 'dropoutHiddenOn' },
  });
}

export const gruFactory = {
  name: 'gru',
  label: 'GRU4Rec (TF.js)',
  defaults: GRU_EVAL_DEFAULTS,
  grid: {
    dropoutHidden: [0.2, 0.3, 0.4],
    lr: [0.03, 0.05, 0.1],
  } as Readonly<Record<string, readonly number[]>>,
  create(fit: Sequences, params: Record<string, number>, ctx: FactoryContext): Promise<Scorer> {
    return trainGruScorer(fit, params, ctx);
  },
  release(_scorer: Scorer): void {
    // the JS scorer holds no tensors
  },
};

// The last trained GRU per fit data (training, training + validation), so
// `--models gru,gru+sr+itemknn [--refit]` trains it once per fit data.
const memo = new WeakMap<Sequences, { key: string; scorer: GruJsScorer }>();

async function trainGruScorer(
  fit: Sequences,
  params: Record<string, number>,
  ctx: FactoryContext,
): Promise<GruJsScorer> {
  const key = JSON.stringify(
    Object.keys(GRU_EVAL_DEFAULTS).map((k) => params[k] ?? GRU_EVAL_DEFAULTS[k]),
  );
  const hit = memo.get(fit);
  if (hit && hit.key === key) return hit.scorer;
  const scorer = await trainGruScorerUncached(fit, params, ctx);
  memo.set(fit, { key, scorer });
  return scorer;
}

async function trainGruScorerUncached(
  fit: Sequences,
  params: Record<string, number>,
  ctx: FactoryContext,
): Promise<GruJsScorer> {
  const p = { ...GRU_EVAL_DEFAULTS, ...params };
  await ensureNodeBackend();
  // Early stopping on validation positions (only when fitting on training data): NDCG@10
  // over the first `stopUsers` evaluated users after each epoch, best epoch returned.
  const data = ctx.phase === 'train' ? ctx.data : undefined;
  const validate =
    data && p.patience > 0
      ? (s: Scorer) => evaluate(s, data, 'valid', { maxUsers: p.stopUsers }).metrics['NDCG@10'].mean
      : undefined;
  const r = await trainGru(
    fit,
    {
      ...trainOptionsFrom(p),
      ...(validate ? { validate, patience: p.patience } : {}),
      onProgress: (q) =>
        ctx.onProgress?.(
          (q.epoch - 1 + q.step / q.stepsPerEpoch) / p.epochs,
          `epoch ${q.epoch} loss ${q.loss.toFixed(3)} ${Math.round(q.eventsPerSecond)} ev/s`,
        ),
    },
    {
      config: {
        hiddenSize: p.hiddenSize,
        embedding: p.separate === 1 ? 'separate' : 'tied',
        embeddingSize: p.hiddenSize,
      },
    },
  );
  const scorer = r.model.scorer('gru');
  r.model.dispose();
  return scorer;
}

let lastBeta = 0.5;

/**
 * `gru+sr+itemknn`: the GRU and SR+ItemKNN (alpha 0.2) fit on the same data, mixed
 * (gru-mix.ts) with β chosen on validation positions when fitting on training data
 * (`beta` < 0, the default) and reused for a refit.
 */
export const gruMixFactory = {
  name: 'gru+sr+itemknn',
  label: 'GRU + SR+ItemKNN',
  defaults: { ...GRU_EVAL_DEFAULTS, beta: -1, mixAlpha: 0.2 } as Readonly<Record<string, number>>,
  grid: {} as Readonly<Record<string, readonly number[]>>,
  async create(
    fit: Sequences,
    params: Record<string, number>,
    ctx: FactoryContext,
  ): Promise<Scorer> {
    const p = { ...gruMixFactory.defaults, ...params };
    const gru = await trainGruScorer(fit, p, ctx);
    const s = new GruMixScorer(gru, fitMix(fit, p.mixAlpha), p.beta >= 0 ? p.beta : lastBeta);
    if (p.beta < 0 && ctx.phase !== 'refit' && ctx.data) {
      const chosen = chooseBeta(s, ctx.data.full, ctx.data.evalUsers, ctx.data.k);
      lastBeta = chosen.beta;
      s.beta = chosen.beta;
      ctx.onProgress?.(
        1,
        `beta ${chosen.beta} (valid NDCG@10 ${chosen.ndcg.map((v) => v.toFixed(4)).join(' ')})`,
      );
      process.stderr.write(
        `gru+sr+itemknn: beta ${chosen.beta} chosen on validation (NDCG@10 by beta: ${chosen.ndcg.map((v) => v.toFixed(4)).join(' ')})\n`,
      );
    }
    return s;
  },
  release(_scorer: Scorer): void {},
};
