import { LocalRecError } from '../core/errors';
import { checkInt, type GruConfig, inputSize, resolveGruConfig } from './config';
import { GruJsScorer } from './js-scorer';
import { type GruArrays, initArrays, initEmbRows, initItemRows } from './params';
import { Rng } from './rng';
import { itemRows } from './row-dots';

/** Bookkeeping carried with the weights (and serialised). */
export interface GruMeta {
  /** Training events seen over the model's whole life. */
  trainedEvents: number;
  /** Epochs run over the model's whole life. */
  epochs: number;
  /** Seed the weights were initialised with. */
  seed: number;
}

/**
 * A GRU4Rec model: config, weights (plain arrays), optional vocabulary (external item
 * id of each dense index) and meta. Training never mutates a model: `trainGru` returns
 * a new one, so a model that diverged is never handed out. `dispose()` marks it unusable
 * (a disposed model refuses to score or grow).
 */
export class GruModel {
  private disposed = false;

  constructor(
    readonly config: GruConfig,
    private readonly weights: GruArrays,
    readonly vocab: readonly string[] | null = null,
    readonly meta: GruMeta = { trainedEvents: 0, epochs: 0, seed: 0 },
  ) {
    if (vocab && vocab.length !== config.numItems) {
      throw new LocalRecError('INVALID_INPUT', 'vocabulary length must equal numItems', {
        details: { field: 'vocab' },
      });
    }
  }

  /** Fresh model with seeded per-gate Glorot weights. */
  static create(
    config: Partial<GruConfig> & { numItems: number },
    options: { seed?: number; vocab?: readonly string[] } = {},
  ): GruModel {
    const c = resolveGruConfig(config);
    const seed = options.seed ?? 0;
    return new GruModel(c, initArrays(c, seed), options.vocab ?? null, {
      trainedEvents: 0,
      epochs: 0,
      seed,
    });
  }

  static fromArrays(
    config: GruConfig,
    arrays: GruArrays,
    vocab: readonly string[] | null,
    meta: GruMeta,
  ): GruModel {
    return new GruModel(config, arrays, vocab, meta);
  }

  get numItems(): number {
    return this.config.numItems;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** The weights (not copied: the model is immutable, do not modify them). */
  toArrays(): GruArrays {
    this.check();
    return this.weights;
  }

  /** A `Scorer` (with `cursor()` and `topK()`) over a JS snapshot of the weights. */
  scorer(name = 'gru'): GruJsScorer {
    return new GruJsScorer(this.config, this.toArrays(), name);
  }

  /**
   * A new model whose catalog has `numItems` items: old rows kept bit for bit, new
   * rows initialised like fresh ones (seeded). `newIds` extends the vocabulary.
   */
  grow(numItems: number, options: { newIds?: readonly string[]; seed?: number } = {}): GruModel {
    this.check();
    checkInt('numItems', numItems, this.numItems);
    const old = this.toArrays();
    const c: GruConfig = { ...this.config, numItems };
    const h = c.hiddenSize;
    const e = inputSize(c);
    const rng = new Rng((options.seed ?? this.meta.seed) + 0x5bd1e995 + this.numItems);
    const items = itemRows(numItems, h);
    items.set(old.items);
    initItemRows(items, numItems, h, this.numItems, rng, Math.sqrt(6 / (numItems + h)));
    let emb: Float32Array | null = null;
    if (old.emb) {
      emb = new Float32Array(numItems * e);
      emb.set(old.emb);
      initEmbRows(emb, numItems, e, this.numItems, rng, Math.sqrt(6 / (numItems + e)));
    }
    let vocab: string[] | null = null;
    if (this.vocab || options.newIds) {
      const added = options.newIds ?? [];
      if ((this.vocab?.length ?? this.numItems) + added.length !== numItems) {
        throw new LocalRecError('INVALID_INPUT', 'newIds must name exactly the added items', {
          details: { field: 'newIds' },
        });
      }
      vocab = [
        ...(this.vocab ?? Array.from({ length: this.numItems }, (_, i) => String(i))),
        ...added,
      ];
    }
    return GruModel.fromArrays(c, { ...old, items, emb }, vocab, { ...this.meta });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
  }

  private check(): void {
    if (this.disposed) throw new LocalRecError('NOT_TRAINED', 'the model was disposed');
  }
}
