import { parentPort } from 'worker_threads';
import { errorMessage } from '@vmr/core';
import { farnebackEngine, loadOpenCv } from '@vmr/features';
import { type ClipJob, type ClipResult, processClip } from './process-clip';

/** Transferable buffers of a result (so big arrays move instead of being copied). */
function transferables(r: ClipResult): ArrayBuffer[] {
  if (!r.ok) return [];
  const out: ArrayBuffer[] = [];
  const add = (a?: Float32Array | Float64Array): void => {
    if (a && a.buffer instanceof ArrayBuffer && !out.includes(a.buffer)) out.push(a.buffer);
  };
  add(r.flow);
  Object.values(r.video).forEach(add);
  Object.values(r.audio).forEach(add);
  for (const p of Object.values(r.peaks)) {
    add(p.video);
    add(p.audio);
  }
  return out;
}

// Jobs may arrive while another is running (the pool prefetches): they run concurrently, so the next
// clip's ffmpeg decode overlaps this clip's optical flow.
parentPort!.on('message', async (msg: { id: number; job: ClipJob }) => {
  let result: ClipResult;
  try {
    result = await processClip(msg.job);
  } catch (e) {
    result = { ok: false, file: msg.job.file, status: 'failed', reason: 'error', message: errorMessage(e) };
  }
  parentPort!.postMessage({ id: msg.id, result }, transferables(result));
});

// Load OpenCV.js once, at start, where flow needs it (without the native features addon), then tell
// the pool this worker is ready.
(farnebackEngine().engine === 'native' ? Promise.resolve() : loadOpenCv()).then(
  () => parentPort!.postMessage({ ready: true }),
  (e) => {
    throw e;
  },
);
