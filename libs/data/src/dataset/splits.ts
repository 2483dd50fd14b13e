import { InvalidArgumentError, Rng } from '@vmr/core';
import type { SplitName } from './schema';

export interface SplitFractions {
  train: number;
  val: number;
  test: number;
}

/** Parse "0.8,0.1,0.1" (or "80,10,10") into fractions that sum to 1. */
export function parseSplitFractions(text: string): SplitFractions {
  const parts = text.split(',').map((s) => Number(s.trim()));
  if (parts.length !== 3 || parts.some((p) => !Number.isFinite(p) || p < 0)) {
    throw new InvalidArgumentError(`--split must be three non-negative numbers "train,val,test", got ${JSON.stringify(text)}`);
  }
  const sum = parts[0] + parts[1] + parts[2];
  if (!(sum > 0)) throw new InvalidArgumentError(`--split fractions sum to 0: ${JSON.stringify(text)}`);
  return { train: parts[0] / sum, val: parts[1] / sum, test: parts[2] / sum };
}

/**
 * Deterministic split assignment: ids are sorted, shuffled with `new Rng(seed)`, then cut at
 * round(n·train) and round(n·(train+val)). Each split's ids come back sorted.
 */
export function assignSplits(ids: readonly string[], fractions: SplitFractions, seed: number | string = 0): Record<SplitName, string[]> {
  const sorted = [...ids].sort();
  new Rng(seed).shuffle(sorted);
  const n = sorted.length;
  const a = Math.round(n * fractions.train);
  const b = Math.max(a, Math.round(n * (fractions.train + fractions.val)));
  return {
    train: sorted.slice(0, a).sort(),
    val: sorted.slice(a, b).sort(),
    test: sorted.slice(b).sort(),
  };
}
