import * as fs from 'fs';
import * as path from 'path';
import { packageFile } from '@vmr/core';

/**
 * The optional native addon of @vmr/features (`libs/features/native/*.cc` → `vmr_features.node`,
 * built at `npm install` by `libs/core/native/build.js` with the system C++ compiler): Farnebäck flow
 * (flow/native-farneback.ts) and the builtin-video frame sums (extractors/builtin-video.ts). Each
 * computes the same bits as the code it stands in for, which runs when the addon is absent.
 */
export interface FeaturesAddon {
  create(params: Float64Array): unknown;
  flow(handle: unknown, prev: Uint8Array, next: Uint8Array, width: number, height: number, out: Float32Array): number;
  stats(handle: unknown): { expanded: number; reused: number };
  release(handle: unknown): void;
  prepareFrame(src: Uint8Array, width: number, height: number, channels: number, outWidth: number, outHeight: number, bgr: Uint8Array | null, gray: Uint8Array): void;
  frameSums(bgr: Uint8Array, gray: Uint8Array, width: number, height: number, flow: Float32Array | null, prev: Uint8Array | null, out: Float64Array): void;
}

/** `libs/features/native/build/vmr_features.node`, found from this source file or from the `@vmr/features` package. */
export function featuresAddonPath(): string {
  const rel = path.join('native', 'build', 'vmr_features.node');
  return packageFile(path.resolve(__dirname, '..', rel), '@vmr/features', rel); // libs/features/src → libs/features
}

let addon: FeaturesAddon | undefined;
let loadError: string | undefined;
let loaded = false;

/** The addon, or undefined with the reason (`featuresAddonError`). */
export function featuresAddon(): FeaturesAddon | undefined {
  if (loaded) return addon;
  loaded = true;
  const file = featuresAddonPath();
  if (!fs.existsSync(file)) {
    loadError = `not built (${file} missing: no C++ compiler at install? run \`node libs/core/native/build.js\`)`;
    return undefined;
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    addon = require(file) as FeaturesAddon;
  } catch (e) {
    loadError = `failed to load ${file}: ${(e as Error).message.split('\n')[0]}`;
  }
  return addon;
}

/** Why `featuresAddon()` is undefined. */
export function featuresAddonError(): string | undefined {
  featuresAddon();
  return loadError;
}
