import * as path from 'path';
import { Worker } from 'worker_threads';
import { InvalidArgumentError } from '@vmr/core';
import { type ClipJob, type ClipResult, processClip } from './process-clip';

type WorkerReply = { ready: true } | { id: number; result: ClipResult };

interface Slot {
  worker: Worker;
  /** Jobs sent to this worker and not answered yet (at most 1 + prefetch). */
  inFlight: Map<number, ClipJob>;
}

/**
 * Long-lived `vmr ingest` workers: each worker thread loads the code (and OpenCV.js, without the native
 * features addon) once, at start
 * (`startupSeconds`), and then takes clip after clip; ffmpeg runs as child processes of each. Each
 * worker holds `prefetch` clips beyond the one it is on, so the next clip's ffmpeg decode overlaps the
 * optical flow of this one. Reuse one pool for several ingest runs (`run`), then `close()` it.
 */
export class ClipWorkerPool {
  private slots: Slot[] = [];
  private closed = false;

  private constructor(
    readonly size: number,
    readonly prefetch: number,
  ) {}

  /** Seconds from spawning the workers until every one had loaded its code and OpenCV.js. */
  startupSeconds = 0;

  static async start(size: number, options: { prefetch?: number } = {}): Promise<ClipWorkerPool> {
    if (!Number.isInteger(size) || size < 1) throw new InvalidArgumentError(`--workers must be a positive integer, got ${size}`);
    const pool = new ClipWorkerPool(size, options.prefetch ?? 1);
    const t0 = process.hrtime.bigint();
    await Promise.all(Array.from({ length: size }, () => pool.spawn()));
    pool.startupSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    return pool;
  }

  private spawn(): Promise<Slot> {
    const worker = new Worker(path.join(__dirname, 'worker.js'));
    const slot: Slot = { worker, inFlight: new Map() };
    return new Promise((resolve, reject) => {
      const onReady = (m: WorkerReply): void => {
        if ('ready' in m) {
          worker.off('message', onReady);
          worker.off('error', onError);
          this.slots.push(slot);
          resolve(slot);
        }
      };
      const onError = (e: Error): void => reject(e);
      worker.on('message', onReady);
      worker.once('error', onError);
    });
  }

  /** Process `jobs` on the pool; results arrive through `onResult` in completion order. */
  async run(jobs: ClipJob[], onResult: (r: ClipResult, job: ClipJob) => void): Promise<void> {
    if (this.closed) throw new InvalidArgumentError('ingest worker pool used after close()');
    if (jobs.length === 0) return;
    let next = 0;
    let done = 0;
    await new Promise<void>((resolve, reject) => {
      let failed = false;
      const cleanups: Array<() => void> = [];
      const finish = (e?: unknown): void => {
        for (const c of cleanups) c();
        if (e !== undefined) {
          failed = true;
          reject(e);
        } else resolve();
      };
      const feed = (slot: Slot): void => {
        while (!failed && next < jobs.length && slot.inFlight.size < 1 + this.prefetch) {
          const id = next++;
          slot.inFlight.set(id, jobs[id]);
          slot.worker.postMessage({ id, job: jobs[id] });
        }
      };
      const deliver = (r: ClipResult, job: ClipJob): boolean => {
        try {
          onResult(r, job);
        } catch (e) {
          finish(e);
          return false;
        }
        done++;
        if (done === jobs.length) finish();
        return true;
      };
      const attach = (slot: Slot): void => {
        const onMessage = (m: WorkerReply): void => {
          if ('ready' in m) return;
          const job = slot.inFlight.get(m.id);
          slot.inFlight.delete(m.id);
          if (job && deliver(m.result, job)) feed(slot);
        };
        const onError = (e: Error): void => {
          // A crashed worker fails the clips it held, and a fresh worker takes its place.
          const lost = [...slot.inFlight.values()];
          slot.inFlight.clear();
          this.slots = this.slots.filter((s) => s !== slot);
          for (const job of lost) {
            if (!deliver({ ok: false, file: job.file, status: 'failed', reason: 'error', message: `${job.file}: ingest worker crashed: ${e.message}` }, job)) return;
          }
          if (failed || done === jobs.length) return;
          this.spawn().then(
            (fresh) => {
              attach(fresh);
              feed(fresh);
            },
            (err) => finish(err),
          );
        };
        slot.worker.on('message', onMessage);
        slot.worker.on('error', onError);
        cleanups.push(() => {
          slot.worker.off('message', onMessage);
          slot.worker.off('error', onError);
        });
      };
      for (const slot of this.slots) {
        attach(slot);
        feed(slot);
      }
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    this.slots = [];
  }
}

/**
 * Runs `processClip` jobs on a fresh pool of `workers` worker threads (closed afterwards), or
 * in-process when `workers = 0` (useful for debugging). Results arrive in completion order.
 */
export async function runClipJobs(jobs: ClipJob[], workers: number, onResult: (r: ClipResult, job: ClipJob) => void): Promise<void> {
  if (!Number.isInteger(workers) || workers < 0) throw new InvalidArgumentError(`--workers must be a non-negative integer, got ${workers}`);
  if (workers === 0) {
    for (const j of jobs) onResult(await processClip(j), j);
    return;
  }
  const n = Math.min(workers, jobs.length);
  if (n === 0) return;
  const pool = await ClipWorkerPool.start(n);
  try {
    await pool.run(jobs, onResult);
  } finally {
    await pool.close();
  }
}
