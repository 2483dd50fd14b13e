import { spawn } from 'child_process';
import { ExternalToolError, FileFormatError, InvalidArgumentError, errorMessage } from '@vmr/core';
import { ffmpegBinaries } from './ffmpeg-binaries';
import { type MediaInfo, type Rational, probeMedia } from './probe';
import { TimeSlotSampler, accumulatorSelectExpr } from './frame-sampling';
import { runTool, tailOf } from './run-tool';

/** One decoded frame handed out by `streamSampledFrames`. */
export interface SampledFrame {
  /** 0-based sample slot (slot s ↔ time s / targetFps); with no targetFps, the index among all frames. */
  sampleIndex: number;
  /**
   * Index on the native-frame-rate grid, round((t − t0) · native fps): the decode index on
   * constant-frame-rate video (the reference's frame counter).
   */
  decodeIndex: number;
  /** Presentation time from the first frame, t − t0, in seconds (media time, not frame count ÷ fps). */
  timeSec: number;
  /** Presentation time on the file's timeline (ffmpeg's, which starts at the earliest stream). */
  streamTimeSec: number;
  /** True for a repeat of the previous frame filling a sample slot no frame reached (a variable-frame-rate gap). */
  held: boolean;
  width: number;
  height: number;
  /** Interleaved pixels, `channels` bytes per pixel (bgr24: 3, gray: 1). Owned by the consumer. */
  data: Uint8Array;
  channels: number;
}

export interface StreamFramesOptions {
  /** Sampling rate of the kept frames (time-accumulator sampling on presentation time); default: every frame. */
  targetFps?: Rational;
  /** Pixel format handed out; default bgr24 (as OpenCV's VideoCapture). */
  pixelFormat?: 'bgr24' | 'gray';
  /** Stop after this many seconds of input. */
  maxSeconds?: number;
  /** Probe result if the caller already has it. */
  info?: MediaInfo;
  /**
   * Let ffmpeg scale the kept frames to this size (swscale with `flags`, default bilinear) so only small
   * frames cross the pipe. Default: the native (display) size.
   */
  scale?: { width: number; height: number; flags?: string };
  /**
   * ffmpeg decoder threads (`-threads`); default: ffmpeg's choice (one per core). Pass 1 when the
   * caller already runs one decode per core (e.g. `vmr ingest --workers N`): extra decoder threads then
   * only add scheduling and frame-threading overhead (≈ 25 % more decode CPU measured on the shared clips).
   */
  decodeThreads?: number;
  /**
   * Reuse frame buffers: a yielded frame's `data` is valid only until the next frame is asked for
   * (then it may be overwritten). For consumers that copy or finish each frame at once (flow:
   * `analyzeVideo`); spares the allocation and garbage collection of a full-size frame per sample.
   */
  recycleFrames?: boolean;
}

/** Decoded frames `streamSampledFrames` may hold ahead of its consumer (at least 2 frames). */
const READ_AHEAD_BYTES = 24 << 20;

const SHOWINFO = /^\[Parsed_showinfo_\d+ @ [^\]]+\] \[info\] (.*)$/;

/**
 * Decode the video stream of `file` through an ffmpeg pipe (no temp files), keeping frames with the
 * reference code's time-accumulator sampling at `targetFps` run on presentation time
 * (`accumulatorSelectExpr`), at the native (display) resolution or `scale`. ffmpeg's `showinfo` filter
 * reports each kept frame's timestamp, so sample slots follow media time on variable-frame-rate input;
 * a slot no frame reached is filled by the previous frame (`held`). Frames come out in presentation
 * order. Throws `FileFormatError` when the file has no video stream or ffmpeg fails.
 */
export async function* streamSampledFrames(file: string, options: StreamFramesOptions = {}): AsyncGenerator<SampledFrame> {
  const info = options.info ?? (await probeMedia(file));
  const v = info.video;
  if (!v) throw new FileFormatError(`${file}: no video stream`, { details: { path: file } });
  const pixfmt = options.pixelFormat ?? 'bgr24';
  const channels = pixfmt === 'gray' ? 1 : 3;
  const width = options.scale?.width ?? v.displayWidth;
  const height = options.scale?.height ?? v.displayHeight;
  const frameBytes = width * height * channels;
  const args = ['-hide_banner', '-nostats', '-v', 'level+info', '-nostdin'];
  if (options.maxSeconds !== undefined) {
    if (!(options.maxSeconds > 0)) throw new InvalidArgumentError(`--max-seconds must be > 0, got ${options.maxSeconds}`);
    args.push('-t', String(options.maxSeconds));
  }
  if (options.decodeThreads !== undefined) {
    if (!Number.isInteger(options.decodeThreads) || options.decodeThreads < 0) throw new InvalidArgumentError(`decoder threads must be an integer ≥ 0, got ${options.decodeThreads}`);
    args.push('-threads', String(options.decodeThreads));
  }
  args.push('-i', file, '-map', `0:${v.index}`, '-an', '-sn', '-dn');
  const filters: string[] = [];
  if (options.targetFps) filters.push(`select='${accumulatorSelectExpr(v.fpsRational, options.targetFps)}'`);
  if (options.scale) filters.push(`scale=${width}:${height}:flags=${options.scale.flags ?? 'bilinear'}`);
  filters.push('showinfo');
  args.push('-vf', filters.join(','), '-vsync', 'passthrough', '-pix_fmt', pixfmt, '-f', 'rawvideo', 'pipe:1');
  const { ffmpeg } = ffmpegBinaries();
  const child = spawn(ffmpeg, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // stderr: showinfo lines give each output frame's pts (in the filter's time base); the rest is kept
  // (warnings and errors only) to explain a failure.
  let timeBase: Rational | undefined;
  const times: number[] = [];
  let problems = '';
  let partial = '';
  // Whoever waits for ffmpeg (a frame, a timestamp line, the exit) is woken by any of its events.
  let waiters: Array<() => void> = [];
  const wake = (): void => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  const nextEvent = (): Promise<void> =>
    new Promise<void>((r) => {
      const timer = setTimeout(r, 1000); // (re-checks deadlines even when ffmpeg is silent)
      timer.unref();
      waiters.push(() => {
        clearTimeout(timer);
        r();
      });
    });
  const onLine = (line: string): void => {
    const m = SHOWINFO.exec(line);
    if (m) {
      const body = m[1];
      const tb = /config in time_base: (\d+)\/(\d+)/.exec(body);
      if (tb) {
        if (!timeBase) timeBase = { num: Number(tb[1]), den: Number(tb[2]) };
        return;
      }
      const f = /^n:\s*\d+\s+pts:\s*(-?\d+|NOPTS)/.exec(body);
      if (f) times.push(f[1] === 'NOPTS' || !timeBase ? NaN : Number(f[1]) * (timeBase.num / timeBase.den));
      return;
    }
    if (/\[(warning|error|fatal|panic)\] /.test(line)) {
      problems += line.replace(/\[(warning|error|fatal|panic)\] /, '') + '\n';
      if (problems.length > 16_000) problems = problems.slice(problems.length - 8_000);
    }
  };
  child.stderr.on('data', (c: Buffer) => {
    const text = partial + c.toString('utf8');
    const lines = text.split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) onLine(l.replace(/\r$/, ''));
    wake();
  });
  let closed = false;
  const exited = new Promise<{ code: number | null; spawnError?: Error }>((resolve) => {
    child.on('error', (e) => {
      closed = true;
      wake();
      resolve({ code: null, spawnError: e });
    });
    child.on('close', (code) => {
      if (partial) onLine(partial);
      partial = '';
      closed = true;
      wake();
      resolve({ code });
    });
  });
  /** The k-th kept frame's time, waiting for ffmpeg's showinfo line when it lags the pixels. */
  const timeOf = async (k: number): Promise<number> => {
    // ffmpeg writes a frame's showinfo line before the frame itself, so this waits only for stderr to
    // be read; a minute without it means ffmpeg's output is not what this parser expects.
    const deadline = Date.now() + 60_000;
    while (times.length <= k && !closed) {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new ExternalToolError(`${file}: ffmpeg (${ffmpeg}) reported no timestamp for output frame ${k} within 60 s`, { details: { path: file } });
      }
      await nextEvent();
    }
    if (times.length <= k) {
      throw new FileFormatError(`${file}: ffmpeg gave no timestamp for output frame ${k} (${tailOf(problems, 300) || 'no showinfo line'})`, { details: { path: file } });
    }
    return times[k];
  };
  const target = options.targetFps;
  const slots = target ? new TimeSlotSampler(v.fpsRational, target) : undefined;
  const nativeFps = v.fpsRational.num / v.fpsRational.den;
  let t0: number | undefined;
  let out = 0;
  let prev: SampledFrame | undefined;
  // Frames are read off the pipe as soon as ffmpeg writes them (up to READ_AHEAD_BYTES queued), so
  // ffmpeg decodes the next frames — on another core — while the consumer computes flow on this one;
  // each chunk is copied once, straight into its frame.
  const readAhead = Math.max(2 * frameBytes, READ_AHEAD_BYTES);
  const queue: Uint8Array[] = [];
  let queuedBytes = 0;
  let cur: Uint8Array | undefined;
  let curFill = 0;
  let paused = false;
  const spare: Uint8Array[] = []; // (recycleFrames) buffers the consumer is done with
  child.stdout.on('data', (chunk: Buffer) => {
    let off = 0;
    let completed = false;
    while (off < chunk.length) {
      if (!cur) {
        cur = spare.pop() ?? new Uint8Array(frameBytes);
        curFill = 0;
      }
      const n = Math.min(frameBytes - curFill, chunk.length - off);
      cur.set(chunk.subarray(off, off + n), curFill);
      curFill += n;
      off += n;
      if (curFill === frameBytes) {
        queue.push(cur);
        queuedBytes += frameBytes;
        cur = undefined;
        completed = true;
      }
    }
    if (queuedBytes >= readAhead && !paused) {
      paused = true;
      child.stdout.pause();
    }
    // The consumer waits for whole frames: a 64 KiB chunk that completes none wakes nobody (a frame of
    // 1280×720 BGR arrives in ~42 chunks; waking on each cost a promise and a timer per chunk).
    if (completed) wake();
  });
  let finished = false;
  try {
    for (;;) {
      if (queue.length === 0) {
        if (closed) break;
        await nextEvent();
        continue;
      }
      const frame = queue.shift()!;
      queuedBytes -= frameBytes;
      if (paused && queuedBytes < readAhead) {
        paused = false;
        child.stdout.resume();
      }
      const t = await timeOf(out);
      if (t0 === undefined) t0 = Number.isNaN(t) ? 0 : t;
      if (slots) {
        const p = slots.place(t);
        // Slots that no frame reached (a gap): the previous frame was still on screen.
        for (let h = p.held; h > 0 && prev; h--) {
          const slot = p.slot - h;
          yield { ...prev, data: new Uint8Array(prev.data), sampleIndex: slot, timeSec: slot / (target!.num / target!.den), held: true };
        }
        if (options.recycleFrames && prev) spare.push(prev.data); // the consumer asked for this frame: done with the last
        prev = { sampleIndex: p.slot, decodeIndex: p.gridIndex, timeSec: p.timeSec, streamTimeSec: Number.isNaN(t) ? t0 + p.timeSec : t, held: false, width, height, data: frame, channels };
      } else {
        const rel = Number.isNaN(t) ? out / nativeFps : t - t0;
        if (options.recycleFrames && prev) spare.push(prev.data);
        prev = { sampleIndex: out, decodeIndex: Math.round(rel * nativeFps), timeSec: rel, streamTimeSec: t0 + rel, held: false, width, height, data: frame, channels };
      }
      out++;
      yield prev;
    }
    finished = true;
  } finally {
    if (!finished) child.kill('SIGKILL');
  }
  const res = await exited;
  if (res.spawnError) throw new ExternalToolError(`cannot run ${ffmpeg}: ${errorMessage(res.spawnError)}`, { cause: res.spawnError });
  if (res.code !== 0) {
    throw new FileFormatError(`${file}: ffmpeg could not decode the video stream (${tailOf(problems, 400) || `exit ${res.code}`})`, { details: { path: file } });
  }
  if (cur) {
    throw new FileFormatError(`${file}: ffmpeg output ended mid-frame (${curFill} of ${frameBytes} bytes)`, { details: { path: file } });
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

export interface DecodeAudioOptions {
  maxSeconds?: number;
  info?: MediaInfo;
  /**
   * Align to the file's timeline: sample 0 is the instant `startSec` of ffmpeg's timeline (e.g. the
   * first video frame's `streamTimeSec`). ffmpeg's aresample places the audio by its timestamps
   * (silence where the audio starts late or has gaps), then the samples before `startSec` are dropped.
   * Default: the first decoded sample is sample 0.
   */
  startSec?: number;
}

/**
 * Decode the first audio stream of `file` to mono float32 PCM at `sampleRate` (ffmpeg resamples each
 * channel; the channels are then averaged here). Throws `FileFormatError` when there is no audio stream.
 */
export async function decodeAudio(file: string, options: DecodeAudioOptions & { sampleRate: number }): Promise<DecodedAudio> {
  return (await decodeAudioRates(file, { ...options, sampleRates: [options.sampleRate] }))[0];
}

/**
 * `decodeAudio` at several sample rates from one ffmpeg run: the stream is decoded once and split to
 * one resampler per rate (`vmr ingest` needs 22.05 kHz and the native rate: one process, one decode,
 * instead of two). Each output is the same samples `decodeAudio` gives at that rate.
 */
export async function decodeAudioRates(file: string, options: DecodeAudioOptions & { sampleRates: readonly number[] }): Promise<DecodedAudio[]> {
  const rates = options.sampleRates;
  if (rates.length < 1) throw new InvalidArgumentError('decodeAudioRates: give at least one sample rate');
  for (const sampleRate of rates) {
    if (!Number.isInteger(sampleRate) || sampleRate < 1000 || sampleRate > 384000) {
      throw new InvalidArgumentError(`sampleRate must be an integer in [1000, 384000], got ${sampleRate}`);
    }
  }
  const info = options.info ?? (await probeMedia(file));
  const a = info.audio;
  if (!a) throw new FileFormatError(`${file}: no audio stream`, { details: { path: file } });
  const align = options.startSec !== undefined;
  if (align && (!Number.isFinite(options.startSec) || options.startSec! < 0)) {
    throw new InvalidArgumentError(`audio start must be a finite time ≥ 0 s, got ${options.startSec}`);
  }
  const args = ['-v', 'error', '-nostdin'];
  if (options.maxSeconds !== undefined) args.push('-t', String(options.maxSeconds));
  args.push('-i', file);
  // One resampler per rate (output i → pipe:1 for i = 0, else pipe:i+2); `async=1:first_pts=0` places
  // the audio by its timestamps from the timeline's 0.
  const resamplers = rates.map((r, i) => `[s${i}]aresample=${r}${align ? ':async=1:first_pts=0' : ''}[o${i}]`);
  const split = rates.length === 1 ? `[0:${a.index}]anull[s0]` : `[0:${a.index}]asplit=${rates.length}${rates.map((_, i) => `[s${i}]`).join('')}`;
  args.push('-filter_complex', [split, ...resamplers].join(';'));
  rates.forEach((r, i) => args.push('-map', `[o${i}]`, '-ar', String(r), '-f', 'f32le', '-acodec', 'pcm_f32le', i === 0 ? 'pipe:1' : `pipe:${i + 2}`));
  const { ffmpeg } = ffmpegBinaries();
  const res = await runTool(ffmpeg, args, { extraOutputs: rates.length - 1 });
  if (res.code !== 0) {
    throw new FileFormatError(`${file}: ffmpeg could not decode the audio stream (${tailOf(res.stderr, 400) || `exit ${res.code}`})`, { details: { path: file } });
  }
  return rates.map((sampleRate, i) => toMonoAudio(file, i === 0 ? res.stdout : res.extraOutputs[i - 1], a.channels, sampleRate, align ? options.startSec! : undefined));
}

/** Interleaved f32le PCM from ffmpeg → mono samples (channels averaged), `startSec` dropped from the front. */
function toMonoAudio(file: string, bytes: Buffer, ch: number, sampleRate: number, startSec: number | undefined): DecodedAudio {
  const align = startSec !== undefined;
  const total = Math.floor(bytes.length / 4);
  // f32le on a little-endian host: view the bytes in place when aligned (else one copy).
  const le = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  let interleaved: Float32Array;
  if (le && bytes.byteOffset % 4 === 0) interleaved = new Float32Array(bytes.buffer, bytes.byteOffset, total);
  else {
    interleaved = new Float32Array(total);
    if (le) new Uint8Array(interleaved.buffer).set(bytes.subarray(0, total * 4));
    else for (let i = 0; i < total; i++) interleaved[i] = bytes.readFloatLE(i * 4);
  }
  const skip = align ? Math.min(Math.floor(total / ch), Math.round(startSec! * sampleRate)) : 0;
  const n = Math.floor(total / ch) - skip;
  const samples = new Float32Array(n);
  let bad = false;
  if (ch === 1) {
    samples.set(interleaved.subarray(skip, skip + n));
    for (let i = 0; i < n; i++) if (!Number.isFinite(samples[i])) bad = true;
  } else {
    for (let i = 0; i < n; i++) {
      let s = 0;
      const o = (i + skip) * ch;
      for (let c = 0; c < ch; c++) s += interleaved[o + c];
      samples[i] = s / ch;
      if (!Number.isFinite(s)) bad = true;
    }
  }
  if (bad) throw new FileFormatError(`${file}: decoded audio contains non-finite samples`, { details: { path: file } });
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
