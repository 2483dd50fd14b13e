import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { avAlignFromPeaks, retrievalMetrics } from '@vmr/metrics';
import { createSyntheticGenerator, type SyntheticClip } from './generate';
import { type SynthOverrides } from './config';
import { alignmentTruth } from './alignment';
import { oracleSimilarity, readSyntheticTruth, type OracleKind } from './oracle';
import { SYNTH_TRUTH_FILE, writeSyntheticDataset } from './write';

const FPS = 3;

function oracleRun(clips: SyntheticClip[], kind: OracleKind): { r1: number; avAlign: number; got: number } {
  const oc = clips.map((c) => ({
    id: c.truth.id,
    seconds: c.truth.duration,
    videoStyle: c.truth.videoStyle,
    musicStyle: c.truth.musicStyle,
    videoPeaks: c.videoPeaks,
    audioPeaks: c.audioPeaks,
  }));
  const sim = oracleSimilarity(kind, oc, FPS);
  const n = clips.length;
  const rr = retrievalMetrics(sim, { ks: [1], direction: 'video-to-music' });
  let av = 0;
  let got = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < n; j++) if (sim.data[i * n + j] > sim.data[i * n + best]) best = j;
    const heard = (j: number) => Array.from(clips[j].audioPeaks).filter((t) => t <= clips[i].truth.duration);
    av += avAlignFromPeaks(heard(best), clips[i].videoPeaks, FPS, 'yariv').score / n;
    got += avAlignFromPeaks(heard(i), clips[i].videoPeaks, FPS, 'yariv').score / n;
  }
  return { r1: rr.recall[1], avAlign: av, got };
}

function generate(overrides: SynthOverrides, n: number, seed = 7): SyntheticClip[] {
  const gen = createSyntheticGenerator({ preset: 'symmv-like', seed, overrides: { minDuration: 40, maxDuration: 70, ...overrides } });
  return Array.from({ length: n }, (_, i) => gen.clip(i));
}

describe('pairing knobs', () => {
  const noisy = generate({ unsyncedShare: 0.7, crossMatchShare: 1, coupling: 1 }, 80);

  it('unsynced pairs come in the configured share; cross tracks follow an earlier same-split clip\'s motion', () => {
    const unsynced = noisy.filter((c) => c.truth.pairing !== 'synced').length;
    // Binomial(80, 0.7): mean 56, sd 4.1 — ±4 sd.
    expect(unsynced).toBeGreaterThanOrEqual(40);
    expect(unsynced).toBeLessThanOrEqual(72);
    const cross = noisy.filter((c) => c.truth.pairing === 'cross');
    expect(cross.length).toBeGreaterThan(0.9 * unsynced); // all but clip 0 find a partner (symmv-like: one split)
    for (const c of cross) {
      const j = noisy.findIndex((d) => d.truth.id === c.truth.musicDriver);
      expect(j).toBeGreaterThanOrEqual(0);
      expect(j).toBeLessThan(c.truth.index);
      // coupling 1: the music's energy regimes are the driver's motion regimes (cut to this clip's length).
      const drv = noisy[j].truth.regimes.filter((r) => r.start < c.truth.duration);
      expect(c.truth.musicRegimes.map((r) => [r.start, r.level])).toEqual(drv.map((r) => [r.start, r.level]));
    }
    for (const c of noisy.filter((d) => d.truth.pairing === 'synced')) {
      expect(c.truth.musicDriver).toBe(c.truth.id);
      expect(c.truth.visualHits).toBe(c.truth.syncedOnsets);
    }
  });

  it('coupling 1 + noisy pairs: the motion oracle beats GOT on AV-Align, the style oracle beats it on R@1', () => {
    const style = oracleRun(noisy, 'style');
    const motion = oracleRun(noisy, 'motion');
    expect(motion.got).toBeCloseTo(style.got, 12);
    // The motion oracle retrieves the best-aligned track, strictly better than the own one for many clips.
    expect(motion.avAlign).toBeGreaterThan(motion.got + 0.02);
    expect(style.r1).toBeGreaterThan(motion.r1 + 0.2);
    // …and its top-1 AV-Align is the ground truth's `best` (the alignment answer recorded per clip).
    const truth = alignmentTruth(
      noisy.map((c) => ({ id: c.truth.id, gallery: c.truth.split, seconds: c.truth.duration, videoPeaks: c.videoPeaks, audioPeaks: c.audioPeaks })),
      FPS,
    );
    expect(truth.reduce((s, t) => s + t.best, 0) / truth.length).toBeCloseTo(motion.avAlign, 12);
    const beaten = truth.filter((t) => t.betterAligned.length > 0).length / truth.length;
    expect(beaten).toBeGreaterThan(0.5);
  });

  it('clean pairs: the own track is the best-aligned one, so GOT is the best alignment', () => {
    const clean = generate({ unsyncedShare: 0, coupling: 1, syncRate: 1, flowNoise: 0.05, onsetRateMin: 0.3, onsetRateMax: 0.8 }, 60);
    expect(clean.every((c) => c.truth.pairing === 'synced')).toBe(true);
    const truth = alignmentTruth(
      clean.map((c) => ({ id: c.truth.id, gallery: c.truth.split, seconds: c.truth.duration, videoPeaks: c.videoPeaks, audioPeaks: c.audioPeaks })),
      FPS,
    );
    const ownBest = truth.filter((t) => t.betterAligned.length === 0).length / truth.length;
    expect(ownBest).toBeGreaterThanOrEqual(0.95);
    const motion = oracleRun(clean, 'motion');
    expect(motion.avAlign - motion.got).toBeLessThan(0.01);
    expect(motion.r1).toBeGreaterThanOrEqual(0.95);
  });
});

describe('synthetic dataset files', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-synth-det-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  function listFiles(dir: string, rel = ''): string[] {
    return fs
      .readdirSync(path.join(dir, rel), { withFileTypes: true })
      .flatMap((e) => (e.isDirectory() ? listFiles(dir, path.join(rel, e.name)) : [path.join(rel, e.name)]))
      .sort();
  }

  it('are byte-identical for a seed (dataset.json up to its createdAt/updatedAt timestamps) and differ for another seed', () => {
    const opts = { preset: 'himv-like' as const, clips: 14, views: ['clip'], overrides: { minDuration: 30, maxDuration: 45 }, plan: { segments: 3 } };
    const a = writeSyntheticDataset({ ...opts, seed: 4, out: path.join(tmp, 'a') }).dir;
    const b = writeSyntheticDataset({ ...opts, seed: 4, out: path.join(tmp, 'b') }).dir;
    const c = writeSyntheticDataset({ ...opts, seed: 5, out: path.join(tmp, 'c') }).dir;
    const files = listFiles(a);
    expect(files).toEqual(listFiles(b));
    expect(files).toEqual(expect.arrayContaining(['dataset.json', SYNTH_TRUTH_FILE, 'segments.csv', path.join('video', 'clip', 'synhimv-000000.npy'), path.join('flow', 'synhimv-000000.npy')]));
    for (const f of files) {
      const fa = fs.readFileSync(path.join(a, f));
      const fb = fs.readFileSync(path.join(b, f));
      if (f === 'dataset.json') {
        const strip = (buf: Buffer) => buf.toString('utf8').replace(/"(createdAt|updatedAt)": "[^"]*"/g, '"$1": ""');
        expect(strip(fb)).toBe(strip(fa));
      } else {
        expect({ file: f, same: fa.equals(fb) }).toEqual({ file: f, same: true });
      }
    }
    expect(fs.readFileSync(path.join(c, SYNTH_TRUTH_FILE)).equals(fs.readFileSync(path.join(a, SYNTH_TRUTH_FILE)))).toBe(false);
    // The truth file carries the pairing and the alignment answer next to the style answer.
    const truth = readSyntheticTruth(a);
    expect(truth.size).toBe(14);
    for (const r of truth.values()) {
      expect(['synced', 'independent', 'cross']).toContain(r.pairing);
      expect(r.alignment!.best).toBeGreaterThanOrEqual(r.alignment!.got);
      expect(r.alignment!.betterAligned.length > 0).toBe(r.alignment!.best > r.alignment!.got);
      for (const id of r.alignment!.betterAligned) expect(truth.get(id)!.split).toBe(r.split);
    }
  });
});
