/**
 * `npm run bench -- metrics [fad|onsets]`: FAD at d = 128 and 512 with n = 2,000 (both routes), and onset
 * detection speed (× real time) on real audio. Peer figures: ../shared/BENCHMARKS.md.
 */
import { Rng, sharedPath } from '@vmr/core';
import { LIBROSA_SR, energyPeakTimes, onsetDetect, readWav, resample, toMono } from '@vmr/features';
import { fad } from '@vmr/metrics';
import { timeIt } from './timing';

const only = process.argv[2];

function gaussianSet(rng: Rng, n: number, d: number, shift: number): { rows: number; cols: number; data: Float32Array } {
  // correlated data: x = z·A with a random mixing matrix (every covariance full rank, not diagonal)
  const a = new Float64Array(d * d);
  for (let i = 0; i < a.length; i++) a[i] = rng.normal() / Math.sqrt(d);
  const out = new Float32Array(n * d);
  const z = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < d; j++) z[j] = rng.normal();
    for (let j = 0; j < d; j++) {
      let s = shift;
      for (let k = 0; k < d; k++) s += z[k] * a[k * d + j];
      out[r * d + j] = s;
    }
  }
  return { rows: n, cols: d, data: out };
}

function benchFad(): void {
  console.log('FAD, two sets of n = 2,000 (peer: SciPy sqrtm d=128 23.7 ms, d=512 1,056 ms; NumPy eigh route d=512 128 ms)');
  const rng = new Rng(42);
  for (const d of [128, 512]) {
    const a = gaussianSet(rng, 2000, d, 0);
    const b = gaussianSet(rng, 2000, d, 0.1);
    for (const method of ['auto', 'eigen'] as const) {
      let value = 0;
      let used = '';
      const t = timeIt(() => {
        const r = fad(a, b, { method });
        value = r.fad;
        used = r.method;
      }, d === 512 ? 3 : 7);
      console.log(
        `  d=${d} method=${method} (${used}): best ${t.best.toFixed(1)} ms, median ${t.median.toFixed(1)} ms  (fad ${value.toFixed(4)})`,
      );
    }
  }
}

function benchOnsets(): void {
  // madmom sample.wav (CC-BY-NC-SA-4.0) tiled to ~60 s
  const a = readWav(sharedPath('media', 'onsets', 'sample.wav'));
  const mono = toMono(a);
  const reps = Math.ceil((60 * a.sampleRate) / mono.length);
  const long = new Float32Array(mono.length * reps);
  for (let r = 0; r < reps; r++) long.set(mono, r * mono.length);
  const seconds = long.length / a.sampleRate;
  console.log(`Onsets on ${seconds.toFixed(1)} s of audio (sample.wav tiled, 44.1 kHz mono)`);
  let y: Float32Array = new Float32Array(0);
  const tr = timeIt(() => {
    y = resample(long, a.sampleRate, LIBROSA_SR);
  }, 3);
  console.log(`  resample 44.1→22.05 kHz: ${tr.best.toFixed(1)} ms (${((seconds * 1000) / tr.best).toFixed(0)}× real time)`);
  let count = 0;
  const to = timeIt(() => {
    count = onsetDetect(y, LIBROSA_SR).times.length;
  }, 5);
  console.log(`  onset_detect (librosa defaults, 22.05 kHz): ${to.best.toFixed(1)} ms (${((seconds * 1000) / to.best).toFixed(0)}× real time, ${count} onsets)`);
  const te = timeIt(() => {
    count = energyPeakTimes(long, a.sampleRate).length;
  }, 5);
  console.log(`  energy peaks (vmr, 44.1 kHz): ${te.best.toFixed(1)} ms (${((seconds * 1000) / te.best).toFixed(0)}× real time, ${count} peaks)`);
}

async function main(): Promise<void> {
  if (!only || only === 'fad') benchFad();
  if (!only || only === 'onsets') benchOnsets();
}

void main();
