import * as fs from 'fs';
import * as path from 'path';
import type * as tfjs from '@tensorflow/tfjs';
import { tfjsLib } from './lazy-tfjs';
import { FileFormatError, InvalidArgumentError, IoError, NotFoundError, UnsupportedError, errorMessage, writeFileAtomic, writeJsonAtomic } from '@vmr/core';
import type { PreparedFrame } from '../flow/trajectory';

/** Pixel normalisation applied before the model (RGB scaled to [0, 1] first). */
export type ImageNormalization = 'none' | 'imagenet' | 'clip';
const NORMS: Record<Exclude<ImageNormalization, 'none'>, { mean: number[]; std: number[] }> = {
  imagenet: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
  clip: { mean: [0.48145466, 0.4578275, 0.40821073], std: [0.26862954, 0.26130258, 0.27577711] },
};

/** A TF.js IOHandler that reads `model.json` and its weight files from disk (no tfjs-node needed). */
export function tfjsFileHandler(modelJsonPath: string): tfjs.io.IOHandler {
  return {
    load: async () => {
      let json: {
        modelTopology?: object;
        format?: string;
        generatedBy?: string;
        convertedBy?: string | null;
        weightsManifest?: Array<{ paths: string[]; weights: tfjs.io.WeightsManifestEntry[] }>;
        signature?: object;
        userDefinedMetadata?: Record<string, {}>;
        modelInitializer?: object;
      };
      try {
        json = JSON.parse(fs.readFileSync(modelJsonPath, 'utf8'));
      } catch (e) {
        throw new FileFormatError(`${modelJsonPath}: cannot read a TF.js model.json (${errorMessage(e)})`, { details: { path: modelJsonPath } });
      }
      if (!json.modelTopology) throw new FileFormatError(`${modelJsonPath}: no modelTopology (not a TF.js model.json)`, { details: { path: modelJsonPath } });
      const specs: tfjs.io.WeightsManifestEntry[] = [];
      const parts: Buffer[] = [];
      for (const g of json.weightsManifest ?? []) {
        for (const p of g.paths) {
          const f = path.join(path.dirname(modelJsonPath), p);
          try {
            parts.push(fs.readFileSync(f));
          } catch (e) {
            throw new NotFoundError(`${modelJsonPath}: weight file ${f} is missing (${errorMessage(e)})`, { details: { path: f } });
          }
        }
        specs.push(...g.weights);
      }
      const all = Buffer.concat(parts);
      return {
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy ?? undefined,
        weightSpecs: specs,
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer,
        signature: json.signature,
        userDefinedMetadata: json.userDefinedMetadata,
        modelInitializer: json.modelInitializer,
      };
    },
  };
}

/** Save a TF.js layers model as `<dir>/model.json` + `<dir>/weights.bin` (atomic writes). */
export async function saveTfjsLayersModel(model: tfjs.LayersModel, dir: string): Promise<string> {
  const file = path.join(dir, 'model.json');
  await model.save({
    save: async (a: tfjs.io.ModelArtifacts) => {
      const data = a.weightData instanceof ArrayBuffer ? new Uint8Array(a.weightData) : Buffer.concat((a.weightData as ArrayBuffer[]).map((b) => Buffer.from(b)));
      writeFileAtomic(path.join(dir, 'weights.bin'), data);
      writeJsonAtomic(file, {
        modelTopology: a.modelTopology,
        format: a.format ?? 'layers-model',
        generatedBy: a.generatedBy,
        convertedBy: a.convertedBy ?? null,
        weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
      });
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    },
  });
  return file;
}

/** An image model loaded from a user file: `[N, H, W, 3]` float → `[N, D]`. */
export interface ImageModel {
  path: string;
  format: 'tfjs-layers' | 'tfjs-graph' | 'onnx';
  height: number;
  width: number;
  dim: number;
  run(batch: Float32Array, n: number): Promise<Float32Array>;
}

function flatDim(shape: Array<number | null | undefined>): number {
  return shape.slice(1).reduce<number>((a, d) => a * (d ?? 1), 1);
}

/**
 * Load a user-supplied image model: a TF.js `model.json` (layers or graph model) or an `.onnx` file
 * (onnxruntime-node, NHWC float input). Errors name the path.
 */
export async function loadImageModel(file: string): Promise<ImageModel> {
  if (!fs.existsSync(file)) throw new NotFoundError(`model file not found: ${file}`, { details: { path: file } });
  if (file.endsWith('.onnx')) {
    let ort: typeof import('onnxruntime-node');
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      ort = require('onnxruntime-node');
    } catch (e) {
      throw new UnsupportedError(`${file}: ONNX models need the onnxruntime-node package (${errorMessage(e)})`, { details: { path: file } });
    }
    let session: import('onnxruntime-node').InferenceSession;
    try {
      session = await ort.InferenceSession.create(file);
    } catch (e) {
      throw new FileFormatError(`${file}: onnxruntime cannot load the model (${errorMessage(e)})`, { details: { path: file } });
    }
    const inName = session.inputNames[0];
    const outName = session.outputNames[0];
    const meta = (session as unknown as { inputMetadata?: Array<{ shape?: Array<number | string> }> }).inputMetadata?.[0];
    const shape = (meta?.shape ?? [1, 224, 224, 3]).map((d) => (typeof d === 'number' ? d : -1));
    const height = shape[1] > 0 ? shape[1] : 224;
    const width = shape[2] > 0 ? shape[2] : 224;
    if (shape[3] !== undefined && shape[3] > 0 && shape[3] !== 3) throw new UnsupportedError(`${file}: expected an NHWC input with 3 channels, got shape [${shape.join(', ')}]`);
    const probe = await session.run({ [inName]: new ort.Tensor('float32', new Float32Array(height * width * 3), [1, height, width, 3]) });
    const dim = probe[outName].data.length;
    return {
      path: file, format: 'onnx', height, width, dim,
      run: async (batch, n) => {
        const r = await session.run({ [inName]: new ort.Tensor('float32', batch, [n, height, width, 3]) });
        return Float32Array.from(r[outName].data as Float32Array);
      },
    };
  }
  if (!file.endsWith('.json')) throw new UnsupportedError(`${file}: unknown model format (expected a TF.js model.json or an .onnx file)`, { details: { path: file } });
  await (await import('@vmr/core/tf')).selectBackend('auto');
  const meta = JSON.parse(fs.readFileSync(file, 'utf8')) as { format?: string };
  const isGraph = meta.format === 'graph-model';
  let predict: (x: tfjs.Tensor) => tfjs.Tensor;
  let inShape: Array<number | null>;
  if (isGraph) {
    const g = await tfjsLib().loadGraphModel(tfjsFileHandler(file));
    inShape = (g.inputs[0].shape ?? [null, 224, 224, 3]).map((d) => (d === -1 ? null : d));
    predict = (x) => g.predict(x) as tfjs.Tensor;
  } else {
    const m = await tfjsLib().loadLayersModel(tfjsFileHandler(file));
    inShape = m.inputs[0].shape;
    predict = (x) => m.predict(x) as tfjs.Tensor;
  }
  const height = inShape[1] ?? 224;
  const width = inShape[2] ?? 224;
  if (inShape.length !== 4 || (inShape[3] !== null && inShape[3] !== 3)) {
    throw new UnsupportedError(`${file}: expected an image model with input [N, H, W, 3], got [${inShape.join(', ')}]`, { details: { path: file } });
  }
  const probe = tfjsLib().tidy(() => predict(tfjsLib().zeros([1, height, width, 3])));
  const dim = flatDim(probe.shape);
  probe.dispose();
  return {
    path: file, format: isGraph ? 'tfjs-graph' : 'tfjs-layers', height, width, dim,
    run: async (batch, n) => {
      const y = tfjsLib().tidy(() => predict(tfjsLib().tensor4d(batch, [n, height, width, 3])).reshape([n, -1]));
      const out = (await y.data()) as Float32Array;
      y.dispose();
      return Float32Array.from(out);
    },
  };
}

/**
 * Resize RGB uint8 images `[N, h, w, 3]` to the model's size (bilinear, aligned corners), scale to
 * [0, 1] and normalise; returns float32 `[N, H, W, 3]`.
 */
export function preprocessImages(rgb: Uint8Array, n: number, h: number, w: number, H: number, W: number, norm: ImageNormalization): Float32Array {
  return tfjsLib().tidy(() => {
    let x = tfjsLib().tensor4d(rgb, [n, h, w, 3], 'int32').toFloat().div(255) as tfjs.Tensor4D;
    if (h !== H || w !== W) x = tfjsLib().image.resizeBilinear(x, [H, W], true);
    if (norm !== 'none') x = x.sub(tfjsLib().tensor1d(NORMS[norm].mean)).div(tfjsLib().tensor1d(NORMS[norm].std));
    return x.dataSync() as Float32Array;
  }).slice();
}

/**
 * Per-second features from a user-supplied image model (`resnet`, `clip`): the first sampled frame of
 * each second, RGB, resized to the model input, normalised, `[T, D]`; a second without a frame
 * repeats the previous row. `expectDim` (the registry's D) is checked against the model's output.
 */
export class ImageModelAccumulator {
  private readonly frames = new Map<number, Uint8Array>();
  private w = 0;
  private h = 0;

  constructor(readonly name: string, readonly modelPath: string, readonly expectDim: number, readonly norm: ImageNormalization = 'imagenet') {}

  addFrame(frame: PreparedFrame): void {
    const s = Math.floor(frame.timeSec + 1e-9);
    if (this.frames.has(s)) return;
    this.w = frame.gray.width;
    this.h = frame.gray.height;
    const rgb = new Uint8Array(frame.bgr.length);
    for (let i = 0; i < rgb.length; i += 3) {
      rgb[i] = frame.bgr[i + 2];
      rgb[i + 1] = frame.bgr[i + 1];
      rgb[i + 2] = frame.bgr[i];
    }
    this.frames.set(s, rgb);
  }

  async finish(seconds: number, batch = 8): Promise<Float32Array> {
    const model = await loadImageModelCached(this.modelPath);
    if (model.dim !== this.expectDim) {
      throw new InvalidArgumentError(`extractor ${this.name}: ${this.modelPath} outputs ${model.dim} values per image, ${this.name} is ${this.expectDim}-d`, { details: { path: this.modelPath } });
    }
    const keys = [...this.frames.keys()].filter((k) => k < seconds).sort((a, b) => a - b);
    if (keys.length === 0) throw new InvalidArgumentError(`extractor ${this.name}: no frames were collected`);
    const per = this.w * this.h * 3;
    const feats = new Float32Array(keys.length * model.dim);
    for (let s = 0; s < keys.length; s += batch) {
      const m = Math.min(batch, keys.length - s);
      const stack = new Uint8Array(m * per);
      for (let i = 0; i < m; i++) stack.set(this.frames.get(keys[s + i])!, i * per);
      const x = preprocessImages(stack, m, this.h, this.w, model.height, model.width, this.norm);
      feats.set(await model.run(x, m), s * model.dim);
    }
    const out = new Float32Array(seconds * model.dim);
    let ki = 0;
    for (let s = 0; s < seconds; s++) {
      while (ki + 1 < keys.length && keys[ki + 1] <= s) ki++;
      out.set(feats.subarray(ki * model.dim, (ki + 1) * model.dim), s * model.dim);
    }
    for (let i = 0; i < out.length; i++) if (!Number.isFinite(out[i])) throw new IoError(`extractor ${this.name}: ${this.modelPath} produced a non-finite value`);
    return out;
  }
}

const cache = new Map<string, Promise<ImageModel>>();
function loadImageModelCached(file: string): Promise<ImageModel> {
  const key = path.resolve(file);
  let p = cache.get(key);
  if (!p) {
    p = loadImageModel(key);
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}
