import { z } from 'zod';

/**
 * `--backend` values. `auto` tries tensorflow-gpu → tensorflow → (webgpu, only when enabled:
 * `VMR_WEBGPU=1`, see `webgpuEnabled`) → wasm → cpu. Kept apart from the tfjs plumbing
 * (`@vmr/core/tf`) so configs can be validated without loading TensorFlow.js.
 */
export const BackendNameSchema = z.enum(['auto', 'tensorflow-gpu', 'tensorflow', 'webgpu', 'wasm', 'cpu']);
export type BackendName = z.infer<typeof BackendNameSchema>;
export type ConcreteBackend = Exclude<BackendName, 'auto'>;
