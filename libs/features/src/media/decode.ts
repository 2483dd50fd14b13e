import { spawn } from 'child_process';
import { ExternalToolError, FileFormatError, InvalidArgumentError, errorMessage } from '@vmr/core';
import { ffmpegBinaries } from './ffmpeg-binaries';
import { type MediaInfo, type Rational, probeMedia } from './probe';
import { AccumulatorSampler, accumulatorSelectExpr } from './frame-sampling';
import { runTool, tailOf } from './run-tool';

/** One decoded frame handed out by `streamSampledFrames`. */
export interface SampledFrame {
  /** 0-based index among the kept frames. */
  sampleIndex: number;
  /** 0-based index among all decoded frames. */
  decodeIndex: number;
  /** decodeIndex / native fps (the reference code's clock). */
  timeSec: number;
  width: number;
  height: number;
  /** Interleaved pixels, `channels` bytes per pixel (bgr24: 3, gray: 1). Owned by the consumer. */
  data: Uint8Array;
  channels: number;
}

export interface StreamFramesOptions {
  /** Sampling rate of the kept frames (time-accumulator sampling); default: every frame. */
  targetFps?: Rational;
  /** Pixel format handed out; default bgr24 (as OpenCV's VideoCapture). */
  pixelFormat?: 'bgr24' | 'gray';
  /** Stop after this many seconds of input. */
  maxSeconds?: number;
  /** Probe result if the caller already has it. */
  info?: MediaInfo;
}

/**
 * Decode the video stream of `file` through an ffmpeg pipe (no temp files), keeping frames with the
 * reference code's time-accumulator sampling at `targetFps`, at the native (display) resolution.
 * Frames come out in decode order. Throws `FileFormatError` when the file has no video stream or
 * ffmpeg fails.
 */
export async function* streamSampledFrames(file: string, options: StreamFramesOptions = {}): AsyncGenerator<SampledFrame> {
  const info = options.info ?? (await probeMedia(file));
  const v = info.video;
  if (!v) throw new FileFormatError(`${file}: no video stream`, { details: { path: file } });
  const pixfmt = options.pixelFormat ?? 'bgr24';
  const channels = pixfmt === 'gray' ? 1 : 3;
  const width = v.displayWidth;
  const height = v.displayHeight;
  const frameBytes = width * height * channels;
  const args = ['-v', 'error', '-nostdin'];
  if (options.maxSeconds !== undefined) {
    if (!(options.maxSeconds > 0)) throw new InvalidArgumentError(`maxSeconds must be > 0, got ${options.maxSeconds}`);
    args.push('-t', String(options.maxSeconds));
  }
  args.push('-i', file, '-map', `0:${v.index}`, '-an', '-sn', '-dn');
  if (options.targetFps) args.push('-vf', `select='${accumulatorSelectExpr(v.fpsRational, options.targetFps)}'`);
  args.push('-vsync', '0', '-pix_fmt', pixfmt, '-f', 'rawvideo', 'pipe:1');
  const { ffmpeg } = ffmpegBinaries();
  const child = spawn(ffmpeg, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString('utf8');
    if (stderr.length > 64_000) stderr = stderr.slice(stderr.length - 32_000);
  });
  const exited = new Promise<{ code: number | null; spawnError?: Error }>((resolve) => {
    child.on('error', (e) => resolve({ code: null, spawnError: e }));
    child.on('close', (code) => resolve({ code }));
  });
  const sampler = options.targetFps ? new AccumulatorSampler(v.fpsRational, options.targetFps) : undefined;
  let decodeIndex = 0;
  let sampleIndex = 0;
  const nextDecodeIndex = (): number => {
    if (!sampler) return decodeIndex++;
    // Replay the accumulator to find the decode index of the next kept frame (same float64 steps
    // as ffmpeg's select expression).
    for (;;) {
      const idx = decodeIndex++;
      if (sampler.next()) return idx;
      if (decodeIndex > 1e9) throw new ExternalToolError(`${file}: frame sampler did not advance`);
    }
  };
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let finished = false;
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      pending.push(chunk);
      pendingBytes += chunk.length;
      while (pendingBytes >= frameBytes) {
        const all = pending.length === 1 ? pending[0] : Buffer.concat(pending);
        const frame = new Uint8Array(frameBytes);
        frame.set(all.subarray(0, frameBytes));
        const rest = all.subarray(frameBytes);
        pending = rest.length > 0 ? [rest] : [];
        pendingBytes = rest.length;
        const di = nextDecodeIndex();
        yield { sampleIndex: sampleIndex++, decodeIndex: di, timeSec: di / v.fps, width, height, data: frame, channels };
      }
    }
    finished = true;
  } finally {
    if (!finished) child.kill('SIGKILL');
  }
  const res = await exited;
  if (res.spawnError) throw new ExternalToolError(`cannot run ${ffmpeg}: ${errorMessage(res.spawnError)}`, { cause: res.spawnError });
  if (res.code !== 0) {
    throw new FileFormatError(`${file}: ffmpeg could not decode the video stream (${tailOf(stderr, 400) || `exit ${res.code}`})`, { details: { path: file } });
  }
  if (pendingBytes !== 0) {
    throw new FileFormatError(`${file}: ffmpeg output ended mid-frame (${pendingBytes} of ${frameBytes} bytes)`, { details: { path: file } });
  }
}

export interface DecodedAudio {
  /** Mono samples in [-1, 1] (channels averaged, like librosa's to_mono). */
  samples: Float32Array;
  sampleRate: number;
  durationSec: number;
  /** Channels of the source stream that were averaged. */
  sourceChannels: number;
}

/**
 * Decode the first audio stream of `file` to mono float32 PCM at `sampleRate` (ffmpeg resamples each
 * channel; the channels are then averaged here). Throws `FileFormatError` when there is no audio stream.
 */
export async function decodeAudio(
  file: string,
  options: { sampleRate: number; maxSeconds?: number; info?: MediaInfo },
): Promise<DecodedAudio> {
  const { sampleRate } = options;
  if (!Number.isInteger(sampleRate) || sampleRate < 1000 || sampleRate > 384000) {
    throw new InvalidArgumentError(`sampleRate must be an integer in [1000, 384000], got ${sampleRate}`);
  }
  const info = options.info ?? (await probeMedia(file));
  const a = info.audio;
  if (!a) throw new FileFormatError(`${file}: no audio stream`, { details: { path: file } });
  const args = ['-v', 'error', '-nostdin'];
  if (options.maxSeconds !== undefined) args.push('-t', String(options.maxSeconds));
  args.push('-i', file, '-map', `0:${a.index}`, '-vn', '-sn', '-dn', '-ar', String(sampleRate), '-f', 'f32le', '-acodec', 'pcm_f32le', 'pipe:1');
  const { ffmpeg } = ffmpegBinaries();
  const res = await runTool(ffmpeg, args);
  if (res.code !== 0) {
    throw new FileFormatError(`${file}: ffmpeg could not decode the audio stream (${tailOf(res.stderr, 400) || `exit ${res.code}`})`, { details: { path: file } });
  }
  const ch = a.channels;
  const total = Math.floor(res.stdout.length / 4);
  // f32le on a little-endian host: copy the bytes into an aligned Float32Array in one go.
  const interleaved = new Float32Array(total);
  new Uint8Array(interleaved.buffer).set(res.stdout.subarray(0, total * 4));
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
    for (let i = 0; i < total; i++) interleaved[i] = res.stdout.readFloatLE(i * 4);
  }
  const n = Math.floor(total / ch);
  const samples = new Float32Array(n);
  if (ch === 1) samples.set(interleaved.subarray(0, n));
  else {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let c = 0; c < ch; c++) s += interleaved[i * ch + c];
      samples[i] = s / ch;
    }
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(samples[i])) throw new FileFormatError(`${file}: decoded audio contains non-finite samples`, { details: { path: file } });
  }
  return { samples, sampleRate, durationSec: n / sampleRate, sourceChannels: ch };
}

/** An 8-bit image, interleaved channels (bgr for colour, like cv2.imread). */
export interface ImageU8 {
  width: number;
  height: number;
  channels: 1 | 3;
  data: Uint8Array;
}

/** Read an image file (PNG, JPEG, … anything ffmpeg decodes) as bgr24 or gray8. */
export async function readImage(file: string, pixelFormat: 'bgr24' | 'gray' = 'bgr24'): Promise<ImageU8> {
  const info = await probeMedia(file);
  const v = info.video;
  if (!v) throw new FileFormatError(`${file}: not an image (no picture stream)`, { details: { path: file } });
  const channels = pixelFormat === 'gray' ? 1 : 3;
  const { ffmpeg } = ffmpegBinaries();
  const res = await runTool(ffmpeg, ['-v', 'error', '-nostdin', '-i', file, '-frames:v', '1', '-pix_fmt', pixelFormat, '-f', 'rawvideo', 'pipe:1']);
  const need = v.width * v.height * channels;
  if (res.code !== 0 || res.stdout.length < need) {
    throw new FileFormatError(`${file}: cannot decode image (${tailOf(res.stderr, 400) || `got ${res.stdout.length} of ${need} bytes`})`, { details: { path: file } });
  }
  return { width: v.width, height: v.height, channels, data: new Uint8Array(res.stdout.subarray(0, need)) };
}
