import { tf } from './tfjs';

/**
 * Wall-time breakdown of tensor work by named phase ("attention", "ffn", …), forward AND backward:
 * while profiling, every gradient-tape node remembers the phase that was active when its forward op
 * ran, and its gradient runs under that phase again. Time not inside any phase is reported as
 * `other`. Kernels are synchronous on the wasm and cpu backends, so wall time is compute time there;
 * on asynchronous backends (WebGPU) the numbers are dispatch time only.
 *
 * `phase(name, fn)` costs one boolean test when no profile is running.
 */
let enabled = false;
let current = 'other';
let since = 0;
let totals = new Map<string, number>();

function switchTo(name: string): void {
  const t = performance.now();
  totals.set(current, (totals.get(current) ?? 0) + (t - since));
  since = t;
  current = name;
}

/** Run `fn` charging its time (and, under a profile, its gradient's time) to phase `name`. */
export function phase<T>(name: string, fn: () => T): T {
  if (!enabled) return fn();
  const prev = current;
  switchTo(name);
  try {
    return fn();
  } finally {
    switchTo(prev);
  }
}

export interface PhaseProfile<T> {
  result: T;
  /** ms per phase (sums to totalMs). */
  phases: Record<string, number>;
  totalMs: number;
}

/** Run `fn` with phase accounting on (not re-entrant). */
export function profilePhases<T>(fn: () => T): PhaseProfile<T> {
  if (enabled) throw new Error('profilePhases is not re-entrant');
  type Node = { gradient?: (dys: tf.Tensor[]) => unknown };
  const engine = tf.engine() as unknown as {
    addTapeNode: (...args: unknown[]) => void;
    state: { activeTape: Node[] | null };
  };
  const original = engine.addTapeNode;
  engine.addTapeNode = function (this: typeof engine, ...args: unknown[]) {
    original.apply(this, args);
    const tape = this.state.activeTape;
    const node = tape?.[tape.length - 1];
    const at = current;
    if (node?.gradient && at !== 'other') {
      const g = node.gradient;
      node.gradient = (dys) => phase(at, () => g(dys));
    }
  };
  enabled = true;
  totals = new Map();
  current = 'other';
  since = performance.now();
  const t0 = since;
  try {
    const result = fn();
    switchTo('other');
    const phases: Record<string, number> = {};
    for (const [k, v] of totals) phases[k] = v;
    return { result, phases, totalMs: performance.now() - t0 };
  } finally {
    enabled = false;
    engine.addTapeNode = original;
  }
}
