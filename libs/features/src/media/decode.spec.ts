import * as path from 'path';
import { FileFormatError, sharedPath } from '@vmr/core';
import { decodeAudio, decodeAudioRates, readImage, streamSampledFrames } from './decode';

const MEDIA = sharedPath('media');

describe('ffmpeg decoding through pipes', () => {
  it('decodes audio to mono float PCM at the requested rate (His Girl Friday, CC0)', async () => {
    const a = await decodeAudio(path.join(MEDIA, 'video/friday_speech.mp4'), { sampleRate: 16000 });
    expect(a.sampleRate).toBe(16000);
    expect(a.durationSec).toBeGreaterThan(6.0);
    expect(a.durationSec).toBeLessThan(6.4);
    let peak = 0;
    for (const s of a.samples) peak = Math.max(peak, Math.abs(s));
    expect(peak).toBeGreaterThan(0.01); // dialogue, not silence
    expect(peak).toBeLessThanOrEqual(1.0001);
  });

  it('honours maxSeconds and reports a missing audio stream', async () => {
    const a = await decodeAudio(path.join(MEDIA, 'music/outfoxing.mp3'), { sampleRate: 22050, maxSeconds: 2 });
    expect(a.samples.length).toBeGreaterThanOrEqual(2 * 22050 - 1200);
    expect(a.samples.length).toBeLessThanOrEqual(2 * 22050 + 1200);
    await expect(decodeAudio(path.join(MEDIA, 'flow/Venus/frame10.png'), { sampleRate: 16000 })).rejects.toThrow(FileFormatError);
  });

  it('decodes several rates in one ffmpeg run, each sample for sample what decodeAudio gives (stereo Vorbis and AAC)', async () => {
    for (const [clip, startSec] of [['video/toy_crystal.webm', 0], ['video/bbb_10s.mp4', undefined]] as const) {
      const file = path.join(MEDIA, clip);
      const [a22, a44] = await decodeAudioRates(file, { sampleRates: [22050, 44100], startSec, maxSeconds: 6 });
      const s22 = await decodeAudio(file, { sampleRate: 22050, startSec, maxSeconds: 6 });
      const s44 = await decodeAudio(file, { sampleRate: 44100, startSec, maxSeconds: 6 });
      expect(a22.sampleRate).toBe(22050);
      expect(a44.sampleRate).toBe(44100);
      expect(a22.samples.length).toBeGreaterThan(5 * 22050);
      expect(Buffer.from(a22.samples.buffer).equals(Buffer.from(s22.samples.buffer))).toBe(true);
      expect(Buffer.from(a44.samples.buffer).equals(Buffer.from(s44.samples.buffer))).toBe(true);
    }
  });

  it('streams every frame or only the accumulator-sampled ones, at native size', async () => {
    let n = 0;
    const idx: number[] = [];
    for await (const f of streamSampledFrames(path.join(MEDIA, 'video/bbb_10s.mp4'), { targetFps: { num: 3, den: 1 }, pixelFormat: 'gray' })) {
      expect(f.data.length).toBe(320 * 176);
      idx.push(f.decodeIndex);
      n++;
    }
    // 25 fps → 3 fps over 10 s: 30 kept frames, first ones 0, 9, 17 (1/25 steps vs 1/3 steps).
    expect(n).toBe(30);
    expect(idx.slice(0, 3)).toEqual([0, 9, 17]);
  });

  it('reads a PNG as bgr24 (Middlebury RubberWhale)', async () => {
    const img = await readImage(path.join(MEDIA, 'flow/RubberWhale/frame10.png'));
    expect([img.width, img.height, img.channels]).toEqual([584, 388, 3]);
    expect(img.data.length).toBe(584 * 388 * 3);
  });
});
