import * as fs from 'fs';
import { selectBackend, Rng, profilePhases } from '@vmr/core';
import { createOfVmNet, Adam, trainStepOfVmNet, planCost } from '@vmr/models';
import { ofVmNetLoss } from '@vmr/losses';
async function main() {
  await selectBackend('wasm');
  const ffn = Number(process.argv[2] ?? 128);
  const extra = JSON.parse(process.argv[3] ?? '{}');
  const spec = JSON.parse(fs.readFileSync(`/work/shared/bench/lengths_paper_F${ffn}_Dv2048_typical.json`, 'utf8'));
  const B = 32, S = 10, L = 200;
  const rng = new Rng(1);
  const mask = new Float32Array(B * S * L);
  spec.lengths.forEach((n: number, i: number) => mask.fill(1, i * L, i * L + n));
  const fill = (d: number) => { const a = new Float32Array(B * S * L * d); for (let i = 0; i < a.length; i++) a[i] = mask[Math.floor(i / d)] ? rng.next() * 2 - 1 : 0; return { data: a, shape: [B, S, L, d] as [number, number, number, number] }; };
  const batch = { video: fill(2048), audio: fill(128), mask };
  const ranks = new Float32Array(B * S); for (let b = 0; b < B; b++) rng.permutation(S).forEach((p, s) => (ranks[b * S + s] = p + 1));
  const model = createOfVmNet({ videoDim: 2048, ffnDim: ffn, ...extra }, 1);
  console.log(planCost(model.plan(mask, B, S, L)));
  const opt = new Adam(model.params);
  const lossFn = (e: any) => ofVmNetLoss(e, ranks, { topK: 10 });
  trainStepOfVmNet(model, opt, batch, lossFn);
  for (let i = 0; i < 2; i++) {
    const u = process.cpuUsage();
    const p = profilePhases(() => trainStepOfVmNet(model, opt, batch, lossFn));
    const c = process.cpuUsage(u);
    console.log(Math.round(p.totalMs), 'cpu', Math.round((c.user + c.system) / 1000), JSON.stringify(Object.fromEntries(Object.entries(p.phases).sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, Math.round(v)]))));
  }
}
main();
