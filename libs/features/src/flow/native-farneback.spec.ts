import * as path from 'path';
import { sharedPath } from '@vmr/core';
import { readImage } from '../media/decode';
import { FARNEBACK_DEFAULTS, FarnebackFlow, type FarnebackParams, type FlowField, type GrayFrame, farnebackEngine } from './farneback';
import { nativeFlowStatus } from './native-farneback';
import { analyzeVideo } from './trajectory';

/**
 * The native Farnebäck engine against OpenCV.js (@techstark/opencv-js 4.10, the engine it replaces):
 * the flow fields must be identical to the last bit — not close — on real video frames, on the
 * Middlebury pairs (odd sizes: non-2× pyramid resizes, a 4-level pyramid with a 19-tap blur) and
 * with non-default parameters. Tolerance: none (every float compared with ===).
 */

function mustHaveNative(): void {
  const st = nativeFlowStatus();
  if (!st.enabled) throw new Error(`the native flow addon is not available: ${st.reason} — run \`node libs/core/native/build.js\` (needs g++ or clang++)`);
}

function firstDifference(a: FlowField, b: FlowField): string | undefined {
  if (a.width !== b.width || a.height !== b.height || a.data.length !== b.data.length) return `shapes differ: ${a.width}x${a.height} vs ${b.width}x${b.height}`;
  let n = 0;
  let first = -1;
  let maxAbs = 0;
  for (let i = 0; i < a.data.length; i++) {
    if (!Object.is(a.data[i], b.data[i])) {
      n++;
      if (first < 0) first = i;
      maxAbs = Math.max(maxAbs, Math.abs(a.data[i] - b.data[i]));
    }
  }
  return n === 0 ? undefined : `${n} of ${a.data.length} floats differ (first at ${first}: ${a.data[first]} vs ${b.data[first]}; max |diff| ${maxAbs})`;
}

async function frames(file: string, maxSeconds: number): Promise<GrayFrame[]> {
  const out: GrayFrame[] = [];
  await analyzeVideo(file, { maxSeconds, onFrame: (f) => void out.push(f.gray) });
  return out;
}

async function pairDiffs(params: Partial<FarnebackParams>, seq: GrayFrame[]): Promise<string[]> {
  const cv = await FarnebackFlow.create(params, { engine: 'opencv.js' });
  const na = await FarnebackFlow.create(params, { engine: 'native' });
  try {
    expect(cv.engine).toBe('opencv.js');
    expect(na.engine).toBe('native');
    const bad: string[] = [];
    for (let i = 1; i < seq.length; i++) {
      const d = firstDifference(na.compute(seq[i - 1], seq[i]), cv.compute(seq[i - 1], seq[i]));
      if (d) bad.push(`pair ${i - 1}→${i}: ${d}`);
    }
    return bad;
  } finally {
    cv.dispose();
    na.dispose();
  }
}

describe('native Farnebäck flow = OpenCV.js, bit for bit', () => {
  beforeAll(mustHaveNative);

  it('is the default engine for the DESIGN.md §1.1 parameters', async () => {
    expect(farnebackEngine()).toEqual({ engine: 'native' });
    const fb = await FarnebackFlow.create();
    try {
      expect(fb.engine).toBe('native');
    } finally {
      fb.dispose();
    }
    // OpenCV's Gaussian-window update (flags 256) is not implemented natively: OpenCV.js runs it
    expect(farnebackEngine({ flags: 256 })).toEqual({ engine: 'opencv.js', reason: expect.stringMatching(/flags 0 and poly_n 5 or 7 only/) });
  });

  it('VMR_NATIVE_FLOW=0 gives OpenCV.js, and asking for native then fails with the reason', async () => {
    const saved = process.env.VMR_NATIVE_FLOW;
    process.env.VMR_NATIVE_FLOW = '0';
    try {
      expect(farnebackEngine()).toEqual({ engine: 'opencv.js', reason: 'native flow off (VMR_NATIVE_FLOW=0)' });
      const fb = await FarnebackFlow.create();
      try {
        expect(fb.engine).toBe('opencv.js');
        expect(fb.nativeStats()).toBeUndefined();
      } finally {
        fb.dispose();
      }
      await expect(FarnebackFlow.create({}, { engine: 'native' })).rejects.toThrow(/native Farnebäck flow is unavailable: native flow off \(VMR_NATIVE_FLOW=0\)/);
    } finally {
      if (saved === undefined) delete process.env.VMR_NATIVE_FLOW;
      else process.env.VMR_NATIVE_FLOW = saved;
    }
  });

  it.each([
    ['bbb_0_30.webm', 12], // Big Buck Bunny, CC-BY-3.0 Blender Foundation: black titles, then motion
    ['toy_crystal.webm', 30], // mdn crystal.webm, CC0
  ])('every consecutive 320x240 pair of %s (first %i s at 3 fps)', async (clip, seconds) => {
    const seq = await frames(sharedPath('media', 'video', clip), seconds);
    expect(seq.length).toBeGreaterThan(20);
    expect(await pairDiffs({}, seq)).toEqual([]);
  }, 120_000);

  it.each(['RubberWhale', 'Venus'])('Middlebury %s at its own size (odd pyramid sizes)', async (name) => {
    const fb = await FarnebackFlow.create({}, { engine: 'opencv.js' });
    let seq: GrayFrame[];
    try {
      const dir = sharedPath('media', 'flow', name);
      const imgs = [await readImage(path.join(dir, 'frame10.png')), await readImage(path.join(dir, 'frame11.png'))];
      seq = imgs.map((im) => fb.prepare(im, im.width, im.height).gray);
    } finally {
      fb.dispose();
    }
    // RubberWhale 584x388 (1/8: 73x48, an 8.08× vertical resize), Venus 420x380 (1/8: 52x48): not all 2× steps
    expect(await pairDiffs({}, seq)).toEqual([]);
    expect(await pairDiffs({ levels: 5 }, seq)).toEqual([]);
  }, 60_000);

  it('non-default parameters: pyr_scale 0.6, 2 levels, window 9, 2 iterations, poly_n 7 / sigma 1.5', async () => {
    const seq = (await frames(sharedPath('media', 'video', 'bbb_0_30.webm'), 14)).slice(-6);
    expect(await pairDiffs({ pyrScale: 0.6, levels: 2, winsize: 9, iterations: 2, polyN: 7, polySigma: 1.5 }, seq)).toEqual([]);
    expect(await pairDiffs({ pyrScale: 0.5, levels: 0, winsize: 20, iterations: 1, polyN: 5, polySigma: 1.1 }, seq)).toEqual([]);
  }, 60_000);
});

describe('native Farnebäck: the reused expansion of the previous frame', () => {
  beforeAll(mustHaveNative);

  it('reuses b when (a, b) is followed by (b, c), with the result of a fresh context, and never reuses changed bytes', async () => {
    const seq = (await frames(sharedPath('media', 'video', 'bbb_0_30.webm'), 14)).slice(-4);
    const [a, b, c] = seq;
    const chained = await FarnebackFlow.create({}, { engine: 'native' });
    const fresh = await FarnebackFlow.create({}, { engine: 'native' });
    try {
      chained.compute(a, b);
      const bc = chained.compute(b, c);
      expect(chained.nativeStats()).toEqual({ expanded: 3, reused: 1 });
      const one = await FarnebackFlow.create({}, { engine: 'native' });
      try {
        expect(firstDifference(bc, one.compute(b, c))).toBeUndefined();
      } finally {
        one.dispose();
      }
      // the same Uint8Array, changed in place: compared by content, so it is expanded again
      const copyOfC = new Uint8Array(c.data);
      c.data[1000] ^= 0x40;
      const changed = chained.compute(c, a);
      expect(chained.nativeStats()).toEqual({ expanded: 5, reused: 1 });
      expect(firstDifference(changed, fresh.compute(c, a))).toBeUndefined();
      c.data.set(copyOfC);
      // another frame size in between drops nothing it should not: a fresh expansion, same answer
      const small: GrayFrame = { width: 64, height: 48, data: a.data.subarray(0, 64 * 48) };
      const small2: GrayFrame = { width: 64, height: 48, data: b.data.subarray(0, 64 * 48) };
      expect(firstDifference(chained.compute(small, small2), fresh.compute(small, small2))).toBeUndefined();
    } finally {
      chained.dispose();
      fresh.dispose();
    }
  }, 60_000);

  it('dispose() frees the native context at once; using it afterwards is a clear error', async () => {
    const fb = await FarnebackFlow.create({}, { engine: 'native' });
    const f: GrayFrame = { width: 40, height: 40, data: new Uint8Array(40 * 40).fill(7) };
    fb.compute(f, f);
    expect(fb.nativeStats()).toEqual({ expanded: 2, reused: 0 });
    fb.dispose();
    fb.dispose(); // idempotent
    expect(() => fb.compute(f, f)).toThrow(/used after dispose/);
    expect(() => fb.nativeStats()).toThrow(/used after dispose/);
  });

  it('refuses frames whose byte count is not width × height', async () => {
    const fb = await FarnebackFlow.create(FARNEBACK_DEFAULTS, { engine: 'native' });
    try {
      const f: GrayFrame = { width: 40, height: 40, data: new Uint8Array(40 * 40) };
      expect(() => fb.compute(f, { width: 40, height: 40, data: new Uint8Array(40 * 39) })).toThrow(/width×height bytes/);
    } finally {
      fb.dispose();
    }
  });
});
