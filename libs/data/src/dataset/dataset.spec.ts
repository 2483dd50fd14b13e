import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConflictError, FileFormatError, InvalidArgumentError, NotFoundError, writeNpy } from '@vmr/core';
import { Dataset, DatasetWriter, clipIdFromName, parseManifest } from './dataset';
import { assignSplits, parseSplitFractions } from './splits';

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-ds-'));
}

function matrix(rows: number, cols: number, f: (r: number, c: number) => number) {
  const data = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) data[r * cols + c] = f(r, c);
  return { rows, cols, data };
}

function makeSmall(dir: string): DatasetWriter {
  const w = DatasetWriter.create(dir, {
    name: 'tiny',
    kind: 'media',
    flowFps: 3,
    extractors: [
      { name: 'builtin-video', modality: 'video', dim: 4, fps: 1, provenance: 'test' },
      { name: 'builtin-audio', modality: 'audio', dim: 2, fps: 1, provenance: 'test' },
    ],
  });
  w.writeFeatures('video', 'builtin-video', 'a', matrix(3, 4, (r, c) => r * 10 + c));
  w.writeFeatures('audio', 'builtin-audio', 'a', matrix(3, 2, (r, c) => -r - c / 2));
  w.writeFlow('a', [0.5, 0.5, 1, 2, 3, 2, 1, 0.5, 0.25]);
  w.writePeaks('yariv', 'video', 'a', [1, 1.6666666666666667]);
  w.addClip({ id: 'a', kind: 'video', durationSec: 3.2, seconds: 3, flowLength: 9, hasAudio: true });
  w.writeFeatures('audio', 'builtin-audio', 'm', matrix(2, 2, () => 1));
  w.addClip({ id: 'm', kind: 'music', durationSec: 2.5, seconds: 2, hasAudio: true });
  return w;
}

describe('dataset directory (DESIGN.md §2.1)', () => {
  it('writes and reads back features, flow, peaks, segments and splits', () => {
    const dir = tmp();
    const w = makeSmall(dir);
    w.writeSegments([{ vid: 'a', ranks: [2, 1], segments: [[0, 1], [1, 3]], topStart: 1, topEnd: 3, bottomStart: 0, bottomEnd: 1 }], { S: 2 });
    w.writeSplits({ train: ['a'], val: [], test: ['m'] });
    const ds = w.close();
    expect(ds.clipIds).toEqual(['a', 'm']);
    const v = ds.videoFeatures('builtin-video', 'a');
    expect([v.rows, v.cols]).toEqual([3, 4]);
    expect(v.data[2 * 4 + 3]).toBe(23);
    expect(ds.audioFeatures('builtin-audio', 'a').data[5]).toBe(-2.5);
    expect(Array.from(ds.flow('a'))).toEqual([0.5, 0.5, 1, 2, 3, 2, 1, 0.5, 0.25]);
    expect(Array.from(ds.peaks('yariv', 'video', 'a')!)).toEqual([1, 1.6666666666666667]); // float64 kept
    expect(ds.peaks('yariv', 'audio', 'a')).toBeUndefined();
    expect(ds.segments()![0]).toMatchObject({ vid: 'a', ranks: [2, 1], topStart: 1, topEnd: 3 });
    expect(ds.split('test')).toEqual(['m']);
    expect(ds.manifest.splits).toEqual({ train: 1, val: 0, test: 1 });
    // No temp files left anywhere.
    const walk = (d: string): string[] => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [e.name]));
    expect(walk(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect(Dataset.open(dir).manifest.format).toBe('vmr-dataset');
  });

  it('refuses to list a clip before its files exist, and wrong feature widths', () => {
    const w = makeSmall(tmp());
    expect(() => w.addClip({ id: 'b', kind: 'video', durationSec: 2, seconds: 2, hasAudio: false })).toThrow(/must be written before/);
    expect(() => w.writeFeatures('video', 'builtin-video', 'b', matrix(2, 5, () => 0))).toThrow(InvalidArgumentError);
    expect(() => w.writeFeatures('video', 'builtin-video', 'b', matrix(2, 4, () => NaN))).toThrow(/must be finite/);
    expect(() => w.writeFlow('../evil', [1])).toThrow(/invalid clip id/);
    expect(() => w.addClip({ id: 'a', kind: 'music', durationSec: 2, seconds: 2, hasAudio: true })).toThrow(ConflictError);
  });

  it('detects files that disagree with the manifest, naming them', () => {
    const dir = tmp();
    makeSmall(dir).close();
    writeNpy(path.join(dir, 'video/builtin-video/a.npy'), new Float32Array(8), [2, 4]);
    const ds = Dataset.open(dir);
    expect(() => ds.videoFeatures('builtin-video', 'a')).toThrow(/a\.npy: 2 rows but clip a has 3 s/);
    expect(() => ds.videoFeatures('resnet', 'a')).toThrow(NotFoundError);
    expect(() => ds.clip('zzz')).toThrow(NotFoundError);
  });

  it('validates dataset.json with zod and names the bad key', () => {
    const dir = tmp();
    makeSmall(dir).close();
    const file = path.join(dir, 'dataset.json');
    const j = JSON.parse(fs.readFileSync(file, 'utf8'));
    j.clips[0].seconds = -1;
    fs.writeFileSync(file, JSON.stringify(j));
    expect(() => Dataset.open(dir)).toThrow(FileFormatError);
    expect(() => Dataset.open(dir)).toThrow(/clips\.0\.seconds/);
    fs.writeFileSync(file, '{ not json');
    expect(() => Dataset.open(dir)).toThrow(/not valid JSON/);
    expect(() => Dataset.open(tmp())).toThrow(/dataset\.json is missing/);
    expect(() => parseManifest({ format: 'other' })).toThrow(FileFormatError);
  });

  it('resumes an existing dataset and keeps its clips; refuses by default', () => {
    const dir = tmp();
    makeSmall(dir).close();
    expect(() => DatasetWriter.create(dir, { name: 'x', kind: 'media', flowFps: 3 })).toThrow(ConflictError);
    const w = DatasetWriter.create(dir, {
      name: 'tiny',
      kind: 'media',
      flowFps: 3,
      existing: 'resume',
      extractors: [{ name: 'builtin-video', modality: 'video', dim: 4, fps: 1, provenance: 'test' }],
    });
    expect(w.hasClip('a')).toBe(true);
    expect(w.uniqueClipId('a.mp4')).toBe('a_2');
    expect(() =>
      DatasetWriter.create(dir, { name: 'tiny', kind: 'media', flowFps: 3, existing: 'resume', extractors: [{ name: 'builtin-video', modality: 'video', dim: 9, fps: 1, provenance: 't' }] }),
    ).toThrow(/dim 4/);
  });

  it('derives safe clip ids and deterministic splits', () => {
    expect(clipIdFromName('/x/My Clip (1).mp4')).toBe('My_Clip_1_');
    expect(clipIdFromName('.hidden.webm')).toBe('hidden');
    const ids = Array.from({ length: 10 }, (_, i) => `c${i}`);
    const s1 = assignSplits(ids, parseSplitFractions('8,1,1'), 7);
    const s2 = assignSplits([...ids].reverse(), parseSplitFractions('0.8,0.1,0.1'), 7);
    expect(s1).toEqual(s2);
    expect([s1.train.length, s1.val.length, s1.test.length]).toEqual([8, 1, 1]);
    expect(new Set([...s1.train, ...s1.val, ...s1.test]).size).toBe(10);
    expect(() => parseSplitFractions('1,2')).toThrow(InvalidArgumentError);
  });
});
