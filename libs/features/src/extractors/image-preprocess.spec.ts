import { CLIP_PREPROCESSING, RESNET_PREPROCESSING, centerCropOffsets, preprocessRgbImage, resampleCoefficients, resizeRgb, resizeShorterSize } from './image-preprocess';

describe('reference image pre-processing (torchvision on PIL), by hand', () => {
  it('torchvision Resize(int) sizes and CenterCrop offsets', () => {
    expect(resizeShorterSize(640, 360, 224)).toEqual({ width: 398, height: 224 }); // int(224·640/360) = int(398.2)
    expect(resizeShorterSize(360, 640, 256)).toEqual({ width: 256, height: 455 }); // int(455.1)
    expect(centerCropOffsets(398, 224, 224)).toEqual({ left: 87, top: 0 }); // round(87.0)
    expect(centerCropOffsets(256, 455, 224)).toEqual({ left: 16, top: 116 }); // round(115.5) = 116 (half to even)
    expect(centerCropOffsets(227, 227, 224)).toEqual({ left: 2, top: 2 }); // round(1.5) = 2
  });

  it("PIL's antialiased bilinear weights for an exact 2x downscale are [1, 3, 3, 1] / 8", () => {
    const c = resampleCoefficients(8, 4, 'bilinear');
    // output 1: centre 3.0 in input coordinates; inputs 1..4 at distances 1.5, 0.5, 0.5, 1.5 (÷2) → 0.25, 0.75, 0.75, 0.25
    expect(c.first[1]).toBe(1);
    expect(Array.from(c.weights[1])).toEqual([0.125, 0.375, 0.375, 0.125]);
    // output 0 at the border: inputs 0..2 with weights 0.75, 0.75, 0.25 renormalised
    expect(c.first[0]).toBe(0);
    expect(Array.from(c.weights[0]).map((w) => +w.toFixed(6))).toEqual([0.428571, 0.428571, 0.142857]);
  });

  it('PIL bicubic (a = -0.5) at scale 1 is the identity and keeps a linear ramp linear inside', () => {
    const id = resampleCoefficients(5, 5, 'bicubic');
    for (let i = 0; i < 5; i++) expect(id.weights[i][i - id.first[i]]).toBeCloseTo(1, 12);
    // 2x upscale of a ramp 0, 10, …, 70: bicubic reproduces linear functions away from the borders
    const w = 8;
    const ramp = new Uint8Array(w * 1 * 3);
    for (let x = 0; x < w; x++) ramp.fill(10 * x, x * 3, x * 3 + 3);
    const up = resizeRgb(ramp, w, 1, 16, 1, 'bicubic');
    // output pixel i samples input coordinate (i + 0.5)/2 − 0.5 → value 10·((i + 0.5)/2 − 0.5)
    for (let i = 4; i < 12; i++) expect(up[i * 3]).toBe(Math.round(10 * ((i + 0.5) / 2 - 0.5)));
  });

  it('ResNet: 512×512 → resize 256 (bilinear 2x down) → crop 224 at offset 16 → ImageNet normalisation', () => {
    const N = 512;
    const img = new Uint8Array(N * N * 3);
    const f = (x: number, y: number): number => (x * 3 + y * 5) % 256;
    for (let y = 0; y < N; y++) for (let x = 0; x < N; x++) img.set([f(x, y), 255 - f(x, y), 128], (y * N + x) * 3);
    const out = preprocessRgbImage(img, N, N, RESNET_PREPROCESSING);
    expect(out.length).toBe(3 * 224 * 224);
    // hand: output (i, j) of the 256 image = Σ_a Σ_b k[a]·k[b]·f(2i−1+a, 2j−1+b), k = [1,3,3,1]/8, each pass rounded
    const k = [1, 3, 3, 1].map((v) => v / 8);
    const resized = (i: number, j: number): number => {
      const rows = [0, 1, 2, 3].map((b) => Math.round(k.reduce((s, ka, a) => s + ka * f(2 * i - 1 + a, 2 * j - 1 + b), 0)));
      return Math.round(rows.reduce((s, v, b) => s + k[b] * v, 0));
    };
    for (const [cx, cy] of [[0, 0], [10, 3], [100, 200], [223, 223]]) {
      const v = resized(cx + 16, cy + 16);
      expect(out[0 * 224 * 224 + cy * 224 + cx]).toBeCloseTo((v / 255 - 0.485) / 0.229, 5);
      expect(out[2 * 224 * 224 + cy * 224 + cx]).toBeCloseTo((128 / 255 - 0.406) / 0.225, 5);
    }
  });

  it('CLIP: 448×224 ramp needs no resize (shorter side already 224), centre crop from x = 112, CLIP normalisation', () => {
    const w = 448, h = 224;
    const img = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) img.set([x % 256, y, 200], (y * w + x) * 3);
    const out = preprocessRgbImage(img, w, h, CLIP_PREPROCESSING);
    const HW = 224 * 224;
    for (const [x, y] of [[0, 0], [50, 7], [223, 223]]) {
      expect(out[y * 224 + x]).toBeCloseTo((((x + 112) % 256) / 255 - 0.48145466) / 0.26862954, 5);
      expect(out[HW + y * 224 + x]).toBeCloseTo((y / 255 - 0.4578275) / 0.26130258, 5);
      expect(out[2 * HW + y * 224 + x]).toBeCloseTo((200 / 255 - 0.40821073) / 0.27577711, 5);
    }
    // a constant image stays constant through any resize: 300×400 grey 77 → (77/255 − mean)/std everywhere
    const g = new Uint8Array(300 * 400 * 3).fill(77);
    const o2 = preprocessRgbImage(g, 300, 400, CLIP_PREPROCESSING);
    expect(Math.min(...o2.subarray(0, HW))).toBeCloseTo((77 / 255 - 0.48145466) / 0.26862954, 6);
    expect(Math.max(...o2.subarray(0, HW))).toBeCloseTo((77 / 255 - 0.48145466) / 0.26862954, 6);
  });
});
