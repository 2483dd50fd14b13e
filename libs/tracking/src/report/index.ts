/** Report queries through a ReportSource (SQL over a local store, the Tracker API over a server), the one aggregation model, statistics and the metric registry. */
export { RUN_KIND_TAG, REFERENCE_TAG, EVAL_METRIC_KEYS, type EvalMetricKey, type EvalRow, type EvalRowQuery, lambdaKey, latestPerTrainRun } from './eval-rows';
export { type ReportSource, type ReportSourceOptions, type TrackerReader, reportSourceOf, withReportSource, queryEvalRowsVia } from './source';
export {
  RESULT_COLUMNS,
  type ResultColumn,
  type CellStats,
  type ResultRow,
  type ResultTable,
  type CompareBy,
  type ComparisonGroup,
  type Comparison,
  meanStd,
  compareRows,
  tableIdOf,
  evalContext,
  aggregateEvalRows,
  buildResultTables,
  compareEvalRows,
} from './tables';
export { type Aggregatable, type AggregatedGroup, aggregateOverSeeds, markBest, differingConfigKeys } from './aggregate';
export { configurationOf, configurationKey, configurationLabel, differingKeys, canonicalLambdas, lambdaVector, lambdaRatio, formatLambdaRatio } from './configuration';
export { type MetricDef, type MetricDirection, METRICS, SMALL_GALLERY, findMetric, metricDef, betterSign, isBetter, undefinedForGallery, nearChance } from './metric-registry';
export {
  type SeedSummary,
  type QueryStatistic,
  type BootstrapOptions,
  type Interval,
  type PairedInput,
  type PairedResult,
  mean,
  sampleStd,
  median,
  tQuantile975,
  seedSummary,
  quantileSorted,
  bootstrapQueries,
  pairedBootstrap,
  slopeAndCorrelation,
} from './statistics';
export { TIDY_COLUMNS, type TidyRecord, toTidyCsv, csvField } from './tidy';
