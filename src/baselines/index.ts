export { FitCache } from './cache';
export { itemCounts } from './common';
export { cooccurrence, fitItemKNN, ITEMKNN_DEFAULTS, ItemKNN, type ItemKNNParams } from './itemknn';
export { fitSRItemKNN, SR_ITEMKNN_DEFAULTS, SRItemKNN, type SRItemKNNParams } from './mix';
export { fitMostPop, MostPop } from './pop';
export {
  buildPopulation,
  POPULATION_DEFAULTS,
  type PopulationExplanation,
  PopulationMix,
  type PopulationParams,
} from './population';
export {
  BASELINES,
  type BaselineName,
  type BaselineSpec,
  createBaseline,
  isBaselineName,
} from './registry';
export { BaselineScorer } from './scorer-base';
export {
  fitSKNN,
  fitVSKNN,
  SKNN,
  SKNN_DEFAULTS,
  type SKNNParams,
  VSKNN,
  VSKNN_DEFAULTS,
} from './sknn';
export { fitSR, SequentialRules, SR_DEFAULTS, type SRParams, sequentialRules } from './sr';
