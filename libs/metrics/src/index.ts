/** @vmr/metrics — Recall@k and ranks, FAD, AV-Align (DESIGN.md §1.6). Pure functions on plain arrays. */
export { type MatrixInput } from './matrix-input';
export {
  type GaussianStats,
  type FadMethod,
  type FadOptions,
  type FadComponents,
  type FadResult,
  type FadInfinityOptions,
  type FadInfinityResult,
  embeddingStats,
  frechetDistance,
  fad,
  fadInfinity,
} from './fad';
export { symmetricEigen, type SymmetricEigen } from './linalg';
export {
  type TiePolicy,
  type RetrievalDirection,
  type RetrievalProtocol,
  type RetrievalOptions,
  type RetrievalResult,
  retrievalMetrics,
  positiveRanks,
} from './retrieval';
export {
  type AvAlignVariant,
  type PeakMatch,
  type AvAlignResult,
  type FindPeaksOptions,
  type VideoPeakOptions,
  TIME_EPSILON,
  localMaxima,
  findPeaks,
  videoPeakTimes,
  withinWindow,
  matchPeaks,
  avAlignFromPeaks,
  avAlign,
} from './av-align';
export { commands, loadEmbeddings } from './commands';
