import { NotFoundError, Rng } from '@vmr/core';
import type { SynthConfig, SynthMix } from './config';
import type { SyntheticClipTruth } from './clip';
import { FastRandom } from './fast-random';
import { MOTION_DESCRIPTOR_DIM, type ViewMaps, type WorldMaps } from './world';

const FLOW_FLOOR = 0.05;

function logLevelStats(c: SynthConfig): { mu: number; sigma: number } {
  const a = Math.log(c.levelMin);
  const b = Math.log(c.levelMax);
  return { mu: (a + b) / 2, sigma: (b - a) / Math.sqrt(12) };
}

/**
 * Per-second motion descriptor of the video, `[T, 3]` row-major, from the observed flow trajectory:
 * standardised log mean flow u, (u² − 1)/√2, and the within-second flow spread (max − min)/mean − 0.5.
 */
export function videoMotionDescriptor(truth: SyntheticClipTruth, config: SynthConfig): Float64Array {
  const { mu, sigma } = logLevelStats(config);
  const fps = config.flowFps;
  const T = truth.duration;
  const out = new Float64Array(T * MOTION_DESCRIPTOR_DIM);
  for (let t = 0; t < T; t++) {
    let sum = 0;
    let mx = -Infinity;
    let mn = Infinity;
    for (let j = t * fps; j < (t + 1) * fps; j++) {
      const v = truth.flow[j];
      sum += v;
      if (v > mx) mx = v;
      if (v < mn) mn = v;
    }
    const m = sum / fps;
    const u = (Math.log(m + FLOW_FLOOR) - mu) / sigma;
    out[t * 3] = u;
    out[t * 3 + 1] = (u * u - 1) / Math.SQRT2;
    out[t * 3 + 2] = (mx - mn) / (m + FLOW_FLOOR) - 0.5;
  }
  return out;
}

/**
 * Per-second energy descriptor of the music, `[T, 3]`: standardised log energy of the music regime
 * (follows the driver's motion curve by `coupling`), (u² − 1)/√2, and the standardised onset count of the second.
 */
export function musicEnergyDescriptor(truth: SyntheticClipTruth, config: SynthConfig): Float64Array {
  const { mu, sigma } = logLevelStats(config);
  const T = truth.duration;
  const counts = new Float64Array(T);
  for (const t of truth.onsets) counts[Math.min(T - 1, Math.floor(t))] += 1;
  const meanRate = (config.onsetRateMin + config.onsetRateMax) / 2;
  const out = new Float64Array(T * MOTION_DESCRIPTOR_DIM);
  for (const r of truth.musicRegimes) {
    const u = (Math.log(r.level) - mu) / sigma;
    for (let t = r.start; t < r.end; t++) {
      out[t * 3] = u;
      out[t * 3 + 1] = (u * u - 1) / Math.SQRT2;
      out[t * 3 + 2] = (counts[t] - meanRate) / Math.sqrt(meanRate);
    }
  }
  return out;
}

/**
 * Fill `[T, view.dim]` features: per block, offset + style·(P s) + nuisance·(R z) + motion·(Q φ_t) + noise.
 */
function renderView(
  view: ViewMaps,
  mixes: SynthMix[],
  config: SynthConfig,
  style: Float32Array,
  nuisance: Float32Array,
  descriptor: Float64Array,
  T: number,
  noise: FastRandom,
): Float32Array {
  const D = view.dim;
  const k = config.styleDim;
  const out = new Float32Array(T * D);
  let col = 0;
  view.blocks.forEach((block, bi) => {
    const mix = mixes[bi];
    const a = mix.style * config.styleStrength;
    const base = new Float64Array(block.dim);
    for (let d = 0; d < block.dim; d++) {
      let s = 0;
      let z = 0;
      for (let j = 0; j < k; j++) {
        s += block.style[d * k + j] * style[j];
        z += block.nuisance[d * k + j] * nuisance[j];
      }
      base[d] = block.offset[d] + a * s + mix.nuisance * z;
    }
    const b = mix.motion;
    const sigma = mix.noise * config.noiseScale;
    for (let t = 0; t < T; t++) {
      noise.fillRow(out, t * D + col, base, block.motion, b * descriptor[t * 3], b * descriptor[t * 3 + 1], b * descriptor[t * 3 + 2], sigma);
    }
    col += block.dim;
  });
  return out;
}

function noiseFor(truth: SyntheticClipTruth, viewName: string): FastRandom {
  return FastRandom.fromRng(new Rng(truth.featureSeed).fork(viewName));
}

/**
 * A video view's `[T, D]` float32 features (row-major, one row per second) of a clip.
 * @throws NotFoundError for a view the config does not define.
 */
export function clipVideoFeatures(truth: SyntheticClipTruth, config: SynthConfig, world: WorldMaps, viewName: string): Float32Array {
  const vi = config.views.findIndex((v) => v.name === viewName);
  if (vi < 0) {
    throw new NotFoundError(`synthetic view "${viewName}" is not defined; views: ${config.views.map((v) => v.name).join(', ')}`);
  }
  const desc = videoMotionDescriptor(truth, config);
  const mixes = config.views[vi].blocks.map((b) => b.mix);
  return renderView(world.views[vi], mixes, config, truth.videoStyle, truth.videoNuisance, desc, truth.duration, noiseFor(truth, viewName));
}

/** The audio view's `[T, Da]` float32 features (VGGish stand-in, 128-d per second). */
export function clipAudioFeatures(truth: SyntheticClipTruth, config: SynthConfig, world: WorldMaps): Float32Array {
  const desc = musicEnergyDescriptor(truth, config);
  const mixes = config.audio.blocks.map((b) => b.mix);
  return renderView(world.audio, mixes, config, truth.musicStyle, truth.musicNuisance, desc, truth.duration, noiseFor(truth, `audio/${config.audio.name}`));
}
