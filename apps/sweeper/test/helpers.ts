import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { repoRoot } from '@vmr/core';
import { SqliteTracker } from '@vmr/tracking';

export const VMR = path.join(repoRoot(), 'bin', 'vmr.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run the real CLI to completion. */
export function runCli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  const child = startCli(args, opts);
  return finished(child);
}

export function startCli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): ChildProcess & { out: { stdout: string; stderr: string } } {
  const child = spawn(process.execPath, [VMR, ...args], { cwd: opts.cwd, env: { ...process.env, VMR_QUIET: '1', ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] }) as ChildProcess & { out: { stdout: string; stderr: string } };
  child.out = { stdout: '', stderr: '' };
  child.stdout!.on('data', (d) => (child.out.stdout += d));
  child.stderr!.on('data', (d) => (child.out.stderr += d));
  return child;
}

export function finished(child: ChildProcess & { out: { stdout: string; stderr: string } }): Promise<CliResult> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve({ code: child.exitCode, ...child.out });
    child.once('exit', (code) => setImmediate(() => resolve({ code, ...child.out })));
  });
}

export function json<T = Record<string, unknown>>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${r.code}):\n${r.stdout}\n--- stderr ---\n${r.stderr}`);
  }
}

export function tmpDir(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `vmr-sweeper-${label}-`));
}

/** A read-only look at a store a tracking server is writing (WAL allows concurrent readers). */
export function openStore(db: string): SqliteTracker {
  return new SqliteTracker(db, { reapStaleRuns: false, heartbeatIntervalMs: 0 });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 120_000, everyMs = 250): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** A real redis-server on a free port with a temp dir (no persistence); stop() ends it. */
export async function startRedis(): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const dir = tmpDir('redis');
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  await waitFor('redis-server to accept connections', () => (/Ready to accept connections/.test(out) ? true : child.exitCode !== null ? Promise.reject(new Error(`redis-server exited: ${out}`)) : undefined), 20_000, 50);
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await gone;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A tiny synthetic dataset (12 clips, 20–30 s, resnet/clip/i3d stand-ins) and a tiny train config:
 * 1 epoch of batch 4, a 1-layer OF-VM-Net with 16-d embeddings, validation on the train split.
 */
export async function makeTinySetup(dir: string, opts: { epochs?: number } = {}): Promise<{ dataset: string; base: string }> {
  const dataset = path.join(dir, 'ds');
  const r = await runCli(['synth', '--clips', '12', '--seed', '1', '--out', dataset, '--min-duration', '20', '--max-duration', '30', '--segments', '3', '--json']);
  if (r.code !== 0) throw new Error(`vmr synth failed: ${r.stderr}`);
  const base = path.join(dir, 'tiny.yaml');
  fs.writeFileSync(
    base,
    [
      `dataset: ${dataset}`,
      `epochs: ${opts.epochs ?? 1}`,
      'batchSize: 4',
      'backend: cpu',
      'valSplit: train',
      'checkpointEvery: 100',
      'segmentation: { segments: 3, minSegmentSeconds: 3, maxSegmentSeconds: 20, padLength: 20 }',
      'ofVmNet: { layers: 1, ffnDim: 16, embedDim: 16, heads: 2 }',
      'loss: {}',
      '',
    ].join('\n'),
  );
  return { dataset, base };
}

export function writeSpec(file: string, lines: string[]): string {
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}
