/**
 * @vmr/evaluator — `vmr eval` (retrieval, FAD, AV-Align on a trained run; logged as a child run),
 * `vmr report tables|compare` (Tables 1 and 2 from the run store). `vmr experiment run` and
 * `vmr quickstart` are front ends of the sweep engine in @vmr/sweeper. DESIGN.md §1.6, §2.
 */
export { EVAL_PROTOCOLS, PER_QUERY_ARTIFACT, type EvalProtocol, type EvalOptions, type EvalMetrics, type EvalResult, evaluateRun, top1, trainingOverlap, chooseAvAlignVariant } from './evaluate';
export { buildTables, tablesFromRows, compareRuns, comparePair, verdictOf } from './report';
export { type Verdict, type VerdictComparison, type VerdictTradeOff, buildVerdict } from './report-verdict';
export { type PerQueryResults, type PairedDifference, type PairComparison, readPerQuery, perQueryValues, matchesSelector, pairedDifferences, compareConfigurations, formatPairComparisons, pairComparisonsCsv } from './report-compare';
export { REPORT_FORMATS, type ReportFormat, formatTables, formatComparisons, formatCell, tableNotes, tableRecords, comparisonRecords, modelLabel, featureLabel } from './report-format';
export { formatEvalResult } from './commands';
export { REFERENCE_TAG, type OracleEvalOptions, type OracleEvalResult, oracleModelName, evaluateOracle, formatOracleResult } from './oracle';
// Visual report (vmr report html): Vega-Lite charts rendered to inline SVG, one self-contained page.
export { type HtmlReportOptions, type HtmlReportData, type HtmlReportResult, collectHtmlReportData, renderReportHtml, buildHtmlReport, writeHtmlReport, paretoIndices, htmlReportCommand } from './html';
// Using a model (vmr retrieve) and asking people (vmr listen): DESIGN.md §2.6.
export { type RetrieveOptions, type RetrieveResult, type RetrieveQuery, type RetrieveCandidate, retrieve } from './retrieve/retrieve';
export { resolveCacheDir } from './retrieve/media-cache';
export { type ListeningSummary, type PreferenceRate, listeningSummaries, summariseListening, formatListeningSummary } from './listen/report';
export { listeningSectionHtml } from './listen/html-section';
import { evaluatorCommands } from './commands';

/** `vmr` subcommands contributed by @vmr/evaluator. */
export const commands = evaluatorCommands;
