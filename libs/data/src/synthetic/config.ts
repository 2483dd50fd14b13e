import { z } from 'zod';
import { ConfigError } from '@vmr/core';

/** How strongly one block of feature dimensions carries each latent factor (see `SynthConfig`). */
export interface SynthMix {
  /** Weight of the shared video/music style (the retrieval signal). */
  style: number;
  /** Weight of the per-second motion (video) / energy (music) descriptor. */
  motion: number;
  /** Weight of a per-clip nuisance vector that the other modality does not share. */
  nuisance: number;
  /** Std of the independent per-value noise. */
  noise: number;
}

/** A block of consecutive feature dimensions with one mix (I3D = flow block ‖ rgb block). */
export interface SynthBlock {
  name: string;
  dim: number;
  mix: SynthMix;
}

/** A synthetic feature view: a stand-in for a real extractor, with its real name and dimension. */
export interface SynthView {
  /** Extractor name (`resnet`, `clip`, `i3d`, `vggish`): the real extractors' names, labelled synthetic. */
  name: string;
  blocks: SynthBlock[];
}

export const SYNTH_PRESETS = ['himv-like', 'symmv-like'] as const;
export type SynthPresetName = (typeof SYNTH_PRESETS)[number];

/**
 * Every knob of the feature-level generator. Presets fill all of them; `resolveSynthConfig` applies
 * overrides and validates.
 */
export interface SynthConfig {
  preset: SynthPresetName;
  /** Clip id prefix, e.g. `synhimv` → `synhimv-000042`. */
  idPrefix: string;
  /** k: dimension of the latent style shared by a video and its music. */
  styleDim: number;
  /** Styles are drawn around this many cluster centres ("genres"): tracks of one cluster share a style. */
  styleClusters: number;
  /** Share of the style variance that comes from the cluster centre (0: no clusters, 1: one style per cluster). */
  clusterWeight: number;
  /** Std of the independent noise added to the shared style on the video side and on the music side. */
  pairNoise: number;
  /** Multiplies every block's style weight (global retrieval-signal strength). */
  styleStrength: number;
  /** Multiplies every block's noise std. */
  noiseScale: number;
  /**
   * Domain shift of the style → feature mapping, in [0, 1]: the projections are
   * cos(θ)·P + sin(θ)·P' with θ = shift·π/2 (P the shared "world" projections, P' a second fixed set).
   */
  domainShift: number;
  /** Clip durations in whole seconds, uniform in [minDuration, maxDuration]. */
  minDuration: number;
  maxDuration: number;
  /** Motion regimes per clip (fewer when the clip is shorter than regimes·minRegimeSeconds). */
  regimes: number;
  /** Minimum regime length in whole seconds. */
  minRegimeSeconds: number;
  /** Regime flow levels (mean flow magnitude, px per frame pair), log-uniform in this range. */
  levelMin: number;
  levelMax: number;
  /** Adjacent regimes' levels differ at least by this factor. */
  minLevelRatio: number;
  /** Flow noise std relative to the regime level. */
  flowNoise: number;
  /** Std (seconds) of the Gaussian kernel that smooths the flow noise (real flow is smooth: fewer noise peaks); 0 = white. */
  flowSmoothing: number;
  /** Flow trajectory samples per second (DESIGN §1.1: 3). */
  flowFps: number;
  /** Music onsets per second at the lowest and at the highest regime level (log-linear between). */
  onsetRateMin: number;
  onsetRateMax: number;
  /**
   * Average share of the music's time in rests (phrases of 2–6 s alternate with rests; onsets in rests
   * are dropped): real onsets cluster. 0 = an unbroken beat grid.
   */
  restShare: number;
  /** Beat-interval jitter (std, as a fraction of the interval). */
  onsetJitter: number;
  /** Share of onsets that produce a flow bump (the visual "hit" on the beat). */
  syncRate: number;
  /** Height of a flow bump relative to the regime level. */
  bumpScale: number;
  /**
   * Share of pairs whose music is NOT cut to the video: its energy / onsets follow another regime
   * sequence (an independent one, or another clip's motion: `crossMatchShare`), and the video's visual
   * hits fall on its own events, not on the music's onsets. 0 = every pair is synced (clean ground truth).
   */
  unsyncedShare: number;
  /**
   * Of the unsynced pairs, the share whose music's energy follows the motion of ANOTHER clip of the same
   * split (the nearest earlier one): gallery tracks that fit other clips' videos.
   */
  crossMatchShare: number;
  /**
   * Coupling between a driver's motion regimes and the music's energy, in [0, 1]: standardised log
   * energy = coupling·(standardised log motion level) + √(1 − coupling²)·N(0, 1). 1 = energy follows motion.
   */
  coupling: number;
  /** Video views (stand-ins for resnet / clip / i3d). */
  views: SynthView[];
  /** The audio view (stand-in for VGGish, 128-d per second). */
  audio: SynthView;
  /** Split fractions (test = the rest). */
  trainFraction: number;
  valFraction: number;
}

const mix = (style: number, motion: number, nuisance: number, noise: number): SynthMix => ({ style, motion, nuisance, noise });

/** Video views of HIMV-like data: resnet (objects/scenes), clip (cleanest semantics), i3d (flow ‖ rgb: the most motion). */
function himvViews(): SynthView[] {
  return [
    { name: 'resnet', blocks: [{ name: 'resnet', dim: 2048, mix: mix(1.0, 0.3, 0.8, 1.0) }] },
    { name: 'clip', blocks: [{ name: 'clip', dim: 512, mix: mix(1.2, 0.15, 0.5, 0.7) }] },
    {
      name: 'i3d',
      blocks: [
        { name: 'i3d-flow', dim: 1024, mix: mix(0.3, 1.5, 0.3, 1.0) },
        { name: 'i3d-rgb', dim: 1024, mix: mix(0.9, 0.4, 0.7, 1.0) },
      ],
    },
  ];
}

const HIMV_LIKE: SynthConfig = {
  preset: 'himv-like',
  idPrefix: 'synhimv',
  styleDim: 16,
  styleClusters: 24,
  clusterWeight: 0.5,
  pairNoise: 0.5,
  styleStrength: 1,
  noiseScale: 1,
  domainShift: 0,
  minDuration: 60,
  maxDuration: 400,
  regimes: 10,
  minRegimeSeconds: 10,
  levelMin: 0.3,
  levelMax: 8,
  minLevelRatio: 1.6,
  flowNoise: 0.6,
  flowSmoothing: 1,
  flowFps: 3,
  onsetRateMin: 1.4,
  onsetRateMax: 5.4,
  onsetJitter: 0.05,
  restShare: 0.5,
  syncRate: 0.4,
  bumpScale: 0.6,
  unsyncedShare: 0.5,
  crossMatchShare: 0.6,
  coupling: 0.8,
  views: himvViews(),
  audio: { name: 'vggish', blocks: [{ name: 'vggish', dim: 128, mix: mix(1.0, 1.0, 0.6, 0.8) }] },
  trainFraction: 0.8,
  valFraction: 0.1,
};

/**
 * SymMV-like: a shifted domain for the out-of-distribution table — different style mixing (projections
 * rotated by domainShift, i3d and clip weights changed), cleaner pairs (less pair noise), fewer and
 * tighter style clusters, longer tracks (whole songs).
 */
const SYMMV_LIKE: SynthConfig = {
  ...HIMV_LIKE,
  preset: 'symmv-like',
  idPrefix: 'synsymmv',
  styleClusters: 12,
  clusterWeight: 0.6,
  pairNoise: 0.3,
  domainShift: 0.35,
  minDuration: 120,
  maxDuration: 400,
  onsetRateMin: 1.6,
  onsetRateMax: 6,
  syncRate: 0.5,
  unsyncedShare: 0.15,
  crossMatchShare: 0.5,
  coupling: 0.9,
  views: [
    { name: 'resnet', blocks: [{ name: 'resnet', dim: 2048, mix: mix(0.8, 0.4, 1.0, 1.0) }] },
    { name: 'clip', blocks: [{ name: 'clip', dim: 512, mix: mix(1.0, 0.25, 0.7, 0.8) }] },
    {
      name: 'i3d',
      blocks: [
        { name: 'i3d-flow', dim: 1024, mix: mix(0.4, 1.2, 0.4, 1.0) },
        { name: 'i3d-rgb', dim: 1024, mix: mix(0.7, 0.5, 0.9, 1.0) },
      ],
    },
  ],
  audio: { name: 'vggish', blocks: [{ name: 'vggish', dim: 128, mix: mix(1.2, 0.8, 0.5, 0.7) }] },
  trainFraction: 0,
  valFraction: 0,
};

/** A deep copy of a preset's configuration. */
export function synthPreset(name: SynthPresetName): SynthConfig {
  const base = name === 'himv-like' ? HIMV_LIKE : name === 'symmv-like' ? SYMMV_LIKE : undefined;
  if (!base) throw new ConfigError(`unknown synthetic preset "${String(name)}"; expected ${SYNTH_PRESETS.join(' or ')}`);
  return JSON.parse(JSON.stringify(base)) as SynthConfig;
}

const mixSchema = z.object({
  style: z.number().finite().min(0),
  motion: z.number().finite().min(0),
  nuisance: z.number().finite().min(0),
  noise: z.number().finite().min(0),
});
const viewSchema = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'lowercase letters, digits, - and _'),
  blocks: z.array(z.object({ name: z.string().min(1), dim: z.number().int().min(1).max(65536), mix: mixSchema })).min(1),
});

const configSchema = z
  .object({
    preset: z.enum(SYNTH_PRESETS),
    idPrefix: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, 'letters, digits, - and _'),
    styleDim: z.number().int().min(1).max(1024),
    styleClusters: z.number().int().min(1),
    clusterWeight: z.number().min(0).max(1),
    pairNoise: z.number().finite().min(0),
    styleStrength: z.number().finite().min(0),
    noiseScale: z.number().finite().min(0),
    domainShift: z.number().min(0).max(1),
    minDuration: z.number().int().min(1),
    maxDuration: z.number().int().min(1).max(100000),
    regimes: z.number().int().min(1),
    minRegimeSeconds: z.number().int().min(1),
    levelMin: z.number().finite().positive(),
    levelMax: z.number().finite().positive(),
    minLevelRatio: z.number().finite().min(1),
    flowNoise: z.number().finite().min(0),
    flowSmoothing: z.number().min(0).max(10),
    flowFps: z.number().int().min(1).max(60),
    onsetRateMin: z.number().finite().positive(),
    onsetRateMax: z.number().finite().positive(),
    onsetJitter: z.number().min(0).max(0.5),
    restShare: z.number().min(0).max(0.9),
    syncRate: z.number().min(0).max(1),
    bumpScale: z.number().finite().min(0),
    unsyncedShare: z.number().min(0).max(1),
    crossMatchShare: z.number().min(0).max(1),
    coupling: z.number().min(0).max(1),
    views: z.array(viewSchema).min(1),
    audio: viewSchema,
    trainFraction: z.number().min(0).max(1),
    valFraction: z.number().min(0).max(1),
  })
  .strict()
  .superRefine((c, ctx) => {
    const issue = (path: string, message: string): void => ctx.addIssue({ code: z.ZodIssueCode.custom, path: [path], message });
    if (c.maxDuration < c.minDuration) issue('maxDuration', `must be ≥ minDuration (${c.minDuration})`);
    if (c.levelMax <= c.levelMin) issue('levelMax', `must be > levelMin (${c.levelMin})`);
    if (c.levelMax / c.levelMin < c.minLevelRatio * 1.01 && c.regimes > 1) {
      issue('minLevelRatio', `levels in [${c.levelMin}, ${c.levelMax}] cannot differ by ${c.minLevelRatio}×`);
    }
    if (c.onsetRateMax < c.onsetRateMin) issue('onsetRateMax', `must be ≥ onsetRateMin (${c.onsetRateMin})`);
    if (c.trainFraction + c.valFraction > 1 + 1e-12) issue('valFraction', 'trainFraction + valFraction must be ≤ 1');
    const names = [...c.views.map((v) => v.name), c.audio.name];
    if (new Set(names).size !== names.length) issue('views', `view names must be unique, got ${names.join(', ')}`);
  });

/** Deep-partial overrides of a preset (views / audio replace the preset's when given). */
export type SynthOverrides = Partial<Omit<SynthConfig, 'preset'>>;

/**
 * The preset's configuration with `overrides` applied, validated.
 * @throws ConfigError naming the offending key.
 */
export function resolveSynthConfig(preset: SynthPresetName, overrides: SynthOverrides = {}): SynthConfig {
  const merged = { ...synthPreset(preset), ...stripUndefined(overrides as Record<string, unknown>) };
  const r = configSchema.safeParse(merged);
  if (!r.success) {
    const first = r.error.issues[0];
    const key = first.path.join('.') || '(config)';
    throw new ConfigError(`synthetic config (${preset}): ${key}: ${first.message}`, {
      details: { path: key, issues: r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) },
    });
  }
  return r.data as SynthConfig;
}

function stripUndefined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/** Total dimension of a view. */
export function viewDim(view: SynthView): number {
  return view.blocks.reduce((s, b) => s + b.dim, 0);
}
