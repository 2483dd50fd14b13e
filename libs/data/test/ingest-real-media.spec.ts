import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { analyzeVideo, ffmpegBinaries, probeMedia } from '@vmr/features';
import { Dataset } from '../src/dataset/dataset';
import { ingestMedia, segmentDataset } from '../src/ingest/ingest';
import { DatasetWriter } from '../src/dataset/dataset';

/**
 * Issue 20: media as users have it. Every clip here is made by the test with ffmpeg's own sources
 * (lavfi color/testsrc/aevalsrc), so nothing third-party is re-encoded.
 */
const ff = (args: string[]): void => {
  execFileSync(ffmpegBinaries().ffmpeg, ['-v', 'error', '-y', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
};

describe('variable frame rate: timestamps, not frame counts', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-vfr-'));
  const clip = path.join(tmp, 'vfr', 'vfr_5_then_30fps.mkv');

  beforeAll(() => {
    const dir = path.dirname(clip);
    fs.mkdirSync(dir);
    const parts = path.join(tmp, 'parts');
    fs.mkdirSync(parts);
    // 3 s at 5 fps then 3 s at 30 fps (105 frames over 6 s), joined by the concat demuxer without
    // re-encoding (each part keeps its timestamps): black except a white flash at 4.5–5.2 s, with a 440 Hz
    // tone burst at exactly the same time on the audio track. The muxer starts the video 46 ms after the
    // audio, as real files often do.
    ff(['-f', 'lavfi', '-i', 'color=c=black:s=160x120:r=5:d=3', '-c:v', 'mpeg4', '-q:v', '3', path.join(parts, 'a.mkv')]);
    ff(['-f', 'lavfi', '-i', "color=c=black:s=160x120:r=30:d=3,drawbox=enable='between(t,1.5,2.2)':c=white:t=fill", '-c:v', 'mpeg4', '-q:v', '3', path.join(parts, 'b.mkv')]);
    fs.writeFileSync(path.join(parts, 'list.txt'), "file 'a.mkv'\nfile 'b.mkv'\n");
    ff([
      '-f', 'concat', '-safe', '0', '-i', path.join(parts, 'list.txt'),
      '-f', 'lavfi', '-i', "aevalsrc='if(between(t,4.5,5.2),0.5*sin(2*PI*440*t),0)':s=22050:d=6",
      '-map', '0:v', '-map', '1:a', '-c:v', 'copy', '-c:a', 'aac', '-b:a', '96k', clip,
    ]);
  });

  it('is a real VFR file: the nominal frame rate times the frame count is not its duration', async () => {
    const info = await probeMedia(clip);
    expect(info.durationSec).toBeGreaterThan(5.9);
    expect(info.durationSec).toBeLessThan(6.2);
    // 105 frames: at the probed rate the old frame-count clock would put the flash (frame 60) at 60 / fps.
    expect(Math.abs(60 / info.video!.fps - 4.5)).toBeGreaterThan(0.5);
  });

  it('samples by presentation time: 3 samples per second of media time, the flash at 4.5–5.2 s', async () => {
    const a = await analyzeVideo(clip);
    expect(a.flowFps).toBe(3);
    expect(a.trajectory).toHaveLength(18); // 6 s × 3
    a.sampleTimes.forEach((t, i) => expect(Math.abs(t - i / 3)).toBeLessThan(0.2 + 1e-9)); // ≤ one 5-fps frame late
    const white = a.grayMeans.map((g, i) => (g > 128 ? i : -1)).filter((i) => i >= 0);
    expect(white).toEqual([14, 15]); // the slots at 4.67 s and 5.0 s (the flash is 4.5–5.2 s on the file's clock)
    expect(a.videoStartSec).toBeGreaterThanOrEqual(0);
    expect(a.videoStartSec).toBeLessThan(0.1);
  });

  it('ingests with the right duration, and audio aligned with video to within one flow sample', async () => {
    const out = path.join(tmp, 'ds');
    const s = await ingestMedia({ inputs: [path.dirname(clip)], out, workers: 0, quiet: true, segments: false, split: false });
    expect(s.failed).toEqual([]);
    const ds = Dataset.open(out);
    const c = ds.clip('vfr_5_then_30fps');
    expect(c.durationSec).toBeGreaterThan(5.9);
    expect(c.durationSec).toBeLessThan(6.2);
    expect(c).toMatchObject({ seconds: 6, flowLength: 18 });
    // Per-second rows (clip time starts at the first video frame, and the audio is cut to match): the flash
    // (builtin-video column 0, mean red) and the tone (builtin-audio column 118, max log10 frame energy)
    // are both in second 4 and nowhere before.
    const start = c.meta!.videoStartSec as number;
    expect(start).toBeLessThan(0.1);
    const v = ds.videoFeatures('builtin-video', c.id);
    const au = ds.audioFeatures('builtin-audio', c.id);
    for (let sec = 0; sec < 4; sec++) {
      expect(v.data[sec * v.cols]).toBeLessThan(0.05);
      expect(au.data[sec * au.cols + 118]).toBeLessThan(-6);
    }
    expect(v.data[4 * v.cols]).toBeGreaterThan(0.2);
    expect(au.data[4 * au.cols + 118]).toBeGreaterThan(-3);
    // The tone's onset (librosa onset_detect) is within one flow sample (1/3 s) of the flash.
    const flash = 4.5 - start;
    const onsets = Array.from(ds.peaks('yariv', 'audio', c.id)!);
    expect(onsets.some((t) => Math.abs(t - flash) < 1 / 3)).toBe(true);
    expect(onsets.every((t) => t > flash - 1 / 3)).toBe(true);
  });
});

describe('folders: every container ffmpeg reads, the rest listed with reasons; short-clip advice', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-containers-'));
  const dir = path.join(tmp, 'media');
  const out = path.join(tmp, 'ds');
  const made: Record<string, string[]> = {
    'clip_wmv.wmv': ['-c:v', 'wmv2', '-c:a', 'wmav2'],
    'clip_flv.flv': ['-c:v', 'flv', '-c:a', 'aac'],
    'clip_mkv.mkv': ['-c:v', 'mpeg4', '-c:a', 'flac'],
    'clip_avi.avi': ['-c:v', 'mpeg4', '-c:a', 'pcm_s16le'],
    'clip_renamed.data': ['-c:v', 'mpeg4', '-c:a', 'aac', '-f', 'mp4'], // unknown extension: ffprobe decides
  };

  beforeAll(() => {
    fs.mkdirSync(dir);
    for (const [name, codec] of Object.entries(made)) {
      ff(['-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=15:d=2', '-f', 'lavfi', '-i', 'sine=f=330:sample_rate=22050:d=2', ...codec, '-shortest', path.join(dir, name)]);
    }
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'shot list\n');
    fs.writeFileSync(path.join(dir, '.DS_Store'), Buffer.alloc(64));
    fs.writeFileSync(path.join(dir, 'random.bin'), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251)));
  });

  it('ingests .wmv, .flv, .mkv, .avi (and a media file with an unknown extension); lists the rest with reasons', async () => {
    const s = await ingestMedia({ inputs: [dir], out, workers: 2, quiet: true, segments: { segments: 4, minSegmentSeconds: 1 }, split: false });
    expect(s.failed).toEqual([]);
    expect(s.videoClips).toBe(5);
    const ds = Dataset.open(out);
    for (const id of ['clip_wmv', 'clip_flv', 'clip_mkv', 'clip_avi', 'clip_renamed']) expect(ds.clip(id)).toMatchObject({ kind: 'video', seconds: 2, flowLength: 6 });
    const left = Object.fromEntries(s.leftOut.map((l) => [path.basename(l.path), l.reason]));
    expect(Object.keys(left).sort()).toEqual(['.DS_Store', 'notes.txt', 'random.bin']);
    expect(left['notes.txt']).toMatch(/not a media file/);
    expect(left['.DS_Store']).toMatch(/hidden/);
    expect(left['random.bin']).toMatch(/ffprobe/);
    // dataset.json records the decoder, the flow engine (native here: the features addon is built by pretest) and what was left out.
    const prov = ds.manifest.provenance.ingest as { decoder: { ffmpeg: { version: string; source: string } }; flowEngine: { engine: string; description: string }; leftOut: unknown[] };
    expect(prov.decoder.ffmpeg.version).toMatch(/^ffmpeg version /);
    expect(['env', 'system', 'npm']).toContain(prov.decoder.ffmpeg.source);
    expect(prov.flowEngine).toMatchObject({ engine: 'native', description: expect.stringMatching(/bit-identical to @techstark\/opencv-js/) });
    expect(s.flowEngine).toEqual({ engine: 'native' });
    expect(ds.manifest.extractors.find((e) => e.name === 'builtin-video')?.provenance).toMatch(/via native \(libs\/features\/native\/farneback\.cc/);
    expect(prov.leftOut).toHaveLength(3);
  });

  it('says how many clips are too short for the segmentation and proposes flags that fit, which segment-dataset applies', () => {
    // The run above: 2 s clips (6 flow samples) cannot hold 4 segments of ≥ 1 s (12 samples needed).
    const ds = Dataset.open(out);
    expect(ds.segments() ?? []).toEqual([]);
    const w = DatasetWriter.create(out, { name: ds.manifest.name, kind: ds.manifest.kind, flowFps: ds.manifest.flowFps, existing: 'resume' });
    const again = segmentDataset(w, { segments: 4, minSegmentSeconds: 1 });
    expect(again.rows).toBe(0);
    const advice = again.advice!;
    expect(advice).toMatchObject({ tooShort: 5, total: 5, segments: 4, minSegmentSeconds: 1 });
    expect(advice.proposals).toEqual([{ segments: 2, minSegmentSeconds: 1, fits: 5, flags: '--segments 2' }]);
    expect(advice.message).toContain('5 of 5 video clips are too short for --segments 4 × --min-segment-seconds 1');
    expect(advice.message).toContain(`vmr segment-dataset ${w.dir} --segments 2`);
    // Applying the proposal re-segments from the stored flow, without re-ingesting.
    const applied = segmentDataset(w, { segments: 2, minSegmentSeconds: 1 });
    w.save();
    expect(applied).toMatchObject({ rows: 5, advice: undefined });
    expect(Dataset.open(out).segments()).toHaveLength(5);
  });
});
