// ESM entry `localrec/eval` (dist/localrec-eval.js; script tag: dist/localrec-eval.global.js,
// `window.LocalRecEval`): the offline evaluation protocol (shared/eval/PROTOCOL.md) and the
// classical baselines, for pages and tools that measure models (the demo's side-by-side
// columns, `localrec eval` in the browser). A page that only tracks and recommends never
// downloads them: the recommender's own fallback imports what it needs from src/ directly.
// Re-exports only; importing it has no side effects.

export type {
  BaselineName,
  BaselineSpec,
  ItemKNNParams,
  SKNNParams,
  SRItemKNNParams,
  SRParams,
} from './baselines';
export {
  BASELINES,
  BaselineScorer,
  createBaseline,
  FitCache,
  fitItemKNN,
  fitMostPop,
  fitSKNN,
  fitSR,
  fitSRItemKNN,
  fitVSKNN,
  ItemKNN,
  MostPop,
  SequentialRules,
  SKNN,
  SRItemKNN,
  VSKNN,
} from './baselines';
export type { Scorer, ScorerCursor, Sequences } from './core/scorer';
export { version } from './core/version';
export type {
  CsvColumns,
  CsvLog,
  DatasetCounts,
  EvalDataset,
  EvalResult,
  EvaluateOptions,
  Float64Scorer,
  InteractionLog,
  MeanSE,
  MetricName,
  MetricTable,
  ProtocolOptions,
  Split,
  TuneOptions,
  TuneResult,
} from './eval';
export {
  evaluate,
  METRICS,
  metricsFromRanks,
  parseInteractionsCsv,
  prepareDataset,
  tieBreakHash,
  tune,
} from './eval';
