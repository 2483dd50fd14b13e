import { Rng } from '@vmr/core';
import type { SplitName } from '../dataset/schema';
import type { SynthConfig } from './config';

/** One motion regime: whole seconds [start, end), a flow level and the music's onset rate. */
export interface Regime {
  start: number;
  end: number;
  /** Mean flow magnitude of the regime before beat bumps (px per frame pair). */
  level: number;
  /** Music onsets per second in this regime. */
  onsetRate: number;
}

/**
 * The known structure of one synthetic clip — everything except the bulky feature matrices, which
 * `clipVideoFeatures` / `clipAudioFeatures` derive from it deterministically.
 */
export interface SyntheticClipTruth {
  id: string;
  index: number;
  /** T: whole seconds; the 1-fps feature matrices have T rows. */
  duration: number;
  split: SplitName;
  /** Style cluster ("genre"): clips of one cluster have similar styles. */
  styleCluster: number;
  /** [k] the latent style shared by the video and its music. */
  style: Float32Array;
  /** [k] style as seen by the video side / the music side (shared style + independent pair noise). */
  videoStyle: Float32Array;
  musicStyle: Float32Array;
  /** [k] per-clip nuisance vectors the other modality does not share. */
  videoNuisance: Float32Array;
  musicNuisance: Float32Array;
  regimes: Regime[];
  /** True change points in seconds (interior regime boundaries, ascending). */
  changePoints: number[];
  /** Index into `regimes` of the truly highest / lowest motion regime. */
  highMotion: number;
  lowMotion: number;
  /** [T·flowFps] flow-magnitude trajectory (sample i at time i / flowFps). */
  flow: Float32Array;
  /** Music onset times in seconds (ascending): the known audio peaks. */
  onsets: Float64Array;
  /** Onsets that produced a flow bump (the visual hit on the beat). */
  syncedOnsets: number;
  /** Seed of this clip's feature noise streams. */
  featureSeed: string;
}

/** Dataset-level state derived from the seed (not from the clip count: clip i is the same for any N). */
export interface SynthContext {
  config: SynthConfig;
  seed: string;
  /** [C, k] style cluster centres. */
  centres: Float32Array;
}

export function createSynthContext(config: SynthConfig, seed: number | string): SynthContext {
  const rng = new Rng(seed).fork('style-centres');
  const k = config.styleDim;
  const centres = new Float32Array(config.styleClusters * k);
  for (let i = 0; i < centres.length; i++) centres[i] = rng.normal();
  return { config, seed: String(seed), centres };
}

/** The id of clip `index` (6-digit zero padding, more when needed). */
export function synthClipId(config: SynthConfig, index: number): string {
  return `${config.idPrefix}-${String(index).padStart(6, '0')}`;
}

/** Split `[0, T)` into `count` whole-second regimes of at least `minLen` s (random lengths). */
function regimeBounds(rng: Rng, T: number, count: number, minLen: number): number[] {
  const spare = T - count * minLen;
  const w = Array.from({ length: count }, () => -Math.log(1 - rng.next()));
  const total = w.reduce((a, b) => a + b, 0);
  const extra = w.map((x) => Math.floor((spare * x) / total));
  let left = spare - extra.reduce((a, b) => a + b, 0);
  for (let i = 0; left > 0; i = (i + 1) % count, left--) extra[i] += 1;
  const bounds = [0];
  for (let i = 0; i < count; i++) bounds.push(bounds[i] + minLen + extra[i]);
  return bounds;
}

/** Log-uniform levels, adjacent ones at least `ratio` apart (in log space). */
function regimeLevels(rng: Rng, count: number, lo: number, hi: number, ratio: number): number[] {
  const a = Math.log(lo);
  const b = Math.log(hi);
  const gap = Math.log(ratio);
  const levels: number[] = [];
  for (let i = 0; i < count; i++) {
    let x = rng.uniform(a, b);
    if (i > 0) {
      const prev = Math.log(levels[i - 1]);
      // Uniform over [a, b] minus (prev − gap, prev + gap): map a draw over the allowed length.
      const below = Math.max(0, prev - gap - a);
      const above = Math.max(0, b - (prev + gap));
      const u = rng.uniform(0, below + above);
      x = u < below ? a + u : prev + gap + (u - below);
    }
    levels.push(Math.exp(x));
  }
  return levels;
}

function splitOf(config: SynthConfig, u: number): SplitName {
  if (u < config.trainFraction) return 'train';
  if (u < config.trainFraction + config.valFraction) return 'val';
  return 'test';
}

/**
 * The structure of clip `index`: duration, split, styles, regimes, flow trajectory and onsets.
 * Deterministic in (seed, preset config, index); independent of the other clips.
 */
export function generateClipTruth(ctx: SynthContext, index: number): SyntheticClipTruth {
  const c = ctx.config;
  const id = synthClipId(c, index);
  const clipRng = new Rng(ctx.seed).fork(`clip/${index}`);
  const rng = clipRng.fork('structure');
  const k = c.styleDim;

  const duration = rng.int(c.minDuration, c.maxDuration + 1);
  const split = splitOf(c, rng.next());

  // Style: cluster centre + individual part; each side adds its own pair noise.
  const styleCluster = rng.int(0, c.styleClusters);
  const wc = Math.sqrt(c.clusterWeight);
  const wi = Math.sqrt(1 - c.clusterWeight);
  const style = new Float32Array(k);
  const videoStyle = new Float32Array(k);
  const musicStyle = new Float32Array(k);
  const videoNuisance = new Float32Array(k);
  const musicNuisance = new Float32Array(k);
  for (let j = 0; j < k; j++) {
    style[j] = wc * ctx.centres[styleCluster * k + j] + wi * rng.normal();
    videoStyle[j] = style[j] + c.pairNoise * rng.normal();
    musicStyle[j] = style[j] + c.pairNoise * rng.normal();
    videoNuisance[j] = rng.normal();
    musicNuisance[j] = rng.normal();
  }

  // Regimes: whole-second boundaries, alternating-enough levels, onset rate log-linear in the level.
  const count = Math.max(1, Math.min(c.regimes, Math.floor(duration / c.minRegimeSeconds)));
  const minLen = Math.min(c.minRegimeSeconds, Math.floor(duration / count));
  const bounds = regimeBounds(rng, duration, count, minLen);
  const levels = regimeLevels(rng, count, c.levelMin, c.levelMax, c.minLevelRatio);
  const la = Math.log(c.levelMin);
  const lb = Math.log(c.levelMax);
  const regimes: Regime[] = levels.map((level, i) => ({
    start: bounds[i],
    end: bounds[i + 1],
    level,
    onsetRate: c.onsetRateMin + ((c.onsetRateMax - c.onsetRateMin) * (Math.log(level) - la)) / (lb - la),
  }));
  let highMotion = 0;
  let lowMotion = 0;
  regimes.forEach((r, i) => {
    if (r.level > regimes[highMotion].level) highMotion = i;
    if (r.level < regimes[lowMotion].level) lowMotion = i;
  });

  // Flow trajectory: level·(1 + noise) per sample.
  const fps = c.flowFps;
  const n = duration * fps;
  const flow = new Float32Array(n);
  for (let ri = 0, j = 0; ri < regimes.length; ri++) {
    const { end, level } = regimes[ri];
    for (; j < end * fps; j++) flow[j] = level * (1 + c.flowNoise * rng.normal());
  }

  // Onsets: a jittered beat grid per regime; a share of them bump the flow at the nearest sample.
  const onsetList: number[] = [];
  let syncedOnsets = 0;
  for (const r of regimes) {
    const interval = 1 / r.onsetRate;
    for (let t = r.start + rng.uniform(0, interval); t < r.end; t += interval) {
      const time = Math.min(duration - 1e-3, Math.max(0, t + c.onsetJitter * interval * rng.normal()));
      onsetList.push(time);
      if (rng.next() < c.syncRate) {
        const j = Math.min(n - 2, Math.max(1, Math.round(time * fps)));
        flow[j] += c.bumpScale * r.level;
        syncedOnsets++;
      }
    }
  }
  for (let j = 0; j < n; j++) if (flow[j] < 0) flow[j] = 0;
  onsetList.sort((a, b) => a - b);

  return {
    id,
    index,
    duration,
    split,
    styleCluster,
    style,
    videoStyle,
    musicStyle,
    videoNuisance,
    musicNuisance,
    regimes,
    changePoints: regimes.slice(1).map((r) => r.start),
    highMotion,
    lowMotion,
    flow,
    onsets: Float64Array.from(onsetList),
    syncedOnsets,
    featureSeed: `${ctx.seed}/clip/${index}/features`,
  };
}
