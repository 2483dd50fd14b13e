import * as path from 'path';
import type * as tfjs from '@tensorflow/tfjs';
import { tfjsLib } from './lazy-tfjs';
import { ExternalToolError, InvalidArgumentError, errorMessage, type BackendName } from '@vmr/core';
import type { PreparedFrame } from '../flow/trajectory';

export const MOBILENETV2_DIM = 1280;
export const MOBILENETV2_SIZE = 224;

interface Loaded {
  features: tfjs.LayersModel;
  layerName: string;
  packageVersion: string;
}

let loading: Promise<Loaded> | undefined;

/** Directory of the MobileNetV2 model that ships inside the nsfwjs npm package. */
export function nsfwjsModelDir(): { dir: string; version: string } {
  let entry: string;
  try {
    entry = require.resolve('nsfwjs'); // …/nsfwjs/dist/cjs/index.js
  } catch (e) {
    throw new ExternalToolError(`the nsfwjs package (MobileNetV2 weights) is not installed: ${errorMessage(e)}`, { cause: e });
  }
  const root = path.resolve(path.dirname(entry), '../..');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const version = (require(path.join(root, 'package.json')) as { version: string }).version;
  return { dir: path.join(root, 'dist/models/mobilenet_v2'), version };
}

/**
 * Load nsfwjs's MobileNetV2 (a Keras layers model with uint8-quantised weights, embedded as base64 in
 * JS modules — no network) and cut it at the 1280-d global-average-pooling layer (the penultimate
 * features). Once per process; `backend` selects the TF.js backend (default `auto`).
 */
export function loadMobileNetV2(backend: BackendName = 'auto'): Promise<Loaded> {
  if (!loading) {
    loading = (async () => {
      await (await import('@vmr/core/tf')).selectBackend(backend);
      const { dir, version } = nsfwjsModelDir();
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const modelJson = require(path.join(dir, 'model.min.js')) as { modelTopology: object; weightsManifest: Array<{ paths: string[]; weights: tfjs.io.WeightsManifestEntry[] }>; format?: string };
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const shard = require(path.join(dir, 'group1-shard1of1.min.js')) as string | { default?: string };
      // The shard module exports the base64 string of the manifest's single path.
      const weightB64: Record<string, string> = { 'group1-shard1of1': typeof shard === 'string' ? shard : (shard.default ?? '') };
      const specs: tfjs.io.WeightsManifestEntry[] = [];
      const parts: Buffer[] = [];
      for (const g of modelJson.weightsManifest) {
        for (const p of g.paths) {
          const b64 = weightB64[p];
          if (!b64) throw new ExternalToolError(`nsfwjs MobileNetV2: weight shard ${p} missing from ${dir}`);
          parts.push(Buffer.from(b64, 'base64'));
        }
        specs.push(...g.weights);
      }
      const all = Buffer.concat(parts);
      const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
      const handler: tfjs.io.IOHandler = {
        load: async () => ({ modelTopology: modelJson.modelTopology, weightSpecs: specs, weightData, format: modelJson.format }),
      };
      const model = await tfjsLib().loadLayersModel(handler);
      const pool = [...model.layers].reverse().find((l) => {
        const s = l.outputShape as number[];
        return Array.isArray(s) && s.length === 2 && s[1] === MOBILENETV2_DIM;
      });
      if (!pool) throw new ExternalToolError('nsfwjs MobileNetV2: no 1280-d layer found in the model');
      const features = tfjsLib().model({ inputs: model.inputs, outputs: pool.output as tfjs.SymbolicTensor });
      return { features, layerName: pool.name, packageVersion: version };
    })();
    loading.catch(() => {
      loading = undefined;
    });
  }
  return loading;
}

/**
 * 1280-d MobileNetV2 features of RGB images `[N, H, W, 3]` (uint8, row-major): scaled to [0, 1] and
 * resized to 224×224 bilinearly with aligned corners — nsfwjs's own preprocessing.
 */
export async function mobileNetV2Features(images: Uint8Array, n: number, height: number, width: number, batch = 8): Promise<Float32Array> {
  if (images.length !== n * height * width * 3) throw new InvalidArgumentError(`mobilenetv2: ${images.length} bytes is not ${n}x${height}x${width}x3`);
  const { features } = await loadMobileNetV2();
  const out = new Float32Array(n * MOBILENETV2_DIM);
  const per = height * width * 3;
  for (let s = 0; s < n; s += batch) {
    const m = Math.min(batch, n - s);
    const y = tfjsLib().tidy(() => {
      const x = tfjsLib().tensor4d(images.subarray(s * per, (s + m) * per), [m, height, width, 3], 'int32').toFloat().div(255);
      const r = height === MOBILENETV2_SIZE && width === MOBILENETV2_SIZE ? x : tfjsLib().image.resizeBilinear(x as tfjs.Tensor4D, [MOBILENETV2_SIZE, MOBILENETV2_SIZE], true);
      return features.predict(r) as tfjs.Tensor;
    });
    out.set(await y.data(), s * MOBILENETV2_DIM);
    y.dispose();
  }
  return out;
}

/**
 * Collects one frame per second (the first sampled frame whose time is in [t, t+1)) as RGB, then
 * `finish(T)` runs MobileNetV2 on them: `[T, 1280]`; a second without a frame repeats the previous row.
 */
export class MobileNetV2Accumulator {
  private readonly frames = new Map<number, Uint8Array>();
  private width = 0;
  private height = 0;

  addFrame(frame: PreparedFrame): void {
    const s = Math.floor(frame.timeSec + 1e-9);
    if (this.frames.has(s)) return;
    const { width, height } = frame.gray;
    this.width = width;
    this.height = height;
    const rgb = new Uint8Array(width * height * 3);
    for (let i = 0; i < width * height * 3; i += 3) {
      rgb[i] = frame.bgr[i + 2];
      rgb[i + 1] = frame.bgr[i + 1];
      rgb[i + 2] = frame.bgr[i];
    }
    this.frames.set(s, rgb);
  }

  async finish(seconds: number): Promise<Float32Array> {
    const keys = [...this.frames.keys()].filter((k) => k < seconds).sort((a, b) => a - b);
    if (keys.length === 0) throw new InvalidArgumentError('mobilenetv2: no frames were collected');
    const per = this.width * this.height * 3;
    const stack = new Uint8Array(keys.length * per);
    keys.forEach((k, i) => stack.set(this.frames.get(k)!, i * per));
    const feats = await mobileNetV2Features(stack, keys.length, this.height, this.width);
    const out = new Float32Array(seconds * MOBILENETV2_DIM);
    let ki = 0;
    for (let s = 0; s < seconds; s++) {
      while (ki + 1 < keys.length && keys[ki + 1] <= s) ki++;
      out.set(feats.subarray(ki * MOBILENETV2_DIM, (ki + 1) * MOBILENETV2_DIM), s * MOBILENETV2_DIM);
    }
    return out;
  }
}
