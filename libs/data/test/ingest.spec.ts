import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ffmpegBinaries } from '@vmr/features';
import { Dataset } from '../src/dataset/dataset';
import { ingestMedia } from '../src/ingest/ingest';
import { sharedDir } from '@vmr/core';

const SHARED = sharedDir();
const MEDIA = path.join(SHARED, 'media');

/** Media credits: Big Buck Bunny (CC-BY-3.0 Blender Foundation), mdn crystal.webm and friday.mp4 (CC0),
 *  Brahms (public domain, Musopen), Kevin MacLeod "Sugar Plum Fairy" and "Outfoxing the Fox" (CC-BY). */
describe('vmr ingest on ../shared/media (integration)', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-ingest-'));
  const bad = path.join(tmp, 'bad');
  const out = path.join(tmp, 'ds');

  beforeAll(() => {
    fs.mkdirSync(bad);
    const crystal = fs.readFileSync(path.join(MEDIA, 'video/toy_crystal.webm'));
    fs.writeFileSync(path.join(bad, 'truncated_crystal.webm'), crystal.subarray(0, crystal.length >> 1));
    fs.writeFileSync(path.join(bad, 'readme_renamed.mp4'), 'This is a text file, not a video.\n');
    // A 3 s video with a silent audio track, made by ffmpeg's test sources.
    execFileSync(ffmpegBinaries().ffmpeg, ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10', '-f', 'lavfi', '-i', 'anullsrc=r=22050:cl=mono',
      '-t', '3', '-c:v', 'mpeg4', '-c:a', 'aac', path.join(bad, 'silent.mp4')]);
  });

  it('ingests every video and music file, and reports the broken ones with reasons', async () => {
    const s = await ingestMedia({
      inputs: [path.join(MEDIA, 'video'), path.join(MEDIA, 'music'), bad],
      out,
      workers: 2,
      quiet: true,
      segments: { segments: 2, minSegmentSeconds: 3 },
    });
    expect(s.total).toBe(10);
    expect(s.videoClips).toBe(4);
    expect(s.musicTracks).toBe(3);
    const reasons = Object.fromEntries(s.failed.map((f) => [path.basename(f.source), `${f.status}:${f.reason}`]));
    expect(reasons).toEqual({
      'truncated_crystal.webm': 'failed:truncated',
      'readme_renamed.mp4': 'failed:corrupt',
      'silent.mp4': 'skipped:silent',
    });
    expect(s.failed.every((f) => f.message.includes(f.source))).toBe(true);

    const ds = Dataset.open(out);
    expect(ds.manifest.failed).toHaveLength(3);
    const bbb = ds.clip('bbb_0_30');
    expect(bbb).toMatchObject({ kind: 'video', seconds: 30, flowLength: 90, hasAudio: true, nativeFps: 24 });
    expect(bbb.source!.sha256).toBe('3f75b7340272df508ebc95ca57c8e30089069310762547b7b45c189e8b4987d5');
    // The stored trajectory is the OpenCV-parity one (float32).
    const fx = JSON.parse(fs.readFileSync(path.join(SHARED, 'fixtures/flow_trajectories/bbb_0_30.json'), 'utf8'));
    const flow = ds.flow('bbb_0_30');
    flow.forEach((v, i) => expect(Math.abs(v - fx.trajectory[i])).toBeLessThanOrEqual(1e-4 + 1e-3 * fx.trajectory[i]));
    expect([ds.videoFeatures('builtin-video', 'bbb_0_30').rows, ds.videoFeatures('builtin-video', 'bbb_0_30').cols]).toEqual([30, 32]);
    // builtin-video column 22 is the per-second mean of the trajectory (3 samples per second).
    const v = ds.videoFeatures('builtin-video', 'bbb_0_30');
    for (const sec of [5, 17, 29]) {
      const mean = (flow[3 * sec] + flow[3 * sec + 1] + flow[3 * sec + 2]) / 3;
      expect(v.data[sec * 32 + 22]).toBeCloseTo(mean, 4);
    }
    const music = ds.clip('sugar_plum_fairy');
    expect(music).toMatchObject({ kind: 'music', seconds: 119, hasAudio: true });
    expect(ds.audioFeatures('builtin-audio', 'sugar_plum_fairy').rows).toBe(119);
    expect(ds.hasFlow('sugar_plum_fairy')).toBe(false);
    // Peaks: onsets in real music, flow peaks in a moving video.
    expect(ds.peaks('yariv', 'audio', 'sugar_plum_fairy')!.length).toBeGreaterThan(50);
    expect(ds.peaks('yariv', 'video', 'toy_crystal')!.length).toBeGreaterThan(0);
    expect(ds.peaks('vmr', 'audio', 'bbb_0_30')).toBeDefined();
    expect(ds.peaks('vmr', 'video', 'bbb_0_30')).toBeUndefined();
    // segments.csv from @vmr/segmentation, one row per video clip; splits cover the video clips.
    expect(ds.segments()!.map((r) => r.vid).sort()).toEqual(['bbb_0_30', 'bbb_10s', 'friday_speech', 'toy_crystal']);
    const split = [...ds.split('train')!, ...ds.split('val')!, ...ds.split('test')!].sort();
    expect(split).toEqual(['bbb_0_30', 'bbb_10s', 'friday_speech', 'toy_crystal']);
  });

  it('resumes: finished clips are skipped, failures are retried, nothing half-written is left', async () => {
    const before = fs.statSync(path.join(out, 'flow/bbb_0_30.npy')).mtimeMs;
    const s = await ingestMedia({ inputs: [path.join(MEDIA, 'video'), path.join(MEDIA, 'music'), bad], out, workers: 1, quiet: true, segments: false, split: false });
    expect(s.resumed).toBe(7);
    expect(s.ingested).toBe(0);
    expect(s.failed).toHaveLength(3);
    expect(fs.statSync(path.join(out, 'flow/bbb_0_30.npy')).mtimeMs).toBe(before);
    const walk = (d: string): string[] => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [e.name]));
    expect(walk(out).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});
