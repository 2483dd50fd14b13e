/**
 * The one TensorFlow.js instance every VMR Lab package uses (`import { tf } from '@vmr/core/tf'`).
 *
 * `@tensorflow/tfjs-core`'s CommonJS build registers no gradients and no chained tensor methods
 * (those live in ES-module files that CommonJS/jest cannot load), so we load the `@tensorflow/tfjs`
 * bundle once for those side effects; it shares the same deduplicated tfjs-core (and the engine is
 * global anyway). The `cpu` backend is always available; `wasm` and the native backends
 * (`@tensorflow/tfjs-node[-gpu]`, optional) are loaded by `selectBackend`.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs';

export { tf };
