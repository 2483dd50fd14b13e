/**
 * @vmr/sweeper — `vmr sweep` (DESIGN.md §2.4): sweep specs (grid / random spaces over λ1–λ6, extractor,
 * model, seeds and any config key), trial keys, the sweep as a parent run with one child run per trial,
 * a local pool of worker processes, a BullMQ executor and workers, status / cancel, and sweep reports.
 */
export { sweepSpecSchema, paramSpaceSchema, parseSweepSpec, loadSweepSpec, type SweepSpec, type SweepSpecInput, type ParamSpace, type ParamScalar } from './spec';
export { expandTrials, gridValues, sampleValue, trialKey, cartesian, lambdaClass, type TrialPlan, type Expansion } from './expand';
export { staleSynthetic, validateSweep, trialMetricNames, formatProblems, SpecValidationError, EVAL_METRIC_KEYS, type SpecProblem } from './validate';
export { generateMissingDatasets, datasetExists } from './datasets';
export { experimentExtras, experimentTables, formatExperimentResult, formatFront, type ExperimentRunResult, type ExperimentExtras, type LambdaFront, type FrontPoint } from './experiment';
export { installedSourcesVersion } from './code-version';
export { resolveCodeVersion } from './code-version';
export { synthRecipeSchema, sweepSectionSchema, type SynthRecipe, type SweepSection, type EvaluateEntry } from './spec';
export { TAGS, FORGOTTEN_ROLE, forgetTrials, findSweep, openSweep, ensureTrials, listTrials, countStatuses, flattenConfig, experimentOf, type SweepInfo, type TrialState } from './sweep-store';
export { runSweep, planSweep, defaultWorkers, bestTrial, type RunSweepOptions, type SweepRunResult, type SweepSnapshot, type ExecutorKind } from './coordinator';
export { startSweepWorker, redisConnection, type SweepWorkerOptions, type SweepWorkerHandle, type TrialJobData } from './bullmq-executor';
export { runTrialProcess, executeTrial, evalViaCli, type TrialProcessResult } from './trial-process';
export { launchTrial, beginAttempt, settleAttempt, vmrBin, type TrialExit, type AttemptOutcome } from './trial-launch';
export { buildSweepReport, formatSweepReport, formatStat, sweepRecords, paretoFront, type SweepReport, type SweepConfiguration, type ReportFormat, type ReportTrial, type FeatureRow } from './report';
export { sweepCommand, reportCommand, reportSweepCommand } from './commands';
import { sweeperCommands } from './commands';

/** `vmr` subcommands contributed by @vmr/sweeper. */
export const commands = sweeperCommands;
