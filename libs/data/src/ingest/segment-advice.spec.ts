import { adviseSegmentation } from './segment-advice';

describe('short-clip advice (the largest --segments / --min-segment-seconds that fit most clips)', () => {
  it('proposes by hand-computed sample counts (3 fps; S segments of m s on a 1 s grid need 3·S·m samples)', () => {
    // 100, 50, 30, 20, 15 s clips; 10 × 10 s needs 300 samples: only the first fits.
    const a = adviseSegmentation([300, 150, 90, 60, 45], { flowFps: 3, dataset: 'data/x' })!;
    expect(a).toMatchObject({ tooShort: 4, total: 5, segments: 10, minSegmentSeconds: 10, neededSeconds: 100, share: 0.8 });
    // ≥ 80 % = 4 clips: the 4th longest has 60 samples → --segments 2 (60) or --min-segment-seconds 2 (10 × 2 s = 60).
    expect(a.proposals).toEqual([
      { segments: 2, minSegmentSeconds: 10, fits: 4, flags: '--segments 2' },
      { segments: 10, minSegmentSeconds: 2, fits: 4, flags: '--min-segment-seconds 2' },
    ]);
    expect(a.message).toBe(
      '4 of 5 video clips are too short for --segments 10 × --min-segment-seconds 10 (a clip needs ≥ 100 s), so they have no row in segments.csv. ' +
        'To segment most of them (≥ 80 %) without re-ingesting: `vmr segment-dataset data/x --segments 2` (fits 4 of 5) or ' +
        '`vmr segment-dataset data/x --min-segment-seconds 2` (fits 4 of 5).',
    );
  });

  it('is silent when every clip fits, and says so when nothing fits most', () => {
    expect(adviseSegmentation([300, 400], { flowFps: 3 })).toBeUndefined();
    const a = adviseSegmentation([2, 2, 2], { flowFps: 3, segments: 2, minSegmentSeconds: 1 })!;
    expect(a.proposals).toEqual([]);
    expect(a.message).toContain('Even --segments 1 --min-segment-seconds 1 fits fewer than 80 % of them.');
  });
});
