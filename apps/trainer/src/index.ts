/**
 * @vmr/trainer — `vmr train` (DESIGN.md §1.5): zod-validated configs, the training loop with progress,
 * run logging, checkpoints and exact resume. The entry functions (`trainRun`, `resumeRun`) are public
 * so the sweeper runs trials in-process; the config, data and embedding helpers live in @vmr/pipeline.
 */
export { createOptimizer, trainOnBatch } from './model';
export { TRAIN_ARTIFACTS, RUN_KIND_TAG, type TrainOptions, type TrainProgress, type TrainResult, trainRun, resumeRun } from './train';
export { formatTrainResult } from './commands';
import { trainerCommands } from './commands';

/** `vmr` subcommands contributed by @vmr/trainer. */
export const commands = trainerCommands;
