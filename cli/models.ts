/**
 * Models the CLI can evaluate, by name. The baselines of src/baselines are registered
 * here; other models register a (lazy) factory with `registerModel`.
 */
import type { FitCache } from '../src/baselines/cache';
import { BASELINES } from '../src/baselines/registry';
import type { Scorer, Sequences } from '../src/core/scorer';
import type { EvalDataset } from '../src/eval/protocol';

export interface ModelContext {
  /** `train`: fit on training data (validation rows, "train only" test rows); `refit`: training + validation. */
  phase: 'train' | 'refit';
  /** The whole prepared dataset (e.g. for early stopping on validation during `train`). */
  data: EvalDataset;
  /** Report fitting progress (fraction in [0, 1]); shown on stderr when it takes > 1 s. */
  onProgress?: (fraction: number, note?: string) => void;
  /**
   * Set during `--tune` only: fit products may be shared between grid points on the
   * same data (models without anything to share ignore it).
   */
  cache?: FitCache;
}

export interface ModelFactory {
  name: string;
  /** Human name for tables. */
  label: string;
  /** Default hyper-parameters (also the keys `--params name.key=value` may set). */
  defaults: Readonly<Record<string, number>>;
  /** Values `--tune` tries on validation positions (empty: nothing to tune). */
  grid: Readonly<Record<string, readonly number[]>>;
  create(
    fit: Sequences,
    params: Record<string, number>,
    ctx: ModelContext,
  ): Scorer | Promise<Scorer>;
  /** Free what a scorer holds (tensors), after it has been evaluated. */
  release?(scorer: Scorer): void;
}

type Loader = () => ModelFactory | Promise<ModelFactory>;

const registry = new Map<string, Loader>();

/** Register (or replace) a model. The loader runs only when the model is requested. */
export function registerModel(name: string, loader: Loader): void {
  registry.set(name, loader);
}

/** The factory for `name`, or undefined when nothing is registered under it. */
export async function loadModel(name: string): Promise<ModelFactory | undefined> {
  const loader = registry.get(name);
  return loader ? await loader() : undefined;
}

export function isRegistered(name: string): boolean {
  return registry.has(name);
}

export function registeredModels(): string[] {
  return [...registry.keys()];
}

/** Names the CLI knows about, registered or not (`gru` may be absent from a build). */
export const KNOWN_MODELS = ['pop', 'sr', 'itemknn', 'sknn', 'vsknn', 'sr+itemknn', 'gru'] as const;

/** What `localrec eval` runs without `--models`. */
export const DEFAULT_MODELS = ['pop', 'sr', 'itemknn', 'sknn', 'vsknn', 'sr+itemknn'];

for (const spec of Object.values(BASELINES)) {
  registerModel(spec.name, () => ({
    name: spec.name,
    label: spec.label,
    defaults: spec.defaults,
    grid: spec.grid,
    create: (fit, params, ctx) => spec.fit(fit, params, ctx.cache),
  }));
}

// ─── HOOK(gru) ────────────────────────────────────────────────────────────────────────
// The GRU engineer registers the GRU4Rec factory here (src/model + src/train), lazily so
// `eval` of the baselines never loads TF.js, e.g.:
//
//   registerModel('gru', async () => (await import('../src/train/eval-factory')).gruFactory);
//
// Its `create(fit, params, ctx)` trains on `fit` (ctx.phase says train or refit, ctx.data
// gives the validation split for early stopping when phase is `train`, ctx.onProgress
// drives the progress bar) and returns a Scorer, ideally with `cursor()`; `release`
// disposes its tensors. Until it is registered, `--models gru` exits 2 saying so.
// ──────────────────────────────────────────────────────────────────────────────────────

registerModel('gru', async () => (await import('../src/train/eval-factory')).gruFactory);
registerModel(
  'gru+sr+itemknn',
  async () => (await import('../src/train/eval-factory')).gruMixFactory,
);
