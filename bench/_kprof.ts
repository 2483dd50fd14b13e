import * as fs from 'fs';
import { tf, selectBackend, Rng } from '@vmr/core';
import { createOfVmNet, Adam, trainStepOfVmNet } from '@vmr/models';
import { ofVmNetLoss } from '@vmr/losses';
async function main() {
  await selectBackend('wasm');
  const ffn = Number(process.argv[2] ?? 128);
  const spec = JSON.parse(fs.readFileSync(`/work/shared/bench/lengths_paper_F${ffn}_Dv2048_typical.json`, 'utf8'));
  const B = 32, S = 10, L = 200;
  const rng = new Rng(1);
  const mask = new Float32Array(B * S * L);
  spec.lengths.forEach((n: number, i: number) => mask.fill(1, i * L, i * L + n));
  const fill = (d: number) => { const a = new Float32Array(B * S * L * d); for (let i = 0; i < a.length; i++) a[i] = mask[Math.floor(i / d)] ? rng.next() * 2 - 1 : 0; return { data: a, shape: [B, S, L, d] as [number, number, number, number] }; };
  const batch = { video: fill(2048), audio: fill(128), mask };
  const ranks = new Float32Array(B * S); for (let b = 0; b < B; b++) rng.permutation(S).forEach((p, s) => (ranks[b * S + s] = p + 1));
  const model = createOfVmNet({ videoDim: 2048, ffnDim: ffn, maxAttentionGroups: 12 }, 1);
  const opt = new Adam(model.params);
  const lossFn = (e: any) => ofVmNetLoss(e, ranks, { topK: 10 });
  trainStepOfVmNet(model, opt, batch, lossFn);
  const agg = new Map<string, [number, number, number]>();
  for (const k of tf.getKernelsForBackend('wasm') as any[]) {
    const orig = k.kernelFunc;
    k.kernelFunc = (args: any) => {
      const u = process.cpuUsage();
      const out = orig(args);
      const d = process.cpuUsage(u);
      const o = Array.isArray(out) ? out[0] : out;
      const key = `${k.kernelName} r${o?.shape?.length}`;
      const a = agg.get(key) ?? [0, 0, 0];
      a[0] += (d.user + d.system) / 1000; a[1]++; a[2] += (o?.shape ?? []).reduce((x: number, y: number) => x * y, 1);
      agg.set(key, a);
      return out;
    };
  }
  const u0 = process.cpuUsage();
  trainStepOfVmNet(model, opt, batch, lossFn);
  const du = process.cpuUsage(u0);
  let tot = 0; for (const a of agg.values()) tot += a[0];
  console.log('step cpu ms', Math.round((du.user + du.system) / 1000), 'kernels cpu ms', Math.round(tot));
  for (const [k, a] of [...agg].sort((x, y) => y[1][0] - x[1][0]).slice(0, 25)) console.log(k.padEnd(28), Math.round(a[0]), 'ms', a[1], 'calls', (a[2] / 1e6).toFixed(1), 'M out');
}
main();
