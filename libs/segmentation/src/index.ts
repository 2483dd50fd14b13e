/** @vmr/segmentation — change-point costs, exact DP, PELT, segment planning (DESIGN.md §1.2). */
export { type Signal, type SignalInput, toSignal } from './signal';
export {
  type CostName,
  type SegmentCost,
  COST_NAMES,
  NORMAL_COST_EPS,
  NormalCost,
  L2Cost,
  createCost,
  directSegmentCost,
  sumOfCosts,
  logAbsDet,
} from './cost';
export { SegmentationTooShortError, requiredSamples, isAdmissible } from './admissibility';
export { type DynpOptions, type Segmentation, dynp } from './dynp';
export { type PeltOptions, type PenalizedSegmentation, pelt } from './pelt';
export {
  type SegmentMethod,
  type SegmentSignalOptions,
  type SegmentSignalResult,
  SEGMENT_METHODS,
  segmentSignal,
} from './segment-signal';
export {
  type SegmentProtocol,
  type ClipPlanOptions,
  type PlannedSegment,
  type RankedSegment,
  type ClipSegmentPlan,
  type SkipReason,
  type SkippedClip,
  type ClipPlanResult,
  SEGMENT_PROTOCOLS,
  planClipSegments,
  rankByMeanFlow,
  segmentIndexArrays,
} from './plan';
export {
  type SegmentsCsvRow,
  SEGMENTS_CSV_COLUMNS,
  SEGMENTS_CSV_HEADER,
  planToSegmentsRow,
  formatSegmentsCsvRow,
  formatSegmentsCsv,
  parseSegmentsCsvRow,
  parseSegmentsCsv,
} from './segments-csv';
export { commands, readSignalFile } from './cli';
