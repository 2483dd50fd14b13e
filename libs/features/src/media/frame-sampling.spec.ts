import * as fs from 'fs';
import * as path from 'path';
import { accumulatorSampleIndices, accumulatorSelectExpr, flowFpsFor } from './frame-sampling';
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

  it('writes the same steps into the ffmpeg select expression', () => {
    expect(accumulatorSelectExpr({ num: 30000, den: 1001 }, { num: 3, den: 1 })).toBe(
      'st(2,gte(ld(0),ld(1)));if(ld(2),st(1,ld(1)+1/(3/1)));st(0,ld(0)+1/(30000/1001));ld(2)',
    );
  });
});
