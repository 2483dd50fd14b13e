import { VmrError, errorMessage, sha256File } from '@vmr/core';
import {
  type DecodedAudio,
  type MediaInfo,
  BUILTIN_AUDIO_SR,
  BUILTIN_AUDIO_STFT,
  BuiltinVideoAccumulator,
  getExtractor,
  isPretrainedExtractor,
  MobileNetV2Accumulator,
  analyzeVideo,
  builtinAudioFeatures,
  decodeAudioRates,
  energyPeakTimes,
  onsetDetect,
  powerSpectrogram,
  probeMedia,
  resolveExtractor,
} from '@vmr/features';
import type { FailureReason } from '../dataset/schema';
import { flowPeakTimes } from '../peaks/flow-peaks';

/** What to compute for one media file (plain data: crosses worker boundaries). */
export interface ClipJob {
  file: string;
  videoFeatures: string[];
  audioFeatures: string[];
  maxSeconds?: number;
  /** Clips shorter than this many whole seconds are skipped (default 1). */
  minSeconds?: number;
  /** Keep video clips without an audio stream / with silent audio (default false: skipped). */
  allowSilent?: boolean;
  /** Compute AV-Align peaks (default true). */
  peaks?: boolean;
  /** Local model folders/files of pretrained extractors (resolved by ingest; loaded offline here): name → path. */
  modelPaths?: Record<string, string>;
  /** Who resizes frames to 320×240 (`--resize`): `opencv` (default, OpenCV-Python parity) or `ffmpeg` (faster). */
  resize?: 'opencv' | 'ffmpeg';
}

export interface ClipOk {
  ok: true;
  file: string;
  kind: 'video' | 'music';
  sha256: string;
  sizeBytes: number;
  durationSec: number;
  seconds: number;
  hasAudio: boolean;
  nativeFps?: number;
  flowFps?: number;
  flow?: Float64Array;
  video: Record<string, Float32Array>;
  audio: Record<string, Float32Array>;
  /** variant → modality → peak times (s). */
  peaks: Record<string, { video?: Float64Array; audio?: Float64Array }>;
  meta: Record<string, unknown>;
}

export interface ClipFailed {
  ok: false;
  file: string;
  status: 'failed' | 'skipped';
  reason: FailureReason;
  message: string;
}

export type ClipResult = ClipOk | ClipFailed;

/** Audio decoded from the file timeline's 0, cut to start at the first video frame (when there is video). */
function fromVideoStart(a: DecodedAudio, videoStartSec: number | undefined): DecodedAudio {
  if (!videoStartSec || !(videoStartSec > 0)) return a; // (a video starting before the timeline's 0 keeps the audio as is)
  const skip = Math.min(a.samples.length, Math.round(videoStartSec * a.sampleRate));
  const samples = a.samples.subarray(skip);
  return { ...a, samples, durationSec: samples.length / a.sampleRate };
}

/** Silent: peak |sample| below this (−80 dBFS). */
const SILENCE_PEAK = 1e-4;


/** Yariv's video peaks as plain numbers (the rule lives in peaks/flow-peaks.ts, shared by ingest and synth). */
export function flowPeakTimesYariv(flow: ArrayLike<number>, fps: number, threshold = 0.1): number[] {
  return Array.from(flowPeakTimes(flow, fps, threshold));
}

function classify(e: unknown, file: string): ClipFailed {
  const msg = errorMessage(e);
  if (e instanceof VmrError) {
    if (e.code === 'NOT_FOUND') return { ok: false, file, status: 'failed', reason: 'not-found', message: msg };
    if (/codec|decoder|not supported|unsupported/i.test(msg)) return { ok: false, file, status: 'failed', reason: 'unreadable-codec', message: msg };
    if (e.code === 'BAD_FILE_FORMAT') return { ok: false, file, status: 'failed', reason: 'corrupt', message: msg };
  }
  return { ok: false, file, status: 'failed', reason: 'error', message: msg };
}

/**
 * Probe, decode and featurise one media file: flow trajectory + per-second video features for video
 * files, per-second audio features, and AV-Align peaks (`yariv`: flow local maxima ≥ 0.1 and librosa
 * onsets; `vmr`: energy peaks at the native rate — its video side needs the reference's every-5th-frame
 * half-resolution flow and is not computed here). Never throws for a bad file: returns a `ClipFailed`
 * with a reason.
 */
export async function processClip(job: ClipJob): Promise<ClipResult> {
  const file = job.file;
  const fail = (status: 'failed' | 'skipped', reason: FailureReason, message: string): ClipFailed => ({ ok: false, file, status, reason, message: `${file}: ${message}` });
  try {
    let info: MediaInfo;
    try {
      info = await probeMedia(file);
    } catch (e) {
      return classify(e, file);
    }
    const sizeBytes = info.sizeBytes;
    const sha256 = sha256File(file);
    const minSeconds = job.minSeconds ?? 1;
    const meta: Record<string, unknown> = { format: info.formatName };
    if (!info.video && !info.audio) return fail('failed', 'corrupt', 'no video or audio stream');
    const peaks: ClipOk['peaks'] = {};
    const video: Record<string, Float32Array> = {};
    const audio: Record<string, Float32Array> = {};
    let seconds: number;
    let durationSec: number;
    let flow: Float64Array | undefined;
    let flowFps: number | undefined;
    let nativeFps: number | undefined;
    let videoStartSec: number | undefined;
    const kind: 'video' | 'music' = info.video ? 'video' : 'music';
    // Audio decodes (separate ffmpeg processes) start now and run while the video is decoded and its
    // flow computed. A video's audio is placed on the file's timeline (from 0) and cut to start at the
    // first video frame once that is known.
    // One ffmpeg run decodes the audio once for both rates (22.05 kHz for builtin-audio and the onsets,
    // the native rate for the vmr energy peaks).
    const audioDecode = info.audio
      ? decodeAudioRates(file, {
          sampleRates: job.peaks !== false ? [BUILTIN_AUDIO_SR, info.audio.sampleRate] : [BUILTIN_AUDIO_SR],
          maxSeconds: job.maxSeconds,
          info,
          startSec: info.video ? 0 : undefined,
        })
      : undefined;
    audioDecode?.catch(() => undefined); // awaited below; not an unhandled rejection if the clip fails first
    const audioJobs = audioDecode ? { a22: audioDecode.then((r) => r[0]), native: job.peaks !== false ? audioDecode.then((r) => r[1]) : undefined } : undefined;
    audioJobs?.a22.catch(() => undefined);
    audioJobs?.native?.catch(() => undefined);
    if (info.video) {
      const v = info.video;
      Object.assign(meta, { videoCodec: v.codec, width: v.width, height: v.height, rotation: v.rotation });
      if (!info.audio && !job.allowSilent) return fail('skipped', 'no-audio', 'video has no audio stream (a clip needs its music; pass --allow-silent to keep it)');
      const acc = job.videoFeatures.includes('builtin-video') ? new BuiltinVideoAccumulator() : undefined;
      const mnet = job.videoFeatures.includes('mobilenetv2') ? new MobileNetV2Accumulator() : undefined;
      let analysis;
      try {
        analysis = await analyzeVideo(file, {
          info,
          maxSeconds: job.maxSeconds,
          resize: job.resize,
          // One decoder thread: ingest already runs one clip per core (--workers) and the decode runs
          // beside the flow; ffmpeg's extra threads only added CPU (3.7 → 3.0 CPU-s on the shared clips).
          decodeThreads: 1,
          onFrame: (f) => {
            acc?.addFrame(f);
            mnet?.addFrame(f);
          },
        });
      } catch (e) {
        if (e instanceof VmrError && /need ≥ 2 for optical flow/.test(e.message)) return fail('skipped', 'too-short', e.message);
        return classify(e, file);
      }
      nativeFps = analysis.nativeFps;
      flowFps = analysis.flowFps;
      flow = Float64Array.from(analysis.trajectory);
      videoStartSec = analysis.videoStartSec;
      // Completeness by presentation time (not frame count ÷ nominal fps, which is wrong on
      // variable-frame-rate video): the video runs on after the last sampled frame for less than
      // one sample period plus one frame.
      const decodedSec = analysis.lastFrameSec + 1 / flowFps + 1 / nativeFps;
      const containerSec = Math.max(0, info.durationSec - videoStartSec);
      const expected = job.maxSeconds !== undefined ? Math.min(job.maxSeconds - videoStartSec, containerSec) : containerSec;
      if (expected > 0 && decodedSec < 0.9 * expected - 1) {
        return fail('failed', 'truncated', `decoded ${decodedSec.toFixed(2)} s of video but the container says ${expected.toFixed(2)} s (truncated or damaged file)`);
      }
      durationSec = expected > 0 ? Math.min(expected, decodedSec) : decodedSec;
      seconds = Math.floor(durationSec + 1e-3);
      Object.assign(meta, { videoStartSec, flowSamples: flow.length, heldSamples: analysis.heldSamples, resize: analysis.resize });
      if (seconds < minSeconds) return fail('skipped', 'too-short', `${durationSec.toFixed(2)} s of video; at least ${minSeconds} whole second(s) needed (--min-seconds)`);
      if (acc) video['builtin-video'] = acc.finish(seconds);
      if (mnet) video.mobilenetv2 = await mnet.finish(seconds);
      for (const n of job.videoFeatures.filter(isPretrainedExtractor)) {
        const x = await resolveExtractor(n, { source: job.modelPaths?.[n], offline: true });
        video[n] = await x.extractVideo!(file, { seconds, info, maxSeconds: job.maxSeconds });
      }
      if (job.peaks !== false) peaks.yariv = { video: Float64Array.from(flowPeakTimesYariv(analysis.trajectory, flowFps)) };
    } else {
      durationSec = job.maxSeconds !== undefined ? Math.min(job.maxSeconds, info.durationSec) : info.durationSec;
      seconds = Math.floor(durationSec + 1e-3);
      if (seconds < minSeconds) return fail('skipped', 'too-short', `${durationSec.toFixed(2)} s of audio; at least ${minSeconds} whole second(s) needed (--min-seconds)`);
    }
    let hasAudio = false;
    if (info.audio) {
      Object.assign(meta, { audioCodec: info.audio.codec, sampleRate: info.audio.sampleRate, channels: info.audio.channels });
      let a22;
      try {
        a22 = fromVideoStart(await audioJobs!.a22, videoStartSec);
      } catch (e) {
        return classify(e, file);
      }
      let peak = 0;
      for (let i = 0; i < a22.samples.length; i++) peak = Math.max(peak, Math.abs(a22.samples[i]));
      if (peak < SILENCE_PEAK && !job.allowSilent) {
        return fail('skipped', 'silent', `audio is silent (peak ${peak.toExponential(2)} < ${SILENCE_PEAK}; pass --allow-silent to keep it)`);
      }
      hasAudio = true;
      // One STFT and one onset detection serve builtin-audio and the AV-Align onsets (same librosa STFT).
      const wantBuiltin = job.audioFeatures.includes('builtin-audio');
      const spectrogram = wantBuiltin || job.peaks !== false ? powerSpectrogram(a22.samples, BUILTIN_AUDIO_STFT) : undefined;
      const onset = spectrogram ? onsetDetect(a22.samples, BUILTIN_AUDIO_SR, { spectrogram }) : undefined;
      if (wantBuiltin) audio['builtin-audio'] = builtinAudioFeatures(a22.samples, BUILTIN_AUDIO_SR, seconds, { spectrogram, onset });
      for (const n of job.audioFeatures.filter(isPretrainedExtractor)) {
        const x = await resolveExtractor(n, { source: job.modelPaths?.[n], offline: true });
        audio[n] = await x.extractAudio!(file, { seconds, info, maxSeconds: job.maxSeconds });
      }
      if (job.peaks !== false) {
        peaks.yariv = { ...(peaks.yariv ?? {}), audio: Float64Array.from(onset!.times) };
        const native = fromVideoStart(await audioJobs!.native!, videoStartSec);
        peaks.vmr = { audio: Float64Array.from(energyPeakTimes(native.samples, native.sampleRate)) };
      }
    } else if (kind === 'music') {
      return fail('failed', 'no-audio', 'no audio stream');
    }
    return { ok: true, file, kind, sha256, sizeBytes, durationSec, seconds, hasAudio, nativeFps, flowFps, flow, video, audio, peaks, meta };
  } catch (e) {
    return classify(e, file);
  }
}
