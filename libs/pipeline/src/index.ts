/**
 * @vmr/pipeline — what the trainer, the evaluator and the sweeper share between a dataset directory and
 * a model: the training config (zod schema, YAML loading, `--set`), opening a dataset and choosing a
 * split, checking feature dims, preparing clips (segments, ranks) and batches, the model config of a
 * run, embedding clips with a model, similarity matrices and validation Recall@k, and the artifact
 * names of a training run.
 */
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
} from './config';
export {
  type PreparedClip,
  type PreparedData,
  type DataOptions,
  type SkippedClipRecord,
  openDataset,
  splitIds,
  checkFeatureDims,
  planWithConfig,
  prepareData,
  requireClips,
  segmentBatch,
  clipMeans,
  batchPadLength,
} from './data';
export { type ClipEmbeddingSet, modelConfigFor, embedClips, similarityMatrix, validationRecall } from './embed';
export { TRAIN_ARTIFACTS } from './artifacts';
export { type TrainedRun, loadTrainedRun } from './trained-run';
