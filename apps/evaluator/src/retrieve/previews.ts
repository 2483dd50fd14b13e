import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ExternalToolError } from '@vmr/core';
import { ffmpegBinaries, probeMedia } from '@vmr/features';

export interface PreviewOptions {
  /** The query video (its first video stream is kept). */
  video: string;
  /** The candidate track (its first audio stream); omitted: the video's own audio, or none. */
  track?: string;
  /** Output .mp4 (written atomically). */
  out: string;
  /** Duration of the preview (s); default the video stream's duration (else the container's). The track is cut or padded with silence to it. */
  durationSec?: number;
}

function run(bin: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.length > 8000) err = err.slice(-8000);
    });
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new ExternalToolError(`ffmpeg exited with ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`))));
  });
}

/**
 * Mux the query video with a candidate track (ffmpeg): the track's audio is re-timed to start with the
 * video (its first sample at the video's t = 0), cut or padded with silence to the video's duration; the
 * video stream is copied when it is already H.264 (else encoded with libx264), audio is AAC, MP4 with
 * faststart so a browser can play it from a plain file. One video and one audio stream.
 */
export async function muxPreview(o: PreviewOptions): Promise<void> {
  const { ffmpeg } = ffmpegBinaries();
  const info = await probeMedia(o.video);
  if (!info.video) throw new ExternalToolError(`${o.video}: no video stream to preview`);
  const copy = info.video.codec === 'h264' && /mp4|mov/.test(info.formatName);
  const audioSource = o.track ?? (info.audio ? o.video : undefined);
  fs.mkdirSync(path.dirname(o.out), { recursive: true });
  const tmp = `${o.out}.tmp-${process.pid}`;
  const dur = (o.durationSec ?? info.video.durationSec ?? info.durationSec).toFixed(3);
  const args = ['-nostdin', '-v', 'error', '-y', '-i', o.video];
  if (audioSource) args.push('-i', audioSource, '-filter_complex', '[1:a:0]asetpts=PTS-STARTPTS,aresample=44100,apad[a]', '-map', '0:v:0', '-map', '[a]');
  else args.push('-f', 'lavfi', '-i', 'anullsrc=r=44100:cl=mono', '-map', '0:v:0', '-map', '1:a:0');
  args.push('-t', dur);
  args.push(...(copy ? ['-c:v', 'copy'] : ['-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p']));
  args.push('-c:a', 'aac', '-b:a', '128k', '-ac', '2', '-movflags', '+faststart', '-f', 'mp4', tmp);
  try {
    await run(ffmpeg, args);
    fs.renameSync(tmp, o.out);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e instanceof ExternalToolError ? new ExternalToolError(`preview ${o.out} (video ${o.video}${o.track ? `, track ${o.track}` : ''}): ${e.message}`) : e;
  }
}
