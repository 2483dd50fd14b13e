import * as path from 'path';
import { Worker } from 'worker_threads';
import { InvalidArgumentError } from '@vmr/core';
import { type ClipJob, type ClipResult, processClip } from './process-clip';

/**
 * Runs `processClip` jobs on `workers` worker threads (each loads its own OpenCV.js; ffmpeg runs as a
 * child process of each). `workers = 0` runs in-process (useful for debugging).
 * Results arrive through `onResult` in completion order.
 */
export async function runClipJobs(jobs: ClipJob[], workers: number, onResult: (r: ClipResult, job: ClipJob) => void): Promise<void> {
  if (!Number.isInteger(workers) || workers < 0) throw new InvalidArgumentError(`--workers must be a non-negative integer, got ${workers}`);
  if (workers === 0) {
    for (const j of jobs) onResult(await processClip(j), j);
    return;
  }
  const n = Math.min(workers, jobs.length);
  if (n === 0) return;
  let next = 0;
  const entry = path.join(__dirname, 'worker.js');
  await new Promise<void>((resolve, reject) => {
    let active = 0;
    let failed = false;
    const pool: Worker[] = [];
    const finish = (): void => {
      for (const w of pool) void w.terminate();
      resolve();
    };
    const startWorker = (): void => {
      const w = new Worker(entry);
      pool.push(w);
      let current: { id: number; job: ClipJob } | undefined;
      const feed = (): void => {
        if (next >= jobs.length) {
          current = undefined;
          active--;
          if (active === 0 && !failed) finish();
          return;
        }
        current = { id: next, job: jobs[next] };
        next++;
        w.postMessage(current);
      };
      w.on('message', (m: { id: number; result: ClipResult }) => {
        try {
          onResult(m.result, jobs[m.id]);
        } catch (e) {
          failed = true;
          for (const x of pool) void x.terminate();
          reject(e);
          return;
        }
        feed();
      });
      w.on('error', (e) => {
        // A crashed worker fails its current clip, and a fresh worker takes over.
        if (current) onResult({ ok: false, file: current.job.file, status: 'failed', reason: 'error', message: `worker crashed: ${e.message}` }, current.job);
        active--;
        if (next < jobs.length) {
          active++;
          startWorker();
        } else if (active === 0 && !failed) finish();
      });
      active++;
      feed();
    };
    for (let i = 0; i < n; i++) startWorker();
  });
}
