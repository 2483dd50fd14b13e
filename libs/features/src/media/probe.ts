import * as fs from 'fs';
import { FileFormatError, NotFoundError, errorMessage } from '@vmr/core';
import { ffmpegBinaries } from './ffmpeg-binaries';
import { runTool, tailOf } from './run-tool';

/** A rational number as ffprobe reports it ("30000/1001"). */
export interface Rational {
  num: number;
  den: number;
}

export interface VideoStreamInfo {
  index: number;
  codec: string;
  /** Coded frame size (before rotation). */
  width: number;
  height: number;
  /** Frame size after the display rotation is applied (what the decoder hands out by default). */
  displayWidth: number;
  displayHeight: number;
  /** Native frame rate as OpenCV reads it: avg_frame_rate, else r_frame_rate. */
  fpsRational: Rational;
  fps: number;
  /** Display rotation in degrees (0, 90, 180, 270), from the display matrix or the `rotate` tag. */
  rotation: number;
  /** Sample (pixel) aspect ratio; 1 when unknown. */
  sampleAspectRatio: number;
  pixFmt?: string;
  durationSec?: number;
  nbFrames?: number;
}

export interface AudioStreamInfo {
  index: number;
  codec: string;
  sampleRate: number;
  channels: number;
  durationSec?: number;
}

export interface MediaInfo {
  path: string;
  formatName: string;
  /** Container duration in seconds (falls back to the longest stream). */
  durationSec: number;
  sizeBytes: number;
  /** The first real video stream (cover art / attached pictures are not video). */
  video?: VideoStreamInfo;
  audio?: AudioStreamInfo;
  videoStreams: VideoStreamInfo[];
  audioStreams: AudioStreamInfo[];
}

export function parseRational(text: string | undefined): Rational | undefined {
  if (!text) return undefined;
  const m = /^(-?\d+)(?:[/:](\d+))?$/.exec(text.trim());
  if (!m) return undefined;
  const num = Number(m[1]);
  const den = m[2] === undefined ? 1 : Number(m[2]);
  if (!Number.isFinite(num) || !Number.isFinite(den) || den === 0 || num <= 0) return undefined;
  return { num, den };
}

function num(v: unknown): number | undefined {
  const n = typeof v === 'string' ? Number(v) : typeof v === 'number' ? v : NaN;
  return Number.isFinite(n) ? n : undefined;
}

interface FfprobeStream {
  index: number;
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  pix_fmt?: string;
  sample_aspect_ratio?: string;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  duration?: string;
  nb_frames?: string;
  sample_rate?: string;
  channels?: number;
  tags?: Record<string, string>;
  disposition?: Record<string, number>;
  side_data_list?: Array<Record<string, unknown>>;
}

function rotationOf(s: FfprobeStream): number {
  let deg: number | undefined;
  for (const sd of s.side_data_list ?? []) {
    const r = num(sd.rotation);
    if (r !== undefined) deg = r;
  }
  if (deg === undefined) deg = num(s.tags?.rotate);
  if (deg === undefined) return 0;
  return (((Math.round(deg / 90) * 90) % 360) + 360) % 360;
}

/** Convert ffprobe's JSON (`-show_format -show_streams`) into `MediaInfo`. Exposed for tests. */
export function mediaInfoFromFfprobe(file: string, json: unknown, sizeBytes = 0): MediaInfo {
  const j = json as { format?: { format_name?: string; duration?: string }; streams?: FfprobeStream[] };
  if (!j || !Array.isArray(j.streams)) throw new FileFormatError(`${file}: ffprobe found no streams`, { details: { path: file } });
  const videoStreams: VideoStreamInfo[] = [];
  const audioStreams: AudioStreamInfo[] = [];
  for (const s of j.streams) {
    if (s.codec_type === 'video') {
      if (s.disposition?.attached_pic === 1) continue; // cover art in music files
      const fpsRational = parseRational(s.avg_frame_rate) ?? parseRational(s.r_frame_rate);
      if (!fpsRational || !s.width || !s.height) continue;
      const rotation = rotationOf(s);
      const sar = parseRational(s.sample_aspect_ratio);
      const swap = rotation === 90 || rotation === 270;
      videoStreams.push({
        index: s.index,
        codec: s.codec_name ?? 'unknown',
        width: s.width,
        height: s.height,
        displayWidth: swap ? s.height : s.width,
        displayHeight: swap ? s.width : s.height,
        fpsRational,
        fps: fpsRational.num / fpsRational.den,
        rotation,
        sampleAspectRatio: sar ? sar.num / sar.den : 1,
        pixFmt: s.pix_fmt,
        durationSec: num(s.duration),
        nbFrames: num(s.nb_frames),
      });
    } else if (s.codec_type === 'audio') {
      const sampleRate = num(s.sample_rate);
      if (!sampleRate || !s.channels) continue;
      audioStreams.push({ index: s.index, codec: s.codec_name ?? 'unknown', sampleRate, channels: s.channels, durationSec: num(s.duration) });
    }
  }
  const streamDur = Math.max(0, ...videoStreams.map((v) => v.durationSec ?? 0), ...audioStreams.map((a) => a.durationSec ?? 0));
  const durationSec = num(j.format?.duration) ?? streamDur;
  return {
    path: file,
    formatName: j.format?.format_name ?? 'unknown',
    durationSec,
    sizeBytes,
    video: videoStreams[0],
    audio: audioStreams[0],
    videoStreams,
    audioStreams,
  };
}

/**
 * Probe a media file with ffprobe: duration, streams, native fps (as a rational), rotation and
 * sample aspect ratio. A missing file is `NotFoundError`; a file ffprobe cannot parse is
 * `FileFormatError` carrying ffprobe's message.
 */
export async function probeMedia(file: string): Promise<MediaInfo> {
  let size: number;
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) throw new Error('not a regular file');
    size = st.size;
  } catch (e) {
    throw new NotFoundError(`media file ${file} does not exist or is not a file (${errorMessage(e)})`, { details: { path: file } });
  }
  const { ffprobe } = ffmpegBinaries();
  const res = await runTool(ffprobe, ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file]);
  if (res.code !== 0) {
    throw new FileFormatError(`${file}: not a readable media file (ffprobe: ${tailOf(res.stderr, 400) || `exit ${res.code}`})`, { details: { path: file } });
  }
  let json: unknown;
  try {
    json = JSON.parse(res.stdout.toString('utf8'));
  } catch (e) {
    throw new FileFormatError(`${file}: ffprobe printed invalid JSON (${errorMessage(e)})`, { details: { path: file } });
  }
  const info = mediaInfoFromFfprobe(file, json, size);
  if (info.videoStreams.length === 0 && info.audioStreams.length === 0) {
    throw new FileFormatError(`${file}: no decodable video or audio stream (format ${info.formatName})`, { details: { path: file } });
  }
  return info;
}
