import { sharedPath } from '@vmr/core';
import { featuresAddon, featuresAddonError } from '../native-addon';
import { type PreparedFrame, analyzeVideo } from '../flow/trajectory';
import { BUILTIN_VIDEO_COLUMNS, builtinVideoFrameVector } from './builtin-video';

/**
 * builtin-video's frame sums in the features addon (libs/features/native/frame_stats.cc) against the
 * TypeScript loops they replace: every one of the 32 values of every frame must be the same double
 * (compared with Object.is; no tolerance), with and without flow and a previous frame.
 */
describe('builtin-video frame vector: native sums = TypeScript sums, bit for bit', () => {
  beforeAll(() => {
    if (!featuresAddon()) throw new Error(`the features addon is not available: ${featuresAddonError()} — run \`node libs/core/native/build.js\` (needs g++ or clang++)`);
  });

  it.each([
    ['bbb_0_30.webm', 15], // Big Buck Bunny, CC-BY-3.0 Blender Foundation
    ['toy_crystal.webm', 10], // mdn crystal.webm, CC0
  ])('every sampled frame of %s (first %i s)', async (clip, seconds) => {
    const frames: PreparedFrame[] = [];
    await analyzeVideo(sharedPath('media', 'video', clip), {
      maxSeconds: seconds,
      onFrame: (f) => void frames.push({ ...f, bgr: new Uint8Array(f.bgr), gray: { ...f.gray, data: new Uint8Array(f.gray.data) } }),
    });
    expect(frames.length).toBeGreaterThan(20);
    expect(frames.filter((f) => f.flowFromPrev).length).toBe(frames.length - 1);
    const bad: string[] = [];
    let prev: Uint8Array | undefined;
    for (const [i, f] of frames.entries()) {
      const a = builtinVideoFrameVector(f, prev);
      const b = builtinVideoFrameVector(f, prev, { native: false });
      a.forEach((x, d) => {
        if (!Object.is(x, b[d])) bad.push(`frame ${i} ${BUILTIN_VIDEO_COLUMNS[d]}: native ${x} vs TypeScript ${b[d]}`);
      });
      prev = f.gray.data;
    }
    expect(bad).toEqual([]);
    // the vectors are not trivially equal: colour, gradient, flow and difference columns all vary
    const v = builtinVideoFrameVector(frames[frames.length - 1], frames[frames.length - 2].gray.data);
    expect(v[0]).toBeGreaterThan(0);
    expect(v[16]).toBeGreaterThan(0);
    expect(v[22]).toBeGreaterThan(0);
    expect(v[31]).toBeGreaterThan(0);
  }, 60_000);

  it('refuses a flow field or previous frame of the wrong size instead of reading past it', () => {
    const w = 8, h = 6;
    const frame: PreparedFrame = {
      sampleIndex: 0, decodeIndex: 0, timeSec: 0, held: false,
      bgr: new Uint8Array(w * h * 3), gray: { width: w, height: h, data: new Uint8Array(w * h) },
      flowFromPrev: { width: w, height: h, data: new Float32Array(w * h) },
    };
    expect(() => builtinVideoFrameVector(frame)).toThrow(/flow field has 48 floats, expected 96/);
    expect(() => builtinVideoFrameVector({ ...frame, flowFromPrev: undefined }, new Uint8Array(5))).toThrow(/previous grey frame has 5 bytes/);
  });
});
