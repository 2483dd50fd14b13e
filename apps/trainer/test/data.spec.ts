import * as fs from 'fs';
import { Dataset } from '@vmr/data';
import { batchPadLength, clipMeans, parseTrainConfig, prepareData, segmentBatch, type PreparedClip } from '@vmr/pipeline';
import { tinyDataset, tmpDir } from './fixture';

// two clips, Dv = 2, Da = 1; clip a: 4 s, clip b: 3 s; S = 2 segments each
const a: PreparedClip = {
  id: 'a',
  seconds: 4,
  video: Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]),
  audio: Float32Array.from([10, 20, 30, 40]),
  segments: [
    [0, 1],
    [1, 4],
  ],
  ranks: [2, 1],
};
const b: PreparedClip = {
  id: 'b',
  seconds: 3,
  video: Float32Array.from([-1, -2, -3, -4, -5, -6]),
  audio: Float32Array.from([1, 2, 3]),
  segments: [
    [0, 2],
    [2, 3],
  ],
  ranks: [1, 2],
};
const dims = { videoDim: 2, audioDim: 1 };

describe('batching', () => {
  it('segmentBatch lays out [B, S, L, D] with a key-padding mask and ranks', () => {
    const L = batchPadLength([a, b], 'masked-mean', 200);
    expect(L).toBe(3); // longest segment: a's [1, 4)
    expect(batchPadLength([a, b], 'mean-all', 200)).toBe(200);
    const batch = segmentBatch([a, b], dims, 2, L);
    expect(Array.from(batch.mask as Float32Array)).toEqual([1, 0, 0, 1, 1, 1, 1, 1, 0, 1, 0, 0]);
    expect(Array.from(batch.ranks)).toEqual([2, 1, 1, 2]);
    const v = batch.video as { data: Float32Array; shape: number[] };
    expect(v.shape).toEqual([2, 2, 3, 2]);
    // clip a segment 1 = seconds 1..3 → rows [3,4],[5,6],[7,8]
    expect(Array.from(v.data.subarray(6, 12))).toEqual([3, 4, 5, 6, 7, 8]);
    // clip b segment 0 = seconds 0..1 then padding
    expect(Array.from(v.data.subarray(12, 18))).toEqual([-1, -2, -3, -4, 0, 0]);
    const au = batch.audio as { data: Float32Array; shape: number[] };
    expect(Array.from(au.data)).toEqual([10, 0, 0, 20, 30, 40, 1, 2, 0, 3, 0, 0]);
  });

  it('clipMeans averages over the clip seconds', () => {
    const m = clipMeans([a, b], dims);
    expect(Array.from(m.video)).toEqual([4, 5, -3, -4]);
    expect(Array.from(m.audio)).toEqual([25, 2]);
  });
});

describe('prepareData', () => {
  const dir = tinyDataset(tmpDir('vmr-data-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('uses segments.csv when its parameters match, else plans from the flow ', () => {
    const ds = Dataset.open(dir);
    const cfg = parseTrainConfig({ dataset: dir, features: 'clip', segmentation: { segments: 3, maxSegmentSeconds: 60, padLength: 60 } });
    const fromCsv = prepareData(ds, 'train', cfg);
    expect(fromCsv.segmentSource).toBe('dataset');
    expect(fromCsv.clips.length).toBeGreaterThan(10);
    expect(fromCsv.videoDim).toBe(512);
    expect(fromCsv.audioDim).toBe(128);
    expect(fromCsv.synthetic).toBe(true);
    // a different jump grid cannot reuse segments.csv: planned here with jump 2 s
    const cfg2 = parseTrainConfig({ ...cfg, segmentation: { ...cfg.segmentation, jumpSeconds: 2 } });
    const planned = prepareData(ds, 'train', cfg2);
    expect(planned.segmentSource).toBe('planned');
    for (const c of planned.clips) {
      expect(c.segments.length).toBe(3);
      expect(c.segments[0][0]).toBe(0);
      expect(c.segments[2][1]).toBe(c.seconds);
      expect([...c.ranks].sort()).toEqual([1, 2, 3]);
      for (const [s, e] of c.segments) expect(e - s).toBeGreaterThanOrEqual(10);
    }
  });

  it('names a missing extractor', () => {
    const ds = Dataset.open(dir);
    const cfg = parseTrainConfig({ dataset: dir, features: 'resnet' });
    expect(() => prepareData(ds, 'train', cfg)).toThrow(/no video extractor 'resnet' \(it has: clip\)/);
  });
});
