/** @vmr/features — see DESIGN.md §2. Public API is exported from here. */
export {};
export * from './audio';
// Media decoding and optical flow (issue 5).
export {
  type FfmpegBinaries,
  type BinarySource,
  type DecoderVersions,
  NPM_FFMPEG_FALLBACK_NOTE,
  decoderVersions,
  ffmpegBinaries,
  findOnPath,
} from './media/ffmpeg-binaries';
export {
  type Rational,
  type MediaInfo,
  type VideoStreamInfo,
  type AudioStreamInfo,
  probeMedia,
  mediaInfoFromFfprobe,
  parseRational,
} from './media/probe';
export { AccumulatorSampler, TimeSlotSampler, type TimeSlot, accumulatorSampleIndices, accumulatorSelectExpr, flowFpsFor } from './media/frame-sampling';
export {
  type SampledFrame,
  type StreamFramesOptions,
  type DecodedAudio,
  type ImageU8,
  streamSampledFrames,
  decodeAudio,
  decodeAudioRates,
  type DecodeAudioOptions,
  readImage,
} from './media/decode';
export { type OpenCv, loadOpenCv } from './flow/opencv';
export {
  type FarnebackParams,
  type FlowField,
  type GrayFrame,
  type FlowEngine,
  FARNEBACK_DEFAULTS,
  FarnebackFlow,
  farnebackEngine,
  flowEngineDescription,
  meanFlowMagnitude,
  flowBetweenImages,
} from './flow/farneback';
export { type NativeFlowStatus, nativeFlowStatus } from './flow/native-farneback';
export { type EndpointErrorStats, FLO_MAGIC, encodeFlo, parseFlo, readFlo, writeFlo, endpointError } from './flow/flo';
export { type PreparedFrame, type VideoAnalysisOptions, type VideoAnalysis, analyzeVideo } from './flow/trajectory';
export { flowCommand, flowCommands } from './flow/commands';
// Per-second extractors (registry, builtin-video, builtin-audio).
export {
  type ExtractorSpec,
  type ExtractorKind,
  type ExtractorModality,
  EXTRACTORS,
  listExtractors,
  getExtractor,
  resolveExtractors,
} from './extractors/registry';
export { BUILTIN_VIDEO_COLUMNS, BUILTIN_VIDEO_DIM, BuiltinVideoAccumulator, builtinVideoFrameVector } from './extractors/builtin-video';
export { BUILTIN_AUDIO_DIM, BUILTIN_AUDIO_SR, BUILTIN_AUDIO_STFT, builtinAudioFeatures } from './extractors/builtin-audio';
export {
  MOBILENETV2_DIM,
  MOBILENETV2_SIZE,
  MobileNetV2Accumulator,
  loadMobileNetV2,
  mobileNetV2Features,
  nsfwjsModelDir,
} from './extractors/mobilenetv2';
// Pretrained extractors by name (issue 21): model sources + cache, pre-processing, provenance.
export {
  type ModelSource,
  type ModelSourceKind,
  type ModelFileRecord,
  type ModelFetchOptions,
  type ResolvedModelFiles,
  parseModelSource,
  parseModelArgs,
  modelCacheDir,
  isOffline,
  huggingFaceEndpoint,
  ensureModelFiles,
  downloadFile,
} from './extractors/model-source';
export {
  type ExtractorProvenance,
  type ResolvedExtractor,
  type ResolveExtractorOptions,
  type PretrainedExtractorName,
  PRETRAINED_EXTRACTORS,
  PRETRAINED_CODE_VERSION,
  isPretrainedExtractor,
  resolveExtractor,
  provenanceKey,
  assertSameExtractor,
  pretrainedModelFiles,
  pretrainedDefaultSource,
  pretrainedHowToGet,
  vggishEmbedSamples,
} from './extractors/pretrained';
export {
  type ImagePreprocessing,
  type ResampleFilter,
  CLIP_PREPROCESSING,
  RESNET_PREPROCESSING,
  preprocessRgbImage,
  resizeRgb,
  resampleCoefficients,
  resizeShorterSize,
  centerCropOffsets,
} from './extractors/image-preprocess';
export { VGGISH, vggishHzToMel, vggishMelMatrix, vggishLogMel, vggishExamples } from './extractors/vggish-input';
export { I3D, i3dStackStart, i3dFlowValue, i3dRgbValue } from './extractors/i3d-input';
/** Test fixtures: tiny synthetic models with the real I/O names and shapes, and a loopback model server. */
export { writeTinyModel, tinyWeights, serveModelFolders } from './extractors/testing/tiny-onnx';
export { commands } from './commands';
