/**
 * `npm run bench -- retrieve [--video V --run ID --gallery DIR --store DB]`: `vmr retrieve` latency for
 * one video, cold (empty cache: decode, flow, features) vs cached (content-hash hit), in the same
 * process, with the ingest / embed split and the cold/cached ratio. Without arguments it builds its own
 * setup: SYNTHETIC media (8 clips of 10 s + one 60 s query), `vmr ingest`, a tiny OF-VM-Net run.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { retrieve } from '@vmr/evaluator';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function vmr(args: string[]): string {
  const r = spawnSync(process.execPath, [path.join(__dirname, '..', 'bin', 'vmr.js'), ...args], { encoding: 'utf8', env: { ...process.env, VMR_QUIET: '1' } });
  if (r.status !== 0) throw new Error(`vmr ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-bench-retrieve-'));
  let video = arg('video');
  let run = arg('run');
  let gallery = arg('gallery');
  let store = arg('store');
  try {
    if (!video || !run || !gallery || !store) {
      process.stderr.write('setup: SYNTHETIC media, ingest, a tiny training run…\n');
      vmr(['synth-media', '--clips', '8', '--seed', '1', '--min-duration', '10', '--max-duration', '10', '--out', path.join(tmp, 'g')]);
      vmr(['synth-media', '--clips', '1', '--seed', '9', '--min-duration', '60', '--max-duration', '60', '--regimes', '5', '--out', path.join(tmp, 'q')]);
      gallery = path.join(tmp, 'ds');
      store = path.join(tmp, 'runs.db');
      vmr(['ingest', path.join(tmp, 'g', 'media'), '--out', gallery, '--workers', '2']);
      const cfg = path.join(tmp, 'train.yaml');
      fs.writeFileSync(
        cfg,
        `dataset: ${gallery}\nfeatures: builtin-video\naudioFeatures: builtin-audio\nvalSplit: none\nsegmentation: { segments: 2, minSegmentSeconds: 3, maxSegmentSeconds: 60, padLength: 60 }\nofVmNet: { layers: 1, ffnDim: 16, embedDim: 8, heads: 2 }\nbatchSize: 4\nepochs: 1\nbackend: cpu\n`,
      );
      run = (JSON.parse(vmr(['train', '-c', cfg, '--store', store, '--json'])) as { runId: string }).runId;
      video = path.join(tmp, 'q', 'media', fs.readdirSync(path.join(tmp, 'q', 'media'))[0]);
    }
    const cacheDir = path.join(tmp, 'cache');
    const once = async () => {
      const t0 = process.hrtime.bigint();
      const r = await retrieve({ run: run!, videos: [video!], gallery: [gallery!], k: 10, cacheDir, store, progress: false });
      return { ms: Number(process.hrtime.bigint() - t0) / 1e6, r };
    };
    const cold = await once();
    const cached = [await once(), await once(), await once()].sort((a, b) => a.ms - b.ms);
    const med = cached[1];
    const q = cold.r.queries[0];
    process.stdout.write(
      [
        `retrieve latency: ${path.basename(video!)} (${q.durationSec.toFixed(1)} s video), gallery ${cold.r.gallery.size} tracks, ${os.cpus().length} cores (load ${os.loadavg()[0].toFixed(2)})`,
        `  cold   ${(cold.ms / 1000).toFixed(2)} s  (ingest ${cold.r.timing.ingestSeconds.toFixed(2)} s, embed ${cold.r.timing.embedSeconds.toFixed(2)} s)`,
        `  cached ${(med.ms / 1000).toFixed(2)} s  median of 3 (ingest ${med.r.timing.ingestSeconds.toFixed(2)} s, embed ${med.r.timing.embedSeconds.toFixed(2)} s); cache hit: ${med.r.queries[0].cached}`,
        `  cold / cached = ${(cold.ms / med.ms).toFixed(1)}×; same top-1: ${cold.r.queries[0].top[0].id === med.r.queries[0].top[0].id}`,
      ].join('\n') + '\n',
    );
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(1);
});
