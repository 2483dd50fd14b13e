import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tfjs from '@tensorflow/tfjs';
import { FileFormatError, NotFoundError } from '@vmr/core';
import { selectBackend } from '@vmr/core/tf';
import { ImageModelAccumulator, loadImageModel, preprocessImages, saveTfjsLayersModel } from './model-file';

// ---- a minimal ONNX (protobuf) writer, enough for a ReduceMean → MatMul graph -------------------
function varint(n: number): number[] {
  const out: number[] = [];
  let v = BigInt(n);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
}
const key = (field: number, wire: number) => varint((field << 3) | wire);
const int = (field: number, n: number) => [...key(field, 0), ...varint(n)];
const bytes = (field: number, b: number[] | Uint8Array) => [...key(field, 2), ...varint(b.length), ...b];
const str = (field: number, s: string) => bytes(field, [...Buffer.from(s, 'utf8')]);
function valueInfo(name: string, dims: Array<number | string>): number[] {
  const dimMsgs = dims.flatMap((d) => bytes(1, typeof d === 'number' ? int(1, d) : str(2, d)));
  const tensorType = [...int(1, 1), ...bytes(2, dimMsgs)]; // elem_type FLOAT, shape
  return [...str(1, name), ...bytes(2, bytes(1, tensorType))];
}
/** y[N, D] = mean_{h,w}(x[N, H, W, 3]) · W[3, D] */
function onnxMeanMatMul(H: number, W: number, weights: Float32Array, D: number): Uint8Array {
  const attrAxes = [...str(1, 'axes'), ...int(8, 1), ...int(8, 2), ...int(20, 7)];
  const attrKeep = [...str(1, 'keepdims'), ...int(3, 0), ...int(20, 2)];
  const reduce = [...str(1, 'x'), ...str(2, 'm'), ...str(4, 'ReduceMean'), ...bytes(5, attrAxes), ...bytes(5, attrKeep)];
  const matmul = [...str(1, 'm'), ...str(1, 'W'), ...str(2, 'y'), ...str(4, 'MatMul')];
  const init = [...int(1, 3), ...int(1, D), ...int(2, 1), ...str(8, 'W'), ...bytes(9, new Uint8Array(weights.buffer))];
  const graph = [...bytes(1, reduce), ...bytes(1, matmul), ...str(2, 'g'), ...bytes(5, init), ...bytes(11, valueInfo('x', ['N', H, W, 3])), ...bytes(12, valueInfo('y', ['N', D]))];
  return Uint8Array.from([...int(1, 8), ...bytes(8, [...str(1, ''), ...int(2, 13)]), ...bytes(7, graph)]);
}

function frames(n: number, w: number, h: number) {
  return Array.from({ length: n }, (_, k) => {
    const bgr = new Uint8Array(w * h * 3);
    for (let i = 0; i < bgr.length; i++) bgr[i] = (i * (k + 3) * 7) % 256;
    return { sampleIndex: k, decodeIndex: k, timeSec: k * 0.5, bgr, gray: { width: w, height: h, data: new Uint8Array(w * h) } };
  });
}

describe('model-file extractors (user-supplied TF.js or ONNX image models)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-model-'));
  beforeAll(async () => {
    await selectBackend('auto');
  });

  it('runs a TF.js layers model the test builds and saves, matching model.predict', async () => {
    const model = tfjs.sequential({
      layers: [
        tfjs.layers.conv2d({ inputShape: [16, 16, 3], filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: tfjs.initializers.randomNormal({ seed: 1 }) }),
        tfjs.layers.globalAveragePooling2d({}),
        tfjs.layers.dense({ units: 6, kernelInitializer: tfjs.initializers.randomNormal({ seed: 2 }) }),
      ],
    });
    const file = await saveTfjsLayersModel(model, path.join(dir, 'tiny-tfjs'));
    const m = await loadImageModel(file);
    expect([m.format, m.height, m.width, m.dim]).toEqual(['tfjs-layers', 16, 16, 6]);
    const fr = frames(4, 20, 12); // seconds 0, 0.5 → 0; 1, 1.5 → 1
    const acc = new ImageModelAccumulator('resnet', file, 6, 'imagenet');
    fr.forEach((f) => acc.addFrame(f));
    const out = await acc.finish(3);
    // reference: the first frame of second 1 through the in-memory model
    const rgb = new Uint8Array(fr[2].bgr.length);
    for (let i = 0; i < rgb.length; i += 3) rgb.set([fr[2].bgr[i + 2], fr[2].bgr[i + 1], fr[2].bgr[i]], i);
    const x = preprocessImages(rgb, 1, 12, 20, 16, 16, 'imagenet');
    const ref = (model.predict(tfjs.tensor4d(x, [1, 16, 16, 3])) as tfjs.Tensor).dataSync();
    for (let d = 0; d < 6; d++) expect(out[6 + d]).toBeCloseTo(ref[d], 5);
    expect(Array.from(out.subarray(12, 18))).toEqual(Array.from(out.subarray(6, 12))); // second 2 repeats second 1
    // wrong declared dim → clear error naming the file
    const bad = new ImageModelAccumulator('clip', file, 512);
    bad.addFrame(fr[0]);
    await expect(bad.finish(1)).rejects.toThrow(/outputs 6 values per image, clip is 512-d/);
  });

  it('runs an ONNX model the test writes by hand (onnxruntime-node), matching the closed form', async () => {
    const D = 2;
    const Wt = Float32Array.from([1, 0, 0, 1, 2, -1]); // [3, 2]
    const file = path.join(dir, 'mean-matmul.onnx');
    fs.writeFileSync(file, onnxMeanMatMul(8, 8, Wt, D));
    // onnxruntime-node's native outputs fail `instanceof Float32Array` inside jest's sandboxed realm,
    // so the model runs in a plain Node child process (the same code path `vmr ingest` uses).
    const script = `
      require('tsx/cjs');
      const { loadImageModel } = require(${JSON.stringify(path.join(__dirname, 'model-file.ts'))});
      (async () => {
        const m = await loadImageModel(${JSON.stringify(file)});
        const x = new Float32Array(8 * 8 * 3);
        for (let i = 0; i < x.length; i += 3) x.set([0.2, 0.4, 0.6], i);
        const y = await m.run(x, 1);
        process.stdout.write(JSON.stringify({ format: m.format, h: m.height, w: m.width, dim: m.dim, y: Array.from(y) }));
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const r = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: path.resolve(__dirname, '../../../..'), encoding: 'utf8' }));
    expect([r.format, r.h, r.w, r.dim]).toEqual(['onnx', 8, 8, 2]);
    // constant image (r, g, b) = (0.2, 0.4, 0.6) → y = [0.2 + 1.2, 0.4 − 0.6]
    expect(r.y[0]).toBeCloseTo(1.4, 5);
    expect(r.y[1]).toBeCloseTo(-0.2, 5);
  });

  it('names missing or unreadable model files', async () => {
    await expect(loadImageModel(path.join(dir, 'nope.onnx'))).rejects.toThrow(NotFoundError);
    fs.writeFileSync(path.join(dir, 'junk.onnx'), 'not a model');
    await expect(loadImageModel(path.join(dir, 'junk.onnx'))).rejects.toThrow(FileFormatError);
    await expect(loadImageModel(path.join(dir, 'junk.onnx'))).rejects.toThrow(/junk\.onnx/);
    fs.writeFileSync(path.join(dir, 'm.txt'), 'x');
    await expect(loadImageModel(path.join(dir, 'm.txt'))).rejects.toThrow(/unknown model format/);
  });
});
