import type * as TfjsModule from '@tensorflow/tfjs';

let loaded: typeof TfjsModule | undefined;

/**
 * The full @tensorflow/tfjs bundle (layers + converter), loaded on first use: it takes ~1–2 s to load,
 * and only the model-file and MobileNetV2 extractors need it, so every other `vmr` command stays fast.
 */
export function tfjsLib(): typeof TfjsModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  loaded ??= require('@tensorflow/tfjs') as typeof TfjsModule;
  return loaded;
}
