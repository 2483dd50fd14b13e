import { ExternalToolError, errorMessage } from '@vmr/core';

/**
 * The OpenCV.js module (`@techstark/opencv-js`, WebAssembly). Typed loosely on purpose: we use a
 * handful of functions (Mat, resize, cvtColor, calcOpticalFlowFarneback) and the package's own
 * declarations lag the runtime.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type OpenCv = any;

let loading: Promise<{ cv: OpenCv }> | undefined;

/**
 * Load OpenCV.js once per process (≈1 s: WebAssembly compile). The Emscripten module is a thenable
 * whose `then` returns itself, so awaiting it (or returning it from an async function) loops forever:
 * it is boxed while loading and its `then` is removed once it is ready.
 */
export async function loadOpenCv(): Promise<OpenCv> {
  if (!loading) {
    loading = new Promise<{ cv: OpenCv }>((resolve, reject) => {
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const mod = require('@techstark/opencv-js') as OpenCv;
        const done = (m: OpenCv): void => {
          // Drop the self-returning `then` so the module can travel through promises safely.
          if (typeof m.then === 'function') delete m.then;
          resolve({ cv: m });
        };
        if (mod && typeof mod.Mat === 'function' && mod.calledRun) done(mod);
        else mod.then(done);
      } catch (e) {
        reject(new ExternalToolError(`cannot load OpenCV.js (@techstark/opencv-js): ${errorMessage(e)}`, { cause: e }));
      }
    });
  }
  return (await loading).cv;
}
