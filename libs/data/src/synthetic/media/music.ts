import { Rng } from '@vmr/core';
import type { SyntheticClipTruth } from '../clip';

/** Music synthesis parameters of the media-level generator. */
export interface MediaAudioOptions {
  sampleRate: number;
  /** Decay time constant of a percussive hit (s). */
  hitDecay: number;
  /** Peak level of the whole track (0..1). */
  peak: number;
}

export const DEFAULT_MEDIA_AUDIO: MediaAudioOptions = { sampleRate: 22050, hitDecay: 0.045, peak: 0.9 };

/**
 * Synthesize the music of a clip (mono float samples in [−peak, peak]): a sustained chord whose root
 * follows the clip's style cluster, plus one percussive hit (decaying noise burst + low thump) at every
 * known onset. Loudness follows the motion curve: both the pad and the hits get louder in high-level
 * regimes (the pad's loudness ramps over 0.4 s at regime changes so the ramps do not read as onsets);
 * the onset density (tempo) follows it by construction of the onsets.
 */
export function synthesizeMusic(truth: SyntheticClipTruth, levelMin: number, levelMax: number, o: MediaAudioOptions, seed: string): Float32Array {
  const rng = new Rng(seed);
  const sr = o.sampleRate;
  const n = Math.round(truth.duration * sr);
  const out = new Float32Array(n);
  const la = Math.log(levelMin);
  const lb = Math.log(levelMax);
  const loud = (level: number): number => (Math.log(level) - la) / (lb - la);

  // Pad: loudness per sample with linear ramps between regimes.
  const ramp = Math.round(0.4 * sr);
  const gain = new Float32Array(n);
  for (const r of truth.regimes) {
    const g = 0.04 + 0.08 * loud(r.level);
    for (let i = Math.round(r.start * sr); i < Math.min(n, Math.round(r.end * sr)); i++) gain[i] = g;
  }
  // Moving-average smoothing of the gain (O(n) running sum).
  const smooth = new Float32Array(n);
  let acc = 0;
  for (let i = 0; i < n; i++) {
    acc += gain[i];
    if (i >= ramp) acc -= gain[i - ramp];
    smooth[i] = acc / Math.min(i + 1, ramp);
  }
  const root = 110 * Math.pow(2, (truth.styleCluster % 12) / 12);
  const chord = [1, truth.styleCluster % 2 === 0 ? 1.25 : 1.2, 1.5];
  for (let i = 0; i < n; i++) {
    const t = i / sr;
    let s = 0;
    for (const c of chord) s += Math.sin(2 * Math.PI * root * c * t);
    out[i] = (smooth[i] * s) / chord.length;
  }

  // Hits: white-noise burst and a 70 Hz thump, exponentially decaying, louder in high-motion regimes.
  const len = Math.round(6 * o.hitDecay * sr);
  let r = 0;
  for (const t0 of truth.onsets) {
    while (r < truth.regimes.length - 1 && t0 >= truth.regimes[r].end) r++;
    const amp = 0.25 + 0.45 * loud(truth.regimes[r].level);
    const start = Math.round(t0 * sr);
    for (let k = 0; k < len && start + k < n; k++) {
      const env = Math.exp(-k / (o.hitDecay * sr));
      out[start + k] += amp * env * (0.6 * (2 * rng.next() - 1) + 0.4 * Math.sin((2 * Math.PI * 70 * k) / sr));
    }
  }

  let mx = 0;
  for (let i = 0; i < n; i++) mx = Math.max(mx, Math.abs(out[i]));
  if (mx > 0) {
    const scale = o.peak / mx;
    for (let i = 0; i < n; i++) out[i] *= scale;
  }
  return out;
}
