import { LocalRecError } from '../core/errors';

/**
 * Architecture of a GRU4Rec model: what the weights mean. Training knobs (loss,
 * learning rate, dropout ...) are in `TrainOptions` (src/train) because they do not
 * change how a trained model scores.
 */
export interface GruConfig {
  /** Catalog size N: item ids are dense `0 .. N-1`. */
  numItems: number;
  /** Units of the single GRU layer (also the item vector size). */
  hiddenSize: number;
  /**
   * `tied` ("constrained embedding", the default): the GRU input for item i is row i
   * of the output item matrix, so every item has one vector. `separate`: an input
   * embedding matrix of its own with `embeddingSize` columns.
   */
  embedding: 'tied' | 'separate';
  /** Input embedding width for `embedding: 'separate'` (ignored when tied). */
  embeddingSize: number;
}

export const DEFAULT_GRU_CONFIG: Omit<GruConfig, 'numItems'> = {
  hiddenSize: 100,
  embedding: 'tied',
  embeddingSize: 100,
};

export function resolveGruConfig(partial: Partial<GruConfig> & { numItems: number }): GruConfig {
  const c: GruConfig = { ...DEFAULT_GRU_CONFIG, ...partial };
  checkInt('numItems', c.numItems, 1);
  checkInt('hiddenSize', c.hiddenSize, 1);
  checkInt('embeddingSize', c.embeddingSize, 1);
  if (c.embedding !== 'tied' && c.embedding !== 'separate') {
    throw new LocalRecError('INVALID_INPUT', `embedding must be 'tied' or 'separate'`, {
      details: { field: 'embedding' },
    });
  }
  return c;
}

/** Width of the GRU input vector. */
export function inputSize(c: GruConfig): number {
  return c.embedding === 'tied' ? c.hiddenSize : c.embeddingSize;
}

export function checkInt(field: string, v: unknown, min: number): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new LocalRecError('INVALID_INPUT', `${field} must be an integer >= ${min}, got ${v}`, {
      details: { field },
    });
  }
}

export function checkNumber(field: string, v: unknown, min: number, max: number): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new LocalRecError('INVALID_INPUT', `${field} must be in [${min}, ${max}], got ${v}`, {
      details: { field },
    });
  }
}
