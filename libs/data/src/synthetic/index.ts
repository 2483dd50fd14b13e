/** Synthetic benchmark generators (issue 6): feature-level datasets and media files with known structure. */
export {
  type SynthMix,
  type SynthBlock,
  type SynthView,
  type SynthPresetName,
  type SynthConfig,
  type SynthOverrides,
  SYNTH_PRESETS,
  synthPreset,
  resolveSynthConfig,
  viewDim,
} from './config';
export {
  type Regime,
  type SynthPairing,
  type SyntheticClipTruth,
  type SynthContext,
  SYNTH_PAIRINGS,
  CROSS_SEARCH_WINDOW,
  createSynthContext,
  eventRate,
  generateClipTruth,
  smoothNoise,
  synthClipId,
} from './clip';
export { type AlignmentClip, type AlignmentTruth, alignmentTruth } from './alignment';
export {
  type OracleKind,
  type OracleClip,
  type SyntheticTruthRecord,
  ORACLE_KINDS,
  ORACLE_DESCRIPTIONS,
  oracleSimilarity,
  readSyntheticTruth,
} from './oracle';
export {
  type ClipCalibration,
  type CalibrationSummary,
  type CalibrationStat,
  CALIBRATION_STATS,
  CALIBRATION_SEGMENTATION,
  calibrateDataset,
} from './calibrate';
export { type BlockMaps, type ViewMaps, type WorldMaps, WORLD_SEED, MOTION_DESCRIPTOR_DIM, buildWorld } from './world';
export { FastRandom } from './fast-random';
export { videoMotionDescriptor, musicEnergyDescriptor, clipVideoFeatures, clipAudioFeatures } from './features';
export { flowPeakTimes } from '../peaks/flow-peaks';
export {
  type SynthPlanOptions,
  type SyntheticClip,
  type SyntheticGenerator,
  type SyntheticGeneratorOptions,
  createSyntheticGenerator,
} from './generate';
export {
  type SynthDatasetOptions,
  type SynthDatasetSummary,
  SYNTH_GENERATOR_VERSION,
  SYNTH_TRUTH_FILE,
  SYNTH_PEAK_VARIANT,
  SYNTH_TRUTH_DESCRIPTION,
  writeSyntheticDataset,
} from './write';
export { type MediaVideoOptions, type MediaMotionPlan, DEFAULT_MEDIA_VIDEO, mediaMotionPlan, renderFrames } from './media/render';
export { type MediaAudioOptions, DEFAULT_MEDIA_AUDIO, synthesizeMusic } from './media/music';
export { type EncodeOptions, encodeMp4 } from './media/encode';
export {
  type SynthMediaOptions,
  type SynthMediaClipEntry,
  type SynthMediaManifest,
  SYNTH_MEDIA_MANIFEST,
  SYNTH_MEDIA_VERSION,
  generateSyntheticMedia,
} from './media/generate-media';
export { synthCommands } from './cli';
export { type SynthRecipe, SynthRecipeSchema, synthRecipeOptions } from './recipe';
