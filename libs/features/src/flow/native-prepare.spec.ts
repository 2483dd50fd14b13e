import * as fs from 'fs';
import { sharedPath } from '@vmr/core';
import { featuresAddon, featuresAddonError } from '../native-addon';
import { probeMedia } from '../media/probe';
import { streamSampledFrames } from '../media/decode';
import { loadOpenCv } from './opencv';
import { FarnebackFlow } from './farneback';

/**
 * The flow frames' preparation in the features addon (libs/features/native/prepare.cc: resize to
 * 320×240 INTER_LINEAR, then BGR2GRAY) against OpenCV.js (cv.resize + cv.cvtColor, the code it
 * replaces): every byte of the resized colour frame and of the grey frame must be equal, on the
 * sampled frames of every shared clip — sizes 1280×720 (4×3 reduction), 640×480 (exact 2×: OpenCV's
 * area path), 720×480, 848×480, 480×270, 480×204 and 320×176 (enlarged) — and on grey input.
 */
function opencvPrepare(cv: ReturnType<typeof Object>, data: Uint8Array, w: number, h: number, channels: 1 | 3, ow: number, oh: number): { bgr?: Uint8Array; gray: Uint8Array } {
  const src = new cv.Mat(h, w, channels === 3 ? cv.CV_8UC3 : cv.CV_8UC1);
  const resized = new cv.Mat();
  const gray = new cv.Mat();
  try {
    src.data.set(data);
    if (w === ow && h === oh) src.copyTo(resized);
    else cv.resize(src, resized, new cv.Size(ow, oh), 0, 0, cv.INTER_LINEAR);
    if (channels === 1) return { gray: new Uint8Array(resized.data) };
    cv.cvtColor(resized, gray, cv.COLOR_BGR2GRAY);
    return { bgr: new Uint8Array(resized.data), gray: new Uint8Array(gray.data) };
  } finally {
    src.delete();
    resized.delete();
    gray.delete();
  }
}

function diff(a: Uint8Array, b: Uint8Array): string | undefined {
  if (a.length !== b.length) return `lengths ${a.length} vs ${b.length}`;
  let n = 0;
  let first = -1;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) (n++, first < 0 && (first = i));
  return n ? `${n} of ${a.length} bytes differ (first at ${first}: ${a[first]} vs ${b[first]})` : undefined;
}

describe('native flow-frame preparation = OpenCV.js resize + cvtColor, byte for byte', () => {
  beforeAll(() => {
    if (!featuresAddon()) throw new Error(`the features addon is not available: ${featuresAddonError()} — run \`node libs/core/native/build.js\` (needs g++ or clang++)`);
  });

  const clips = [
    ...fs.readdirSync(sharedPath('media', 'video')).map((f) => sharedPath('media', 'video', f)),
    ...fs.readdirSync(sharedPath('media', 'music-videos')).map((f) => sharedPath('media', 'music-videos', f)),
  ];

  it.each(clips)('%s: colour and grey frames', async (file) => {
    const cv = await loadOpenCv();
    const addon = featuresAddon()!;
    const info = await probeMedia(file);
    const bad: string[] = [];
    let frames = 0;
    for await (const f of streamSampledFrames(file, { info, targetFps: { num: 1, den: 1 }, maxSeconds: 12, decodeThreads: 1 })) {
      frames++;
      const ref = opencvPrepare(cv, f.data, f.width, f.height, 3, 320, 240);
      const bgr = new Uint8Array(320 * 240 * 3);
      const gray = new Uint8Array(320 * 240);
      addon.prepareFrame(f.data, f.width, f.height, 3, 320, 240, bgr, gray);
      const d1 = diff(bgr, ref.bgr!);
      const d2 = diff(gray, ref.gray);
      if (d1) bad.push(`frame ${f.sampleIndex} (${f.width}x${f.height}) bgr: ${d1}`);
      if (d2) bad.push(`frame ${f.sampleIndex} (${f.width}x${f.height}) grey: ${d2}`);
      // grey input (resize only), from the frame's own grey
      const g1 = opencvPrepare(cv, ref.gray, 320, 240, 1, 160, 120).gray;
      const g2 = new Uint8Array(160 * 120);
      addon.prepareFrame(ref.gray, 320, 240, 1, 160, 120, null, g2);
      const d3 = diff(g2, g1);
      if (d3) bad.push(`frame ${f.sampleIndex} grey 320x240 → 160x120: ${d3}`);
    }
    expect(frames).toBeGreaterThan(1);
    expect(bad).toEqual([]);
  }, 60_000);

  it('FarnebackFlow.prepare uses it, and gives OpenCV.js bytes at odd sizes and scales (colour and grey, up and down)', async () => {
    const fb = await FarnebackFlow.create();
    const cv = await loadOpenCv();
    try {
      expect(fb.engine).toBe('native');
      const cases: Array<[number, number, 1 | 3, number, number]> = [
        [37, 23, 3, 50, 17], [37, 23, 1, 50, 17], [641, 481, 3, 320, 240], [1281, 719, 3, 320, 240], [99, 7, 3, 320, 240],
        [320, 240, 3, 160, 120], [320, 240, 1, 160, 120], [300, 200, 3, 301, 199], [5, 5, 3, 1, 1], [2, 3, 1, 13, 11], [720, 576, 3, 320, 240],
      ];
      const bad: string[] = [];
      for (const [w, h, ch, ow, oh] of cases) {
        const img = new Uint8Array(w * h * ch).map((_, i) => ((i * 7919) ^ (i >> 3)) % 256);
        const ref = opencvPrepare(cv, img, w, h, ch, ow, oh);
        const got = fb.prepare({ width: w, height: h, channels: ch, data: img }, ow, oh);
        const d = (ch === 3 ? diff(got.bgr!, ref.bgr!) : undefined) ?? diff(got.gray.data, ref.gray);
        if (d) bad.push(`${w}x${h}x${ch} → ${ow}x${oh}: ${d}`);
      }
      expect(bad).toEqual([]);
      expect(() => fb.prepare({ width: 4, height: 4, channels: 3, data: new Uint8Array(40) }, 2, 2)).toThrow(/40 bytes, expected 4x4x3 = 48/);
    } finally {
      fb.dispose();
    }
  });
});
