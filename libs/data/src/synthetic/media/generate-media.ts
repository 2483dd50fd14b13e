import * as fs from 'fs';
import * as path from 'path';
import { ConflictError, InvalidArgumentError, writeJsonAtomic } from '@vmr/core';
import { type SynthOverrides, type SynthPresetName, resolveSynthConfig } from '../config';
import { createSynthContext, generateClipTruth, type SyntheticClipTruth } from '../clip';
import { DEFAULT_MEDIA_VIDEO, type MediaVideoOptions, mediaMotionPlan, renderFrames } from './render';
import { DEFAULT_MEDIA_AUDIO, type MediaAudioOptions, synthesizeMusic } from './music';
import { encodeMp4 } from './encode';

export const SYNTH_MEDIA_MANIFEST = 'synthetic-media.json';
export const SYNTH_MEDIA_VERSION = 1;

export interface SynthMediaOptions {
  out: string;
  clips: number;
  seed: number | string;
  /** Style / level / onset settings come from this preset (default himv-like). */
  preset?: SynthPresetName;
  /** Durations (s) of the short media clips (default 8–16) and their motion regimes (default 3 of ≥ 2 s). */
  minDuration?: number;
  maxDuration?: number;
  regimes?: number;
  minRegimeSeconds?: number;
  video?: Partial<MediaVideoOptions>;
  audio?: Partial<MediaAudioOptions>;
  /** ffmpeg binary. */
  ffmpeg: string;
  /** Replace an existing manifest in `out`. */
  overwrite?: boolean;
  /** Called after each encoded clip. */
  onClip?: (done: number, total: number) => void;
}

/** One media clip's ground truth in `synthetic-media.json`. */
export interface SynthMediaClipEntry {
  id: string;
  /** Path relative to the output directory. */
  file: string;
  duration: number;
  split: string;
  styleCluster: number;
  regimes: { start: number; end: number; level: number; onsetRate: number; speed: number }[];
  changePoints: number[];
  highMotion: { regime: number; start: number; end: number };
  lowMotion: { regime: number; start: number; end: number };
  /** Beat onsets (s): every one is a percussive hit in the music and a jump of the shapes in the video. */
  onsets: number[];
}

export interface SynthMediaManifest {
  kind: 'synthetic';
  generator: 'vmr synth-media';
  version: number;
  description: string;
  preset: SynthPresetName;
  seed: string;
  video: MediaVideoOptions & { codec: string };
  audio: MediaAudioOptions & { codec: string; channels: 1 };
  groundTruth: string;
  clips: SynthMediaClipEntry[];
}

function mediaOverrides(o: SynthMediaOptions): SynthOverrides {
  return {
    minDuration: o.minDuration ?? 8,
    maxDuration: o.maxDuration ?? 16,
    regimes: o.regimes ?? 3,
    minRegimeSeconds: o.minRegimeSeconds ?? 2,
    // Every onset is a visible hit in the rendered video; sparser beats than the feature-level default
    // keep chance AV-Align matches (window ±1/3 s at 3 fps) rare.
    syncRate: 1,
    // Media clips are cut to their music: every pair synced, energy = motion (the music follows truth.regimes).
    unsyncedShare: 0,
    coupling: 1,
    onsetRateMin: 0.4,
    onsetRateMax: 1.6,
  };
}

/** Regime speed (px/s) of the rendered shapes: log-linear in the level, as `mediaMotionPlan`. */
function regimeSpeed(level: number, levelMin: number, levelMax: number, v: MediaVideoOptions): number {
  const u = (Math.log(level) - Math.log(levelMin)) / (Math.log(levelMax) - Math.log(levelMin));
  return v.speedMin * Math.pow(v.speedMax / v.speedMin, u);
}

function entry(t: SyntheticClipTruth, file: string, levelMin: number, levelMax: number, v: MediaVideoOptions): SynthMediaClipEntry {
  const round = (x: number): number => Math.round(x * 1e4) / 1e4;
  return {
    id: t.id,
    file,
    duration: t.duration,
    split: t.split,
    styleCluster: t.styleCluster,
    regimes: t.regimes.map((r) => ({
      start: r.start,
      end: r.end,
      level: round(r.level),
      onsetRate: round(r.onsetRate),
      speed: round(regimeSpeed(r.level, levelMin, levelMax, v)),
    })),
    changePoints: t.changePoints,
    highMotion: { regime: t.highMotion, start: t.regimes[t.highMotion].start, end: t.regimes[t.highMotion].end },
    lowMotion: { regime: t.lowMotion, start: t.regimes[t.lowMotion].start, end: t.regimes[t.lowMotion].end },
    onsets: Array.from(t.onsets, round),
  };
}

/**
 * The media-level generator (`vmr synth-media`): `clips` short `.mp4` files in `<out>/media/` — textured
 * shapes whose speed follows the clip's motion regimes and that jump on every beat, with a synthesized
 * music track whose tempo (onset density) and loudness follow the same curve — plus
 * `<out>/synthetic-media.json`, the ground truth (regimes, change points, high/low-motion regime, onset
 * times, style cluster), written last. Deterministic for a seed (up to the encoder's own determinism).
 */
export async function generateSyntheticMedia(o: SynthMediaOptions): Promise<SynthMediaManifest> {
  if (!(Number.isInteger(o.clips) && o.clips >= 1)) throw new InvalidArgumentError(`--clips must be a positive integer, got ${o.clips}`);
  const manifestPath = path.join(o.out, SYNTH_MEDIA_MANIFEST);
  if (fs.existsSync(manifestPath) && !o.overwrite) {
    throw new ConflictError(`${manifestPath} already exists; choose another --out or pass --overwrite`, { details: { path: manifestPath } });
  }
  const preset = o.preset ?? 'himv-like';
  const config = resolveSynthConfig(preset, mediaOverrides(o));
  const video: MediaVideoOptions = { ...DEFAULT_MEDIA_VIDEO, ...(o.video ?? {}) };
  const audio: MediaAudioOptions = { ...DEFAULT_MEDIA_AUDIO, ...(o.audio ?? {}) };
  for (const [k, v] of Object.entries({ ...video, ...audio })) {
    if (!(Number.isFinite(v) && v > 0)) throw new InvalidArgumentError(`synth-media: ${k} must be a positive number, got ${v}`);
  }
  if (video.width % 2 !== 0 || video.height % 2 !== 0) {
    throw new InvalidArgumentError(`synth-media: width and height must be even for yuv420p, got ${video.width}x${video.height}`);
  }
  const ctx = createSynthContext(config, o.seed);
  const clips: SynthMediaClipEntry[] = [];
  for (let i = 0; i < o.clips; i++) {
    const truth = generateClipTruth(ctx, i);
    const file = path.join('media', `${truth.id}.mp4`);
    const plan = mediaMotionPlan(truth, config.levelMin, config.levelMax, video);
    const music = synthesizeMusic(truth, config.levelMin, config.levelMax, audio, `${ctx.seed}/media/${i}/music`);
    await encodeMp4(path.join(o.out, file), renderFrames(plan, video, `${ctx.seed}/media/${i}/video`), music, {
      ffmpeg: o.ffmpeg,
      width: video.width,
      height: video.height,
      fps: video.fps,
      sampleRate: audio.sampleRate,
    });
    clips.push(entry(truth, file, config.levelMin, config.levelMax, video));
    o.onClip?.(i + 1, o.clips);
  }
  const manifest: SynthMediaManifest = {
    kind: 'synthetic',
    generator: 'vmr synth-media',
    version: SYNTH_MEDIA_VERSION,
    description:
      'SYNTHETIC media (not real music videos): textured shapes bouncing over a static background, speed following ' +
      'piecewise-constant motion regimes, a jump on every beat; music = a chord pad + percussive hits at the beat ' +
      'onsets, tempo and loudness following the same regimes.',
    preset,
    seed: ctx.seed,
    video: { ...video, codec: 'h264 (libx264, yuv420p, crf 16)' },
    audio: { ...audio, codec: 'aac 128k', channels: 1 },
    groundTruth:
      'Per clip: regimes (whole seconds [start, end), flow level, onset rate, shape speed px/s); changePoints = interior ' +
      'regime boundaries (s); highMotion / lowMotion = the regime with the highest / lowest level; onsets = beat times (s) ' +
      'that are both a percussive hit in the music and a jump of every shape in the first video frame at or after it; ' +
      'clips with the same styleCluster share the chord root of their music.',
    clips,
  };
  writeJsonAtomic(manifestPath, manifest);
  return manifest;
}
