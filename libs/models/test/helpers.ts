import { Rng } from '@vmr/core';
import { tf } from '@vmr/core/tf';
import type { ParamSet } from '../src';

/** Random batch: lengths per (clip, segment), zero padding, ranks as permutations. */
export function makeBatch(B: number, S: number, L: number, Dv: number, Da: number, lengths: number[], seed = 1) {
  const rng = new Rng(seed);
  const mask = new Float32Array(B * S * L);
  lengths.forEach((n, i) => mask.fill(1, i * L, i * L + n));
  const fill = (d: number) => {
    const a = new Float32Array(B * S * L * d);
    for (let i = 0; i < a.length; i++) a[i] = mask[Math.floor(i / d)] ? rng.normal() : 0;
    return tf.tensor4d(a, [B, S, L, d]);
  };
  const ranks = new Float32Array(B * S);
  for (let b = 0; b < B; b++) rng.permutation(S).forEach((p, s) => (ranks[b * S + s] = p + 1));
  return { video: fill(Dv), audio: fill(Da), mask, ranks };
}

/**
 * Finite differences (central; one-sided accepted at kinks) of `f` w.r.t. a few entries of every trainable parameter, compared with
 * the analytic gradient. Returns the worst violation of |fd − ad| ≤ atol + rtol·|ad| (≤ 0 passes) and
 * the number of entries checked.
 */
export function gradCheck(params: ParamSet, f: () => tf.Scalar, opts: { h: number; atol: number; rtol: number; perParam: number; seed?: number }) {
  const rng = new Rng(opts.seed ?? 7);
  const names = [...params.trainable.keys()];
  const vars = names.map((n) => params.trainable.get(n)!);
  const { grads, value } = tf.variableGrads(f, vars);
  value.dispose();
  let worst = -Infinity;
  let worstAt = '';
  let checked = 0;
  for (const name of names) {
    const v = params.trainable.get(name)!;
    const g = grads[v.name];
    const ga = g ? g.dataSync() : new Float32Array(v.size);
    const base = v.dataSync().slice();
    for (let c = 0; c < Math.min(opts.perParam, v.size); c++) {
      const i = rng.int(0, v.size);
      const eval1 = (delta: number) => {
        const d = base.slice();
        d[i] += delta;
        v.assign(tf.tensor(d, v.shape));
        return tf.tidy(() => f().dataSync()[0]);
      };
      const fp = eval1(opts.h);
      const fm = eval1(-opts.h);
      const f0 = eval1(0);
      v.assign(tf.tensor(base, v.shape));
      // central difference; at a ReLU/hinge kink inside [-h, h] the function is not differentiable and
      // the analytic gradient is a one-sided derivative, so a one-sided difference may match instead
      const fd = (fp - fm) / (2 * opts.h);
      const tol = opts.atol + opts.rtol * Math.abs(ga[i]);
      const viol = Math.min(Math.abs(fd - ga[i]), Math.abs((fp - f0) / opts.h - ga[i]), Math.abs((f0 - fm) / opts.h - ga[i])) - tol;
      if (viol > worst) {
        worst = viol;
        worstAt = `${name}[${i}] fd=${fd} ad=${ga[i]}`;
      }
      checked++;
    }
  }
  for (const g of Object.values(grads)) g.dispose();
  return { worst, worstAt, checked };
}
