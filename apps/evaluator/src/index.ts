/**
 * @vmr/evaluator — `vmr eval` (retrieval, FAD, AV-Align on a trained run; logged as a child run),
 * `vmr report tables|compare` (Tables 1 and 2 from the run store), `vmr experiment run` and
 * `vmr quickstart` (the main job: `npm start`). DESIGN.md §1.6, §2.
 */
export { EVAL_PROTOCOLS, type EvalProtocol, type EvalOptions, type EvalMetrics, type EvalResult, evaluateRun, top1 } from './evaluate';
export { type ReportSource, buildTables, compareRuns } from './report';
export { REFERENCE_TAG, type OracleEvalOptions, type OracleEvalResult, oracleModelName, evaluateOracle, formatOracleResult } from './oracle';
export { REPORT_FORMATS, type ReportFormat, formatTables, formatComparisons, formatCell, tableNotes, modelLabel, featureLabel } from './report-format';
export {
  SynthSpecSchema,
  ExperimentSectionsSchema,
  type SynthSpec,
  type ExperimentSpec,
  type ExperimentTrial,
  loadExperiment,
  configKey,
} from './experiment-spec';
export { type RunExperimentOptions, type TrialOutcome, type ExperimentResult, runExperiment, ensureDatasets } from './experiment';
export { formatEvalResult, formatExperimentResult, quickstartFile } from './commands';
// Visual report (vmr report html): Vega-Lite charts rendered to inline SVG, one self-contained page.
export { type HtmlReportOptions, type HtmlReportData, type HtmlReportResult, collectHtmlReportData, renderReportHtml, buildHtmlReport, writeHtmlReport, paretoIndices, htmlReportCommand } from './html';
import { evaluatorCommands } from './commands';

/** `vmr` subcommands contributed by @vmr/evaluator. */
export const commands = evaluatorCommands;
