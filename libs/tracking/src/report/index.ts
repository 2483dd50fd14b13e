/** Report queries over the run store (Drizzle) and the result tables built from them. */
export { RUN_KIND_TAG, EVAL_METRIC_KEYS, type EvalMetricKey, type EvalRow, type EvalRowQuery, lambdaKey, queryEvalRows, latestPerTrainRun } from './eval-rows';
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
  aggregateGroups,
  buildResultTables,
  compareEvalRows,
} from './tables';
