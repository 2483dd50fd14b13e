import { InvalidArgumentError } from '@vmr/core';
import { avAlign, avAlignFromPeaks, findPeaks, localMaxima, matchPeaks, videoPeakTimes, withinWindow } from './av-align';

describe('AV-Align: hand-computable cases from the issue', () => {
  it('A=[0.5,1.0,1.5], V=[0.5,1.52], fps 25 → 2 matches / 3 = 0.6667', () => {
    for (const variant of ['yariv', 'vmr'] as const) {
      const r = avAlignFromPeaks([0.5, 1.0, 1.5], [0.5, 1.52], 25, variant);
      expect(r.score).toBeCloseTo(2 / 3, 12);
      expect(r.matches).toEqual([
        { audio: 0.5, video: 0.5 },
        { audio: 1.5, video: 1.52 },
      ]);
    }
  });
  it('A=[1.0,1.01], V=[1.0] → 0.5: a video peak matches only one audio peak', () => {
    const r = avAlignFromPeaks([1.0, 1.01], [1.0], 25, 'yariv');
    expect(r.matches).toHaveLength(1);
    expect(r.score).toBe(0.5);
  });
  it('A=[1.0625], V=[1.0], fps 16 (distance exactly 1/16): yariv strict → 0, vmr inclusive → 1', () => {
    expect(avAlignFromPeaks([1.0625], [1.0], 16, 'yariv').score).toBe(0);
    expect(avAlignFromPeaks([1.0625], [1.0], 16, 'vmr').score).toBe(1);
  });
  it('floating point: 1.04 − 1.0 (= 0.04000000000000004) vs the 1/25 window counts as on the edge', () => {
    expect(1.04 - 1.0).toBeGreaterThan(1 / 25); // the trap
    expect(avAlignFromPeaks([1.04], [1.0], 25, 'yariv').score).toBe(0);
    expect(avAlignFromPeaks([1.04], [1.0], 25, 'vmr').score).toBe(1);
    // frame-derived times: 26/25 − 25/25 is the same edge case
    expect(withinWindow(26 / 25, 1, 1 / 25, true)).toBe(true);
    expect(withinWindow(26 / 25, 1, 1 / 25, false)).toBe(false);
    // clearly inside / outside are unaffected by the tolerance
    expect(withinWindow(1.0399, 1, 0.04, false)).toBe(true);
    expect(withinWindow(1.0401, 1, 0.04, true)).toBe(false);
  });
  it('both sets empty → 0; one set empty → 0', () => {
    expect(avAlignFromPeaks([], [], 25).score).toBe(0);
    expect(avAlignFromPeaks([1], [], 25).score).toBe(0);
    expect(avAlignFromPeaks([], [1], 25, 'vmr').score).toBe(0);
  });
  it('greedy order: earliest audio peak takes the earliest free video peak in its window', () => {
    // V=[1.00, 1.03], A=[1.02, 1.05] at 25 fps: 1.02 takes 1.00, 1.05 takes 1.03 → 2 matches
    expect(matchPeaks([1.05, 1.02], [1.03, 1.0], 0.04, false)).toEqual([
      { audio: 1.02, video: 1.0 },
      { audio: 1.05, video: 1.03 },
    ]);
  });
});

describe('video peaks', () => {
  it('yariv: strict local maxima ≥ 0.1 at i/fps', () => {
    const flow = [0, 0.5, 0.2, 0.05, 0.09, 0.08, 0.3, 0.3, 0.1, 0.9];
    expect(localMaxima(flow)).toEqual([1]); // 0.09 < 0.1; plateau 0.3,0.3 is not strict; last sample never
    expect(videoPeakTimes(flow, 4, 'yariv')).toEqual([0.25]);
  });
  it('findPeaks matches scipy.signal.find_peaks (values computed with SciPy 1.17)', () => {
    const x = [0, 2, 2, 2, 1, 0, 3, 0, 1, 1, 0, 5, 4, 5, 0, 0.5, 1.5, 1.5, 0];
    expect(findPeaks(x)).toEqual([2, 6, 8, 11, 13, 16]);
    expect(findPeaks(x, { height: 1.5 })).toEqual([2, 6, 11, 13, 16]);
    expect(findPeaks(x, { distance: 3 })).toEqual([2, 6, 13, 16]);
    expect(findPeaks(x, { height: 1, distance: 4.5 })).toEqual([6, 13]);
    expect(findPeaks([0, 1, 0, 1, 0, 1, 0], { distance: 2 })).toEqual([1, 3, 5]);
    expect(findPeaks([0, 1, 0, 1, 0, 1, 0], { distance: 3 })).toEqual([1, 5]);
  });
  it('vmr: height ≥ 1 and 3 s apart at the series rate', () => {
    // fps 2 → distance 6 samples; peaks at 2 (h 1.5), 5 (h 3), 12 (h 2), 14 (h 0.8 < 1)
    const flow = new Array(16).fill(0);
    flow[2] = 1.5;
    flow[5] = 3;
    flow[12] = 2;
    flow[14] = 0.8;
    expect(videoPeakTimes(flow, 2, 'vmr')).toEqual([2.5, 6]);
  });
  it('avAlign picks video peaks from the flow series then matches', () => {
    const flow = [0, 1, 0, 0, 2, 0, 0, 0]; // peaks at samples 1 and 4 → 0.25 s, 1.0 s at 4 fps
    const r = avAlign(flow, 4, [0.3, 2.0], 'yariv');
    expect(r.videoPeaks).toEqual([0.25, 1.0]);
    expect(r.matches).toEqual([{ audio: 0.3, video: 0.25 }]);
    expect(r.score).toBeCloseTo(1 / 3, 12);
    expect(r.window).toBe(0.25);
  });
});

describe('AV-Align: bad input', () => {
  it('rejects bad fps, non-finite times and unknown variants', () => {
    expect(() => avAlignFromPeaks([1], [1], 0)).toThrow(InvalidArgumentError);
    expect(() => avAlignFromPeaks([NaN], [1], 25)).toThrow(/audio peaks: value 0/);
    expect(() => avAlignFromPeaks([1], [1], 25, 'other' as never)).toThrow(/unknown variant/);
    expect(() => findPeaks([0, 1, 0], { distance: 0.5 })).toThrow(/distance/);
  });
});
