export { type CsvColumns, type CsvLog, forEachCsvRecord, parseInteractionsCsv } from './csv';
export {
  type EvalResult,
  type EvaluateOptions,
  evaluate,
  type Float64Scorer,
  hasScores64,
  pessimisticRank,
  type Split,
  splitStart,
} from './evaluate';
export {
  METRICS,
  type MeanSE,
  type MetricName,
  type MetricTable,
  meanSE,
  metricsFromRanks,
  metricValue,
} from './metrics';
export {
  type DatasetCounts,
  type EvalDataset,
  type InteractionLog,
  type ProtocolOptions,
  prepareDataset,
  protocolName,
  tieBreakHash,
  truncate,
} from './protocol';
export { gridPoints, type Params, type TuneOptions, type TuneResult, tune } from './tune';
