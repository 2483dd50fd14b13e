/**
 * @vmr/trainer — `vmr train` (DESIGN.md §1.5): zod-validated configs, the training loop with progress,
 * run logging, checkpoints and exact resume. The entry functions (`trainRun`, `resumeRun`) are public
 * so the sweeper runs trials in-process; the config, data and embedding helpers live in @vmr/pipeline.
 */
// Re-exported from @vmr/pipeline (where they now live) so code written against the old names keeps
// building; new code imports them from @vmr/pipeline. To be removed once no app imports them from here.
export {
  TRAIN_PROTOCOLS,
  MODEL_KINDS,
  SPLIT_CHOICES,
  EXPERIMENT_ONLY_KEYS,
  TrainConfigSchema,
  SegmentationConfigSchema,
  type TrainProtocol,
  type ModelKind,
  type SplitChoice,
  type TrainConfig,
  type TrainConfigInput,
  parseTrainConfig,
  loadTrainConfig,
  readConfigFile,
  applySets,
  parseSetValue,
  flattenParams,
} from '@vmr/pipeline';
export {
  type PreparedClip,
  type PreparedData,
  type DataOptions,
  type SkippedClipRecord,
  openDataset,
  splitIds,
  checkFeatureDims,
  prepareData,
  requireClips,
  segmentBatch,
  clipMeans,
  batchPadLength,
} from '@vmr/pipeline';
export { type ClipEmbeddingSet, modelConfigFor, embedClips, similarityMatrix, validationRecall } from '@vmr/pipeline';
export { createOptimizer, trainOnBatch } from './model';
export { TRAIN_ARTIFACTS, RUN_KIND_TAG, type TrainOptions, type TrainProgress, type TrainResult, trainRun, resumeRun } from './train';
export { formatTrainResult } from './commands';
import { trainerCommands } from './commands';

/** `vmr` subcommands contributed by @vmr/trainer. */
export const commands = trainerCommands;
