/**
 * A data-parallel replica (worker thread): forward of its shard under a gradient tape, embeddings to
 * the main thread, then — still inside the tape, blocked synchronously (Atomics.wait) — the loss's
 * gradient w.r.t. those embeddings back, backprop with it as the upstream gradient, parameter
 * gradients to the main thread. One forward pass, no recomputation.
 */
import { parentPort, receiveMessageOnPort, type MessagePort } from 'worker_threads';
import { errorMessage, type BackendName } from '@vmr/core';
import { tf, selectBackend, setNativeGemmActive, setNativeGemmThreads } from '@vmr/core/tf';
import { createOfVmNet, type OfVmNet } from '../of-vm-net';
import type { ToWorker, FromWorker, StepMessage, InitMessage, EmbGradMessage } from './protocol';

let model: OfVmNet | undefined;
let flag: Int32Array;
const port = parentPort as MessagePort;

function send(m: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(m, transfer);
}

/** Block until the main thread's next message (it bumps `flag` after posting). */
function receiveSync(): ToWorker {
  for (;;) {
    const seen = Atomics.load(flag, 0);
    const m = receiveMessageOnPort(port);
    if (m) return m.message as ToWorker;
    if (Atomics.wait(flag, 0, seen, 600_000) === 'timed-out') throw new Error('replica: no embedding gradient from the main thread within 10 minutes');
  }
}

function step(msg: StepMessage): void {
  const m = model!;
  for (const [name, v] of m.params.trainable) {
    const data = msg.params[name];
    if (!data) throw new Error(`replica: no value for parameter ${name}`);
    tf.tidy(() => v.assign(tf.tensor(data, v.shape)));
  }
  const names = [...m.params.trainable.keys()];
  const vars = names.map((n) => m.params.trainable.get(n)!);
  const { value, grads } = tf.variableGrads(() => {
    const out = m.forward({ video: msg.video, audio: msg.audio, mask: msg.mask }, { training: true, dropoutSeed: msg.dropoutSeed, clipOffset: msg.clipOffset });
    const v = (out.video.dataSync() as Float32Array).slice(); // copies: never transfer a backend-owned buffer
    const a = (out.audio.dataSync() as Float32Array).slice();
    send({ type: 'emb', video: v, audio: a }, [v.buffer as ArrayBuffer, a.buffer as ArrayBuffer]);
    const g = receiveSync();
    if (g.type !== 'embGrad') throw new Error(`replica: expected the embedding gradient, got '${g.type}'`);
    const eg = g as EmbGradMessage;
    const gv = tf.tensor(eg.video, out.video.shape);
    const ga = tf.tensor(eg.audio, out.audio.shape);
    return tf.add(tf.sum(tf.mul(out.video, gv)), tf.sum(tf.mul(out.audio, ga))) as tf.Scalar;
  }, vars);
  value.dispose();
  const result: Record<string, Float32Array> = {};
  const transfer: ArrayBuffer[] = [];
  for (const n of names) {
    const g = grads[m.params.trainable.get(n)!.name];
    if (!g) continue;
    const d = (g.dataSync() as Float32Array).slice();
    result[n] = d;
    transfer.push(d.buffer as ArrayBuffer);
  }
  tf.dispose(Object.values(grads));
  send({ type: 'grads', grads: result }, transfer);
}

port.on('message', (msg: ToWorker) => {
  void (async () => {
    try {
      if (msg.type === 'init') {
        const init = msg as InitMessage;
        flag = new Int32Array(init.flag);
        setNativeGemmThreads(init.gemmThreads);
        setNativeGemmActive(init.nativeGemm);
        await selectBackend(init.backend as BackendName);
        model = createOfVmNet(init.config, init.seed);
        send({ type: 'ready' });
      } else if (msg.type === 'step') {
        step(msg);
      } else if (msg.type === 'close') {
        model?.dispose();
        port.close();
      }
    } catch (e) {
      send({ type: 'error', message: errorMessage(e) });
    }
  })();
});
