/**
 * `npm run bench -- train-step [--quick] [--backend wasm] [--only NAME]`
 *
 * ms per OF-VM-Net training step (forward both encoders + paper loss with hardest-10 mining + backward
 * + Adam) on the chosen backend (default wasm), for the paper configuration (B = 32 clips × S = 10
 * segments × L = 200, E = 32, 4 heads, 4 layers, FFN 2048 / 128, dropout 0.1, video D 2048 / 512,
 * audio 128), and how it grows with B and L. Segment lengths: `full` = all 200 tokens valid (the
 * work PyTorch's padded step does), `typical` = lengths of a 10-way segmentation of 2–5 min clips
 * (min 10 s), which the masked-mean encoder computes without padding.
 * Steps run in chunks of 4 clips (`trainStepOfVmNet` with `chunkClips`; full-length cases 1–2 clips)
 * so the paper configuration fits the wasm heap; one B = 8 case shows the one-pass step for comparison.
 * Wall time and CPU time are both reported: on a shared machine the CPU time is the comparable figure
 * (wasm runs on one thread; tfjs may add a little GC/worker time).
 * Inputs stay in JS memory (HostTensor): only valid tokens are uploaded (all of them for mean-all).
 * The bar (BENCHMARKS.md): PyTorch 1.13 CPU, 2 threads, padded step: FFN 2048 144.8 s, FFN 128 27.0 s.
 */
import { Rng } from '@vmr/core';
import { tf, selectBackend, matMul } from '@vmr/core/tf';
import { createOfVmNet, Adam, trainStepOfVmNet, planCost, type OfVmNetConfigInput } from '@vmr/models';
import { ofVmNetLoss } from '@vmr/losses';

interface Case {
  name: string;
  B: number;
  S: number;
  L: number;
  videoDim: number;
  ffnDim: number;
  lengths: 'full' | 'typical';
  pooling: 'masked-mean' | 'mean-all';
  steps: number;
  /** Clips per gradient chunk (undefined: one pass). */
  chunkClips?: number;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function segmentLengths(rng: Rng, B: number, S: number, L: number, kind: Case['lengths']): number[] {
  const out: number[] = [];
  for (let b = 0; b < B; b++) {
    if (kind === 'full') {
      for (let s = 0; s < S; s++) out.push(L);
      continue;
    }
    const minLen = Math.min(10, L);
    const duration = Math.round(rng.uniform(120, 300));
    const w = Array.from({ length: S }, () => -Math.log(1 - rng.next()));
    const sum = w.reduce((a, x) => a + x, 0);
    for (let s = 0; s < S; s++) out.push(Math.min(L, minLen + Math.floor(((duration - S * minLen) * w[s]) / sum)));
  }
  return out;
}

async function runCase(c: Case): Promise<Record<string, unknown>> {
  const rng = new Rng(`bench/${c.name}`);
  const config: OfVmNetConfigInput = { videoDim: c.videoDim, audioDim: 128, ffnDim: c.ffnDim, maxLen: c.L, pooling: c.pooling };
  const model = createOfVmNet(config, 1);
  const opt = new Adam(model.params, { lr: 1e-4 });
  const lens = segmentLengths(rng, c.B, c.S, c.L, c.lengths);
  const mask = new Float32Array(c.B * c.S * c.L);
  lens.forEach((n, i) => mask.fill(1, i * c.L, i * c.L + n));
  const ranks = new Float32Array(c.B * c.S);
  for (let b = 0; b < c.B; b++) rng.permutation(c.S).forEach((p, s) => (ranks[b * c.S + s] = p + 1));
  const fill = (d: number) => {
    const a = new Float32Array(c.B * c.S * c.L * d);
    for (let i = 0; i < a.length; i++) a[i] = mask[Math.floor(i / d)] ? rng.next() * 2 - 1 : 0;
    return { data: a, shape: [c.B, c.S, c.L, d] as [number, number, number, number] };
  };
  const video = fill(c.videoDim);
  const audio = fill(128);
  const cost = planCost(model.plan(mask, c.B, c.S, c.L));
  const step = () => trainStepOfVmNet(model, opt, { video, audio, mask }, (emb) => ofVmNetLoss(emb, ranks, { topK: 10 }), { chunkClips: c.chunkClips });
  step(); // warm-up
  const times: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < c.steps; i++) {
    const t0 = performance.now();
    const u0 = process.cpuUsage();
    step();
    const du = process.cpuUsage(u0);
    cpu.push((du.user + du.system) / 1000);
    times.push(performance.now() - t0);
  }
  opt.dispose();
  model.dispose();
  const ms = times.reduce((a, b) => a + b, 0) / times.length;
  return {
    case: c.name,
    B: c.B,
    L: c.L,
    Dv: c.videoDim,
    F: c.ffnDim,
    lengths: c.lengths,
    pooling: c.pooling,
    chunkClips: c.chunkClips ?? c.B,
    tokens: cost.tokens,
    attnPositions: cost.attentionPositions,
    groups: cost.groups,
    msPerStep: Math.round(ms),
    msPerStepMin: Math.round(Math.min(...times)),
    // CPU time of this (single-threaded wasm) process: robust to other load on the machine
    cpuMsPerStep: Math.round(cpu.reduce((a, b) => a + b, 0) / cpu.length),
    tensorsAlive: tf.memory().numTensors,
  };
}

function matMulGradBench(): Record<string, unknown> {
  // the custom-gradient matMul vs tf.matMul (transpose-flag gradient) on one FFN-sized product
  const a = tf.randomNormal([6000, 32]);
  const w = tf.randomNormal([32, 2048]);
  const time = (f: (x: tf.Tensor, y: tf.Tensor) => tf.Tensor) => {
    const g = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(f(x, y)));
    tf.dispose(g([a, w]));
    const t0 = performance.now();
    for (let i = 0; i < 3; i++) tf.dispose(g([a, w]));
    return (performance.now() - t0) / 3;
  };
  const fast = time((x, y) => matMul(x, y));
  const plain = time((x, y) => tf.matMul(x, y));
  return { case: 'matMul fwd+bwd [6000,32]x[32,2048]', fastMs: Math.round(fast), tfMatMulMs: Math.round(plain), speedup: +(plain / fast).toFixed(1) };
}

async function main(): Promise<void> {
  const backend = await selectBackend((arg('backend') as never) ?? 'wasm');
  const quick = process.argv.includes('--quick');
  const only = arg('only');
  console.log(`backend: ${backend.backend} (tfjs-core ${backend.tfjsVersion})`);
  const paper = (over: Partial<Case>): Case => ({
    name: '',
    B: 32,
    S: 10,
    L: 200,
    videoDim: 2048,
    ffnDim: 2048,
    lengths: 'typical',
    pooling: 'masked-mean',
    steps: quick ? 1 : 2,
    chunkClips: 4,
    ...over,
  });
  const cases: Case[] = [
    paper({ name: 'paper F2048 Dv2048 typical' }),
    paper({ name: 'paper F128 Dv2048 typical', ffnDim: 128 }),
    paper({ name: 'paper F2048 Dv512 typical', videoDim: 512 }),
    paper({ name: 'paper F128 Dv512 typical', videoDim: 512, ffnDim: 128 }),
    paper({ name: 'B8 F2048 typical one-pass', B: 8, chunkClips: undefined }),
    paper({ name: 'B8 F2048 typical', B: 8 }),
    paper({ name: 'B16 F2048 typical', B: 16 }),
    paper({ name: 'B8 L25 F2048 full', B: 8, L: 25, lengths: 'full' }),
    paper({ name: 'B8 L50 F2048 full', B: 8, L: 50, lengths: 'full' }),
    paper({ name: 'B8 L100 F2048 full', B: 8, L: 100, lengths: 'full', chunkClips: 2 }),
    paper({ name: 'B8 L200 F2048 full', B: 8, L: 200, lengths: 'full', chunkClips: 1 }),
    paper({ name: 'B8 L200 F2048 full mean-all', B: 8, L: 200, lengths: 'full', pooling: 'mean-all', chunkClips: 1 }),
    paper({ name: 'paper F128 full (padded work)', ffnDim: 128, lengths: 'full', steps: 1, chunkClips: 2 }),
    paper({ name: 'paper F2048 full (padded work)', lengths: 'full', steps: 1, chunkClips: 1 }),
  ];
  const rows: Record<string, unknown>[] = [matMulGradBench()];
  console.log(JSON.stringify(rows[0]));
  for (const c of cases) {
    if (only && !c.name.includes(only)) continue;
    if (quick && c.lengths === 'full' && c.B === 32) continue;
    const r = await runCase(c);
    rows.push(r);
    console.log(JSON.stringify(r));
  }
  console.table(rows);
}

void main();
