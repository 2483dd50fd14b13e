import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { InvalidArgumentError } from '@vmr/core';
import { Dataset, DatasetWriter } from '../dataset/dataset';
import { calibrateDataset } from './calibrate';

describe('calibrateDataset', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-calibrate-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('measures hand-computable statistics of a two-clip dataset', () => {
    const w = DatasetWriter.create(path.join(tmp, 'ds'), { name: 'hand', kind: 'media', flowFps: 3 });
    w.setPeakVariant('yariv', { video: true, audio: true, description: 'hand-made' });
    // Clip a: 4 s, flow 1,1,1 | 3,3,3 | 1,1,1 | 3,3,3 → per-second means 1,3,1,3: mean 2, std 1, CV 0.5.
    const flowA = [1, 1, 1, 3, 3, 3, 1, 1, 1, 3, 3, 3];
    // Clip b: 4 s, constant flow 2: CV 0.
    const flowB = new Array(12).fill(2);
    w.writeFlow('a', flowA);
    w.writeFlow('b', flowB);
    // a: video peaks 1, 2; own onsets 1.1, 3.0 → 1 match (|1.1 − 1| < 1/3), union 2 + 2 − 1 = 3 → 1/3.
    w.writePeaks('yariv', 'video', 'a', [1, 2]);
    w.writePeaks('yariv', 'audio', 'a', [1.1, 3.0]);
    // b: video peak 3; own onsets 0.5, 1.5, 2.5, 3.9 (3.9 ≤ 4 s) → none within 1/3 s of 3: GOT 0.
    w.writePeaks('yariv', 'video', 'b', [3]);
    w.writePeaks('yariv', 'audio', 'b', [0.5, 1.5, 2.5, 3.9]);
    for (const id of ['a', 'b']) w.addClip({ id, kind: 'video', durationSec: 4, seconds: 4, flowLength: 12, hasAudio: true });
    w.close();
    const r = calibrateDataset(Dataset.open(path.join(tmp, 'ds')));
    const a = r.perClip.find((c) => c.id === 'a')!;
    const b = r.perClip.find((c) => c.id === 'b')!;
    expect(a.gotAlign).toBeCloseTo(1 / 3, 12);
    expect(b.gotAlign).toBe(0);
    // a's video with b's music: onsets 0.5, 1.5, 2.5, 3.9 vs peaks 1, 2 → no |Δ| < 1/3 → 0.
    expect(a.otherAlign).toBe(0);
    // b's video (peak 3) with a's music (1.1, 3.0): 1 match, union 2 + 1 − 1 = 2 → 0.5.
    expect(b.otherAlign).toBeCloseTo(0.5, 12);
    expect(a.onsetRate).toBeCloseTo(0.5, 12);
    expect(b.onsetRate).toBeCloseTo(1, 12);
    expect(a.videoPeakRate).toBeCloseTo(0.5, 12);
    expect(a.flowMean).toBeCloseTo(2, 6);
    expect(a.flowCv).toBeCloseTo(0.5, 6);
    expect(b.flowCv).toBe(0);
    // Lag-1 autocorrelation of a: deviations ±1 in runs of 3 → Σ x_t x_{t−1} = 11 − 2·3 = 5 over 12 → 5/12.
    expect(a.flowLag1).toBeCloseTo(5 / 12, 6);
    expect(r.stats.gotAlign.mean).toBeCloseTo(1 / 6, 12);
    expect(r.stats.onsetRate).toEqual({ mean: 0.75, min: 0.5, max: 1 });
    // 4 s clips are shorter than two 3-s segments: one segment of 4 s each.
    expect(a.segmentSeconds).toEqual([4]);
  });

  it('refuses a dataset without yariv audio peaks, naming the directory', () => {
    const dir = path.join(tmp, 'nopeaks');
    DatasetWriter.create(dir, { name: 'x', kind: 'media', flowFps: 3 }).close();
    expect(() => calibrateDataset(Dataset.open(dir))).toThrow(InvalidArgumentError);
    expect(() => calibrateDataset(Dataset.open(dir))).toThrow(/nopeaks.*yariv/);
  });
});
