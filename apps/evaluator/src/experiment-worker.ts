/**
 * Worker process of `vmr experiment run`: receives trial jobs over IPC, trains and evaluates in this
 * process (its own tfjs backend, one core), and streams progress back. Started by `runExperiment`.
 */
import { VmrError, errorMessage } from '@vmr/core';
import { trainRun, type TrainProgress, type TrainResult } from '@vmr/trainer';
import type { TrainConfig } from '@vmr/pipeline';
import { evaluateRun, type EvalResult, type EvalProtocol } from './evaluate';
import type { SplitChoice } from '@vmr/pipeline';

export interface WorkerJob {
  type: 'job';
  id: number;
  config: TrainConfig;
  /** Existing finished training run to reuse (skip training). */
  reuseRunId?: string;
  tags: Record<string, string>;
  evaluate: Array<{ dataset: string; split?: SplitChoice; table?: string; protocol?: EvalProtocol; skip?: boolean }>;
  store?: string;
  trackingUri?: string;
}

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'progress'; id: number; progress: TrainProgress }
  | { type: 'trained'; id: number; result: Omit<TrainResult, 'config'> }
  | { type: 'eval-start'; id: number; dataset: string }
  | { type: 'evaluated'; id: number; result: EvalResult }
  | { type: 'done'; id: number; runId: string }
  | { type: 'error'; id: number; message: string; code: string }
  | { type: 'killed'; id: number; runId: string };

function send(m: WorkerMessage): void {
  process.send?.(m);
}

let busy = false;
let stopping = false;

async function runJob(job: WorkerJob): Promise<void> {
  const store = { store: job.store, trackingUri: job.trackingUri };
  let runId = job.reuseRunId;
  if (!runId) {
    let last = 0;
    const r = await trainRun(job.config, {
      ...store,
      progress: false,
      tags: job.tags,
      onProgress: (p) => {
        const now = Date.now();
        if (p.phase !== 'step' || now - last > 250) {
          last = now;
          send({ type: 'progress', id: job.id, progress: p });
        }
      },
    });
    const { config: _c, ...result } = r;
    void _c;
    if (r.status === 'killed') {
      send({ type: 'killed', id: job.id, runId: r.runId });
      return;
    }
    send({ type: 'trained', id: job.id, result });
    runId = r.runId;
  }
  for (const e of job.evaluate) {
    if (e.skip || stopping) continue;
    send({ type: 'eval-start', id: job.id, dataset: e.dataset });
    const res = await evaluateRun(runId, e.dataset, { ...store, split: e.split, table: e.table, protocol: e.protocol, progress: false });
    send({ type: 'evaluated', id: job.id, result: res });
  }
  send({ type: 'done', id: job.id, runId });
}

process.on('message', (m: WorkerJob | { type: 'exit' }) => {
  if (m.type === 'exit') {
    if (!busy) process.exit(0);
    stopping = true;
    return;
  }
  busy = true;
  runJob(m)
    .catch((e: unknown) => send({ type: 'error', id: m.id, message: errorMessage(e), code: e instanceof VmrError ? e.code : 'INTERNAL' }))
    .finally(() => {
      busy = false;
      if (stopping) process.exit(0);
    });
});
// Ctrl-C reaches the whole process group: the training loop's handler checkpoints and marks the run killed.
process.on('SIGINT', () => {
  stopping = true;
});
process.on('SIGTERM', () => {
  stopping = true;
});
send({ type: 'ready' });
