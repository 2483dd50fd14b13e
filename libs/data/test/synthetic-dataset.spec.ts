import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConflictError, ConfigError, InvalidArgumentError } from '@vmr/core';
import { Dataset } from '../src/dataset/dataset';
import {
  SYNTH_TRUTH_FILE,
  clipAudioFeatures,
  clipVideoFeatures,
  createSyntheticGenerator,
  writeSyntheticDataset,
} from '../src/synthetic';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-synth-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('writeSyntheticDataset', () => {
  it('writes a kind: synthetic dataset whose files equal the in-memory generator, with segments, peaks, splits and truth', () => {
    const out = path.join(tmp, 'a');
    const s = writeSyntheticDataset({ out, preset: 'himv-like', clips: 12, seed: 5, views: ['clip', 'i3d'] });
    expect(s.clips).toBe(12);
    expect(s.written).toBe(12);
    const ds = Dataset.open(out);
    const m = ds.manifest;
    expect(m.kind).toBe('synthetic');
    expect(m.flowFps).toBe(3);
    expect(m.extractors.map((e) => [e.modality, e.name, e.dim, e.synthetic])).toEqual([
      ['video', 'clip', 512, true],
      ['video', 'i3d', 2048, true],
      ['audio', 'vggish', 128, true],
    ]);
    for (const e of m.extractors) expect(e.provenance).toMatch(/^SYNTHETIC stand-in/);
    expect(m.peaks.yariv.description).toMatch(/SYNTHETIC/);
    expect((m.provenance.synthetic as { preset: string }).preset).toBe('himv-like');

    const gen = createSyntheticGenerator({ preset: 'himv-like', seed: 5 });
    const c3 = gen.clip(3);
    const id = c3.truth.id;
    expect(ds.clip(id).seconds).toBe(c3.truth.duration);
    const same = (a: Float32Array, b: Float32Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
    expect(same(ds.videoFeatures('i3d', id).data, clipVideoFeatures(c3.truth, gen.config, gen.world, 'i3d'))).toBe(true);
    expect(same(ds.audioFeatures('vggish', id).data, clipAudioFeatures(c3.truth, gen.config, gen.world))).toBe(true);
    expect(Array.from(ds.flow(id))).toEqual(Array.from(c3.truth.flow));
    expect(Array.from(ds.peaks('yariv', 'audio', id)!)).toEqual(Array.from(c3.truth.onsets));
    expect(Array.from(ds.peaks('yariv', 'video', id)!)).toEqual(Array.from(c3.videoPeaks));

    // segments.csv: one row per planned clip, the rest recorded as skipped with the planner's reason.
    const rows = ds.segments()!;
    const skipped = m.segments!.skipped;
    expect(rows.length + skipped.length).toBe(12);
    for (const sk of skipped) expect(sk.reason).toMatch(/^too-short/);
    const row = rows.find((r) => r.vid === id);
    if (c3.plan.status === 'ok') expect(row!.segments).toEqual(c3.plan.segments.map((x) => [x.start, x.end]));

    // Splits follow the generator's per-clip split; ground truth in meta and in the jsonl file.
    const all = [...ds.split('train')!, ...ds.split('val')!, ...ds.split('test')!].sort();
    expect(all).toEqual(ds.clipIds.slice().sort());
    expect(ds.split(c3.truth.split)).toContain(id);
    const meta = ds.clip(id).meta!.synthetic as { styleCluster: number; changePoints: number[]; highMotion: { start: number } };
    expect(meta.styleCluster).toBe(c3.truth.styleCluster);
    expect(meta.changePoints).toEqual(c3.truth.changePoints);
    expect(meta.highMotion.start).toBe(c3.truth.regimes[c3.truth.highMotion].start);
    const lines = fs.readFileSync(path.join(out, SYNTH_TRUTH_FILE), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.id)).toEqual(ds.clipIds);
    expect(lines[3].videoStyle).toHaveLength(16);
    expect(lines[3].musicStyle[0]).toBeCloseTo(c3.truth.musicStyle[0], 4);
  });

  it('refuses to overwrite silently, resumes without rewriting finished clips, validates views and config first', () => {
    const out = path.join(tmp, 'b');
    writeSyntheticDataset({ out, preset: 'symmv-like', clips: 3, seed: 1, views: ['clip'] });
    expect(() => writeSyntheticDataset({ out, preset: 'symmv-like', clips: 3, seed: 1, views: ['clip'] })).toThrow(ConflictError);
    const f = path.join(out, 'video', 'clip', 'synsymmv-000000.npy');
    const before = fs.statSync(f).mtimeMs;
    const s = writeSyntheticDataset({ out, preset: 'symmv-like', clips: 5, seed: 1, views: ['clip'], existing: 'resume' });
    expect(s.written).toBe(2);
    expect(fs.statSync(f).mtimeMs).toBe(before);
    const ds = Dataset.open(out);
    expect(ds.clipIds).toHaveLength(5);
    // symmv-like is an all-test (out-of-distribution) set.
    expect(ds.split('test')).toHaveLength(5);

    const bad = path.join(tmp, 'c');
    expect(() => writeSyntheticDataset({ out: bad, preset: 'himv-like', clips: 2, seed: 1, views: ['vggish'] })).toThrow(InvalidArgumentError);
    expect(() => writeSyntheticDataset({ out: bad, preset: 'himv-like', clips: 2, seed: 1, overrides: { minDuration: 0 } })).toThrow(ConfigError);
    expect(() => writeSyntheticDataset({ out: bad, preset: 'himv-like', clips: 0, seed: 1 })).toThrow(/--clips/);
    expect(fs.existsSync(bad)).toBe(false);
  });
});
