export type { Loss, LossParams, RowLossResult, TransposedLossResult } from './loss';
export { LOSS_NAMES, LOSSES, type LossKind, lossFor, lossOfCode } from './registry';
