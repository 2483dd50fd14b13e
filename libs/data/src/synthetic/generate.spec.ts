import { ConfigError, NotFoundError } from '@vmr/core';
import { createSyntheticGenerator } from './generate';
import { resolveSynthConfig, synthPreset, viewDim } from './config';
import { clipAudioFeatures, clipVideoFeatures, videoMotionDescriptor } from './features';
import { flowPeakTimes } from '../peaks/flow-peaks';

/**
 * Clean, strongly structured settings (every pair synced, energy = motion, little white flow noise): the
 * structure tests below check that the generator CAN express recoverable regimes and aligned onsets.
 */
const CLEAN = { unsyncedShare: 0, coupling: 1, restShare: 0, syncRate: 0.8, flowNoise: 0.1, flowSmoothing: 0, onsetRateMin: 0.4, onsetRateMax: 2.5 };
const gen = createSyntheticGenerator({ preset: 'himv-like', seed: 11, overrides: CLEAN });
const clips = Array.from({ length: 150 }, (_, i) => gen.clip(i));

describe('synthetic config', () => {
  it('presets carry the real view dimensions', () => {
    for (const p of ['himv-like', 'symmv-like'] as const) {
      const c = synthPreset(p);
      expect(Object.fromEntries(c.views.map((v) => [v.name, viewDim(v)]))).toEqual({ resnet: 2048, clip: 512, i3d: 2048 });
      expect(viewDim(c.audio)).toBe(128);
    }
  });

  it('rejects a bad override with a ConfigError naming the key', () => {
    expect(() => resolveSynthConfig('himv-like', { minDuration: 300, maxDuration: 200 })).toThrow(/maxDuration/);
    expect(() => resolveSynthConfig('himv-like', { pairNoise: -1 })).toThrow(ConfigError);
    expect(() => resolveSynthConfig('himv-like', { styleDim: 0 })).toThrow(/styleDim/);
    expect(() => resolveSynthConfig('nope' as never)).toThrow(ConfigError);
  });
});

describe('synthetic clip structure', () => {
  it('is deterministic for a seed, independent of other clips, and seed-dependent', () => {
    const again = createSyntheticGenerator({ preset: 'himv-like', seed: 11, overrides: CLEAN });
    const c = again.clip(37);
    expect(c.truth.id).toBe('synhimv-000037');
    expect(Array.from(c.truth.flow)).toEqual(Array.from(clips[37].truth.flow));
    expect(Array.from(c.truth.onsets)).toEqual(Array.from(clips[37].truth.onsets));
    expect(c.plan).toEqual(clips[37].plan);
    const a1 = clipVideoFeatures(c.truth, again.config, again.world, 'clip');
    const a2 = clipVideoFeatures(clips[37].truth, gen.config, gen.world, 'clip');
    expect(Buffer.from(a1.buffer).equals(Buffer.from(a2.buffer))).toBe(true);
    const other = createSyntheticGenerator({ preset: 'himv-like', seed: 12, overrides: CLEAN }).clip(37);
    expect(Array.from(other.truth.flow)).not.toEqual(Array.from(c.truth.flow));
  });

  it('has contiguous whole-second regimes with separated levels and a consistent flow / onset series', () => {
    const cfg = gen.config;
    for (const { truth } of clips) {
      expect(truth.duration).toBeGreaterThanOrEqual(cfg.minDuration);
      expect(truth.duration).toBeLessThanOrEqual(cfg.maxDuration);
      const R = truth.regimes;
      expect(R[0].start).toBe(0);
      expect(R[R.length - 1].end).toBe(truth.duration);
      expect(R.length).toBe(Math.min(cfg.regimes, Math.floor(truth.duration / cfg.minRegimeSeconds)));
      for (let i = 0; i < R.length; i++) {
        expect(Number.isInteger(R[i].start) && Number.isInteger(R[i].end)).toBe(true);
        expect(R[i].end - R[i].start).toBeGreaterThanOrEqual(cfg.minRegimeSeconds);
        expect(R[i].level).toBeGreaterThanOrEqual(cfg.levelMin);
        expect(R[i].level).toBeLessThanOrEqual(cfg.levelMax);
        if (i > 0) {
          expect(R[i].start).toBe(R[i - 1].end);
          expect(Math.abs(Math.log(R[i].level / R[i - 1].level))).toBeGreaterThanOrEqual(Math.log(cfg.minLevelRatio) - 1e-12);
        }
      }
      expect(truth.changePoints).toEqual(R.slice(1).map((r) => r.start));
      expect(R[truth.highMotion].level).toBe(Math.max(...R.map((r) => r.level)));
      expect(R[truth.lowMotion].level).toBe(Math.min(...R.map((r) => r.level)));
      expect(truth.flow.length).toBe(truth.duration * cfg.flowFps);
      expect(truth.flow.every((v) => Number.isFinite(v) && v >= 0)).toBe(true);
      expect(truth.onsets.every((t, i) => i === 0 || t >= truth.onsets[i - 1])).toBe(true);
      expect(truth.onsets[0]).toBeGreaterThanOrEqual(0);
      expect(truth.onsets[truth.onsets.length - 1]).toBeLessThan(truth.duration);
    }
  });

  it('onset density and flow level follow the same motion curve', () => {
    // Per regime: onsets per second ≈ the regime's onset rate, which is log-linear in the flow level.
    let agree = 0;
    let total = 0;
    for (const { truth } of clips.slice(0, 60)) {
      expect(truth.pairing).toBe('synced');
      expect(truth.musicRegimes.map((r) => [r.start, r.end, r.level])).toEqual(truth.regimes.map((r) => [r.start, r.end, r.level]));
      for (const r of truth.musicRegimes) {
        const count = truth.onsets.filter((t) => t >= r.start && t < r.end).length;
        const expected = r.onsetRate * (r.end - r.start);
        total++;
        if (Math.abs(count - expected) <= 2) agree++;
      }
      const rates = truth.regimes.map((r) => r.onsetRate);
      const hi = truth.regimes[truth.highMotion];
      expect(hi.onsetRate).toBe(Math.max(...rates));
    }
    expect(agree / total).toBeGreaterThan(0.97);
  });

  it('labels splits with roughly the preset fractions', () => {
    const train = clips.filter((c) => c.truth.split === 'train').length / clips.length;
    expect(train).toBeGreaterThan(0.65);
    expect(train).toBeLessThan(0.92);
    expect(createSyntheticGenerator({ preset: 'symmv-like', seed: 1 }).clip(3).truth.split).toBe('test');
  });
});

describe('segmentation recovers the generated change points', () => {
  it('places every breakpoint within ±1 jump of the truth for almost every 10-regime clip', () => {
    let eligible = 0;
    let recovered = 0;
    let topHits = 0;
    for (const c of clips) {
      if (c.truth.regimes.length !== 10) {
        // Fewer than 10 regimes means shorter than 100 s: the planner must skip it as too short.
        expect(c.plan.status).toBe('skipped');
        continue;
      }
      expect(c.plan.status).toBe('ok');
      if (c.plan.status !== 'ok') continue;
      eligible++;
      const est = c.plan.breakpoints.slice(0, -1);
      const truth = c.truth.changePoints.map((s) => s * gen.config.flowFps);
      if (truth.every((b, i) => Math.abs(est[i] - b) <= 3)) recovered++;
      const hi = c.truth.regimes[c.truth.highMotion];
      if (c.plan.top.start === hi.start && c.plan.top.end === hi.end) topHits++;
    }
    expect(eligible).toBeGreaterThan(100);
    expect(recovered / eligible).toBeGreaterThan(0.95);
    // The rank-1 segment is the truly high-motion regime (exact boundaries) in most clips.
    expect(topHits / eligible).toBeGreaterThan(0.6);
  });
});

describe('peaks', () => {
  it('flowPeakTimes keeps strict local maxima ≥ threshold at i / fps', () => {
    const x = [0, 1, 0, 0.05, 0, 2, 2, 0, 0.5, 0.2, 3];
    // Index 1 (1.0) and 8 (0.5) are strict maxima; 3 is below 0.1; the plateau 5–6 is not strict; 10 is the edge.
    expect(Array.from(flowPeakTimes(x, 2))).toEqual([0.5, 4]);
    expect(Array.from(flowPeakTimes([], 3))).toEqual([]);
  });

  it('audio peaks are the known onsets; most synced onsets have a video peak within 1/fps', () => {
    const c = clips[4];
    expect(c.audioPeaks).toBe(c.truth.onsets);
    let near = 0;
    for (const t of c.audioPeaks) if (c.videoPeaks.some((v) => Math.abs(v - t) < 1 / 3)) near++;
    expect(near / c.audioPeaks.length).toBeGreaterThan(0.6);
  });
});

describe('synthetic features', () => {
  const c = clips[5];

  it('have the real dims, one row per second, finite values', () => {
    const T = c.truth.duration;
    for (const [v, D] of [['resnet', 2048], ['clip', 512], ['i3d', 2048]] as const) {
      const x = clipVideoFeatures(c.truth, gen.config, gen.world, v);
      expect(x.length).toBe(T * D);
      expect(x.every(Number.isFinite)).toBe(true);
    }
    const a = clipAudioFeatures(c.truth, gen.config, gen.world);
    expect(a.length).toBe(T * 128);
    expect(() => clipVideoFeatures(c.truth, gen.config, gen.world, 'vggish')).toThrow(NotFoundError);
  });

  it('i3d carries the most motion information, clip the least', () => {
    // Correlation over seconds between the per-second log-flow descriptor u_t and the projection of the
    // (time-centred) features on the view's own first motion map column.
    const u = videoMotionDescriptor(c.truth, gen.config).filter((_, i) => i % 3 === 0);
    const corr = (view: string): number => {
      const vi = gen.config.views.findIndex((v) => v.name === view);
      const maps = gen.world.views[vi];
      const q: number[] = [];
      for (const b of maps.blocks) for (let d = 0; d < b.dim; d++) q.push(b.motion[d * 3]);
      const x = clipVideoFeatures(c.truth, gen.config, gen.world, view);
      const D = maps.dim;
      const T = c.truth.duration;
      const s = new Float64Array(T);
      for (let t = 0; t < T; t++) for (let d = 0; d < D; d++) s[t] += x[t * D + d] * q[d];
      return pearson(s, u);
    };
    const ri = corr('i3d');
    const rr = corr('resnet');
    const rc = corr('clip');
    expect(ri).toBeGreaterThan(0.9);
    expect(ri).toBeGreaterThan(rr);
    expect(rr).toBeGreaterThan(rc);
  });

  it('time-averaged video and audio features carry the shared style (a closed-form linear read-out)', () => {
    // Least-squares read-out of the style from the clip view's time mean: z = P⁺ (x̄ − offset)/a,
    // ignoring nuisance and motion; nearest neighbour of the video read-outs among the music read-outs.
    const sub = clips.slice(0, 40);
    const k = gen.config.styleDim;
    const readout = (x: Float32Array, T: number, maps: { blocks: { dim: number; style: Float32Array; offset: Float32Array }[] }): Float64Array => {
      const b = maps.blocks[0];
      const D = b.dim;
      const z = new Float64Array(k);
      for (let d = 0; d < D; d++) {
        let m = 0;
        for (let t = 0; t < T; t++) m += x[t * D + d];
        m = m / T - b.offset[d];
        for (let j = 0; j < k; j++) z[j] += b.style[d * k + j] * m;
      }
      return z;
    };
    const vid = sub.map((cl) => readout(clipVideoFeatures(cl.truth, gen.config, gen.world, 'clip'), cl.truth.duration, gen.world.views[1]));
    const aud = sub.map((cl) => readout(clipAudioFeatures(cl.truth, gen.config, gen.world), cl.truth.duration, gen.world.audio));
    let hits = 0;
    vid.forEach((v, i) => {
      let best = -1;
      let bestS = -Infinity;
      aud.forEach((a, j) => {
        const s = cosine(v, a);
        if (s > bestS) {
          bestS = s;
          best = j;
        }
      });
      if (best === i) hits++;
    });
    // Chance is 1/40; the read-out ignores nuisance, yet finds most pairs.
    expect(hits / sub.length).toBeGreaterThan(0.7);
  });
});

function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i] / n;
    mb += b[i] / n;
  }
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}
