import { createSynthContext, generateClipTruth } from '../clip';
import { resolveSynthConfig } from '../config';
import { DEFAULT_MEDIA_VIDEO, mediaMotionPlan, renderFrames } from './render';
import { DEFAULT_MEDIA_AUDIO, synthesizeMusic } from './music';

const config = resolveSynthConfig('himv-like', { minDuration: 10, maxDuration: 12, regimes: 3, minRegimeSeconds: 2, syncRate: 1, unsyncedShare: 0, coupling: 1 });
const ctx = createSynthContext(config, 'media-test');
const truth = generateClipTruth(ctx, 0);

describe('media motion plan', () => {
  it('speed is log-linear in the regime level and every onset is a hit on the first frame at or after it', () => {
    const o = DEFAULT_MEDIA_VIDEO;
    const plan = mediaMotionPlan(truth, config.levelMin, config.levelMax, o);
    expect(plan.frames).toBe(truth.duration * o.fps);
    for (const r of truth.regimes) {
      const u = (Math.log(r.level) - Math.log(config.levelMin)) / (Math.log(config.levelMax) - Math.log(config.levelMin));
      const expected = o.speedMin * Math.pow(o.speedMax / o.speedMin, u);
      expect(plan.speed[r.start * o.fps]).toBeCloseTo(expected, 10);
      expect(plan.speed[r.end * o.fps - 1]).toBeCloseTo(expected, 10);
    }
    let hits = 0;
    for (const t of truth.onsets) {
      const f = Math.ceil(t * o.fps - 1e-9);
      if (f >= 1 && f < plan.frames) {
        expect(plan.hit[f]).toBeGreaterThanOrEqual(o.hitPixels);
        hits++;
      }
    }
    expect(plan.hit.reduce((a, b) => a + b, 0)).toBeCloseTo(hits * o.hitPixels, 10);
  });

  it('renders deterministic frames in which only the shapes move', () => {
    const o = { ...DEFAULT_MEDIA_VIDEO, width: 64, height: 48, shapes: 2 };
    const plan = mediaMotionPlan(truth, config.levelMin, config.levelMax, o);
    const a = Array.from(renderFrames(plan, o, 's'), (f) => Buffer.from(f));
    const b = Array.from(renderFrames(plan, o, 's'), (f) => Buffer.from(f));
    expect(a).toHaveLength(plan.frames);
    expect(a.every((f, i) => f.equals(b[i]))).toBe(true);
    expect(a[0].length).toBe(64 * 48);
    // Consecutive frames differ (the shapes always move: speed ≥ speedMin > 0).
    for (let i = 1; i < 20; i++) expect(a[i].equals(a[i - 1])).toBe(false);
    const c = Array.from(renderFrames(plan, o, 'other'), (f) => Buffer.from(f));
    expect(c[0].equals(a[0])).toBe(false);
  });
});

describe('synthesized music', () => {
  const o = DEFAULT_MEDIA_AUDIO;
  const x = synthesizeMusic(truth, config.levelMin, config.levelMax, o, 'm');

  it('has the clip duration and the requested peak level, deterministically', () => {
    expect(x.length).toBe(truth.duration * o.sampleRate);
    let mx = 0;
    for (const v of x) mx = Math.max(mx, Math.abs(v));
    expect(mx).toBeCloseTo(o.peak, 5);
    expect(Buffer.from(synthesizeMusic(truth, config.levelMin, config.levelMax, o, 'm').buffer).equals(Buffer.from(x.buffer))).toBe(true);
  });

  it('puts an energy burst at every onset, louder in the high-motion regime', () => {
    const sr = o.sampleRate;
    const rms = (a: number, b: number): number => {
      let s = 0;
      const i0 = Math.max(0, Math.round(a * sr));
      const i1 = Math.min(x.length, Math.round(b * sr));
      for (let i = i0; i < i1; i++) s += x[i] * x[i];
      return Math.sqrt(s / Math.max(1, i1 - i0));
    };
    const ratios = Array.from(truth.onsets, (t) => rms(t, t + 0.03) / rms(t - 0.03, t));
    expect(ratios.filter((r) => r > 2).length / ratios.length).toBeGreaterThan(0.9);
    const hi = truth.regimes[truth.highMotion];
    const lo = truth.regimes[truth.lowMotion];
    const burst = (r: { start: number; end: number }): number => {
      const on = Array.from(truth.onsets).filter((t) => t >= r.start && t < r.end);
      return on.reduce((s, t) => s + rms(t, t + 0.03), 0) / on.length;
    };
    expect(burst(hi)).toBeGreaterThan(burst(lo));
  });
});
