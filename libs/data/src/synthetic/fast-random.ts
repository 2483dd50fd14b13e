import { InvalidArgumentError, type Rng } from '@vmr/core';

/**
 * A fast, seedable generator for bulk synthetic noise (xoshiro128**, 32-bit state words), seeded from
 * an `Rng` so every stream is reproducible from the dataset seed. `Rng` (seedrandom ARC4) draws a few
 * million numbers per second, too slow for the ~10⁶ noise values of one clip's features; this one draws
 * a few hundred million.
 *
 * `noise()` is an approximately standard-normal value: the centred, scaled sum of the four bytes of one
 * 32-bit draw (Irwin–Hall with n = 4 on 256 levels): mean 0, variance 1, bounded at ±3.45. It is meant
 * for additive feature noise, not for statistics that depend on the tails.
 */
export class FastRandom {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** @param discard outputs dropped after seeding (default 16: the first outputs of small seeds are weakly mixed). */
  constructor(seedWords: readonly [number, number, number, number], discard = 16) {
    this.a = seedWords[0] | 0;
    this.b = seedWords[1] | 0;
    this.c = seedWords[2] | 0;
    this.d = seedWords[3] | 0;
    if ((this.a | this.b | this.c | this.d) === 0) {
      throw new InvalidArgumentError('FastRandom: the all-zero state is not allowed');
    }
    for (let i = 0; i < discard; i++) this.nextUint32();
  }

  /** A generator seeded from four 32-bit draws of `rng` (consumes `rng`). */
  static fromRng(rng: Rng): FastRandom {
    const w: [number, number, number, number] = [rng.int32(), rng.int32(), rng.int32(), rng.int32()];
    if ((w[0] | w[1] | w[2] | w[3]) === 0) w[0] = 0x9e3779b9;
    return new FastRandom(w);
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9);
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result >>> 0;
  }

  /** Uniform in [0, 1) (32 bits of resolution). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Approximately N(0, 1): see the class comment. */
  noise(): number {
    const r = this.nextUint32();
    return ((r & 255) + ((r >>> 8) & 255) + ((r >>> 16) & 255) + (r >>> 24) - NOISE_MEAN) * NOISE_SCALE;
  }

  /**
   * `out[offset + i] += scale · noise()` for i in [0, n) — the hot loop of feature generation
   * (inlined generator state for speed).
   */
  addNoise(out: Float32Array, offset: number, n: number, scale: number): void {
    let a = this.a;
    let b = this.b;
    let c = this.c;
    let d = this.d;
    const s = scale * NOISE_SCALE;
    const end = offset + n;
    for (let i = offset; i < end; i++) {
      const x = Math.imul(b, 5);
      const r = Math.imul((x << 7) | (x >>> 25), 9);
      const t = b << 9;
      c ^= a;
      d ^= b;
      b ^= c;
      a ^= d;
      c ^= t;
      d = (d << 11) | (d >>> 21);
      out[i] += ((r & 255) + ((r >>> 8) & 255) + ((r >>> 16) & 255) + (r >>> 24) - NOISE_MEAN) * s;
    }
    this.a = a;
    this.b = b;
    this.c = c;
    this.d = d;
  }

  /**
   * One feature row in one pass: `out[offset + d] = base[d] + p0·q[3d] + p1·q[3d+1] + p2·q[3d+2] + scale·noise()`
   * for d in [0, base.length) (`q` is a row-major `[dim, 3]` map).
   */
  fillRow(out: Float32Array, offset: number, base: Float64Array, q: Float32Array, p0: number, p1: number, p2: number, scale: number): void {
    let a = this.a;
    let b = this.b;
    let c = this.c;
    let d = this.d;
    const s = scale * NOISE_SCALE;
    const n = base.length;
    for (let i = 0; i < n; i++) {
      const x = Math.imul(b, 5);
      const r = Math.imul((x << 7) | (x >>> 25), 9);
      const t = b << 9;
      c ^= a;
      d ^= b;
      b ^= c;
      a ^= d;
      c ^= t;
      d = (d << 11) | (d >>> 21);
      const k = 3 * i;
      out[offset + i] =
        base[i] + p0 * q[k] + p1 * q[k + 1] + p2 * q[k + 2] + ((r & 255) + ((r >>> 8) & 255) + ((r >>> 16) & 255) + (r >>> 24) - NOISE_MEAN) * s;
    }
    this.a = a;
    this.b = b;
    this.c = c;
    this.d = d;
  }
}

/** Mean and 1/std of the sum of four independent uniform bytes (0..255): 510 and 1/sqrt(4·(256²−1)/12). */
export const NOISE_MEAN = 510;
export const NOISE_SCALE = 1 / Math.sqrt((4 * (256 * 256 - 1)) / 12);

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
