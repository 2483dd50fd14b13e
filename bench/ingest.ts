/**
 * `npm run bench -- ingest [--clips video|all] [--rounds R] [--python PATH] [--skip-ffmpeg-resize]`
 *
 * 1. Farnebäck ms per 320×240 grey pair (OpenCV.js WASM, DESIGN.md §1.1 parameters), on consecutive
 *    flow frames of Big Buck Bunny (CC-BY-3.0 Blender Foundation).
 * 2. Ingest throughput, × real time = seconds of video ingested per wall-clock second, for the default
 *    features (flow + builtin-video + builtin-audio + AV-Align peaks), with 1 and 2 long-lived workers.
 *    Worker start-up (loading the code, and OpenCV.js without the native addon, once per worker) is timed separately and not in
 *    the × real-time figure. Clips: ../shared/media/video (`--clips video`, 4 clips, 58 s) or that plus
 *    ../shared/media/music-videos (`--clips all`, default, 7 clips, 167 s), repeated `--rounds` times.
 *    Both resize paths: `opencv` (default; OpenCV-Python parity) and `ffmpeg` (`--resize ffmpeg`).
 * 3. The peer on the same clips in the same run: plain Python/OpenCV computing the same 3-fps flow
 *    trajectory (bench/peers/opencv_trajectory.py) with 1 and 2 processes, when a Python with cv2 is
 *    found (`--python`, else $VMR_BENCH_PYTHON, else python3). Its venv lives outside the repo, e.g.
 *    `python3 -m venv ~/venv-cv2 && ~/venv-cv2/bin/pip install opencv-python-headless numpy`.
 * 4. `--breakdown`: the per-part CPU profile of the same work, clip by clip in this process (each stage of
 *    `processClip` run on its own through the public API, CPU seconds of this process and of its ffmpeg
 *    children per stage; no workers, so the parts add up) — what the × real-time figures are made of.
 * Target (issue 20): ≥ 20× real time on 2 cores. Quote ratios: absolute times depend on the machine's load; the CPU
 * seconds per media second (node + ffmpeg children) and the Farnebäck floor printed beside them depend on it much less.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  BUILTIN_AUDIO_SR,
  BUILTIN_AUDIO_STFT,
  BuiltinVideoAccumulator,
  FarnebackFlow,
  type GrayFrame,
  analyzeVideo,
  builtinAudioFeatures,
  decodeAudioRates,
  decoderVersions,
  energyPeakTimes,
  farnebackEngine,
  flowFpsFor,
  meanFlowMagnitude,
  onsetDetect,
  powerSpectrogram,
  probeMedia,
  streamSampledFrames,
} from '@vmr/features';
import { ClipWorkerPool, flowPeakTimesYariv, ingestMedia } from '@vmr/data';
import { sharedPath } from '@vmr/core';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? String(process.argv[i + 1]) : dflt;
}

async function farnebackMs(engine: 'native' | 'opencv.js'): Promise<{ msPerPair: number; pairs: number }> {
  const frames: GrayFrame[] = [];
  await analyzeVideo(sharedPath('media', 'video', 'bbb_0_30.webm'), { maxSeconds: 30, onFrame: (f) => void frames.push(f.gray) });
  const fb = await FarnebackFlow.create({}, { engine });
  try {
    for (let i = 1; i < 6; i++) fb.compute(frames[i - 1], frames[i]); // warm-up
    const t = process.hrtime.bigint();
    let pairs = 0;
    for (let i = 31; i < frames.length; i++, pairs++) fb.compute(frames[i - 1], frames[i]); // past the black titles; consecutive pairs, as a trajectory
    return { msPerPair: Number(process.hrtime.bigint() - t) / 1e6 / pairs, pairs };
  } finally {
    fb.dispose();
  }
}

/** CPU seconds of this process (all its threads: the pool's workers too) and of its reaped children (ffmpeg, ffprobe, the peer). */
function cpuNow(): { self: number; children: number } {
  const u = process.cpuUsage();
  let children = NaN;
  try {
    const f = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    children = (Number(f[13]) + Number(f[14])) / 100; // cutime + cstime, in clock ticks (100 per second on Linux)
  } catch {
    // not Linux: children's CPU unknown
  }
  return { self: (u.user + u.system) / 1e6, children };
}

function cpuSince(a: { self: number; children: number }): { self: number; children: number; total: number } {
  const b = cpuNow();
  const self = b.self - a.self;
  const children = b.children - a.children;
  return { self, children, total: self + (Number.isNaN(children) ? 0 : children) };
}

function findPython(): string | undefined {
  const candidates = [arg('python', ''), process.env.VMR_BENCH_PYTHON ?? '', 'python3'].filter((p) => p);
  for (const p of candidates) {
    const r = spawnSync(p, ['-c', 'import cv2, numpy; print(cv2.__version__)'], { encoding: 'utf8' });
    if (r.status === 0) return p;
  }
  return undefined;
}

/** `--breakdown`: CPU seconds per stage of the default ingest work over `clips`, sequentially in this process. */
async function breakdown(clips: string[]): Promise<void> {
  const parts = new Map<string, { self: number; children: number }>();
  // Per-frame laps read only this process's CPU; the children's (from /proc, once a child is reaped)
  // are read at the laps that follow a child's exit (`reaped`), so the measuring costs little.
  const selfNow = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  let tSelf = selfNow();
  let tChildren = cpuNow().children;
  const lap = (name: string, reaped = false): void => {
    const p = parts.get(name) ?? { self: 0, children: 0 };
    const self = selfNow();
    p.self += self - tSelf;
    tSelf = self;
    if (reaped) {
      const c = cpuNow().children;
      if (!Number.isNaN(c)) p.children += c - tChildren;
      tChildren = c;
    }
    parts.set(name, p);
  };
  const fb = await FarnebackFlow.create();
  const fbPart = fb.engine === 'native' ? 'Farnebäck (native, previous frame reused)' : 'Farnebäck (OpenCV.js wasm)';
  const prepPart = fb.engine === 'native' ? 'resize 320x240 + grey (native)' : 'resize 320x240 + grey (OpenCV.js)';
  let media = 0;
  let pairs = 0;
  const wall0 = process.hrtime.bigint();
  try {
    for (const file of clips) {
      tSelf = selfNow();
      const info = await probeMedia(file);
      lap('probe (ffprobe)', true);
      const acc = new BuiltinVideoAccumulator();
      let prev: GrayFrame | undefined;
      let last = 0;
      const traj: number[] = [];
      lap('other');
      for await (const f of streamSampledFrames(file, { info, targetFps: flowFpsFor(info.video!.fpsRational), decodeThreads: 1, recycleFrames: true })) {
        lap('decode: ffmpeg (1 thread, sampled bgr24 frames) + pipe reads');
        const { bgr, gray } = fb.prepare({ width: f.width, height: f.height, channels: 3, data: f.data }, 320, 240);
        lap(prepPart);
        const flow = prev ? fb.compute(prev, gray) : undefined;
        if (flow) {
          pairs++;
          traj.push(meanFlowMagnitude(flow));
        }
        lap(fbPart);
        acc.addFrame({ sampleIndex: f.sampleIndex, decodeIndex: f.decodeIndex, timeSec: f.timeSec, bgr: bgr!, gray, flowFromPrev: flow });
        lap('builtin-video');
        prev = gray;
        last = f.timeSec;
      }
      lap('decode: ffmpeg (1 thread, sampled bgr24 frames) + pipe reads', true); // ffmpeg's CPU counts once it is reaped, here
      const seconds = Math.max(1, Math.floor(last + 1 / 3));
      media += last + 1 / 3;
      acc.finish(seconds);
      flowPeakTimesYariv([traj[0], ...traj], 3);
      lap('builtin-video');
      // (awaited on its own, not beside the video as ingest runs it, so that its ffmpeg CPU lands here)
      const [a22, native] = await decodeAudioRates(file, { sampleRates: [BUILTIN_AUDIO_SR, info.audio!.sampleRate], info, startSec: 0 });
      lap('audio decode: ffmpeg (once, 2 rates) + mono', true);
      const spectrogram = powerSpectrogram(a22.samples, BUILTIN_AUDIO_STFT);
      lap('audio: STFT (shared)');
      const onset = onsetDetect(a22.samples, BUILTIN_AUDIO_SR, { spectrogram });
      lap('audio: onsets (mel 128, flux, peak pick)');
      builtinAudioFeatures(a22.samples, BUILTIN_AUDIO_SR, seconds, { spectrogram, onset });
      lap('audio: builtin-audio (the rest)');
      energyPeakTimes(native.samples, native.sampleRate);
      lap('audio: energy peaks at the native rate');
    }
  } finally {
    fb.dispose();
  }
  const wall = Number(process.hrtime.bigint() - wall0) / 1e9;
  let total = 0;
  for (const p of parts.values()) total += p.self + p.children;
  console.log(`breakdown (one process, clip after clip): ${media.toFixed(1)} s of video, ${pairs} flow pairs, ${total.toFixed(2)} CPU-s = ${((1000 * total) / media).toFixed(1)} ms CPU per media second (wall ${wall.toFixed(1)} s)`);
  for (const [name, p] of [...parts].sort((a, b) => b[1].self + b[1].children - (a[1].self + a[1].children))) {
    const cpu = p.self + p.children;
    console.log(
      `  ${name.padEnd(62)} ${cpu.toFixed(2).padStart(6)} CPU-s ${((1000 * cpu) / media).toFixed(1).padStart(6)} ms/media-s ${((100 * cpu) / total).toFixed(1).padStart(5)} %` +
        (p.children > 0.005 ? `  (ffmpeg/ffprobe ${p.children.toFixed(2)})` : ''),
    );
  }
  const fbCpu = parts.get(fbPart);
  if (fbCpu) {
    const perMedia = (fbCpu.self + fbCpu.children) / media;
    console.log(`  Farnebäck ${((1000 * (fbCpu.self + fbCpu.children)) / pairs).toFixed(1)} ms CPU per pair: alone it allows at most ${(2 / perMedia).toFixed(1)}x real time on 2 idle cores; all parts: ${((2 * media) / total).toFixed(1)}x`);
  }
}

async function main(): Promise<void> {
  const rounds = Number(arg('rounds', '1'));
  const which = arg('clips', 'all');
  const dirs = [sharedPath('media', 'video'), ...(which === 'all' ? [sharedPath('media', 'music-videos')] : [])];
  const load = os.loadavg()[0];
  console.log(`machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), node ${process.version}, load average ${load.toFixed(1)}`);
  // (Guards below let this file also run against older trees, for before/after numbers in one session.)
  if (typeof decoderVersions === 'function') console.log(`decoder: ${decoderVersions().ffmpeg.version} [${decoderVersions().ffmpeg.source}]`);
  const engines: Array<'native' | 'opencv.js'> = typeof farnebackEngine === 'function' && farnebackEngine().engine === 'native' ? ['opencv.js', 'native'] : ['opencv.js'];
  if (engines.length === 1) console.log(`native Farnebäck not available here (${typeof farnebackEngine === 'function' ? farnebackEngine().reason : 'not in this tree'}): OpenCV.js only`);
  const fbMs: Record<string, number> = {};
  for (const engine of engines) {
    const fb = await farnebackMs(engine);
    fbMs[engine] = fb.msPerPair;
    console.log(`Farnebäck 320x240 pair (${engine}${engine === 'native' ? ', consecutive pairs: each frame expanded once' : ''}): ${fb.msPerPair.toFixed(2)} ms/pair over ${fb.pairs} pairs`);
    // The floor: 3 flow pairs per media second on one core each; nothing else costs nothing.
    console.log(`  floor: Farnebäck alone = ${(3 * fb.msPerPair).toFixed(1)} ms CPU per media second → at most ${(1000 / (3 * fb.msPerPair) * 2).toFixed(1)}x real time on 2 idle cores`);
  }
  if (fbMs.native) console.log(`  native / OpenCV.js = ${(fbMs.native / fbMs['opencv.js']).toFixed(2)} (ingest uses ${farnebackEngine().engine})`);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-bench-ingest-'));
  const src = path.join(tmp, 'media');
  fs.mkdirSync(src);
  const clips: string[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const d of dirs) {
      for (const f of fs.readdirSync(d).sort()) {
        const link = path.join(src, `r${r}_${f}`);
        fs.symlinkSync(path.join(d, f), link);
        clips.push(link);
      }
    }
  }
  const rows: Array<{ w: number; resize: string; x: number }> = [];
  if (process.argv.includes('--breakdown')) {
    try {
      await breakdown(clips.filter((c) => !/\.(mp3|wav|flac|ogg|m4a)$/i.test(c)));
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
    return;
  }
  try {
    for (const w of [1, 2]) {
      const pool = typeof ClipWorkerPool === 'function' ? await ClipWorkerPool.start(w) : undefined;
      if (pool) console.log(`workers=${w}: start-up ${pool.startupSeconds.toFixed(2)} s (code, and OpenCV.js where flow needs it; once per worker; not in × real time)`);
      else console.log(`workers=${w}: no long-lived pool in this tree (start-up is inside the wall time)`);
      try {
        for (const resize of arg('skip-ffmpeg-resize', '') ? (['opencv'] as const) : (['opencv', 'ffmpeg'] as const)) {
          const c0 = cpuNow();
          const s = await ingestMedia({ inputs: [src], out: path.join(tmp, `ds-w${w}-${resize}`), pool, workers: w, resize, quiet: true, segments: false, split: false });
          const cpu = cpuSince(c0);
          const x = s.seconds / s.wallSeconds;
          const line =
            `vmr ingest --resize ${resize} (workers=${w}): ${s.seconds.toFixed(1)} s of video in ${s.wallSeconds.toFixed(2)} s wall = ${x.toFixed(1)}x real time ` +
            `(${s.ingested} clips, ${s.failed.length} failed)  [target ≥ 20x on 2 cores]\n` +
            `  CPU ${cpu.total.toFixed(2)} s = node ${cpu.self.toFixed(2)} + ffmpeg/ffprobe ${cpu.children.toFixed(2)}; ${((1000 * cpu.total) / s.seconds).toFixed(1)} ms CPU per media second ` +
            `→ ${(s.seconds / (cpu.total / 2)).toFixed(1)}x real time if 2 idle cores were kept busy`;
          console.log(line);
          rows.push({ w, resize, x });
        }
      } finally {
        await pool?.close();
      }
    }
    const py = findPython();
    if (!py) console.log('peer: not run (no Python with cv2 + numpy; pass --python PATH or set VMR_BENCH_PYTHON)');
    else {
      for (const w of [1, 2]) {
        let out: string;
        const c0 = cpuNow();
        try {
          out = execFileSync(py, [path.join(__dirname, 'peers', 'opencv_trajectory.py'), '--workers', String(w), ...clips], { encoding: 'utf8', maxBuffer: 64 << 20 });
        } catch (e) {
          console.log(`peer (processes=${w}) failed: ${String((e as Error).message).split('\n').slice(-3).join(' ')}`);
          continue;
        }
        const r = JSON.parse(out.trim().split('\n').pop()!) as { cv2: string; seconds: number; wall: number; startup: number; xRealTime: number };
        const cpu = cpuSince(c0);
        const ours = rows.find((x) => x.w === w && x.resize === 'opencv');
        console.log(
          `peer python cv2 ${r.cv2} (processes=${w}, flow trajectory only): ${r.seconds.toFixed(1)} s of video in ${r.wall.toFixed(2)} s wall = ${r.xRealTime.toFixed(1)}x real time ` +
            `(start-up ${r.startup.toFixed(2)} s; CPU ${cpu.children.toFixed(2)} s = ${((1000 * cpu.children) / r.seconds).toFixed(1)} ms per media second)` +
            (ours ? `; vmr ingest --resize opencv / peer = ${(ours.x / r.xRealTime).toFixed(2)}` : ''),
        );
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

void main();
