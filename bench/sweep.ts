/**
 * Sweep throughput: trials per hour of the tiny config (12-clip synthetic dataset, 1 epoch, batch 4,
 * 1-layer OF-VM-Net with 16-d embeddings, cpu backend) on the local pool with 1 worker and with 2,
 * and the scaling ratio. Each trial is a `vmr sweep trial` process (start-up + training + logging
 * through the sweep's tracking server). Usage: npm run bench -- sweep [trials=6]
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { repoRoot } from '@vmr/core';

const TRIALS = Number(process.argv[2] ?? 6);
const vmr = path.join(repoRoot(), 'bin', 'vmr.js');

function cli(args: string[]): string {
  const r = spawnSync(process.execPath, [vmr, ...args], { encoding: 'utf8', env: { ...process.env, VMR_QUIET: '1' } });
  if (r.status !== 0) throw new Error(`vmr ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  return r.stdout;
}

function main(): void {
  if (!Number.isInteger(TRIALS) || TRIALS < 2) throw new Error(`trials must be an integer ≥ 2, got ${process.argv[2]}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-bench-sweep-'));
  try {
    const ds = path.join(dir, 'ds');
    cli(['synth', '--clips', '12', '--seed', '1', '--out', ds, '--min-duration', '20', '--max-duration', '30', '--segments', '3', '--views', 'resnet', '--json']);
    fs.writeFileSync(
      path.join(dir, 'tiny.yaml'),
      [`dataset: ${ds}`, 'epochs: 1', 'batchSize: 4', 'backend: cpu', 'valSplit: train', 'checkpointEvery: 100', 'segmentation: { segments: 3, minSegmentSeconds: 3, maxSegmentSeconds: 20, padLength: 20 }', 'ofVmNet: { layers: 1, ffnDim: 16, embedDim: 16, heads: 2 }', 'loss: {}', ''].join('\n'),
    );
    const lambdas = Array.from({ length: TRIALS }, (_, i) => 0.5 + i * 0.25);
    const rows: { workers: number; seconds: number; perHour: number }[] = [];
    for (const workers of [1, 2]) {
      const spec = path.join(dir, `w${workers}.yaml`);
      fs.writeFileSync(spec, [`name: bench-w${workers}`, 'base: tiny.yaml', 'codeVersion: bench', 'features: resnet', 'grid:', `  loss.lambdas.l1: [${lambdas.join(', ')}]`, ''].join('\n'));
      const t0 = process.hrtime.bigint();
      const out = JSON.parse(cli(['sweep', 'run', spec, '--workers', String(workers), '--store', path.join(dir, `w${workers}`, 'runs.db'), '--json']));
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (out.finished !== TRIALS) throw new Error(`expected ${TRIALS} finished trials, got ${out.finished}`);
      rows.push({ workers, seconds, perHour: (TRIALS / seconds) * 3600 });
    }
    const load = os.loadavg()[0];
    process.stdout.write(`sweep bench: ${TRIALS} tiny trials per run, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), load avg ${load.toFixed(1)}\n`);
    for (const r of rows) process.stdout.write(`  ${r.workers} worker(s): ${r.seconds.toFixed(1)} s wall (coordinator included) → ${r.perHour.toFixed(0)} trials/hour\n`);
    process.stdout.write(`  scaling 2 vs 1 workers: ×${(rows[1].perHour / rows[0].perHour).toFixed(2)}\n`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
