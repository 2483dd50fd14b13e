/**
 * End to end: `generateSyntheticMedia` encodes real .mp4 files with ffmpeg; the features library's
 * decoder, Farnebäck flow and onset detector recover the known structure (issue 6 "must show").
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConflictError } from '@vmr/core';
import { analyzeVideo, decodeAudio, ffmpegBinaries, onsetDetect, probeMedia } from '@vmr/features';
import { avAlignFromPeaks, videoPeakTimes } from '@vmr/metrics';
import { SYNTH_MEDIA_MANIFEST, generateSyntheticMedia } from '../src/synthetic';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-synth-media-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('generateSyntheticMedia', () => {
  it('encodes probe-able clips whose flow peaks and audio onsets follow the ground truth', async () => {
    const out = path.join(tmp, 'm');
    const m = await generateSyntheticMedia({ out, clips: 3, seed: 7, ffmpeg: ffmpegBinaries().ffmpeg, minDuration: 6, maxDuration: 7 });
    expect(m.kind).toBe('synthetic');
    expect(JSON.parse(fs.readFileSync(path.join(out, SYNTH_MEDIA_MANIFEST), 'utf8')).clips).toHaveLength(3);
    // No temp files left behind.
    expect(fs.readdirSync(path.join(out, 'media')).sort()).toEqual(m.clips.map((c) => path.basename(c.file)).sort());

    const flows: number[][] = [];
    const onsets: number[][] = [];
    for (const c of m.clips) {
      const file = path.join(out, c.file);
      const info = await probeMedia(file);
      expect(info.video?.width).toBe(320);
      expect(info.video?.height).toBe(240);
      expect(info.video?.fps).toBeCloseTo(12, 6);
      expect(info.durationSec).toBeCloseTo(c.duration, 0);
      expect(info.audio?.sampleRate).toBe(22050);

      const a = await decodeAudio(file, { sampleRate: 22050, info });
      const det = onsetDetect(a.samples, 22050).times;
      // Every true onset is detected within 50 ms (the hop is 23 ms).
      const found = c.onsets.filter((t) => det.some((d) => Math.abs(d - t) < 0.05)).length;
      expect(found / c.onsets.length).toBeGreaterThan(0.9);
      onsets.push(det);

      const v = await analyzeVideo(file, { info });
      expect(v.flowFps).toBe(3);
      flows.push(v.trajectory);
      // Motion follows the regimes: mean flow of the fastest regime exceeds the slowest one's.
      const meanOver = (r: { start: number; end: number }): number => {
        const xs = v.trajectory.slice(r.start * 3 + 1, r.end * 3);
        return xs.reduce((s, x) => s + x, 0) / xs.length;
      };
      expect(meanOver(c.regimes[c.highMotion.regime])).toBeGreaterThan(meanOver(c.regimes[c.lowMotion.regime]));
    }
    // AV-Align (yariv) with the own audio beats every other pairing on average.
    let own = 0;
    let other = 0;
    let pairs = 0;
    for (let i = 0; i < flows.length; i++) {
      const vp = videoPeakTimes(flows[i], 3, 'yariv');
      own += avAlignFromPeaks(onsets[i], vp, 3, 'yariv').score / flows.length;
      for (let j = 0; j < flows.length; j++) {
        if (j === i) continue;
        other += avAlignFromPeaks(onsets[j], vp, 3, 'yariv').score;
        pairs++;
      }
    }
    other /= pairs;
    expect(own).toBeGreaterThan(other + 0.15);
  });

  it('refuses to overwrite an existing manifest and rejects bad options before writing', async () => {
    const out = path.join(tmp, 'm2');
    const ffmpeg = ffmpegBinaries().ffmpeg;
    await generateSyntheticMedia({ out, clips: 1, seed: 1, ffmpeg, minDuration: 4, maxDuration: 4, regimes: 2 });
    await expect(generateSyntheticMedia({ out, clips: 1, seed: 1, ffmpeg })).rejects.toThrow(ConflictError);
    await expect(generateSyntheticMedia({ out: path.join(tmp, 'm3'), clips: 1, seed: 1, ffmpeg, video: { width: 321 } })).rejects.toThrow(/even/);
    await expect(generateSyntheticMedia({ out: path.join(tmp, 'm4'), clips: 1, seed: 1, ffmpeg: '/nonexistent/ffmpeg', minDuration: 4, maxDuration: 4, regimes: 2 })).rejects.toThrow(/ffmpeg/);
    expect(fs.existsSync(path.join(tmp, 'm4', SYNTH_MEDIA_MANIFEST))).toBe(false);
  });
});
