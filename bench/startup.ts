/**
 * Start-up cost of the `vmr` CLI: CPU seconds (user + sys, from /usr/bin/time, children included) and
 * peak RSS of `vmr --help` and `vmr runs list` on an empty store, and a tiny sweep trial's non-training
 * overhead (process start, dataset open, the `vmr eval` child, the coordinator and its tracking server).
 *
 * The trial overhead is the fixed part of a one-trial sweep's CPU: the same sweep is run with 1 and 3
 * epochs, CPU = overhead + epochs × per-epoch, so overhead = CPU(1) − (CPU(3) − CPU(1)) / 2.
 *
 * Variants compared in the same run: `build` (bin/vmr.js on the compiled build in dist/, the default),
 * `tsx` (VMR_NO_BUILD=1: the same sources transpiled by tsx at every start), and with `--before DIR`
 * another checkout's bin/vmr.js (e.g. the code before the compiled build, to report before/after).
 *
 * Usage: npm run bench -- startup [--reps N] [--no-trial] [--before DIR] [--only build|tsx|before]
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const root = path.resolve(__dirname, '..');
const TIME = '/usr/bin/time';

interface Sample {
  cpu: number;
  rss: number;
  wall: number;
}
interface Variant {
  name: string;
  bin: string;
  env: NodeJS.ProcessEnv;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** Run `node <bin> args…` under /usr/bin/time; CPU (user+sys, s), max RSS (MiB), wall (s). */
function measure(v: Variant, args: string[], cwd: string): Sample & { stdout: string } {
  const r = spawnSync(TIME, ['-f', 'VMRTIME %U %S %M %e', process.execPath, v.bin, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, VMR_QUIET: '1', ...v.env },
    maxBuffer: 64 * 1024 * 1024,
  });
  const line = (r.stderr ?? '').split('\n').find((l) => l.startsWith('VMRTIME '));
  if (r.status !== 0 || !line) throw new Error(`${v.name}: vmr ${args.join(' ')} failed (exit ${r.status}):\n${(r.stderr ?? '').slice(-3000)}`);
  const [u, s, m, e] = line.split(' ').slice(1).map(Number);
  return { cpu: u + s, rss: m / 1024, wall: e, stdout: r.stdout };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function repeat(v: Variant, args: string[], cwd: string, reps: number): Sample {
  const xs = Array.from({ length: reps }, () => measure(v, args, cwd));
  return { cpu: median(xs.map((x) => x.cpu)), rss: Math.max(...xs.map((x) => x.rss)), wall: median(xs.map((x) => x.wall)) };
}

function tinySweep(v: Variant, dir: string, ds: string, epochs: number): Sample {
  const tag = `${v.name}-e${epochs}`;
  fs.writeFileSync(
    path.join(dir, `tiny-${tag}.yaml`),
    [`dataset: ${ds}`, `epochs: ${epochs}`, 'batchSize: 4', 'backend: cpu', 'valSplit: train', 'checkpointEvery: 100', 'segmentation: { segments: 3, minSegmentSeconds: 3, maxSegmentSeconds: 20, padLength: 20 }', 'ofVmNet: { layers: 1, ffnDim: 16, embedDim: 16, heads: 2 }', 'loss: {}', ''].join('\n'),
  );
  const spec = path.join(dir, `sweep-${tag}.yaml`);
  fs.writeFileSync(spec, [`name: startup-${tag}`, `base: tiny-${tag}.yaml`, 'codeVersion: bench', 'features: resnet', 'evaluate:', `  - { dataset: ${ds}, name: tiny, split: train }`, ''].join('\n'));
  const r = measure(v, ['sweep', 'run', spec, '--workers', '1', '--store', path.join(dir, `${tag}.db`), '--json'], dir);
  const out = JSON.parse(r.stdout) as { finished?: number };
  if (out.finished !== 1) throw new Error(`${v.name}: the tiny sweep did not finish its trial: ${r.stdout.slice(0, 2000)}`);
  return r;
}

function main(): void {
  if (!fs.existsSync(TIME)) throw new Error(`${TIME} not found (Debian package "time"): it measures the CPU of a process and its children`);
  const reps = Number(arg('--reps') ?? 3);
  const before = arg('--before');
  const only = arg('--only');
  const variants: Variant[] = [
    { name: 'build', bin: path.join(root, 'bin', 'vmr.js'), env: { VMR_NO_BUILD: '' } },
    { name: 'tsx', bin: path.join(root, 'bin', 'vmr.js'), env: { VMR_NO_BUILD: '1' } },
  ];
  if (before) variants.push({ name: 'before', bin: path.join(path.resolve(before), 'bin', 'vmr.js'), env: {} });
  const chosen = only ? variants.filter((v) => v.name === only) : variants;
  if (chosen.length === 0) throw new Error(`--only ${only}: no such variant (${variants.map((v) => v.name).join(', ')})`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-bench-startup-'));
  try {
    // Warm up once per variant (the build variant compiles here when its build is stale).
    for (const v of chosen) measure(v, ['--help'], dir);
    const rows: { variant: string; what: string; s: Sample }[] = [];
    for (const v of chosen) {
      rows.push({ variant: v.name, what: 'vmr --help', s: repeat(v, ['--help'], dir, reps) });
      rows.push({ variant: v.name, what: 'vmr runs list (empty store)', s: repeat(v, ['runs', 'list', '--store', path.join(dir, `empty-${v.name}.db`)], dir, reps) });
    }
    if (!process.argv.includes('--no-trial')) {
      const ds = path.join(dir, 'ds');
      measure(chosen[0], ['synth', '--clips', '12', '--seed', '1', '--out', ds, '--min-duration', '20', '--max-duration', '30', '--segments', '3', '--views', 'resnet', '--json'], dir);
      for (const v of chosen) {
        const e1 = tinySweep(v, dir, ds, 1);
        const e3 = tinySweep(v, dir, ds, 3);
        const perEpoch = (e3.cpu - e1.cpu) / 2;
        rows.push({ variant: v.name, what: 'tiny trial, 1 epoch (whole sweep)', s: e1 });
        rows.push({ variant: v.name, what: 'tiny trial overhead (extrapolated to 0 epochs)', s: { cpu: e1.cpu - perEpoch, rss: Math.max(e1.rss, e3.rss), wall: e1.wall - (e3.wall - e1.wall) / 2 } });
      }
    }
    const load = os.loadavg()[0];
    process.stdout.write(`startup bench: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), load avg ${load.toFixed(1)}, median of ${reps} (trial: 1 run each)\n`);
    process.stdout.write(`${'variant'.padEnd(8)} ${'what'.padEnd(48)} ${'CPU s'.padStart(7)} ${'wall s'.padStart(7)} ${'RSS MiB'.padStart(8)}\n`);
    for (const r of rows) process.stdout.write(`${r.variant.padEnd(8)} ${r.what.padEnd(48)} ${r.s.cpu.toFixed(2).padStart(7)} ${r.s.wall.toFixed(2).padStart(7)} ${r.s.rss.toFixed(0).padStart(8)}\n`);
    const base = chosen[0].name;
    for (const v of chosen.slice(1))
      for (const what of [...new Set(rows.map((r) => r.what))]) {
        const a = rows.find((r) => r.variant === base && r.what === what);
        const b = rows.find((r) => r.variant === v.name && r.what === what);
        if (a && b && a.s.cpu > 0) process.stdout.write(`  ${what}: ${v.name} / ${base} CPU ×${(b.s.cpu / a.s.cpu).toFixed(1)}\n`);
      }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
