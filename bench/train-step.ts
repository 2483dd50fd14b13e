/**
 * `npm run bench -- train-step [--steps N] [--ffn 2048,128] [--replicas 1,2] [--backend wasm] [--engines xnnpack,native1,native2]
 *                               [--python PATH] [--reference-dir DIR] [--torch-threads 2,1] [--no-torch] [--sweep]`
 *
 * One OF-VM-Net training step (forward both encoders + paper loss with hardest-10 mining + backward
 * + Adam) at the paper configuration (B = 32 clips × S = 10 segments, L ≤ 200, video D 2048, audio
 * D 128, E 32, 4 layers × 4 heads, dropout 0.1) on the SAME segment lengths as the PyTorch reference
 * step (`lengths_paper_F*_Dv2048_typical.json`, ≈ 6,600 valid tokens), for FFN 2048 and FFN 128:
 *  - VMR Lab ms/step with 1 replica (one thread) and with N data-parallel replicas (worker threads),
 *    for each matrix-product engine of the wasm backend (`--engines`): stock XNNPACK (`xnnpack`,
 *    what VMR_NATIVE_GEMM=0 gives) and the native GEMM with 1 or 2 threads (`native1`, `native2`),
 *  - the per-part breakdown of one single-replica step (input projection, attention, FFN, norms,
 *    pooling, loss/mining, optimizer, host→tensor copies, other = fixed per-step cost),
 *  - the PyTorch valid-token step (`torch_packed_step.py --mode bucket`, 2 threads) on the same
 *    lengths with 2 and 1 threads (`--torch-threads`), measured in the same run, and the ratios.
 * PyTorch is found with `--python` or $VMR_BENCH_PYTHON (default `python3`); the reference scripts in
 * `--reference-dir` or $VMR_BENCH_REFERENCE_DIR (default `../shared/bench` next to the repository).
 * When PyTorch cannot be imported the bench says so and prints no ratio.
 * `--sweep` adds the older scaling cases (B, L, padded work) on synthetic lengths.
 * The losses differ slightly (VMR: the paper's six-term loss; reference: two hardest-k terms); both are
 * a few ms next to the encoders.
 */
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import * as os from 'os';
import { Rng, type BackendName } from '@vmr/core';
import { tf, selectBackend, profilePhases, nativeGemmStatus, setNativeGemmActive, setNativeGemmThreads } from '@vmr/core/tf';
import { createOfVmNet, Adam, trainStepOfVmNet, planCost, ReplicaPool, type OfVmNetConfigInput, type SegmentBatch } from '@vmr/models';
import { ofVmNetLoss } from '@vmr/losses';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

const repoRoot = path.resolve(__dirname, '..');
const referenceDir = path.resolve(arg('reference-dir') ?? process.env.VMR_BENCH_REFERENCE_DIR ?? path.join(repoRoot, '..', 'shared', 'bench'));
const python = arg('python') ?? process.env.VMR_BENCH_PYTHON ?? 'python3';
const steps = Number(arg('steps') ?? 3);
const backendName = (arg('backend') ?? 'wasm') as BackendName;

interface LengthsFile {
  name: string;
  lengths: number[];
}

function loadLengths(ffn: number): { file: string; spec: LengthsFile } {
  const file = path.join(referenceDir, `lengths_paper_F${ffn}_Dv2048_typical.json`);
  if (!fs.existsSync(file)) {
    console.error(`train-step: ${file} not found: pass --reference-dir DIR (or set VMR_BENCH_REFERENCE_DIR) to the folder with the PyTorch reference step and its length files`);
    process.exit(2);
  }
  return { file, spec: JSON.parse(fs.readFileSync(file, 'utf8')) as LengthsFile };
}

function makeBatch(lengths: number[], B: number, S: number, L: number, Dv: number, seed: string) {
  const rng = new Rng(seed);
  const mask = new Float32Array(B * S * L);
  lengths.forEach((n, i) => mask.fill(1, i * L, i * L + n));
  const fill = (d: number) => {
    const a = new Float32Array(B * S * L * d);
    for (let i = 0; i < a.length; i++) a[i] = mask[Math.floor(i / d)] ? rng.next() * 2 - 1 : 0;
    return { data: a, shape: [B, S, L, d] as [number, number, number, number] };
  };
  const ranks = new Float32Array(B * S);
  for (let b = 0; b < B; b++) rng.permutation(S).forEach((p, s) => (ranks[b * S + s] = p + 1));
  return { batch: { video: fill(Dv), audio: fill(128), mask } as SegmentBatch, ranks };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface VmrResult {
  replicas: number;
  msMedian: number;
  msMin: number;
  cpuMsMedian: number;
  loss: number;
}

async function vmrSteps(config: OfVmNetConfigInput, batch: SegmentBatch, ranks: Float32Array, replicas: number, chunkClips?: number): Promise<VmrResult> {
  const model = createOfVmNet(config, 1);
  const opt = new Adam(model.params, { lr: 1e-4 });
  const pool = replicas > 1 ? await ReplicaPool.create(model, { replicas, backend: backendName }) : undefined;
  const lossFn = (emb: Parameters<typeof ofVmNetLoss>[0]) => ofVmNetLoss(emb, ranks, { topK: 10 });
  const step = async () => (pool ? await pool.step(opt, batch, lossFn) : trainStepOfVmNet(model, opt, batch, lossFn, { chunkClips }));
  let loss = (await step()).loss; // warm-up
  const times: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    const u0 = process.cpuUsage();
    loss = (await step()).loss;
    const du = process.cpuUsage(u0);
    cpu.push((du.user + du.system) / 1000);
    times.push(performance.now() - t0);
  }
  await pool?.close();
  opt.dispose();
  model.dispose();
  return { replicas, msMedian: Math.round(median(times)), msMin: Math.round(Math.min(...times)), cpuMsMedian: Math.round(median(cpu)), loss };
}

function vmrProfile(config: OfVmNetConfigInput, batch: SegmentBatch, ranks: Float32Array): Record<string, number> {
  const model = createOfVmNet(config, 1);
  const opt = new Adam(model.params, { lr: 1e-4 });
  const lossFn = (emb: Parameters<typeof ofVmNetLoss>[0]) => ofVmNetLoss(emb, ranks, { topK: 10 });
  trainStepOfVmNet(model, opt, batch, lossFn); // warm-up
  const p = profilePhases(() => trainStepOfVmNet(model, opt, batch, lossFn));
  opt.dispose();
  model.dispose();
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(p.phases).sort((a, b) => b[1] - a[1])) out[k === 'other' ? 'other (tape, glue, fixed per-step)' : k] = Math.round(v);
  out.total = Math.round(p.totalMs);
  return out;
}

type TorchResult = { ok: true; median_ms: number; min_ms: number; cpu_ms_median: number; torch: string } | { ok: false; reason: string };

/**
 * The reference script, runnable: the shared copy has a help string with unescaped inner double quotes
 * (a SyntaxError in every Python); when it does, a copy with those quotes made single is run instead
 * (help text only — the step is unchanged) and the bench says so.
 */
function referenceScript(): { script: string; note?: string } {
  const script = path.join(referenceDir, 'torch_packed_step.py');
  const text = fs.readFileSync(script, 'utf8');
  const fixed = text.replace(/help="JSON with "lengths" \(one valid-token count per segment\) and "groups" /, `help="JSON with 'lengths' (one valid-token count per segment) and 'groups' `);
  if (fixed === text) return { script };
  const copy = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-bench-')), 'torch_packed_step.py');
  fs.writeFileSync(copy, fixed);
  return { script: copy, note: `ran a copy of ${script} with the quoting SyntaxError in its --lengths help string fixed` };
}

function torchStep(lengthsFile: string, ffn: number, threads: number): TorchResult {
  const probe = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    const why = probe.error ? probe.error.message : (probe.stderr || '').trim().split('\n').pop();
    return { ok: false, reason: `PyTorch cannot be imported with '${python}' (${why}); set --python PATH or VMR_BENCH_PYTHON to a python with torch (see ${path.join(referenceDir, 'README.md')})` };
  }
  const { script, note } = referenceScript();
  if (note) console.log(`PyTorch: ${note}`);
  const r = spawnSync(python, [script, '--lengths', lengthsFile, '--mode', 'bucket', '--ffn', String(ffn), '--vdim', '2048', '--threads', String(threads), '--steps', String(steps), '--warmup', '1'], { encoding: 'utf8' });
  if (r.status !== 0) return { ok: false, reason: `${script} failed: ${(r.stderr || '').trim().split('\n').slice(-3).join(' | ')}` };
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return { ok: true, ...(JSON.parse(line) as Omit<Extract<TorchResult, { ok: true }>, 'ok'>) };
}

/** A matrix-product engine of the wasm backend: stock XNNPACK, or the native GEMM with N threads per product. */
interface Engine {
  name: string;
  native: boolean;
  threads: number;
}

function engineLabel(e: Engine, replicas: number): string {
  if (!e.native) return 'wasm (XNNPACK)';
  return replicas > 1 ? `wasm+native-gemm (${replicas} replicas × 1 thread)` : `wasm+native-gemm (${e.threads} thread${e.threads > 1 ? 's' : ''})`;
}

function useEngine(e: Engine): void {
  setNativeGemmActive(e.native);
  setNativeGemmThreads(e.threads);
}

async function main(): Promise<void> {
  const backend = await selectBackend(backendName);
  const ffns = (arg('ffn') ?? '2048,128').split(',').map(Number);
  const replicaCounts = (arg('replicas') ?? '1,2').split(',').map(Number);
  const noTorch = flag('no-torch');
  const torchThreads = (arg('torch-threads') ?? '2,1').split(',').map(Number);
  const native = nativeGemmStatus();
  const engineNames = (arg('engines') ?? (native.enabled ? 'xnnpack,native1,native2' : 'xnnpack')).split(',');
  const engines: Engine[] = engineNames.map((n) => {
    const m = /^native(\d+)$/.exec(n);
    if (n === 'xnnpack') return { name: n, native: false, threads: 1 };
    if (!m) throw new Error(`--engines: unknown engine '${n}' (xnnpack, native1, native2)`);
    if (!native.enabled) throw new Error(`--engines ${n}: the native GEMM is not available: ${native.reason}`);
    return { name: n, native: true, threads: Number(m[1]) };
  });
  if (backend.backend !== 'wasm') engines.splice(0, engines.length, { name: backend.backend, native: false, threads: 1 });
  console.log(`backend: ${backend.label} (tfjs-core ${backend.tfjsVersion}); ${os.cpus().length} CPUs, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}; ${steps} timed steps after 1 warm-up`);
  console.log(`native GEMM: ${native.enabled ? `${native.isa}, ${native.path}` : native.reason}; engines measured: ${engines.map((e) => e.name).join(', ')}`);
  const summary: Record<string, unknown>[] = [];
  for (const ffn of ffns) {
    const { file, spec } = loadLengths(ffn);
    const B = 32;
    const S = 10;
    const L = 200;
    if (spec.lengths.length !== B * S) throw new Error(`${file}: expected ${B * S} lengths, got ${spec.lengths.length}`);
    const { batch, ranks } = makeBatch(spec.lengths, B, S, L, 2048, `bench/${spec.name}`);
    const config: OfVmNetConfigInput = { videoDim: 2048, audioDim: 128, ffnDim: ffn, maxLen: L };
    const cost = planCost(createOfVmNet(config, 1).plan(batch.mask as Float32Array, B, S, L));
    console.log(`\n== FFN ${ffn}: ${spec.name} (${path.basename(file)}): ${cost.tokens} valid tokens, ${cost.rows} computed rows in ${cost.groups} length groups`);
    const runs: Array<VmrResult & { engine: string }> = [];
    for (const e of engines) {
      useEngine(e);
      if (e.threads === 1 || !e.native) {
        const profile = vmrProfile(config, batch, ranks);
        console.log(`breakdown of one single-replica step, ${engineLabel(e, 1)} (ms, forward + backward per part): ${JSON.stringify(profile)}`);
      }
      for (const n of replicaCounts) {
        if (n > 1 && e.native && e.threads > 1) continue; // replicas run 1 GEMM thread each: that is native1 × n
        const r = await vmrSteps(config, batch, ranks, n);
        const engine = engineLabel(e, n);
        runs.push({ ...r, engine });
        console.log(`VMR Lab, ${engine}, ${n} replica${n > 1 ? 's (worker threads)' : ' (main thread)'}: median ${r.msMedian} ms/step (min ${r.msMin}; process CPU, all threads: ${r.cpuMsMedian} ms), loss ${r.loss.toFixed(4)}`);
      }
    }
    useEngine({ name: 'default', native: native.enabled, threads: native.threads });
    for (const threads of torchThreads) {
      const torch: TorchResult = noTorch ? { ok: false, reason: 'skipped (--no-torch)' } : torchStep(file, ffn, threads);
      if (torch.ok) console.log(`PyTorch ${torch.torch} valid-token step (bucket mode, ${threads} thread${threads > 1 ? 's' : ''}): median ${Math.round(torch.median_ms)} ms/step (min ${Math.round(torch.min_ms)}; process CPU ${Math.round(torch.cpu_ms_median)} ms)`);
      else console.log(`PyTorch: ${torch.reason} — no ratio printed`);
      for (const r of runs) {
        summary.push({
          ffn,
          tokens: cost.tokens,
          engine: r.engine,
          replicas: r.replicas,
          torchThreads: threads,
          vmrMs: r.msMedian,
          torchMs: torch.ok ? Math.round(torch.median_ms) : 'n/a',
          'ratio vmr/torch': torch.ok ? +(r.msMedian / torch.median_ms).toFixed(2) : 'n/a (no PyTorch)',
          vmrCpuMs: r.cpuMsMedian,
          torchCpuMs: torch.ok ? Math.round(torch.cpu_ms_median) : 'n/a',
          'CPU ratio': torch.ok ? +(r.cpuMsMedian / torch.cpu_ms_median).toFixed(2) : 'n/a',
        });
      }
      if (!torch.ok) break;
    }
    const base = runs.find((r) => r.engine === 'wasm (XNNPACK)' && r.replicas === 1);
    if (base) for (const r of runs) if (r !== base) console.log(`speed-up over wasm (XNNPACK), 1 replica: ${r.engine}, ${r.replicas} replica(s): ×${(base.msMedian / r.msMedian).toFixed(2)}`);
  }
  console.log('');
  console.table(summary);
  console.log('ratio: wall-clock ms/step VMR ÷ PyTorch, measured in this run (> 1: VMR Lab slower). CPU ratio: process CPU time per step (all threads), robust to other load; 2 threads spinning count twice.');
  console.log(`Load average now ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} (other work on the machine inflates both sides).`);
  if (flag('sweep')) await sweep();
}

/** The older scaling cases: synthetic lengths, B, L and padded work. */
async function sweep(): Promise<void> {
  const cases: Array<{ name: string; B: number; L: number; ffn: number; full: boolean; chunkClips?: number }> = [
    { name: 'B8 F2048 typical', B: 8, L: 200, ffn: 2048, full: false },
    { name: 'B16 F2048 typical', B: 16, L: 200, ffn: 2048, full: false },
    { name: 'B8 L50 F2048 full', B: 8, L: 50, ffn: 2048, full: true },
    { name: 'B8 L200 F2048 full', B: 8, L: 200, ffn: 2048, full: true, chunkClips: 2 },
    { name: 'paper F128 full (padded work)', B: 32, L: 200, ffn: 128, full: true, chunkClips: 4 },
  ];
  for (const c of cases) {
    const rng = new Rng(`bench/${c.name}`);
    const lengths: number[] = [];
    for (let b = 0; b < c.B; b++) {
      const w = Array.from({ length: 10 }, () => -Math.log(1 - rng.next()));
      const sum = w.reduce((a, x) => a + x, 0);
      const dur = Math.round(rng.uniform(120, 300));
      for (let s = 0; s < 10; s++) lengths.push(c.full ? c.L : Math.min(c.L, 10 + Math.floor(((dur - 100) * w[s]) / sum)));
    }
    const { batch, ranks } = makeBatch(lengths, c.B, 10, c.L, 2048, `bench/${c.name}`);
    const r = await vmrSteps({ videoDim: 2048, audioDim: 128, ffnDim: c.ffn, maxLen: c.L }, batch, ranks, 1, c.chunkClips);
    console.log(JSON.stringify({ case: c.name, chunkClips: c.chunkClips ?? c.B, ...r }));
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
