/**
 * `npm run bench -- synth [structure|features|write|media] [--clips N]`: the synthetic benchmark
 * generator (issue 6).
 * - structure: N clips (default 10,000) of structure + segment planning (exact DP, S = 10) + yariv peaks,
 *   in memory; change-point recovery rate (±1 jump), AV-Align own vs random, style NN Recall@1.
 * - features: feature rendering speed (all views, real dims) per clip, in memory.
 * - write: `vmr synth` to bench/out/ (all views, then `--views clip`), ms per clip and MB/s.
 * - media: `vmr synth-media` clips, then the features pipeline (decode, Farnebäck flow, onsets) and
 *   AV-Align with the own audio vs every other clip's audio.
 * Target (issue 6): 10,000 clips in about a minute.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Rng } from '@vmr/core';
import {
  clipAudioFeatures,
  clipVideoFeatures,
  createSyntheticGenerator,
  generateSyntheticMedia,
  writeSyntheticDataset,
} from '@vmr/data';
import { analyzeVideo, decodeAudio, ffmpegBinaries, onsetDetect } from '@vmr/features';
import { avAlignFromPeaks, retrievalMetrics, videoPeakTimes } from '@vmr/metrics';

const args = process.argv.slice(2);
const only = args.find((a) => !a.startsWith('--') && !/^\d+$/.test(a));
const clipsArg = args.indexOf('--clips');
const N = clipsArg >= 0 ? Number(args[clipsArg + 1]) : 10_000;
const outRoot = path.join(__dirname, 'out', 'synth');

function structure(): void {
  const gen = createSyntheticGenerator({ preset: 'himv-like', seed: 1 });
  gen.clip(0); // warm-up
  const t0 = process.hrtime.bigint();
  let eligible = 0;
  let recovered = 0;
  let topHit = 0;
  let skipped = 0;
  let own = 0;
  let rnd = 0;
  let prevAudio: Float64Array | undefined;
  const vStyle: Float32Array[] = [];
  const mStyle: Float32Array[] = [];
  for (let i = 0; i < N; i++) {
    const c = gen.clip(i);
    if (vStyle.length < 1000) {
      vStyle.push(c.truth.videoStyle);
      mStyle.push(c.truth.musicStyle);
    }
    if (c.plan.status !== 'ok') skipped++;
    else if (c.truth.regimes.length === 10) {
      eligible++;
      const est = c.plan.breakpoints;
      if (c.truth.changePoints.every((s, k) => Math.abs(est[k] - 3 * s) <= 3)) recovered++;
      const hi = c.truth.regimes[c.truth.highMotion];
      if (c.plan.top.start === hi.start && c.plan.top.end === hi.end) topHit++;
    }
    own += avAlignFromPeaks(c.audioPeaks, c.videoPeaks, 3, 'yariv').score;
    if (prevAudio) rnd += avAlignFromPeaks(prevAudio, c.videoPeaks, 3, 'yariv').score;
    prevAudio = c.audioPeaks;
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`structure + segments (exact DP, S = 10) + peaks + AV-Align scoring, himv-like, ${N} clips: ${secs.toFixed(1)} s (${((secs / N) * 1000).toFixed(2)} ms/clip)`);
  console.log(`  planner skipped (too short for 10 × 10 s): ${skipped}; change points within ±1 jump: ${recovered}/${eligible} = ${((100 * recovered) / eligible).toFixed(2)} %`);
  console.log(`  rank-1 segment = true high-motion regime (exact): ${((100 * topHit) / eligible).toFixed(1)} %`);
  console.log(`  AV-Align (yariv, stored peaks): own ${(own / N).toFixed(3)}, previous clip's audio ${(rnd / (N - 1)).toFixed(3)}`);
  const cos = (a: Float32Array[], b: Float32Array[]): number[][] =>
    a.map((x) => b.map((y) => {
      let s = 0, nx = 0, ny = 0;
      for (let d = 0; d < x.length; d++) {
        s += x[d] * y[d];
        nx += x[d] * x[d];
        ny += y[d] * y[d];
      }
      return s / Math.sqrt(nx * ny);
    }));
  const paired = retrievalMetrics(cos(vStyle, mStyle));
  const perm = new Rng('shuffle').permutation(mStyle.length);
  const shuffled = retrievalMetrics(cos(vStyle, perm.map((j) => mStyle[j])));
  console.log(
    `  style NN (true style vectors, gallery ${vStyle.length}): R@1 ${paired.recall[1].toFixed(3)} R@10 ${paired.recall[10].toFixed(3)}; ` +
      `shuffled pairs R@1 ${shuffled.recall[1].toFixed(4)} R@10 ${shuffled.recall[10].toFixed(4)} (chance ${(1 / vStyle.length).toFixed(4)} / ${(10 / vStyle.length).toFixed(4)})`,
  );
}

function features(): void {
  const gen = createSyntheticGenerator({ preset: 'himv-like', seed: 2 });
  const clips = Array.from({ length: 200 }, (_, i) => gen.clip(i).truth);
  const render = (c: (typeof clips)[number]): number => {
    let n = 0;
    for (const v of ['resnet', 'clip', 'i3d']) n += clipVideoFeatures(c, gen.config, gen.world, v).length;
    return n + clipAudioFeatures(c, gen.config, gen.world).length;
  };
  render(clips[0]);
  const t0 = process.hrtime.bigint();
  let values = 0;
  let seconds = 0;
  for (const c of clips) {
    values += render(c);
    seconds += c.duration;
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(
    `feature rendering (resnet 2048 + clip 512 + i3d 2048 + vggish 128 per second), 200 clips, mean ${(seconds / 200).toFixed(0)} s: ` +
      `${((secs / 200) * 1000).toFixed(1)} ms/clip, ${(secs * 1e9 / values).toFixed(2)} ns/value, ${((values * 4) / 200 / 1e6).toFixed(2)} MB/clip`,
  );
}

function write(): void {
  fs.rmSync(outRoot, { recursive: true, force: true });
  for (const [label, views, n] of [['all views', undefined, 300], ['--views clip', ['clip'], 2000]] as const) {
    const out = path.join(outRoot, `write-${views ? views.join('-') : 'all'}`);
    const s = writeSyntheticDataset({ out, preset: 'himv-like', clips: n, seed: 3, views: views ? [...views] : undefined });
    const per = s.seconds / n;
    console.log(
      `vmr synth (${label}), ${n} clips: ${s.seconds.toFixed(1)} s, ${(per * 1000).toFixed(1)} ms/clip, ${(s.bytes / 1e6 / s.seconds).toFixed(0)} MB/s, ` +
        `${(s.bytes / n / 1e6).toFixed(2)} MB/clip → 10,000 clips ≈ ${(per * 10_000).toFixed(0)} s and ${((s.bytes / n) * 10_000 / 1e9).toFixed(1)} GB`,
    );
    fs.rmSync(out, { recursive: true, force: true });
  }
}

async function media(): Promise<void> {
  const out = path.join(outRoot, 'media');
  fs.rmSync(out, { recursive: true, force: true });
  const n = 8;
  const t0 = Date.now();
  const m = await generateSyntheticMedia({ out, clips: n, seed: 4, ffmpeg: ffmpegBinaries().ffmpeg });
  const genSecs = (Date.now() - t0) / 1000;
  const total = m.clips.reduce((s, c) => s + c.duration, 0);
  console.log(`vmr synth-media, ${n} clips (${total} s of video): ${genSecs.toFixed(1)} s (${(genSecs / n).toFixed(2)} s/clip)`);
  const flows: number[][] = [];
  const onsets: number[][] = [];
  const t1 = Date.now();
  for (const c of m.clips) {
    const file = path.join(out, c.file);
    flows.push((await analyzeVideo(file)).trajectory);
    onsets.push(onsetDetect((await decodeAudio(file, { sampleRate: 22050 })).samples, 22050).times);
  }
  console.log(`  features pipeline (decode + Farnebäck at 3 fps + onsets): ${((Date.now() - t1) / 1000).toFixed(1)} s`);
  let own = 0;
  let other = 0;
  for (let i = 0; i < n; i++) {
    const vp = videoPeakTimes(flows[i], 3, 'yariv');
    own += avAlignFromPeaks(onsets[i], vp, 3, 'yariv').score / n;
    for (let j = 0; j < n; j++) if (j !== i) other += avAlignFromPeaks(onsets[j], vp, 3, 'yariv').score / (n * (n - 1));
  }
  console.log(`  AV-Align (yariv, measured flow + detected onsets): own audio ${own.toFixed(3)}, other clips' audio ${other.toFixed(3)}`);
  fs.rmSync(out, { recursive: true, force: true });
}

async function main(): Promise<void> {
  if (!only || only === 'structure') structure();
  if (!only || only === 'features') features();
  if (!only || only === 'write') write();
  if (!only || only === 'media') await media();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
