import { z } from 'zod';
import { InvalidArgumentError, NumericError } from '@vmr/core';
import { tf, phase } from '@vmr/core/tf';
import type { ParamSet } from './params';

export const AdamConfigSchema = z
  .object({
    lr: z.number().positive().default(1e-4),
    beta1: z.number().min(0).lt(1).default(0.9),
    beta2: z.number().min(0).lt(1).default(0.999),
    eps: z.number().positive().default(1e-8),
    /** Step decay: lr × decayRate^floor(step / decaySteps) (VM-Net: 0.96 every 1000). */
    decayRate: z.number().positive().max(1).default(1),
    decaySteps: z.number().int().positive().default(1000),
  })
  .strict();
export type AdamConfig = z.infer<typeof AdamConfigSchema>;

/** Serializable optimizer state (moments keyed by parameter name). */
export interface AdamState {
  step: number;
  m: Map<string, tf.Tensor>;
  v: Map<string, tf.Tensor>;
}

/**
 * Adam with PyTorch semantics (bias-corrected, eps added after the square root), over the trainable
 * variables of a `ParamSet`. One optimizer over both encoders equals the reference code's one optimizer
 * per modality (Adam is per-parameter).
 */
export class Adam {
  readonly config: AdamConfig;
  step = 0;
  readonly m = new Map<string, tf.Variable>();
  readonly v = new Map<string, tf.Variable>();

  constructor(
    readonly params: ParamSet,
    config: z.input<typeof AdamConfigSchema> = {},
  ) {
    this.config = AdamConfigSchema.parse(config);
    for (const [name, p] of params.trainable) {
      for (const slot of [this.m, this.v]) {
        const z = tf.zerosLike(p);
        slot.set(name, tf.variable(z, false));
        z.dispose();
      }
    }
  }

  /** Learning rate used for the next step (after decay). */
  currentLr(): number {
    const c = this.config;
    return c.lr * Math.pow(c.decayRate, Math.floor(this.step / c.decaySteps));
  }

  /** Apply one update from gradients keyed by parameter name (missing names: no update). */
  apply(grads: Map<string, tf.Tensor> | Record<string, tf.Tensor>): void {
    const g = grads instanceof Map ? grads : new Map(Object.entries(grads));
    const lr = this.currentLr();
    this.step += 1;
    const { beta1, beta2, eps } = this.config;
    const bc1 = 1 - Math.pow(beta1, this.step);
    const bc2 = 1 - Math.pow(beta2, this.step);
    phase('optimizer', () => tf.tidy(() => {
      for (const [name, p] of this.params.trainable) {
        const grad = g.get(name);
        if (!grad) continue;
        const m = this.m.get(name)!;
        const v = this.v.get(name)!;
        const m1 = tf.add(tf.mul(m, beta1), tf.mul(grad, 1 - beta1));
        const v1 = tf.add(tf.mul(v, beta2), tf.mul(tf.square(grad), 1 - beta2));
        m.assign(m1);
        v.assign(v1);
        const denom = tf.add(tf.div(tf.sqrt(v1), Math.sqrt(bc2)), eps);
        p.assign(tf.sub(p, tf.mul(tf.div(m1, denom), lr / bc1)));
      }
    }));
  }

  getState(): AdamState {
    return { step: this.step, m: new Map(this.m), v: new Map(this.v) };
  }

  setState(state: { step: number; m: Map<string, tf.Tensor | Float32Array>; v: Map<string, tf.Tensor | Float32Array> }): void {
    this.step = state.step;
    for (const [name, mv] of this.m) {
      for (const [slot, src] of [
        [mv, state.m.get(name)],
        [this.v.get(name)!, state.v.get(name)],
      ] as const) {
        if (src === undefined) throw new InvalidArgumentError(`optimizer state lacks moments for parameter ${name}`);
        const t = src instanceof tf.Tensor ? src : tf.tensor(src, slot.shape);
        if (t.size !== slot.size) throw new InvalidArgumentError(`optimizer state for ${name} has ${t.size} values, expected ${slot.size}`);
        slot.assign(tf.reshape(t, slot.shape));
        if (!(src instanceof tf.Tensor)) t.dispose();
      }
    }
  }

  dispose(): void {
    for (const x of this.m.values()) x.dispose();
    for (const x of this.v.values()) x.dispose();
  }
}

/** What a loss function returns: the scalar to minimise and the separately logged terms. */
export interface LossOutput {
  total: tf.Scalar;
  terms: Record<string, tf.Scalar | number>;
}

export interface StepResult {
  loss: number;
  terms: Record<string, number>;
  lr: number;
  step: number;
}

/**
 * One optimisation step: evaluate `lossFn` (which runs the model's forward pass) under a gradient
 * tape, differentiate w.r.t. the model's trainable variables, and apply Adam. Throws NumericError
 * (without updating) when the loss or a gradient is not finite.
 */
export function trainStep(params: ParamSet, optimizer: Adam, lossFn: () => LossOutput): StepResult {
  const names = [...params.trainable.keys()];
  const vars = names.map((n) => params.trainable.get(n)!);
  let terms: Record<string, number> = {};
  const lr = optimizer.currentLr();
  const { value, grads } = tf.variableGrads(() => {
    const out = lossFn();
    terms = Object.fromEntries(
      Object.entries(out.terms).map(([k, t]) => [k, typeof t === 'number' ? t : t.dataSync()[0]]),
    );
    return out.total;
  }, vars);
  try {
    const loss = value.dataSync()[0];
    if (!Number.isFinite(loss)) throw new NumericError(`loss is ${loss} at step ${optimizer.step + 1}`, { details: { terms } });
    const byName = new Map<string, tf.Tensor>();
    for (const n of names) {
      const g = grads[params.trainable.get(n)!.name];
      if (g) byName.set(n, g);
    }
    const bad = tf.tidy(() => {
      for (const [n, g] of byName) {
        if (!tf.all(tf.isFinite(g)).dataSync()[0]) return n;
      }
      return undefined;
    });
    if (bad) throw new NumericError(`gradient of ${bad} is not finite at step ${optimizer.step + 1}`);
    optimizer.apply(byName);
    return { loss, terms, lr, step: optimizer.step };
  } finally {
    value.dispose();
    for (const g of Object.values(grads)) g.dispose();
  }
}
