import * as fs from 'fs';
import * as path from 'path';
import { TimeSlotSampler, accumulatorSampleIndices, accumulatorSelectExpr, flowFpsFor } from './frame-sampling';
import { sharedPath } from '@vmr/core';

const FIX = sharedPath('fixtures', 'flow_trajectories');

describe('time-accumulator frame sampling', () => {
  it('keeps 0, 8, 17, 25 at 24 → 3 fps (float drift decides frame 17, as in the README)', () => {
    expect(accumulatorSampleIndices({ num: 24, den: 1 }, { num: 3, den: 1 }, 26)).toEqual([0, 8, 17, 25]);
  });

  it.each(['bbb_0_30', 'toy_crystal'])('reproduces the OpenCV-Python sampled indices of %s', (name) => {
    const fx = JSON.parse(fs.readFileSync(path.join(FIX, `${name}.json`), 'utf8'));
    const got = accumulatorSampleIndices({ num: fx.native_fps, den: 1 }, { num: fx.target_fps, den: 1 }, fx.n_decoded_frames);
    expect(got).toEqual(fx.sampled_frame_indices);
  });

  it('keeps every frame when native ≤ target and caps flowFps at 3', () => {
    expect(accumulatorSampleIndices({ num: 2, den: 1 }, { num: 2, den: 1 }, 5)).toEqual([0, 1, 2, 3, 4]);
    expect(flowFpsFor({ num: 30000, den: 1001 })).toEqual({ num: 3, den: 1 });
    expect(flowFpsFor({ num: 5, den: 2 })).toEqual({ num: 5, den: 2 });
  });

  it('places kept frames by presentation time: CFR = the reference decode indices (ms-rounded WebM times too)', () => {
    const fx = JSON.parse(fs.readFileSync(path.join(FIX, 'bbb_0_30.json'), 'utf8'));
    const s = new TimeSlotSampler({ num: 24, den: 1 }, { num: 3, den: 1 });
    // WebM stores milliseconds: frame i is at round(3 + 1000 i / 24) ms (Big Buck Bunny starts at 3 ms).
    const placed = (fx.sampled_frame_indices as number[]).map((i) => s.place(Math.round(3 + (1000 * i) / 24) / 1000));
    expect(placed.map((p) => p.gridIndex)).toEqual(fx.sampled_frame_indices);
    expect(placed.map((p) => p.slot)).toEqual(placed.map((_, j) => j));
    expect(placed.every((p) => p.held === 0)).toBe(true);
  });

  it('fills the slots of a variable-frame-rate gap with the frame still on screen', () => {
    const s = new TimeSlotSampler({ num: 10, den: 1 }, { num: 3, den: 1 });
    expect(s.place(0)).toMatchObject({ slot: 0, held: 0, gridIndex: 0 });
    expect(s.place(0.4)).toMatchObject({ slot: 1, held: 0, gridIndex: 4 });
    // next frame 1.6 s later: slots 2..4 (0.67, 1.0, 1.33 s) still show the 0.4 s frame; it lands in slot 6 (2.0 s)
    const p = s.place(2.0);
    expect(p).toMatchObject({ slot: 6, held: 4, gridIndex: 20 });
    expect(p.timeSec).toBeCloseTo(2.0, 12);
  });

  it('writes the same float64 steps into the ffmpeg select expression', () => {
    const e = accumulatorSelectExpr({ num: 30000, den: 1001 }, { num: 3, den: 1 });
    expect(e).toContain('st(6,(t-ld(4))*(30000/1001))');
    expect(e).toContain('round(ld(6))');
    expect(e).toContain('st(0,ld(0)+1/(30000/1001))');
    expect(e).toContain('st(1,ld(1)+1/(3/1))');
  });
});
