import seedrandom from 'seedrandom';
import { InvalidArgumentError } from './errors';

/**
 * A seeded pseudo-random generator (seedrandom's ARC4-based generator). The same seed gives the same
 * stream on every platform; `fork(label)` derives an independent, reproducible stream.
 */
export class Rng {
  private readonly prng: seedrandom.PRNG;
  readonly seed: string;
  private spareNormal: number | undefined;

  constructor(seed: number | string) {
    if (typeof seed === 'number' && !Number.isFinite(seed)) {
      throw new InvalidArgumentError(`RNG seed must be a finite number or a string, got ${seed}`);
    }
    this.seed = String(seed);
    this.prng = seedrandom(this.seed);
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.prng.double();
  }

  /** Uniform in [lo, hi). */
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.prng.double();
  }

  /** Integer uniform in [lo, hi) (hi exclusive). */
  int(lo: number, hi: number): number {
    if (!(hi > lo)) throw new InvalidArgumentError(`Rng.int needs hi > lo, got [${lo}, ${hi})`);
    return lo + Math.floor(this.prng.double() * (hi - lo));
  }

  /** Standard normal (Box–Muller, caching the second value). */
  normal(mean = 0, std = 1): number {
    if (this.spareNormal !== undefined) {
      const z = this.spareNormal;
      this.spareNormal = undefined;
      return mean + std * z;
    }
    let u = 0;
    while (u <= Number.MIN_VALUE) u = this.prng.double();
    const v = this.prng.double();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return mean + std * r * Math.cos(2 * Math.PI * v);
  }

  /** Fill a Float32Array with N(mean, std²) samples. */
  normalArray(n: number, mean = 0, std = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal(mean, std);
    return out;
  }

  /** In-place Fisher–Yates shuffle; returns the same array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.prng.double() * (i + 1));
      const t = items[i];
      items[i] = items[j];
      items[j] = t;
    }
    return items;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): number[] {
    return this.shuffle(Array.from({ length: n }, (_, i) => i));
  }

  /** Pick one element uniformly. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new InvalidArgumentError('Rng.pick on an empty list');
    return items[Math.floor(this.prng.double() * items.length)];
  }

  /** An independent generator derived from this one's seed and a label (does not consume this stream). */
  fork(label: string | number): Rng {
    return new Rng(`${this.seed}/${label}`);
  }

  /** A 32-bit integer seed derived from this stream (for libraries that take numeric seeds). */
  int32(): number {
    return this.prng.int32();
  }
}
