import * as path from 'path';
import { Worker } from 'worker_threads';
import { InvalidArgumentError, NumericError, UnsupportedError, type BackendName } from '@vmr/core';
import { tf, activeBackend, phase, nativeGemmActive, nativeGemmStatus } from '@vmr/core/tf';
import type { Adam, LossOutput, StepResult } from '../adam';
import { mixSeed } from '../params';
import type { OfVmNet, SegmentBatch, SegmentEmbeddings, HostTensor } from '../of-vm-net';
import type { FromWorker, ToWorker, StepMessage } from './protocol';

export interface ReplicaPoolOptions {
  /** Worker threads, each computing a contiguous shard of the batch's clips (≥ 1). */
  replicas: number;
  /** Backend of the workers (default: the main thread's active backend, else wasm). */
  backend?: BackendName;
  /**
   * Native GEMM threads per replica (wasm; default: the main thread's GEMM threads ÷ replicas, at
   * least 1, so replicas × GEMM threads never exceeds what one run was given). Results do not depend on it.
   */
  gemmThreads?: number;
}

/** Gradients of one data-parallel step before the update. */
export interface ReplicaGradients {
  loss: number;
  terms: Record<string, number>;
  /** Summed parameter gradients by parameter name (caller disposes). */
  grads: Map<string, tf.Tensor>;
}

class Replica {
  private queue: FromWorker[] = [];
  private waiting: Array<{ resolve: (m: FromWorker) => void; reject: (e: Error) => void }> = [];
  private failure: Error | undefined;
  readonly flag = new Int32Array(new SharedArrayBuffer(4));

  constructor(readonly worker: Worker, readonly index: number) {
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'error') return this.fail(new Error(`replica ${index}: ${m.message}`));
      const w = this.waiting.shift();
      if (w) w.resolve(m);
      else this.queue.push(m);
    });
    worker.on('error', (e) => this.fail(e instanceof Error ? e : new Error(String(e))));
    worker.on('exit', (code) => this.fail(new Error(`replica ${index} exited (code ${code})`)));
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const w of this.waiting.splice(0)) w.reject(this.failure);
  }

  post(m: ToWorker, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(m, transfer);
    Atomics.add(this.flag, 0, 1);
    Atomics.notify(this.flag, 0);
  }

  next<T extends FromWorker['type']>(type: T): Promise<Extract<FromWorker, { type: T }>> {
    const check = (m: FromWorker) => {
      if (m.type !== type) throw new Error(`replica ${this.index}: expected '${type}', got '${m.type}'`);
      return m as Extract<FromWorker, { type: T }>;
    };
    const q = this.queue.shift();
    if (q) return Promise.resolve(check(q));
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiting.push({ resolve: (m) => { try { resolve(check(m)); } catch (e) { reject(e as Error); } }, reject }));
  }
}

function hostOf(x: tf.Tensor | HostTensor): HostTensor {
  if (x instanceof tf.Tensor) {
    if (x.rank !== 4) throw new InvalidArgumentError(`batch features must be [B, S, L, D]; got [${x.shape}]`);
    return { data: x.dataSync() as Float32Array, shape: x.shape as [number, number, number, number] };
  }
  return x;
}

/**
 * Data-parallel OF-VM-Net training on several cores, exact: every replica (a worker thread with its
 * own backend instance) runs the encoders forward on a contiguous shard of clips and sends the
 * segment embeddings here; the loss — whose hardest-negative mining couples the whole batch — is
 * computed here on the full batch, its gradient w.r.t. each shard's embeddings goes back, each
 * replica backpropagates it and returns parameter gradients, which are summed and applied by Adam.
 * Dropout masks are drawn per batch segment (`clipOffset`), so the step equals the one-replica step
 * (`trainStepOfVmNet`) up to float summation order (tested within 1e-5).
 */
export class ReplicaPool {
  private closed = false;

  private constructor(
    readonly model: OfVmNet,
    private readonly replicas: Replica[],
    /** Native GEMM threads each replica uses (wasm). */
    readonly gemmThreads: number,
  ) {}

  static async create(model: OfVmNet, options: ReplicaPoolOptions): Promise<ReplicaPool> {
    const n = options.replicas;
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`replicas must be a positive integer, got ${n}`);
    const backend = options.backend ?? (activeBackend()?.backend as BackendName | undefined) ?? 'wasm';
    if (backend !== 'wasm' && backend !== 'cpu') {
      throw new UnsupportedError(
        `replicas: the '${backend}' backend already uses every core or the GPU; data-parallel replicas are for the single-threaded wasm/cpu backends (use replicas = 1)`,
      );
    }
    const gemmThreads = options.gemmThreads ?? Math.max(1, Math.floor(nativeGemmStatus().threads / n));
    const nativeGemm = nativeGemmActive();
    const replicas: Replica[] = [];
    try {
      for (let i = 0; i < n; i++) {
        const r = new Replica(new Worker(path.join(__dirname, 'worker.js')), i);
        replicas.push(r);
        r.post({ type: 'init', config: model.config, seed: model.seed, backend, flag: r.flag.buffer as SharedArrayBuffer, nativeGemm, gemmThreads });
      }
      await Promise.all(replicas.map((r) => r.next('ready')));
    } catch (e) {
      await Promise.all(replicas.map((r) => r.worker.terminate()));
      throw e;
    }
    return new ReplicaPool(model, replicas, gemmThreads);
  }

  get size(): number {
    return this.replicas.length;
  }

  /** Contiguous clip ranges, balanced by valid tokens. */
  private shards(mask: ArrayLike<number>, B: number, per: number): Array<[number, number]> {
    const n = Math.min(this.replicas.length, B);
    const tokens = new Float64Array(B);
    let total = 0;
    for (let b = 0; b < B; b++) {
      let c = 0;
      for (let i = b * per; i < (b + 1) * per; i++) c += mask[i];
      tokens[b] = c + 1;
      total += c + 1;
    }
    const out: Array<[number, number]> = [];
    let c0 = 0;
    let acc = 0;
    for (let r = 0; r < n; r++) {
      let c1 = c0;
      const target = (total * (r + 1)) / n;
      while (c1 < B - (n - r - 1) && (c1 === c0 || acc + tokens[c1] / 2 <= target)) acc += tokens[c1++];
      if (r === n - 1) c1 = B;
      out.push([c0, c1]);
      c0 = c1;
    }
    return out;
  }

  /** Loss and summed parameter gradients of one step (no update; advances the dropout counter). */
  async gradients(batch: SegmentBatch, lossFn: (emb: SegmentEmbeddings) => LossOutput): Promise<ReplicaGradients> {
    if (this.closed) throw new InvalidArgumentError('replica pool is closed');
    const model = this.model;
    const video = hostOf(batch.video);
    const audio = hostOf(batch.audio);
    const [B, S, L] = video.shape;
    const mask = batch.mask instanceof tf.Tensor ? (batch.mask.dataSync() as Float32Array) : Float32Array.from(batch.mask);
    if (mask.length !== B * S * L) throw new InvalidArgumentError(`batch mask has ${mask.length} entries, expected [${B}, ${S}, ${L}]`);
    const dropoutSeed = mixSeed(model.seed, model.forwardCount);
    model.forwardCount += 1;
    const params: Record<string, Float32Array> = {};
    for (const [name, v] of model.params.trainable) params[name] = v.dataSync() as Float32Array;
    const ranges = this.shards(mask, B, S * L);
    // a shard's features: with masked-mean pooling only its valid token rows are read, so only they
    // are copied (the padded paper batch is ½ GB of mostly zeros; a fresh Float32Array is zero-filled
    // lazily by the OS); mean-all reads every position: copied whole
    const allPositions = model.config.pooling === 'mean-all';
    const slice = (x: HostTensor, c0: number, c1: number): HostTensor => {
      const D = x.shape[3];
      if (allPositions) return { data: x.data.slice(c0 * S * L * D, c1 * S * L * D), shape: [c1 - c0, x.shape[1], x.shape[2], D] };
      const out = new Float32Array((c1 - c0) * S * L * D);
      const base = c0 * S * L;
      for (let t = 0; t < (c1 - c0) * S * L; t++) {
        if (mask[base + t] !== 0) out.set(x.data.subarray((base + t) * D, (base + t + 1) * D), t * D);
      }
      return { data: out, shape: [c1 - c0, x.shape[1], x.shape[2], D] };
    };
    const active = this.replicas.slice(0, ranges.length);
    active.forEach((r, i) => {
      const [c0, c1] = ranges[i];
      const msg: StepMessage = {
        type: 'step',
        params,
        video: slice(video, c0, c1),
        audio: slice(audio, c0, c1),
        mask: mask.slice(c0 * S * L, c1 * S * L),
        dropoutSeed,
        clipOffset: c0,
      };
      r.post(msg, [msg.video.data.buffer as ArrayBuffer, msg.audio.data.buffer as ArrayBuffer]);
    });
    const embs = await Promise.all(active.map((r) => r.next('emb')));
    const E = model.config.embedDim;
    const cat = (key: 'video' | 'audio') => {
      const all = new Float32Array(B * S * E);
      embs.forEach((e, i) => all.set(e[key], ranges[i][0] * S * E));
      return tf.tensor3d(all, [B, S, E]);
    };
    const embV = cat('video');
    const embA = cat('audio');
    let terms: Record<string, number> = {};
    let loss = NaN;
    let embGrads: tf.Tensor[] = [];
    try {
      const r = phase('loss, mining', () =>
        tf.valueAndGrads((v: tf.Tensor, a: tf.Tensor) => {
          const out = lossFn({ video: v as tf.Tensor3D, audio: a as tf.Tensor3D });
          terms = Object.fromEntries(Object.entries(out.terms).map(([k, t]) => [k, typeof t === 'number' ? t : t.dataSync()[0]]));
          return out.total;
        })([embV, embA]),
      );
      loss = r.value.dataSync()[0];
      r.value.dispose();
      embGrads = r.grads;
      const gv = embGrads[0].dataSync() as Float32Array;
      const ga = embGrads[1].dataSync() as Float32Array;
      active.forEach((rep, i) => {
        const [c0, c1] = ranges[i];
        rep.post({ type: 'embGrad', video: gv.slice(c0 * S * E, c1 * S * E), audio: ga.slice(c0 * S * E, c1 * S * E) });
      });
    } finally {
      tf.dispose([embV, embA, ...embGrads]);
    }
    const parts = await Promise.all(active.map((r) => r.next('grads')));
    const grads = new Map<string, tf.Tensor>();
    for (const [name, v] of model.params.trainable) {
      const arrays = parts.map((p) => p.grads[name]).filter((a): a is Float32Array => a !== undefined);
      if (arrays.length === 0) continue;
      const sum = arrays[0];
      for (const a of arrays.slice(1)) for (let i = 0; i < sum.length; i++) sum[i] += a[i];
      grads.set(name, tf.tensor(sum, v.shape));
    }
    return { loss, terms, grads };
  }

  /** One exact data-parallel training step: gradients, finiteness checks, Adam. */
  async step(optimizer: Adam, batch: SegmentBatch, lossFn: (emb: SegmentEmbeddings) => LossOutput): Promise<StepResult> {
    const lr = optimizer.currentLr();
    const { loss, terms, grads } = await this.gradients(batch, lossFn);
    try {
      if (!Number.isFinite(loss)) throw new NumericError(`loss is ${loss} at step ${optimizer.step + 1}`, { details: { terms } });
      for (const [n, g] of grads) {
        const d = g.dataSync();
        for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i])) throw new NumericError(`gradient of ${n} is not finite at step ${optimizer.step + 1}`);
      }
      optimizer.apply(grads);
      return { loss, terms, lr, step: optimizer.step };
    } finally {
      for (const g of grads.values()) g.dispose();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.replicas.map((r) => r.worker.terminate()));
  }
}
