/** @vmr/data — see DESIGN.md §2. Public API is exported from here. */
export {};
// Dataset directory format (DESIGN.md §2.1): manifest schema, reader, atomic writer, splits.
export {
  type ExtractorInfo,
  type ExtractorInfoInput,
  type ClipEntry,
  type ClipEntryInput,
  type FailedEntry,
  type FailureReason,
  type DatasetManifest,
  type Modality,
  type SplitName,
  CLIP_ID_PATTERN,
  DATASET_FORMAT,
  DATASET_VERSION,
  FAILURE_REASONS,
  SPLIT_NAMES,
  datasetManifestSchema,
  extractorInfoSchema,
  clipEntrySchema,
} from './dataset/schema';
export {
  type FeatureMatrix,
  type CreateDatasetOptions,
  MANIFEST_FILE,
  Dataset,
  DatasetWriter,
  datasetPaths,
  clipIdFromName,
  parseManifest,
} from './dataset/dataset';
export { type SplitFractions, assignSplits, parseSplitFractions } from './dataset/splits';
// Synthetic benchmark generators (issue 6): `vmr synth`, `vmr synth-media`.
export * from './synthetic';
import type { VmrCommand } from '@vmr/core';
import { synthCommands } from './synthetic';
import { ingestCommand, segmentDatasetCommand } from './ingest/commands';
import { importCommand } from './import/commands';
/** `vmr` subcommands contributed by @vmr/data. */
export const commands: VmrCommand[] = [...synthCommands, ingestCommand, segmentDatasetCommand, importCommand];
// Media ingestion (vmr ingest, vmr segment-dataset).
export { type ClipJob, type ClipResult, type ClipOk, type ClipFailed, processClip, flowPeakTimesYariv } from './ingest/process-clip';
export { type IngestOptions, type IngestSummary, ingestMedia, segmentDataset } from './ingest/ingest';
export { type LeftOutFile, type MediaInputs, MEDIA_EXTENSIONS, listMediaInputs } from './ingest/media-files';
export { type SegmentAdvice, type SegmentProposal, adviseSegmentation } from './ingest/segment-advice';
export { ClipWorkerPool, runClipJobs } from './ingest/pool';
export { ingestCommand, segmentDatasetCommand } from './ingest/commands';
// Import of the reference code's feature layout (vmr import vmr-layout).
export { type ImportVmrLayoutOptions, type ImportSummary, type SegmentUnits, VMR_LAYOUT_FOLDERS, importVmrLayout, parseRanksCsv, readIdListCsv } from './import/vmr-layout';
export { importCommand } from './import/commands';
