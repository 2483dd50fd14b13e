import { Rng } from '@vmr/core';
import type { SplitName } from '../dataset/schema';
import type { SynthConfig } from './config';

/** One regime: whole seconds [start, end), a level and an onset rate. */
export interface Regime {
  start: number;
  end: number;
  /**
   * Video regime: mean flow magnitude before hit bumps (px per frame pair). Music regime: the music's
   * energy on the same scale (the level whose motion it would fit).
   */
  level: number;
  /** Events per second: video = visual hits implied by the level; music = beat onsets of the music. */
  onsetRate: number;
}

/**
 * How a clip's music relates to its video: `synced` — cut to the video (the music's energy follows the
 * video's motion regimes, a share of its onsets are the video's visual hits); `independent` — NOT cut to
 * the video (its own regime sequence); `cross` — NOT cut to this video, its energy follows the motion of
 * another clip of the same split (`musicDriver`), so it fits that clip's video.
 */
export const SYNTH_PAIRINGS = ['synced', 'independent', 'cross'] as const;
export type SynthPairing = (typeof SYNTH_PAIRINGS)[number];

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
  /** Video motion regimes (the flow trajectory's piecewise-constant levels). */
  regimes: Regime[];
  /** True change points in seconds (interior video regime boundaries, ascending). */
  changePoints: number[];
  /** Index into `regimes` of the truly highest / lowest motion regime. */
  highMotion: number;
  lowMotion: number;
  /** How the music relates to the video (see `SynthPairing`). */
  pairing: SynthPairing;
  /** Id of the clip whose motion drives the music's energy: this clip (synced), another (cross), none (independent). */
  musicDriver: string | null;
  /** Music regimes over [0, T): energy levels (coupled to the driver's motion by `coupling`) and onset rates. */
  musicRegimes: Regime[];
  /** [T·flowFps] flow-magnitude trajectory (sample i at time i / flowFps). */
  flow: Float32Array;
  /** Music onset times in seconds (ascending): the known audio peaks. */
  onsets: Float64Array;
  /** Onsets that produced a flow bump (the visual hit on the beat; 0 unless synced). */
  syncedOnsets: number;
  /** Visual hits (flow bumps) of the video: synced — a share of the onsets; otherwise the video's own events. */
  visualHits: number;
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

/** How many earlier clips a `cross` clip searches for a same-split clip whose motion drives its music. */
export const CROSS_SEARCH_WINDOW = 16;

/** Event rate (hits / onsets per second) of a level: log-linear between onsetRateMin and onsetRateMax. */
export function eventRate(config: SynthConfig, level: number): number {
  const la = Math.log(config.levelMin);
  const lb = Math.log(config.levelMax);
  const x = Math.min(1, Math.max(0, (Math.log(level) - la) / (lb - la)));
  return config.onsetRateMin + (config.onsetRateMax - config.onsetRateMin) * x;
}

/** Video-side structure of a clip: duration, split and motion regimes (depends on nothing else). */
interface ClipMotion {
  duration: number;
  split: SplitName;
  regimes: Regime[];
}

function randomRegimes(rng: Rng, c: SynthConfig, duration: number): Regime[] {
  const count = Math.max(1, Math.min(c.regimes, Math.floor(duration / c.minRegimeSeconds)));
  const minLen = Math.min(c.minRegimeSeconds, Math.floor(duration / count));
  const bounds = regimeBounds(rng, duration, count, minLen);
  const levels = regimeLevels(rng, count, c.levelMin, c.levelMax, c.minLevelRatio);
  return levels.map((level, i) => ({ start: bounds[i], end: bounds[i + 1], level, onsetRate: eventRate(c, level) }));
}

function clipMotion(ctx: SynthContext, index: number): ClipMotion {
  const c = ctx.config;
  const rng = new Rng(ctx.seed).fork(`clip/${index}`).fork('motion');
  const duration = rng.int(c.minDuration, c.maxDuration + 1);
  const split = splitOf(c, rng.next());
  return { duration, split, regimes: randomRegimes(rng, c, duration) };
}

/**
 * Music energy regimes that follow a driver's motion regimes over [0, T): same boundaries (the last one
 * stretched or cut to T); standardised log energy = coupling·(driver's) + √(1 − coupling²)·N(0, 1).
 */
function coupledMusicRegimes(rng: Rng, c: SynthConfig, driver: Regime[], T: number): Regime[] {
  const a = Math.log(c.levelMin);
  const b = Math.log(c.levelMax);
  const mu = (a + b) / 2;
  const sigma = (b - a) / Math.sqrt(12);
  const w = Math.sqrt(Math.max(0, 1 - c.coupling * c.coupling));
  const out: Regime[] = [];
  for (const r of driver) {
    if (r.start >= T) break;
    const u = (Math.log(r.level) - mu) / sigma;
    const z = rng.normal();
    // coupling 1: the driver's level exactly (no exp/log round trip).
    const level = c.coupling === 1 ? r.level : Math.exp(Math.min(b, Math.max(a, mu + sigma * (c.coupling * u + w * z))));
    out.push({ start: r.start, end: Math.min(r.end, T), level, onsetRate: eventRate(c, level) });
  }
  out[out.length - 1].end = T;
  return out;
}

/**
 * `n` samples of unit-variance Gaussian noise smoothed by a Gaussian kernel of std `sigma` samples
 * (white noise when sigma < 0.05); the kernel is truncated at ±3σ and renormalised to unit variance.
 */
export function smoothNoise(rng: Rng, n: number, sigma: number): Float64Array {
  if (sigma < 0.05) return Float64Array.from({ length: n }, () => rng.normal());
  const h = Math.ceil(3 * sigma);
  const w = Float64Array.from({ length: 2 * h + 1 }, (_, i) => Math.exp(-((i - h) ** 2) / (2 * sigma * sigma)));
  const norm = Math.sqrt(w.reduce((s, x) => s + x * x, 0));
  const white = Float64Array.from({ length: n + 2 * h }, () => rng.normal());
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k <= 2 * h; k++) s += w[k] * white[i + k];
    out[i] = s / norm;
  }
  return out;
}

/** A jittered beat grid per regime (random phase), clamped to [0, T). */
function eventGrid(rng: Rng, c: SynthConfig, regimes: readonly Regime[], T: number): number[] {
  const out: number[] = [];
  for (const r of regimes) {
    const interval = 1 / r.onsetRate;
    for (let t = r.start + rng.uniform(0, interval); t < r.end; t += interval) {
      out.push(Math.min(T - 1e-3, Math.max(0, t + c.onsetJitter * interval * rng.normal())));
    }
  }
  return out.sort((x, y) => x - y);
}

/**
 * Phrases and rests: the time axis alternates between playing (2–6 s) and resting (a share `restShare`
 * of the time on average); onsets inside rests are dropped. Real onsets cluster like this, which keeps
 * chance matches with an unrelated video's peaks rarer than an evenly covering beat grid would.
 */
function withRests(rng: Rng, restShare: number, onsets: number[], T: number): number[] {
  if (restShare <= 0) return onsets;
  const rests: Array<[number, number]> = [];
  for (let t = rng.uniform(0, 4); t < T; ) {
    const play = rng.uniform(2, 6);
    const rest = play * (restShare / (1 - restShare)) * rng.uniform(0.5, 1.5);
    rests.push([t + play, t + play + rest]);
    t += play + rest;
  }
  return onsets.filter((x) => !rests.some(([a, b]) => x >= a && x < b));
}

/**
 * The structure of clip `index`: duration, split, styles, regimes, pairing, flow trajectory and onsets.
 * Deterministic in (seed, preset config, index); independent of the clip count (a `cross` clip reads
 * the motion of an earlier clip, which depends only on that clip's index).
 */
export function generateClipTruth(ctx: SynthContext, index: number): SyntheticClipTruth {
  const c = ctx.config;
  const id = synthClipId(c, index);
  const clipRng = new Rng(ctx.seed).fork(`clip/${index}`);
  const k = c.styleDim;
  const { duration, split, regimes } = clipMotion(ctx, index);

  // Style: cluster centre + individual part; each side adds its own pair noise.
  const srng = clipRng.fork('style');
  const styleCluster = srng.int(0, c.styleClusters);
  const wc = Math.sqrt(c.clusterWeight);
  const wi = Math.sqrt(1 - c.clusterWeight);
  const style = new Float32Array(k);
  const videoStyle = new Float32Array(k);
  const musicStyle = new Float32Array(k);
  const videoNuisance = new Float32Array(k);
  const musicNuisance = new Float32Array(k);
  for (let j = 0; j < k; j++) {
    style[j] = wc * ctx.centres[styleCluster * k + j] + wi * srng.normal();
    videoStyle[j] = style[j] + c.pairNoise * srng.normal();
    musicStyle[j] = style[j] + c.pairNoise * srng.normal();
    videoNuisance[j] = srng.normal();
    musicNuisance[j] = srng.normal();
  }

  let highMotion = 0;
  let lowMotion = 0;
  regimes.forEach((r, i) => {
    if (r.level > regimes[highMotion].level) highMotion = i;
    if (r.level < regimes[lowMotion].level) lowMotion = i;
  });

  // Pairing: synced, or NOT cut to the video — following another clip's motion (cross) or its own regimes.
  const mrng = clipRng.fork('music');
  let pairing: SynthPairing = 'synced';
  let musicDriver: string | null = id;
  let driver: Regime[] = regimes;
  if (mrng.next() < c.unsyncedShare) {
    pairing = 'independent';
    musicDriver = null;
    driver = randomRegimes(mrng, c, duration);
    if (mrng.next() < c.crossMatchShare) {
      for (let j = index - 1; j >= Math.max(0, index - CROSS_SEARCH_WINDOW); j--) {
        const other = clipMotion(ctx, j);
        if (other.split === split) {
          pairing = 'cross';
          musicDriver = synthClipId(c, j);
          driver = other.regimes;
          break;
        }
      }
    }
  }
  const musicRegimes = coupledMusicRegimes(mrng, c, driver, duration);

  // Flow trajectory: level·(1 + flowNoise·g), g unit-variance noise smoothed by a Gaussian kernel of
  // flowSmoothing seconds (real flow is smooth: fewer noise peaks than white noise).
  const frng = clipRng.fork('flow');
  const fps = c.flowFps;
  const n = duration * fps;
  const flow = new Float32Array(n);
  const g = smoothNoise(frng, n, c.flowSmoothing * fps);
  for (let ri = 0, j = 0; ri < regimes.length; ri++) {
    const { end, level } = regimes[ri];
    for (; j < end * fps; j++) flow[j] = level * (1 + c.flowNoise * g[j]);
  }

  // Onsets: a jittered beat grid per music regime. Visual hits bump the flow at the nearest sample:
  // synced — a share syncRate of the onsets; otherwise the video's own events at its regimes' rates.
  const onsetList = withRests(mrng, c.restShare, eventGrid(mrng, c, musicRegimes, duration), duration);
  const hitSource = pairing === 'synced' ? onsetList : eventGrid(frng, c, regimes, duration);
  let syncedOnsets = 0;
  let visualHits = 0;
  const levelAt = (t: number): number => regimes.find((r) => t < r.end)?.level ?? regimes[regimes.length - 1].level;
  for (const time of hitSource) {
    if (frng.next() < c.syncRate) {
      const j = Math.min(n - 2, Math.max(1, Math.round(time * fps)));
      flow[j] += c.bumpScale * levelAt(time);
      visualHits++;
      if (pairing === 'synced') syncedOnsets++;
    }
  }
  for (let j = 0; j < n; j++) if (flow[j] < 0) flow[j] = 0;

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
    pairing,
    musicDriver,
    musicRegimes,
    flow,
    onsets: Float64Array.from(onsetList),
    syncedOnsets,
    visualHits,
    featureSeed: `${ctx.seed}/clip/${index}/features`,
  };
}
