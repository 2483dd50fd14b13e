import * as tfjs from '@tensorflow/tfjs';
import { MOBILENETV2_DIM, MobileNetV2Accumulator, loadMobileNetV2, mobileNetV2Features } from './mobilenetv2';

function image(seed: number, h = 240, w = 320): Uint8Array {
  const d = new Uint8Array(h * w * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) {
    d[(y * w + x) * 3 + c] = Math.round(127 + 120 * Math.sin((x * (c + 1)) / (9 + seed) + y / (7 + 2 * seed)));
  }
  return d;
}

describe('mobilenetv2 (weights shipped in the nsfwjs npm package, offline)', () => {
  it('cuts the model at the 1280-d global average pool: features = spatial mean of out_relu', async () => {
    const { features, layerName } = await loadMobileNetV2();
    expect(features.outputs[0].shape).toEqual([null, MOBILENETV2_DIM]);
    expect(layerName).toBe('flatten_1');
    const imgs = new Uint8Array([...image(0), ...image(3)]);
    const f = await mobileNetV2Features(imgs, 2, 240, 320);
    expect(f).toHaveLength(2 * MOBILENETV2_DIM);
    expect(f.every((v) => Number.isFinite(v) && v >= 0)).toBe(true); // ReLU6 then average: non-negative
    // independent check of the cut point: average the 7x7x1280 activations ourselves
    const relu = features.layers.find((l) => l.name === 'out_relu')!;
    const sub = tfjs.model({ inputs: features.inputs, outputs: relu.output as tfjs.SymbolicTensor });
    const x = tfjs.tidy(() => tfjs.image.resizeBilinear(tfjs.tensor4d(image(0), [1, 240, 320, 3], 'int32').toFloat().div(255) as tfjs.Tensor4D, [224, 224], true));
    const act = sub.predict(x) as tfjs.Tensor;
    const mean = act.mean([1, 2]).dataSync();
    let maxDiff = 0;
    for (let i = 0; i < MOBILENETV2_DIM; i++) maxDiff = Math.max(maxDiff, Math.abs(mean[i] - f[i]));
    expect(maxDiff).toBeLessThan(1e-4);
    tfjs.dispose([x, act]);
    // different images → different features; same image → same features (deterministic)
    let d01 = 0;
    for (let i = 0; i < MOBILENETV2_DIM; i++) d01 += Math.abs(f[i] - f[MOBILENETV2_DIM + i]);
    expect(d01).toBeGreaterThan(1);
  });

  it('takes the first frame of each second and repeats rows for seconds without a frame', async () => {
    const acc = new MobileNetV2Accumulator();
    const mk = (t: number, seed: number) => {
      const rgb = image(seed, 32, 40);
      const bgr = new Uint8Array(rgb.length);
      for (let i = 0; i < rgb.length; i += 3) bgr.set([rgb[i + 2], rgb[i + 1], rgb[i]], i);
      return { sampleIndex: 0, decodeIndex: 0, timeSec: t, bgr, gray: { width: 40, height: 32, data: new Uint8Array(40 * 32) } };
    };
    acc.addFrame(mk(0, 1));
    acc.addFrame(mk(0.4, 2)); // same second: ignored
    acc.addFrame(mk(2.1, 2));
    const out = await acc.finish(3);
    const row = (s: number) => Array.from(out.subarray(s * MOBILENETV2_DIM, (s + 1) * MOBILENETV2_DIM));
    expect(row(1)).toEqual(row(0)); // second 1 has no frame
    expect(row(2)).not.toEqual(row(0));
    const direct = await mobileNetV2Features(image(1, 32, 40), 1, 32, 40);
    expect(row(0)).toEqual(Array.from(direct));
  });
});
