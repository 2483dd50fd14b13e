import { InsufficientDataError, InvalidArgumentError } from '@vmr/core';

/**
 * The signal is too short for the requested breakpoints / minimum segment size on the jump grid
 * (ruptures raises `BadSegmentationParameters` in exactly these cases).
 */
export class SegmentationTooShortError extends InsufficientDataError {
  readonly needed: number;
  readonly given: number;

  constructor(input: string, needed: number, given: number, params: { nBkps: number; minSize: number; jump: number }) {
    super(
      `${input}: ${given} samples are too few for ${params.nBkps} breakpoint(s) with minSize ${params.minSize} ` +
        `and jump ${params.jump}: at least ${needed} samples are needed`,
      { details: { input, needed, given, ...params } },
    );
    this.needed = needed;
    this.given = given;
  }
}

/**
 * Fewest samples that admit `nBkps` breakpoints (ruptures `sanity_check`): every breakpoint on a
 * multiple of `jump`, every segment at least `minSize` long → `nBkps·⌈minSize/jump⌉·jump + minSize`.
 */
export function requiredSamples(nBkps: number, minSize: number, jump: number): number {
  return nBkps * Math.ceil(minSize / jump) * jump + minSize;
}

/** ruptures `sanity_check(n_samples, n_bkps, jump, min_size)`. */
export function isAdmissible(nSamples: number, nBkps: number, minSize: number, jump: number): boolean {
  if (nBkps > Math.floor(nSamples / jump)) return false;
  return requiredSamples(nBkps, minSize, jump) <= nSamples;
}

/** Validate a positive-integer parameter, naming it. */
export function checkPositiveInt(name: string, v: number): void {
  if (!(Number.isInteger(v) && v >= 1)) throw new InvalidArgumentError(`${name} must be a positive integer, got ${v}`);
}

export function checkNonNegativeInt(name: string, v: number): void {
  if (!(Number.isInteger(v) && v >= 0)) throw new InvalidArgumentError(`${name} must be a non-negative integer, got ${v}`);
}
