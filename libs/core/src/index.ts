/**
 * @vmr/core — shared foundations: the error hierarchy, seeded RNG, `.npy` I/O, atomic file writes,
 * progress reporting and CLI plumbing. TensorFlow.js plumbing: `@vmr/core/tf`.
 */
export * from './errors';
export { Rng } from './rng';
export {
  type NpyArray,
  type NpyData,
  type NpyDtype,
  parseNpy,
  readNpy,
  encodeNpy,
  writeNpy,
  toFloat32,
  readNpyMatrix,
} from './npy';
export { getPath, setPath, canonicalJson, sha256Hex, sha256File } from './config-path';
export { parseCsv, splitCsvLine, parsePyNumberList } from './csv';
export { writeFileAtomic, writeJsonAtomic, copyFileAtomic, tempPathFor } from './atomic-write';
export { type Progress, type ProgressFields, type ProgressOptions, createProgress, formatEta, rateAndEta } from './progress';
export { type VmrCommand, type GlobalOptions, withJson, printResult, reportCliError } from './cli';
// TensorFlow.js (tf, backends, fast ops) is a separate entry, `@vmr/core/tf`, loaded only by code that
// trains or embeds; the CLI shell and non-numeric commands never load it.
export { BackendNameSchema, type BackendName, type ConcreteBackend } from './backend-name';
export { repoRoot, sharedDir, sharedPath } from './shared-material';
export { packageFile } from './package-file';
