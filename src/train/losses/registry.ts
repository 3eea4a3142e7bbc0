import { LocalRecError } from '../../core/errors';
import { bprMax } from './bpr-max';
import { crossEntropy } from './cross-entropy';
import type { Loss } from './loss';

/**
 * Every training loss, by name. The trainer, the options check, the eval grid's numeric
 * `loss` parameter (a loss's position here: 0 = cross-entropy, 1 = BPR-max) and the CLI's
 * help read this list: a new loss is its file and one line here.
 */
export const LOSSES = {
  'cross-entropy': crossEntropy,
  'bpr-max': bprMax,
} as const satisfies Record<string, Loss>;

export type LossKind = keyof typeof LOSSES;

export const LOSS_NAMES = Object.keys(LOSSES) as LossKind[];

/** The loss named `name`; INVALID_INPUT for an unknown name. */
export function lossFor(name: string): Loss {
  if (!Object.hasOwn(LOSSES, name)) {
    throw new LocalRecError('INVALID_INPUT', `unknown loss ${name}`, {
      details: { field: 'loss' },
    });
  }
  return LOSSES[name as LossKind];
}

/** The loss at position `code` of the registry (the eval grid's numeric encoding). */
export function lossOfCode(code: number): LossKind {
  const name = LOSS_NAMES[code];
  if (name === undefined) {
    throw new LocalRecError(
      'INVALID_INPUT',
      `unknown loss code ${code} (${LOSS_NAMES.map((n, i) => `${i} = ${n}`).join(', ')})`,
      { details: { field: 'loss' } },
    );
  }
  return name;
}
