import { FileFormatError, InvalidArgumentError } from '@vmr/core';
import { type MediaInfo, type Rational, probeMedia } from '../media/probe';
import { flowFpsFor } from '../media/frame-sampling';
import { streamSampledFrames } from '../media/decode';
import { type FarnebackParams, type FlowEngine, type FlowField, type GrayFrame, FarnebackFlow, meanFlowMagnitude } from './farneback';

/** A sampled frame after resize + grey conversion, handed to per-frame consumers (extractors). */
export interface PreparedFrame {
  /** Sample slot (time ≈ sampleIndex / flowFps). */
  sampleIndex: number;
  /** Index on the native-rate grid (the decode index on constant-frame-rate video). */
  decodeIndex: number;
  /** Presentation time from the first frame, in seconds. */
  timeSec: number;
  /** A repeat of the previous frame filling a slot no frame reached (variable-frame-rate gap). */
  held?: boolean;
  /** Resized colour frame, bgr24, `[height, width, 3]`. */
  bgr: Uint8Array;
  gray: GrayFrame;
  /** Flow from the previous sampled frame (undefined for the first frame). */
  flowFromPrev?: FlowField;
}

export interface VideoAnalysisOptions {
  /** Upper bound of the flow frame rate; flowFps = min(maxFlowFps, native). Default 3. */
  maxFlowFps?: number;
  /** Frame size for flow and builtin features. Default 320×240 (DESIGN.md §1.1). */
  width?: number;
  height?: number;
  farneback?: Partial<FarnebackParams>;
  /**
   * Who resizes to width×height: `opencv` (default) — full-size bgr24 frames cross the pipe and
   * cv.resize INTER_LINEAR runs on them, exactly the reference (OpenCV-Python parity); `ffmpeg` —
   * ffmpeg's swscale (bilinear) scales inside the decoder so only small frames cross the pipe (faster;
   * swscale averages over the whole footprint when shrinking, so values differ slightly from OpenCV's).
   */
  resize?: 'opencv' | 'ffmpeg';
  /** Only analyse the first `maxSeconds` of the video. */
  maxSeconds?: number;
  /** ffmpeg decoder threads (see `StreamFramesOptions.decodeThreads`); default ffmpeg's choice. */
  decodeThreads?: number;
  /** Probe result, when the caller already has it. */
  info?: MediaInfo;
  /** Called for every sampled frame, in order, after its flow is computed. */
  onFrame?: (frame: PreparedFrame) => void | Promise<void>;
}

export interface VideoAnalysis {
  file: string;
  nativeFps: number;
  flowFps: number;
  flowFpsRational: Rational;
  /** Native-grid indices of the sampled frames (decode indices on constant-frame-rate video). */
  sampledDecodeIndices: number[];
  /** Presentation time of each sample from the first frame, in seconds. */
  sampleTimes: number[];
  /** Samples that repeat the previous frame (slots no frame reached on variable-frame-rate video). */
  heldSamples: number;
  /** Time of the first frame on the file's timeline (where the clip's audio is aligned). */
  videoStartSec: number;
  /** Presentation time of the last sampled frame from the first frame, in seconds. */
  lastFrameSec: number;
  /** How the frames were resized (see `VideoAnalysisOptions.resize`). */
  resize: 'opencv' | 'ffmpeg';
  /** The code that computed the flow (`native` or `opencv.js`; the same bits either way). */
  flowEngine: FlowEngine;
  /** Mean of each sampled grey frame (for localising decode differences). */
  grayMeans: number[];
  /**
   * Mean flow magnitude per sampled frame; index 0 duplicates the first pair's value, so
   * `trajectory.length === sampledDecodeIndices.length` (the reference's convention).
   */
  trajectory: number[];
}

/**
 * Decode `file` at flowFps with the time-accumulator sampling on presentation time (one sample per
 * 1/flowFps of media time, also on variable-frame-rate video), resize to 320×240 (cv.resize
 * INTER_LINEAR on the bgr frame), grey (BGR2GRAY), Farnebäck between consecutive sampled frames and
 * the mean magnitude per pair — VMR `flowProcessor.py`'s procedure (DESIGN.md §1.1).
 * A video with fewer than 2 sampled frames is `FileFormatError` (no flow can be computed).
 */
export async function analyzeVideo(file: string, options: VideoAnalysisOptions = {}): Promise<VideoAnalysis> {
  const width = options.width ?? 320;
  const height = options.height ?? 240;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 16 || height < 16) {
    throw new InvalidArgumentError(`flow frame size must be integers ≥ 16, got ${width}x${height}`);
  }
  const info = options.info ?? (await probeMedia(file));
  if (!info.video) throw new FileFormatError(`${file}: no video stream`, { details: { path: file } });
  const target = flowFpsFor(info.video.fpsRational, options.maxFlowFps ?? 3);
  const resize = options.resize ?? 'opencv';
  const fb = await FarnebackFlow.create(options.farneback);
  const flowEngine = fb.engine;
  const indices: number[] = [];
  const times: number[] = [];
  const grayMeans: number[] = [];
  const trajectory: number[] = [];
  let held = 0;
  let videoStartSec = 0;
  let lastFrameSec = 0;
  let prev: GrayFrame | undefined;
  // Colour frames are only needed by per-frame consumers (extractors); flow alone takes grey.
  const colour = resize === 'opencv' || options.onFrame !== undefined;
  try {
    for await (const f of streamSampledFrames(file, {
      targetFps: target,
      pixelFormat: colour ? 'bgr24' : 'gray',
      maxSeconds: options.maxSeconds,
      info,
      decodeThreads: options.decodeThreads,
      recycleFrames: true, // each frame is copied into OpenCV.js by prepare() before the next is asked for
      scale: resize === 'ffmpeg' ? { width, height } : undefined,
    })) {
      if (indices.length === 0) videoStartSec = f.streamTimeSec;
      const { bgr, gray } = fb.prepare({ width: f.width, height: f.height, channels: colour ? 3 : 1, data: f.data }, width, height);
      let s = 0;
      for (let i = 0; i < gray.data.length; i++) s += gray.data[i];
      grayMeans.push(s / gray.data.length);
      indices.push(f.decodeIndex);
      times.push(f.timeSec);
      if (f.held) held++;
      else lastFrameSec = f.timeSec;
      let flow: FlowField | undefined;
      if (prev) {
        flow = fb.compute(prev, gray);
        trajectory.push(meanFlowMagnitude(flow));
      }
      prev = gray;
      if (options.onFrame) await options.onFrame({ sampleIndex: f.sampleIndex, decodeIndex: f.decodeIndex, timeSec: f.timeSec, held: f.held, bgr: bgr!, gray, flowFromPrev: flow });
    }
  } finally {
    fb.dispose();
  }
  if (indices.length < 2) {
    throw new FileFormatError(`${file}: only ${indices.length} frame(s) decoded at ${target.num / target.den} fps; need ≥ 2 for optical flow`, {
      details: { path: file, frames: indices.length },
    });
  }
  trajectory.unshift(trajectory[0]);
  return {
    file,
    nativeFps: info.video.fps,
    flowFps: target.num / target.den,
    flowFpsRational: target,
    sampledDecodeIndices: indices,
    sampleTimes: times,
    heldSamples: held,
    videoStartSec,
    lastFrameSec,
    resize,
    flowEngine,
    grayMeans,
    trajectory,
  };
}
