import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FileFormatError, NotFoundError, sharedPath } from '@vmr/core';
import { mediaInfoFromFfprobe, parseRational, probeMedia } from './probe';

const MEDIA = sharedPath('media');

describe('probeMedia (ffprobe)', () => {
  it('reads Big Buck Bunny (CC-BY-3.0 Blender Foundation): 1280x720 VP8 24 fps, Vorbis 44.1 kHz stereo, 30 s', async () => {
    const info = await probeMedia(path.join(MEDIA, 'video/bbb_0_30.webm'));
    expect(info.video).toMatchObject({ codec: 'vp8', width: 1280, height: 720, fps: 24, rotation: 0, sampleAspectRatio: 1 });
    expect(info.audio).toMatchObject({ codec: 'vorbis', sampleRate: 44100, channels: 2 });
    expect(info.durationSec).toBeCloseTo(30.0, 1);
  });

  it('treats a music file as audio-only (cover art is not a video stream)', async () => {
    const info = await probeMedia(path.join(MEDIA, 'music/brahms_hungarian_dance_5.ogg'));
    expect(info.video).toBeUndefined();
    expect(info.audio?.sampleRate).toBeGreaterThan(0);
    expect(info.durationSec).toBeCloseTo(45.8, 0);
  });

  it('rejects a missing file and a text file with errors naming the file', async () => {
    await expect(probeMedia('/nonexistent/clip.mp4')).rejects.toThrow(NotFoundError);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-probe-'));
    const fake = path.join(dir, 'fake.mp4');
    fs.writeFileSync(fake, 'this is not a video\n'.repeat(20));
    await expect(probeMedia(fake)).rejects.toThrow(FileFormatError);
    await expect(probeMedia(fake)).rejects.toThrow(/fake\.mp4/);
  });

  it('applies display rotation, SAR and skips attached pictures (hand-built ffprobe JSON)', () => {
    const info = mediaInfoFromFfprobe('x.mp4', {
      format: { format_name: 'mov', duration: '4.5' },
      streams: [
        { index: 0, codec_type: 'video', codec_name: 'mjpeg', width: 600, height: 600, avg_frame_rate: '0/0', r_frame_rate: '90000/1', disposition: { attached_pic: 1 } },
        { index: 1, codec_type: 'video', codec_name: 'h264', width: 1920, height: 1080, avg_frame_rate: '30000/1001', r_frame_rate: '30000/1001', sample_aspect_ratio: '4:3', side_data_list: [{ rotation: -90 }] },
        { index: 2, codec_type: 'audio', codec_name: 'aac', sample_rate: '48000', channels: 2 },
      ],
    });
    expect(info.videoStreams).toHaveLength(1);
    expect(info.video).toMatchObject({ index: 1, displayWidth: 1080, displayHeight: 1920, rotation: 270, fpsRational: { num: 30000, den: 1001 } });
    expect(info.video!.sampleAspectRatio).toBeCloseTo(4 / 3, 12);
    expect(info.video!.fps).toBeCloseTo(29.97003, 5);
    expect(info.durationSec).toBe(4.5);
    expect(parseRational('0/0')).toBeUndefined();
    expect(parseRational('25')).toEqual({ num: 25, den: 1 });
  });
});
