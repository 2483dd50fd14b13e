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
