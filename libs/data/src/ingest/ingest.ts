import * as fs from 'fs';
import * as path from 'path';
import { InvalidArgumentError, NotFoundError, createProgress, errorMessage, readNpy, toFloat32 } from '@vmr/core';
import { type ExtractorProvenance, FARNEBACK_DEFAULTS, assertSameExtractor, decoderVersions, farnebackEngine, flowEngineDescription, getExtractor, resolveExtractor, resolveExtractors } from '@vmr/features';
import { type ClipPlanOptions, planClipSegments, planToSegmentsRow, type SegmentsCsvRow } from '@vmr/segmentation';
import { DatasetWriter } from '../dataset/dataset';
import type { FailedEntry } from '../dataset/schema';
import { type SplitFractions, assignSplits } from '../dataset/splits';
import type { ClipJob, ClipResult } from './process-clip';
import { ClipWorkerPool } from './pool';
import { processClip } from './process-clip';
import { type LeftOutFile, listMediaInputs } from './media-files';
import { type SegmentAdvice, adviseSegmentation } from './segment-advice';

export interface IngestOptions {
  inputs: string[];
  out: string;
  name?: string;
  videoFeatures?: string[];
  audioFeatures?: string[];
  /** Model sources of pretrained extractors (`--model name=SOURCE`): Hugging Face repo id, URL or local folder/file. */
  modelPaths?: Record<string, string>;
  /** Never touch the network for models (`--offline`; default: `VMR_OFFLINE`). */
  offline?: boolean;
  /** Model cache directory (`--model-cache`; default `$VMR_MODEL_CACHE` or ~/.cache/vmr/models). */
  modelCache?: string;
  /** Worker threads (default: 2, at most the number of files). 0 = in-process. */
  workers?: number;
  /** An already started worker pool to use (e.g. kept across runs); `workers` is then ignored. */
  pool?: ClipWorkerPool;
  maxSeconds?: number;
  minSeconds?: number;
  allowSilent?: boolean;
  /** Segment planning for segments.csv (DESIGN §1.2); `false` skips it. */
  segments?: Omit<ClipPlanOptions, 'flowFps' | 'featureLength' | 'clipId'> | false;
  /** Split fractions for splits/*.txt over the video clips; `false` skips them. Default 0.8/0.1/0.1. */
  split?: SplitFractions | false;
  seed?: number;
  quiet?: boolean;
  /** Overwrite an existing dataset instead of resuming it. */
  overwrite?: boolean;
  /** Who resizes frames to 320×240 (`--resize`): `opencv` (default, OpenCV-Python parity) or `ffmpeg` (faster, small differences). */
  resize?: 'opencv' | 'ffmpeg';
  onClip?: (r: ClipResult) => void;
}

export interface IngestSummary {
  out: string;
  total: number;
  ingested: number;
  resumed: number;
  videoClips: number;
  musicTracks: number;
  failed: FailedEntry[];
  /** Files in the input folders that were not ingested (not media, hidden, …), each with its reason. */
  leftOut: LeftOutFile[];
  segmented: number;
  segmentSkipped: Array<{ id: string; reason: string }>;
  /** When clips were too short for the segmentation: how many, and the flags that would fit most. */
  segmentAdvice?: SegmentAdvice;
  /** The decoder that ran (ffmpeg/ffprobe path, source and version; a note when it is the npm fallback). */
  decoder: ReturnType<typeof decoderVersions>;
  /** The code that computed Farnebäck flow (`native` or `opencv.js`: the same bits) and why not native when it is not. */
  flowEngine: ReturnType<typeof farnebackEngine>;
  seconds: number;
  wallSeconds: number;
  /** Of wallSeconds: starting the worker pool (loading code and OpenCV.js once per worker); 0 with a given pool. */
  startupSeconds: number;
}

/**
 * `vmr ingest`: probe, decode, flow trajectory, per-second features and AV-Align peaks for each media
 * file (worker threads), written into a dataset directory (DESIGN.md §2.1), then segments.csv and
 * splits. Resumable: clips already listed in dataset.json (same source path and sha256 unchecked)
 * are skipped; per-clip failures are recorded and never abort the batch.
 */
export async function ingestMedia(o: IngestOptions): Promise<IngestSummary> {
  const t0 = Date.now();
  const videoNames = o.videoFeatures ?? ['builtin-video'];
  const audioNames = o.audioFeatures ?? ['builtin-audio'];
  const vx = resolveExtractors(videoNames, 'video', o.modelPaths);
  const ax = resolveExtractors(audioNames, 'audio', o.modelPaths);
  if (o.maxSeconds !== undefined && !(o.maxSeconds > 0)) throw new InvalidArgumentError(`--max-seconds must be > 0, got ${o.maxSeconds}`);
  const { files, leftOut } = await listMediaInputs(o.inputs);
  if (files.length === 0) {
    throw new InvalidArgumentError(
      `no media files found in ${o.inputs.join(', ')}` + (leftOut.length ? ` (left out: ${leftOut.slice(0, 5).map((l) => `${path.basename(l.path)}: ${l.reason}`).join('; ')}${leftOut.length > 5 ? '; …' : ''})` : ''),
    );
  }
  // Make every extractor's model available before any worker starts (download once, into the cache).
  const resolvedX = new Map<string, Awaited<ReturnType<typeof resolveExtractor>>>();
  for (const e of [...vx, ...ax]) {
    const bars = new Map<string, ReturnType<typeof createProgress>>();
    const onProgress = (file: string, done: number, total: number): void => {
      let bar = bars.get(file);
      if (!bar) bars.set(file, (bar = createProgress({ label: `download ${e.name} ${file}`, total: Math.max(1, total), unit: 'bytes', quiet: o.quiet })));
      bar.update(done);
    };
    try {
      resolvedX.set(e.name, await resolveExtractor(e.name, { source: o.modelPaths?.[e.name], offline: o.offline, cacheDir: o.modelCache, onProgress }));
    } finally {
      for (const b of bars.values()) b.stop();
    }
  }
  // Said after the models resolved, so a model error is the only line of a failed start.
  const decoder = decoderVersions();
  if (decoder.note && !o.quiet) process.stderr.write(`vmr ingest: ${decoder.note}\n`);
  const flowEngine = farnebackEngine();
  const writer = DatasetWriter.create(o.out, {
    name: o.name ?? path.basename(path.resolve(o.out)),
    kind: 'media',
    flowFps: 3,
    existing: o.overwrite ? 'overwrite' : 'resume',
    extractors: [...vx, ...ax].map((e) => ({
      name: e.name,
      modality: e.modality,
      dim: e.dim,
      fps: e.fps,
      provenance:
        `${e.name}: ${e.description}` +
        (e.name === 'builtin-video' ? `; Farnebäck ${JSON.stringify(FARNEBACK_DEFAULTS)} via ${flowEngineDescription(flowEngine.engine)}` : '') +
        (e.kind === 'pretrained' ? modelSummary(resolvedX.get(e.name)!.provenance) : ''),
      provenanceRecord: resolvedX.get(e.name)!.provenance as unknown as Record<string, unknown>,
    })),
    provenance: { ingest: { decoder, flowEngine: { ...flowEngine, description: flowEngineDescription(flowEngine.engine) }, resize: o.resize ?? 'opencv', maxSeconds: o.maxSeconds ?? null, leftOut } },
  });
  for (const e of writer.current.extractors) {
    const prev = e.provenanceRecord as ExtractorProvenance | undefined;
    const now = resolvedX.get(e.name)?.provenance;
    if (prev && now && writer.current.clips.length > 0) assertSameExtractor(prev, now, `${o.out}: resuming a dataset ingested with another ${e.name} model (use --overwrite or another --out)`);
  }
  writer.setPeakVariant('yariv', { video: true, audio: true, description: 'video: strict local maxima ≥ 0.1 of flow/<id>.npy at flowFps; audio: librosa onset_detect defaults at 22.05 kHz' });
  writer.setPeakVariant('vmr', {
    video: false,
    audio: true,
    description: 'audio: energy peaks (25 ms / 10 ms frames, > 0.3 of range) at the native rate; video peaks (every 5th frame, half resolution) not computed by ingest',
  });
  const done = new Set(writer.current.clips.map((c) => (c.source ? path.resolve(c.source.path) : '')));
  const todo = files.filter((f) => !done.has(f));
  const resumed = files.length - todo.length;
  const reserved = new Set<string>();
  const ids = new Map<string, string>();
  for (const f of todo) {
    const id = writer.uniqueClipId(f, reserved);
    reserved.add(id);
    ids.set(f, id);
  }
  // Largest files first (size as a cheap proxy for decode + flow work), so the pool's last clips are
  // short ones and no worker is left alone with a long clip at the end (clip ids keep the input order).
  const sizeOf = (f: string): number => {
    try {
      return fs.statSync(f).size;
    } catch {
      return 0;
    }
  };
  const sizes = new Map(todo.map((f) => [f, sizeOf(f)]));
  const byWork = [...todo].sort((a, b) => sizes.get(b)! - sizes.get(a)!);
  const jobs: ClipJob[] = byWork.map((file) => ({
    file,
    videoFeatures: vx.map((e) => e.name),
    audioFeatures: ax.map((e) => e.name),
    maxSeconds: o.maxSeconds,
    minSeconds: o.minSeconds,
    allowSilent: o.allowSilent,
    resize: o.resize,
    // workers load the models from the local folders resolved above (offline: no second download)
    modelPaths: Object.fromEntries([...resolvedX].filter(([, r]) => r.modelDir).map(([k, r]) => [k, r.modelDir!])),
  }));
  const progress = createProgress({ label: 'ingest', total: todo.length, unit: 'clips', quiet: o.quiet });
  let seconds = 0;
  let ingested = 0;
  let startupSeconds = 0;
  const failed: FailedEntry[] = [];
  try {
    const onResult = (r: ClipResult): void => {
      o.onClip?.(r);
      const id = ids.get(r.file)!;
      if (!r.ok) {
        const f: FailedEntry = { source: r.file, id, reason: r.reason, status: r.status, message: r.message };
        writer.addFailure(f);
        failed.push(f);
        progress.tick(1, { failed: failed.length });
        return;
      }
      for (const e of vx) if (r.kind === 'video') writer.writeFeatures('video', e.name, id, { rows: r.seconds, cols: e.dim, data: r.video[e.name] });
      if (r.hasAudio) for (const e of ax) writer.writeFeatures('audio', e.name, id, { rows: r.seconds, cols: e.dim, data: r.audio[e.name] });
      if (r.flow) writer.writeFlow(id, r.flow);
      for (const [variant, p] of Object.entries(r.peaks)) {
        if (p.video) writer.writePeaks(variant, 'video', id, p.video);
        if (p.audio) writer.writePeaks(variant, 'audio', id, p.audio);
      }
      writer.addClip({
        id,
        kind: r.kind,
        durationSec: r.durationSec,
        seconds: r.seconds,
        flowLength: r.flow?.length,
        nativeFps: r.nativeFps,
        hasAudio: r.hasAudio,
        source: { path: r.file, sha256: r.sha256, sizeBytes: r.sizeBytes },
        meta: r.meta,
      });
      ingested++;
      if (r.kind === 'video') seconds += r.durationSec;
      progress.tick(1, { failed: failed.length });
    };
    const workers = o.workers ?? 2;
    if (!Number.isInteger(workers) || workers < 0) throw new InvalidArgumentError(`--workers must be a non-negative integer, got ${workers}`);
    if (o.pool) await o.pool.run(jobs, onResult);
    else if (workers === 0 || jobs.length === 0) for (const j of jobs) onResult(await processClip(j));
    else {
      const pool = await ClipWorkerPool.start(Math.min(workers, jobs.length));
      startupSeconds = pool.startupSeconds;
      try {
        await pool.run(jobs, onResult);
      } finally {
        await pool.close();
      }
    }
  } finally {
    progress.stop();
    writer.save();
  }
  const seg = o.segments === false ? undefined : segmentDataset(writer, o.segments ?? {});
  const manifest = writer.current;
  const videoIds = manifest.clips.filter((c) => c.kind === 'video').map((c) => c.id);
  if (o.split !== false) writer.writeSplits(assignSplits(videoIds, o.split ?? { train: 0.8, val: 0.1, test: 0.1 }, o.seed ?? 0));
  writer.save();
  return {
    out: writer.dir,
    total: files.length,
    ingested,
    resumed,
    videoClips: videoIds.length,
    musicTracks: manifest.clips.length - videoIds.length,
    failed: manifest.failed,
    leftOut,
    segmented: seg?.rows ?? 0,
    segmentSkipped: seg?.skipped ?? [],
    segmentAdvice: seg?.advice,
    decoder,
    flowEngine,
    seconds,
    wallSeconds: (Date.now() - t0) / 1000,
    startupSeconds,
  };
}

/**
 * (Re)write segments.csv from the dataset's flow trajectories with @vmr/segmentation's planner
 * (DESIGN.md §1.2). Clips that cannot be segmented are listed with their reason.
 */
export function segmentDataset(
  writer: DatasetWriter,
  options: Omit<ClipPlanOptions, 'flowFps' | 'featureLength' | 'clipId'>,
): { rows: number; skipped: Array<{ id: string; reason: string }>; advice?: SegmentAdvice } {
  const m = writer.current;
  const rows: SegmentsCsvRow[] = [];
  const skipped: Array<{ id: string; reason: string }> = [];
  const lengths: number[] = [];
  for (const c of m.clips) {
    if (c.kind !== 'video') continue;
    let flow: Float32Array;
    try {
      flow = readFlowFile(path.join(writer.dir, 'flow', `${c.id}.npy`));
    } catch (e) {
      skipped.push({ id: c.id, reason: `flow unreadable: ${errorMessage(e)}` });
      continue;
    }
    lengths.push(flow.length);
    const plan = planClipSegments(flow, { ...options, flowFps: m.flowFps, featureLength: c.seconds, clipId: c.id });
    if (plan.status === 'ok') rows.push(planToSegmentsRow(plan));
    else skipped.push({ id: c.id, reason: `${plan.reason}: ${plan.message}` });
  }
  writer.writeSegments(rows, { ...options }, skipped);
  const advice = adviseSegmentation(lengths, { ...options, flowFps: m.flowFps, dataset: writer.dir });
  return { rows: rows.length, skipped, advice };
}

function readFlowFile(file: string): Float32Array {
  return toFloat32(readNpy(file));
}

function modelSummary(p: ExtractorProvenance): string {
  const m = p.model;
  if (!m) return '';
  return `; model ${m.id}${m.revision ? `@${m.revision}` : ''}${m.resolvedRevision ? ` (${m.resolvedRevision})` : ''}; files ${m.files.map((f) => `${f.path} sha256:${f.sha256}`).join(', ')}`;
}

/** The registry's dims, for CLI help. */
export function describeExtractor(name: string): string {
  const e = getExtractor(name);
  return `${e.name} (${e.modality}, ${e.dim}-d)`;
}
