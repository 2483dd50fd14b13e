/**
 * Sweeps across machines, through the real CLI on real engines (needs root, redis-server, Slurm + munge,
 * iproute2 — the same as the sweeper's e2e suites): one grid of TRIALS tiny trials (12-clip synthetic
 * dataset, 1 epoch, the bench/sweep tiny config) run three ways in one run:
 *   1. the one-host local pool, 2 workers (`vmr sweep run --workers 2`);
 *   2. BullMQ across two "hosts": Linux network namespaces made here — a head with Redis, the tracking
 *      server and the coordinator, two nodes each running one `vmr sweep worker`, joined by veth pairs;
 *   3. Slurm: a single-node cluster (munged + slurmctld + slurmd, generated slurm.conf) — one job array,
 *      `%2` throttle; prints the `sacct` summary of the array.
 * Prints wall time per way, trials per worker (BullMQ) and per array task (Slurm).
 * Usage: npm run bench -- sweep-hosts [trials=12]
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { SqliteTracker } from '@vmr/tracking';
import { finished, runCli } from '../apps/sweeper/test/helpers';
import { startNetLab } from '../apps/sweeper/test/helpers/netns';
import { startSlurmCluster } from '../apps/sweeper/test/helpers/slurm-cluster';

const TRIALS = Number(process.argv[2] ?? 12);

function secondsSince(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function workersOf(db: string, sweepId: string): Promise<Map<string, number>> {
  const s = new SqliteTracker(db, { reapStaleRuns: false, heartbeatIntervalMs: 0 });
  try {
    const by = new Map<string, number>();
    for (const r of await s.searchRuns({ parentId: sweepId })) {
      const w = (await s.getRun(r.id)).tags['sweep.worker'] ?? '?';
      by.set(w, (by.get(w) ?? 0) + 1);
    }
    return by;
  } finally {
    await s.close();
  }
}

async function main(): Promise<void> {
  if (!Number.isInteger(TRIALS) || TRIALS < 2) throw new Error(`trials must be an integer ≥ 2, got ${process.argv[2]}`);
  if (process.getuid?.() !== 0) throw new Error('sweep-hosts needs root (network namespaces, a Slurm cluster)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-bench-hosts-'));
  fs.chmodSync(dir, 0o755);
  const ds = path.join(dir, 'ds');
  const synth = await runCli(['synth', '--clips', '12', '--seed', '1', '--out', ds, '--min-duration', '20', '--max-duration', '30', '--segments', '3', '--views', 'resnet', '--json']);
  if (synth.code !== 0) throw new Error(`vmr synth failed: ${synth.stderr}`);
  fs.writeFileSync(
    path.join(dir, 'tiny.yaml'),
    [`dataset: ${ds}`, 'epochs: 1', 'batchSize: 4', 'backend: cpu', 'valSplit: train', 'checkpointEvery: 100', 'segmentation: { segments: 3, minSegmentSeconds: 3, maxSegmentSeconds: 20, padLength: 20 }', 'ofVmNet: { layers: 1, ffnDim: 16, embedDim: 16, heads: 2 }', 'loss: {}', ''].join('\n'),
  );
  const lambdas = Array.from({ length: TRIALS }, (_, i) => 0.5 + i * 0.25);
  const spec = (name: string) => {
    const f = path.join(dir, `${name}.yaml`);
    fs.writeFileSync(f, [`name: ${name}`, 'base: tiny.yaml', 'codeVersion: bench', 'features: resnet', 'maxParallel: 2', 'grid:', `  loss.lambdas.l1: [${lambdas.join(', ')}]`, ''].join('\n'));
    return f;
  };
  const rows: string[] = [];
  try {
    // 1. one host, local pool of 2
    {
      const db = path.join(dir, 'local', 'runs.db');
      const t0 = process.hrtime.bigint();
      const r = await runCli(['sweep', 'run', spec('hosts-local'), '--workers', '2', '--store', db, '--json']);
      const s = secondsSince(t0);
      const out = JSON.parse(r.stdout) as { finished: number; sweepId: string };
      if (out.finished !== TRIALS) throw new Error(`local pool: ${out.finished} of ${TRIALS} finished:\n${r.stderr}`);
      rows.push(`local pool, 2 workers, 1 host:      ${s.toFixed(1)} s wall, ${TRIALS} trials finished`);
    }
    // 2. BullMQ over two namespace hosts
    {
      const lab = await startNetLab(2);
      try {
        const h = lab.head.addr;
        const redis = lab.spawnIn(lab.head, 'redis-server', ['--bind', h, '--port', '6379', '--protected-mode', 'no', '--save', '', '--appendonly', 'no', '--dir', dir]);
        const db = path.join(dir, 'bullmq', 'runs.db');
        fs.mkdirSync(path.dirname(db), { recursive: true });
        const waitOut = async (c: { out: { stdout: string; stderr: string } }, re: RegExp) => {
          for (let i = 0; i < 600 && !re.test(c.out.stdout + c.out.stderr); i++) await new Promise((r) => setTimeout(r, 100));
          if (!re.test(c.out.stdout + c.out.stderr)) throw new Error(`timed out waiting for ${re}: ${c.out.stderr}`);
        };
        await waitOut(redis, /Ready to accept connections/);
        const server = lab.vmrIn(lab.head, ['tracking', 'serve', '--host', h, '--port', '5000', '--token', 'bench', '--db', db]);
        await waitOut(server, /listening on/);
        const workers = lab.nodes.map((n, i) => lab.vmrIn(n, ['sweep', 'worker', '--redis', `redis://${h}:6379`, '--log-dir', path.join(dir, `logs-node${i + 1}`)], { VMR_TRACKING_TOKEN: '' }));
        await Promise.all(workers.map((w) => waitOut(w, /waiting for trials/)));
        const t0 = process.hrtime.bigint();
        const c = lab.vmrIn(lab.head, ['sweep', 'run', spec('hosts-bullmq'), '--executor', 'bullmq', '--redis', `redis://${h}:6379`, '--tracking-uri', `http://${h}:5000`, '--tracking-token', 'bench', '--json']);
        const r = await finished(c);
        const s = secondsSince(t0);
        const out = JSON.parse(r.stdout) as { finished: number; sweepId: string };
        if (out.finished !== TRIALS) throw new Error(`bullmq: ${out.finished} of ${TRIALS} finished:\n${r.stderr}`);
        const by = await workersOf(db, out.sweepId);
        const per = workers.map((w, i) => `node ${i + 1} ${[...by].filter(([k]) => k.endsWith(`:${w.pid}`)).reduce((a, [, n]) => a + n, 0)}`);
        rows.push(`BullMQ, 2 namespace hosts × 1 worker: ${s.toFixed(1)} s wall, ${TRIALS} trials finished; trials per worker: ${per.join(', ')}`);
      } finally {
        await lab.stop();
      }
    }
    // 3. Slurm, one job array
    {
      const cluster = await startSlurmCluster();
      try {
        const db = path.join(dir, 'slurm', 'runs.db');
        const t0 = process.hrtime.bigint();
        const r = await runCli(['sweep', 'run', spec('hosts-slurm'), '--executor', 'slurm', '--serve-host', '127.0.0.1', '--time', '00:10', '--store', db, '--json'], { env: cluster.env });
        const s = secondsSince(t0);
        const out = JSON.parse(r.stdout) as { finished: number; sweepId: string };
        if (out.finished !== TRIALS) throw new Error(`slurm: ${out.finished} of ${TRIALS} finished:\n${r.stderr}`);
        rows.push(`Slurm, 1 node, one array (%2):       ${s.toFixed(1)} s wall, ${TRIALS} trials finished`);
        let sacct = '';
        try {
          sacct = execFileSync('sacct', ['-X', '-n', '-P', '-o', 'JobID,State,ExitCode,Elapsed'], { env: cluster.env, encoding: 'utf8' });
        } catch {
          sacct = execFileSync('scontrol', ['show', 'job', '-o'], { env: cluster.env, encoding: 'utf8' })
            .split('\n')
            .filter((l) => l.trim())
            .map((l) => ['JobId', 'ArrayTaskId', 'JobState', 'ExitCode', 'RunTime'].map((k) => `${k}=${(l.match(new RegExp(`\\b${k}=(\\S+)`)) ?? [])[1] ?? ''}`).join(' '))
            .join('\n');
          rows.push('  (sacct: accounting is off in the test cluster; scontrol shows the array tasks)');
        }
        rows.push(...sacct.trim().split('\n').map((l) => `  ${l}`));
      } finally {
        await cluster.stop();
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`sweep-hosts: ${TRIALS}-trial grid (tiny config, 12-clip synthetic dataset, 1 epoch), ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}\n${rows.join('\n')}\n`);
}

main().catch((e) => {
  process.stderr.write(`bench sweep-hosts failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
