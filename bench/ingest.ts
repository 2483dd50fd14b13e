/**
 * `npm run bench -- ingest [--workers N] [--rounds R]`
 *
 * 1. Farnebäck ms per 320×240 grey pair (OpenCV.js WASM, DESIGN.md §1.1 parameters), on consecutive
 *    flow frames of Big Buck Bunny (CC-BY-3.0 Blender Foundation). Bar (BENCHMARKS.md): OpenCV 4.6
 *    native 11.2 ms; opencv-js measured at 18.4 ms.
 * 2. Ingest throughput: seconds of video ingested per wall-clock second (flow + builtin-video +
 *    builtin-audio + peaks, worker threads), on the four videos of ../shared/media/video copied R times
 *    (default 2 → 116 s of video). Target: ≥ 20× real time on 2 cores.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FarnebackFlow, type GrayFrame, analyzeVideo } from '@vmr/features';
import { ingestMedia } from '@vmr/data';
import { sharedPath } from '@vmr/core';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

const MEDIA = sharedPath('media', 'video');

async function farnebackMs(): Promise<{ msPerPair: number; pairs: number }> {
  const frames: GrayFrame[] = [];
  await analyzeVideo(path.join(MEDIA, 'bbb_0_30.webm'), { maxSeconds: 30, onFrame: (f) => void frames.push(f.gray) });
  const fb = await FarnebackFlow.create();
  try {
    for (let i = 1; i < 6; i++) fb.compute(frames[i - 1], frames[i]); // warm-up
    const t = process.hrtime.bigint();
    let pairs = 0;
    for (let i = 31; i < frames.length; i++, pairs++) fb.compute(frames[i - 1], frames[i]); // past the black titles
    return { msPerPair: Number(process.hrtime.bigint() - t) / 1e6 / pairs, pairs };
  } finally {
    fb.dispose();
  }
}

async function main(): Promise<void> {
  const workers = arg('workers', 2);
  const rounds = arg('rounds', 2);
  console.log(`machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), node ${process.version}`);
  const fb = await farnebackMs();
  console.log(`Farnebäck 320x240 pair (opencv-js wasm): ${fb.msPerPair.toFixed(2)} ms/pair over ${fb.pairs} pairs  [bar: cv2 native 11.2 ms]`);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-bench-ingest-'));
  const src = path.join(tmp, 'media');
  fs.mkdirSync(src);
  for (let r = 0; r < rounds; r++) for (const f of fs.readdirSync(MEDIA)) fs.symlinkSync(path.join(MEDIA, f), path.join(src, `r${r}_${f}`));
  try {
    for (const w of [1, workers]) {
      const s = await ingestMedia({ inputs: [src], out: path.join(tmp, `ds-w${w}`), workers: w, quiet: true, segments: false, split: false });
      console.log(
        `ingest (workers=${w}): ${s.seconds.toFixed(1)} s of video in ${s.wallSeconds.toFixed(2)} s wall = ${(s.seconds / s.wallSeconds).toFixed(1)}x real time ` +
          `(${s.ingested} clips, ${s.failed.length} failed)  [target ≥ 20x on 2 cores]`,
      );
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

void main();
