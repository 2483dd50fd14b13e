import { Rng } from '@vmr/core';
import { tf } from '@vmr/core/tf';

/** Named variables in a fixed order (the checkpoint and optimizer key them by name). */
export class ParamSet {
  readonly trainable = new Map<string, tf.Variable>();
  /** Non-trainable state (batch-norm moving statistics). */
  readonly state = new Map<string, tf.Variable>();

  add(name: string, value: tf.Tensor, trainable = true): tf.Variable {
    if (this.trainable.has(name) || this.state.has(name)) throw new Error(`duplicate parameter ${name}`);
    const v = tf.variable(value, trainable, name.replace(/[^A-Za-z0-9_./-]/g, '_') + '_' + uid());
    value.dispose();
    (trainable ? this.trainable : this.state).set(name, v);
    return v;
  }

  get(name: string): tf.Variable {
    const v = this.trainable.get(name) ?? this.state.get(name);
    if (!v) throw new Error(`no parameter ${name}`);
    return v;
  }

  dispose(): void {
    for (const v of this.trainable.values()) v.dispose();
    for (const v of this.state.values()) v.dispose();
    this.trainable.clear();
    this.state.clear();
  }

  /** Total number of trainable scalars. */
  count(): number {
    let n = 0;
    for (const v of this.trainable.values()) n += v.size;
    return n;
  }
}

let uidCounter = 0;
function uid(): string {
  uidCounter += 1;
  return uidCounter.toString(36);
}

/**
 * A fast uniform [0, 1) stream (mulberry32) seeded from `rng`: bulk initialisation of millions of
 * weights with the ARC4 generator would take seconds.
 */
function fastUniform(rng: Rng): () => number {
  let a = rng.int32() >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** U(-bound, bound) of the given shape from a seeded stream. */
export function uniformInit(rng: Rng, shape: number[], bound: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  const u = fastUniform(rng);
  for (let i = 0; i < n; i++) data[i] = (2 * u() - 1) * bound;
  return tf.tensor(data, shape);
}

/** Truncated normal (resampled beyond 2σ), TF's truncated_normal semantics (Box–Muller). */
export function truncatedNormalInit(rng: Rng, shape: number[], std: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  const u = fastUniform(rng);
  for (let i = 0; i < n; i++) {
    let z: number;
    do {
      z = Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
    } while (Math.abs(z) > 2);
    data[i] = z * std;
  }
  return tf.tensor(data, shape);
}

/**
 * `rng` should be dedicated to this layer (weight and bias streams are forked from it).
 * PyTorch nn.Linear default: weight kaiming_uniform(a=√5) = U(±1/√fan_in), bias U(±1/√fan_in).
 * Weights are stored as `[in, out]` (x·W).
 */
export function addTorchLinear(ps: ParamSet, rng: Rng, name: string, fanIn: number, fanOut: number, zeroBias = false): void {
  const bound = 1 / Math.sqrt(fanIn);
  ps.add(`${name}.weight`, uniformInit(rng.fork('weight'), [fanIn, fanOut], bound));
  ps.add(`${name}.bias`, zeroBias ? tf.zeros([fanOut]) : uniformInit(rng.fork('bias'), [fanOut], bound));
}

/** TF glorot_normal weight (truncated normal, std = √(2/(in+out)) / 0.87962566) and zero bias. */
export function addGlorotLinear(ps: ParamSet, rng: Rng, name: string, fanIn: number, fanOut: number): void {
  const std = Math.sqrt(2 / (fanIn + fanOut)) / 0.87962566103423978;
  ps.add(`${name}.weight`, truncatedNormalInit(rng.fork(`${name}.weight`), [fanIn, fanOut], std));
  ps.add(`${name}.bias`, tf.zeros([fanOut]));
}

/** Deterministic 32-bit seed mixing (for dropout masks). */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b) >>> 0;
    h = (h ^ (h >>> 13)) >>> 0;
    h = Math.imul(h, 0xc2b2ae35) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
  }
  return h >>> 0;
}
