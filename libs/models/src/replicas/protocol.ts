import type { OfVmNetConfig } from '../config';

/** Messages between the ReplicaPool (main thread) and its replica workers. */
export interface InitMessage {
  type: 'init';
  config: OfVmNetConfig;
  seed: number;
  backend: string;
  flag: SharedArrayBuffer;
  /** wasm: whether products run on the native GEMM (as on the main thread), and its threads per replica. */
  nativeGemm: boolean;
  gemmThreads: number;
}
export interface StepMessage {
  type: 'step';
  /** Trainable parameter values by name (the main thread's model after its last update). */
  params: Record<string, Float32Array>;
  video: { data: Float32Array; shape: [number, number, number, number] };
  audio: { data: Float32Array; shape: [number, number, number, number] };
  mask: Float32Array;
  dropoutSeed: number;
  clipOffset: number;
}
export interface EmbGradMessage {
  type: 'embGrad';
  video: Float32Array;
  audio: Float32Array;
}
export type ToWorker = InitMessage | StepMessage | EmbGradMessage | { type: 'close' };
export type FromWorker =
  | { type: 'ready' }
  | { type: 'emb'; video: Float32Array; audio: Float32Array }
  | { type: 'grads'; grads: Record<string, Float32Array> }
  | { type: 'error'; message: string };
