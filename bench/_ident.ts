import * as fs from 'fs';
import { tf, selectBackend, Rng } from '@vmr/core';
import { createOfVmNet, Adam, trainStepOfVmNet } from '@vmr/models';
import { ofVmNetLoss } from '@vmr/losses';
async function main() {
  await selectBackend('wasm');
  const counts = new Map<string, number>();
  for (const kn of ['Identity', 'Slice', 'Transpose', 'Concat', 'Tile', 'Fill', 'Pad']) {
    const k = tf.getKernel(kn, 'wasm') as any;
    if (!k) continue;
    const orig = k.kernelFunc;
    k.kernelFunc = (args: any) => {
      const x = Object.values(args.inputs)[0] as any;
      const st = (new Error().stack ?? '').split('\n').filter((l) => !/engine.ts|_ident|kernel_registry|tf-core|Object\.|Array\./.test(l)).slice(1, 6).map((l) => l.trim().replace(/\(.*\/(.*?)\)/, '$1')).join(' < ');
      const key = `${kn} ${st}`; if (kn === 'Identity' && !st && !(globalThis as any).__p) { (globalThis as any).__p = 1; console.log(new Error().stack); }
      counts.set(key, (counts.get(key) ?? 0) + (x?.shape ? x.shape.reduce((a: number, b: number) => a * b, 1) : 0));
      return orig(args);
    };
  }
  const spec = JSON.parse(fs.readFileSync(`/work/shared/bench/lengths_paper_F128_Dv2048_typical.json`, 'utf8'));
  const B = 8, S = 10, L = 200;
  const rng = new Rng(1);
  const mask = new Float32Array(B * S * L);
  spec.lengths.slice(0, 80).forEach((n: number, i: number) => mask.fill(1, i * L, i * L + n));
  const fill = (d: number) => { const a = new Float32Array(B * S * L * d); for (let i = 0; i < a.length; i++) a[i] = mask[Math.floor(i / d)] ? rng.next() * 2 - 1 : 0; return { data: a, shape: [B, S, L, d] as [number, number, number, number] }; };
  const batch = { video: fill(256), audio: fill(128), mask };
  const ranks = new Float32Array(B * S); for (let b = 0; b < B; b++) rng.permutation(S).forEach((p, s) => (ranks[b * S + s] = p + 1));
  const model = createOfVmNet({ videoDim: 256, ffnDim: 128 }, 1);
  const opt = new Adam(model.params);
  trainStepOfVmNet(model, opt, batch, (e: any) => ofVmNetLoss(e, ranks, { topK: 10 }));
  for (const [k, v] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log((v / 1e6).toFixed(2) + 'M', k);
}
main();
