import * as fs from 'fs';
import * as path from 'path';
import { ConflictError, FileFormatError, InvalidArgumentError, IoError, UnsupportedError, errorMessage } from '@vmr/core';
import { decodeAudio, streamSampledFrames } from '../media/decode';
import { type MediaInfo, probeMedia } from '../media/probe';
import { FarnebackFlow } from '../flow/farneback';
import { type ExtractorSpec, getExtractor } from './registry';
import { CLIP_PREPROCESSING, type ImagePreprocessing, RESNET_PREPROCESSING, bgrToRgb, preprocessRgbImage } from './image-preprocess';
import { VGGISH, vggishExamples } from './vggish-input';
import { I3D, i3dCrop, i3dPackFlow, i3dPackRgb, i3dResize, i3dSourceFrame, i3dStackStart } from './i3d-input';
import { type ModelFetchOptions, type ModelSourceKind, type ResolvedModelFiles, ensureModelFiles, missingModelHint, parseModelSource } from './model-source';

/** The extractors that load pretrained weights (transformers.js or onnxruntime-node). */
export const PRETRAINED_EXTRACTORS = ['clip', 'resnet', 'vggish', 'i3d'] as const;
export type PretrainedExtractorName = (typeof PRETRAINED_EXTRACTORS)[number];

/** Bumped whenever our pre-processing or frame sampling changes the numbers an extractor produces. */
export const PRETRAINED_CODE_VERSION = 1;

interface PretrainedDefinition {
  name: PretrainedExtractorName;
  /** Default model source (Hugging Face repo id); undefined: the user must give one. */
  defaultSource?: string;
  /** Files in the model folder (Hugging Face / transformers.js layout). */
  files: string[];
  loader: 'transformers.js' | 'onnxruntime-node';
  preprocessing: Record<string, unknown>;
  /** How to get a model when there is no default source. */
  howToGet: string;
}

function imagePre(p: ImagePreprocessing, reference: string): Record<string, unknown> {
  return { frames: '1 per second: the first frame at or after t = s (time-accumulator sampling at 1 fps, native resolution)', resizeShorter: p.resizeShorter, crop: p.crop, filter: `PIL ${p.filter} (antialiased)`, scale: '1/255', mean: p.mean, std: p.std, layout: 'NCHW', reference };
}

const DEFINITIONS: Record<PretrainedExtractorName, PretrainedDefinition> = {
  clip: {
    name: 'clip',
    defaultSource: 'Xenova/clip-vit-base-patch32',
    files: ['config.json', 'onnx/vision_model.onnx'],
    loader: 'transformers.js',
    preprocessing: { ...imagePre(CLIP_PREPROCESSING, 'openai/CLIP clip.py _transform (v-iashin models/clip)'), output: 'image_embeds (projected, not L2-normalised)' },
    howToGet: 'any transformers.js CLIP ViT-B/32 export (config.json + onnx/vision_model.onnx)',
  },
  resnet: {
    name: 'resnet',
    defaultSource: 'OWG/resnet-50',
    files: ['onnx/model.onnx'],
    loader: 'transformers.js',
    preprocessing: { ...imagePre(RESNET_PREPROCESSING, 'torchvision ImageNet eval transform (v-iashin models/resnet)'), output: 'pooler_output (global average pool, 2048-d), or the spatial mean of last_hidden_state' },
    howToGet: 'a ResNet-50 feature-extraction export, onnx/model.onnx with output pooler_output or last_hidden_state (config.json optional), e.g. optimum-cli export onnx --task image-feature-extraction --model microsoft/resnet-50 DIR, then move DIR/model.onnx to DIR/onnx/',
  },
  vggish: {
    name: 'vggish',
    files: ['vggish.onnx'],
    loader: 'onnxruntime-node',
    preprocessing: {
      audio: `${VGGISH.sampleRate} Hz mono (ffmpeg resampling, channels averaged)`,
      stft: `|STFT|, periodic Hann ${VGGISH.windowLength} samples (25 ms), hop ${VGGISH.hopLength} (10 ms), FFT ${VGGISH.fftLength}, no centre padding`,
      mel: `${VGGISH.melBands} HTK-mel bands ${VGGISH.melMinHz}-${VGGISH.melMaxHz} Hz, log(mel + ${VGGISH.logOffset})`,
      examples: `${VGGISH.exampleFrames} frames (0.96 s) starting every ${VGGISH.exampleHopFrames} frames (1 s; reference: every 96); audio zero-padded at the end`,
      postprocess: 'none (embedding before PCA/quantisation, as v-iashin)',
      reference: 'tensorflow/models research/audioset/vggish vggish_params.py, mel_features.py, vggish_input.py',
    },
    howToGet: 'a VGGish ONNX export with input [N, 96, 64] or [N, 1, 96, 64] and a 128-d output (e.g. torchvggish exported with torch.onnx.export), given as a URL, a Hugging Face repo holding vggish.onnx, or a local file',
  },
  i3d: {
    name: 'i3d',
    files: ['i3d_rgb.onnx', 'i3d_flow.onnx'],
    loader: 'onnxruntime-node',
    preprocessing: {
      frames: `${I3D.fps} fps (the native frame shown at k/${I3D.fps} s)`,
      rgb: `resize shorter side ${I3D.resizeShorter} (PIL bilinear), centre crop ${I3D.crop}, 2x/255 - 1`,
      flow: `Farnebäck on the resized grey frames (reference: RAFT/PWC), crop ${I3D.crop}, clamp ±${I3D.flowClamp}, uint8 round(128 + 255/40 f), 2q/255 - 1`,
      stack: `${I3D.stack} frames starting at frame ${I3D.fps}·s for second s (clamped inside the video); reference: non-overlapping stacks every ${I3D.stack} frames`,
      output: 'flow ‖ rgb (1024 + 1024)',
      reference: 'v-iashin/video_features models/i3d (docs/models/i3d.md)',
    },
    howToGet: 'a folder (or Hugging Face repo) with i3d_rgb.onnx [1, 3, 64, 224, 224] → [1, 1024] and i3d_flow.onnx [1, 2, 64, 224, 224] → [1, 1024] (e.g. pytorch-i3d / v-iashin i3d weights exported with torch.onnx.export)',
  },
};

export function isPretrainedExtractor(name: string): name is PretrainedExtractorName {
  return (PRETRAINED_EXTRACTORS as readonly string[]).includes(name);
}

/**
 * What produced a feature matrix: enough to tell whether two datasets (or a dataset and a retrieval
 * query) used the same extractor. Recorded in dataset.json and comparable with `assertSameExtractor`.
 */
export interface ExtractorProvenance {
  extractor: string;
  modality: 'video' | 'audio';
  dim: number;
  fps: number;
  loader: 'builtin' | 'package-weights' | 'transformers.js' | 'onnxruntime-node';
  codeVersion: number;
  preprocessing: Record<string, unknown>;
  model?: {
    /** The source as given (repo id, URL or path). */
    source: string;
    kind: ModelSourceKind;
    /** Repo id, URL or absolute path. */
    id: string;
    revision?: string;
    resolvedRevision?: string;
    files: Array<{ path: string; sha256: string; sizeBytes: number }>;
  };
}

/** A resolved extractor: what it is (provenance) and how to run it on a media file. */
export interface ResolvedExtractor {
  spec: ExtractorSpec;
  provenance: ExtractorProvenance;
  /** Local folder holding the model files (pretrained extractors); pass it as the source to reload offline. */
  modelDir?: string;
  /** `[seconds, dim]` row-major features of a video file (video extractors). */
  extractVideo?(file: string, o: { seconds: number; info?: MediaInfo; maxSeconds?: number }): Promise<Float32Array>;
  /** `[seconds, dim]` row-major features of a file's audio (audio extractors). */
  extractAudio?(file: string, o: { seconds: number; info?: MediaInfo; maxSeconds?: number }): Promise<Float32Array>;
}

export interface ResolveExtractorOptions extends ModelFetchOptions {
  /** Model source: Hugging Face repo id (`org/name[@rev]`), URL, or local folder/file (`--model NAME=SOURCE`). */
  source?: string;
}

const resolved = new Map<string, Promise<ResolvedExtractor>>();

/**
 * Resolve an extractor by name: builtin ones describe themselves; pretrained ones (`clip`, `resnet`,
 * `vggish`, `i3d`) make their model files available (local folder, cache, or download) and return an
 * object that extracts `[T, D]` features from media files. The same object serves `vmr ingest` and
 * `vmr retrieve`. Memoised per process by (name, source, cache dir, offline).
 */
export function resolveExtractor(name: string, options: ResolveExtractorOptions = {}): Promise<ResolvedExtractor> {
  const key = JSON.stringify([name, options.source ?? null, options.cacheDir ?? null, options.offline ?? null, options.endpoint ?? null]);
  let p = resolved.get(key);
  if (!p) {
    p = resolveUncached(name, options);
    resolved.set(key, p);
    p.catch(() => resolved.delete(key));
  }
  return p;
}

async function resolveUncached(name: string, options: ResolveExtractorOptions): Promise<ResolvedExtractor> {
  const spec = getExtractor(name);
  if (!isPretrainedExtractor(name)) {
    if (options.source) throw new InvalidArgumentError(`extractor ${name} takes no model (--model ${name}=...): it is ${spec.kind}`);
    return {
      spec,
      provenance: { extractor: name, modality: spec.modality, dim: spec.dim, fps: spec.fps, loader: spec.kind === 'package-weights' ? 'package-weights' : 'builtin', codeVersion: 1, preprocessing: { description: spec.description } },
    };
  }
  const def = DEFINITIONS[name];
  const sourceSpec = options.source ?? def.defaultSource;
  if (!sourceSpec) {
    throw new InvalidArgumentError(`extractor ${name} has no default model download: pass --model ${name}=<URL, Hugging Face repo or local path> (${def.howToGet})`, { details: { extractor: name } });
  }
  const source = parseModelSource(sourceSpec);
  if (source.kind === 'url' && def.files.length > 1) {
    throw new InvalidArgumentError(`extractor ${name} needs ${def.files.join(' and ')}: give a Hugging Face repo or a local folder, not one URL`);
  }
  if (source.kind === 'local' && def.files.length > 1 && fs.statSync(source.path!, { throwIfNoEntry: false })?.isFile()) {
    throw new InvalidArgumentError(`extractor ${name}: --model ${name}=${source.spec} is a file; give the model folder holding ${def.files.join(', ')}`);
  }
  const files = await ensureModelFiles(name, source, def.files, options);
  const modelDir = source.kind === 'local' && files.files.length === 1 && path.basename(source.path!) === files.files[0].path ? path.join(files.dir, files.files[0].path) : files.dir;
  const provenance: ExtractorProvenance = {
    extractor: name,
    modality: spec.modality,
    dim: spec.dim,
    fps: spec.fps,
    loader: def.loader,
    codeVersion: PRETRAINED_CODE_VERSION,
    preprocessing: def.preprocessing,
    model: {
      source: source.spec,
      kind: source.kind,
      id: source.repo ?? source.url ?? source.path!,
      revision: source.revision,
      resolvedRevision: files.resolvedRevision,
      files: files.files.map((f) => ({ path: f.path, sha256: f.sha256, sizeBytes: f.sizeBytes })),
    },
  };
  const out: ResolvedExtractor = { spec, provenance, modelDir };
  if (name === 'clip' || name === 'resnet') out.extractVideo = (file, o) => imageExtract(name, files, file, o);
  else if (name === 'i3d') out.extractVideo = (file, o) => i3dExtract(files, file, o);
  else out.extractAudio = (file, o) => vggishExtract(files, file, o);
  return out;
}

/** Canonical form of what determines the numbers (not where the files came from). */
export function provenanceKey(p: ExtractorProvenance): string {
  return JSON.stringify({
    extractor: p.extractor,
    dim: p.dim,
    fps: p.fps,
    codeVersion: p.codeVersion,
    preprocessing: p.preprocessing,
    weights: (p.model?.files ?? []).map((f) => `${f.path}:${f.sha256}`).sort(),
  });
}

/**
 * Throw a `ConflictError` unless `actual` was produced the same way as `expected` (same extractor,
 * dims, rate, pre-processing and model file hashes). `context` names the two sides, e.g.
 * "run 1f2e… (trained on data/himv) vs query features".
 */
export function assertSameExtractor(expected: ExtractorProvenance, actual: ExtractorProvenance, context = 'features'): void {
  if (provenanceKey(expected) === provenanceKey(actual)) return;
  const diffs: string[] = [];
  if (expected.extractor !== actual.extractor) diffs.push(`extractor ${expected.extractor} vs ${actual.extractor}`);
  if (expected.dim !== actual.dim || expected.fps !== actual.fps) diffs.push(`shape ${expected.dim}-d @ ${expected.fps}/s vs ${actual.dim}-d @ ${actual.fps}/s`);
  if (expected.codeVersion !== actual.codeVersion) diffs.push(`pre-processing code version ${expected.codeVersion} vs ${actual.codeVersion}`);
  if (JSON.stringify(expected.preprocessing) !== JSON.stringify(actual.preprocessing)) diffs.push('pre-processing differs');
  const fileSet = (p: ExtractorProvenance): string => (p.model?.files ?? []).map((f) => `${f.path} ${f.sha256.slice(0, 12)}`).sort().join(', ') || 'none';
  if (fileSet(expected) !== fileSet(actual)) diffs.push(`model files ${fileSet(expected)} (${expected.model?.id ?? 'no model'}) vs ${fileSet(actual)} (${actual.model?.id ?? 'no model'})`);
  throw new ConflictError(`${context}: extractor ${expected.extractor} does not match: ${diffs.join('; ')}`, { details: { expected, actual } });
}

// ---- model loading (lazy; one per process per model folder) ----------------------------------------

type Ort = typeof import('onnxruntime-node');
function ort(): Ort {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('onnxruntime-node');
  } catch (e) {
    throw new UnsupportedError(`onnxruntime-node is not installed (${errorMessage(e)})`);
  }
}

interface Runner {
  /** Run on `[n, ...shape]` float input; returns each output as a flat Float32Array with its dims. */
  run(inputs: Record<string, { data: Float32Array; dims: number[] }>): Promise<Record<string, { data: Float32Array; dims: number[] }>>;
  inputNames: string[];
  outputNames: string[];
  inputShapes: Array<Array<number | string>>;
}

const loaded = new Map<string, Promise<Runner>>();
function memo(key: string, make: () => Promise<Runner>): Promise<Runner> {
  let p = loaded.get(key);
  if (!p) {
    p = make();
    loaded.set(key, p);
    p.catch(() => loaded.delete(key));
  }
  return p;
}

function onnxRunner(file: string, what: string): Promise<Runner> {
  return memo(`ort:${file}`, async () => {
    const o = ort();
    let s: import('onnxruntime-node').InferenceSession;
    try {
      s = await o.InferenceSession.create(file);
    } catch (e) {
      throw new FileFormatError(`${what}: onnxruntime cannot load ${file} (${errorMessage(e)})`, { details: { path: file } });
    }
    const meta = (s as unknown as { inputMetadata?: Array<{ shape?: Array<number | string> }> }).inputMetadata ?? [];
    return {
      inputNames: [...s.inputNames],
      outputNames: [...s.outputNames],
      inputShapes: s.inputNames.map((_, i) => meta[i]?.shape ?? []),
      run: async (inputs) => {
        const feeds: Record<string, import('onnxruntime-node').Tensor> = {};
        for (const [k, v] of Object.entries(inputs)) feeds[k] = new o.Tensor('float32', v.data, v.dims);
        const r = await s.run(feeds);
        const out: Record<string, { data: Float32Array; dims: number[] }> = {};
        for (const [k, v] of Object.entries(r)) out[k] = { data: Float32Array.from(v.data as Float32Array), dims: [...v.dims] };
        return out;
      },
    };
  });
}

/** transformers.js model from a local folder (never the network: local_files_only, remote models off). */
function transformersRunner(name: 'clip' | 'resnet', dir: string): Promise<Runner> {
  return memo(`tjs:${name}:${dir}`, async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const tjs = require('@huggingface/transformers') as typeof import('@huggingface/transformers');
    tjs.env.allowRemoteModels = false;
    tjs.env.allowLocalModels = true;
    tjs.env.useFSCache = false;
    const cls = name === 'clip' ? tjs.CLIPVisionModelWithProjection : tjs.ResNetModel;
    let model: import('@huggingface/transformers').PreTrainedModel;
    try {
      // config.json is optional for ResNet exports that ship only the ONNX file
      const config = fs.existsSync(path.join(dir, 'config.json')) ? undefined : ({ model_type: name } as never);
      model = await cls.from_pretrained(dir, { local_files_only: true, dtype: 'fp32', device: 'cpu', ...(config ? { config } : {}) });
    } catch (e) {
      throw new FileFormatError(`extractor ${name}: transformers.js cannot load the model folder ${dir} (${errorMessage(e)})`, { details: { path: dir } });
    }
    const session = (model as unknown as { sessions: Record<string, { inputNames: string[]; outputNames: string[] }> }).sessions.model;
    return {
      inputNames: session?.inputNames ?? ['pixel_values'],
      outputNames: session?.outputNames ?? [],
      inputShapes: [],
      run: async (inputs) => {
        const feeds: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(inputs)) feeds[k] = new tjs.Tensor('float32', v.data, v.dims);
        const r = (await (model as unknown as (x: unknown) => Promise<Record<string, { data: Float32Array; dims: number[] }>>)(feeds)) as Record<string, { data: ArrayLike<number>; dims: number[] }>;
        const out: Record<string, { data: Float32Array; dims: number[] }> = {};
        for (const [k, v] of Object.entries(r)) if (v && v.dims) out[k] = { data: Float32Array.from(v.data), dims: [...v.dims] };
        return out;
      },
    };
  });
}

function checkFinite(name: string, x: Float32Array, file: string): Float32Array {
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) throw new IoError(`extractor ${name}: the model produced a non-finite value for ${file}`);
  return x;
}

/** Carry the last row forward into seconds that had no input (e.g. a frame gap). */
function fillRows(rows: Array<Float32Array | undefined>, dim: number, name: string, file: string): Float32Array {
  const out = new Float32Array(rows.length * dim);
  let last: Float32Array | undefined = rows.find((r) => r);
  if (!last) throw new InvalidArgumentError(`extractor ${name}: no frames decoded from ${file}`);
  for (let s = 0; s < rows.length; s++) {
    if (rows[s]) last = rows[s];
    out.set(last!, s * dim);
  }
  return out;
}

const BATCH = 8;

async function imageExtract(name: 'clip' | 'resnet', files: ResolvedModelFiles, file: string, o: { seconds: number; info?: MediaInfo; maxSeconds?: number }): Promise<Float32Array> {
  const runner = await transformersRunner(name, files.dir);
  const pre = name === 'clip' ? CLIP_PREPROCESSING : RESNET_PREPROCESSING;
  const dim = getExtractor(name).dim;
  const info = o.info ?? (await probeMedia(file));
  const rows: Array<Float32Array | undefined> = new Array(o.seconds).fill(undefined);
  const per = 3 * pre.crop * pre.crop;
  let batch: number[] = [];
  let data = new Float32Array(BATCH * per);
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const n = batch.length;
    const r = await runner.run({ pixel_values: { data: data.subarray(0, n * per).slice(), dims: [n, 3, pre.crop, pre.crop] } });
    const y = pooledImageOutput(name, r, n, dim, files.dir);
    for (let i = 0; i < n; i++) rows[batch[i]] = y.subarray(i * dim, (i + 1) * dim);
    batch = [];
    data = new Float32Array(BATCH * per);
  };
  for await (const f of streamSampledFrames(file, { targetFps: { num: 1, den: 1 }, info, maxSeconds: o.maxSeconds })) {
    const s = Math.floor(f.timeSec + 1e-9);
    if (s >= o.seconds) break;
    if (rows[s] || batch.includes(s)) continue;
    preprocessRgbImage(bgrToRgb(f.data), f.width, f.height, pre, data, batch.length * per);
    batch.push(s);
    if (batch.length === BATCH) await flush();
  }
  await flush();
  return checkFinite(name, fillRows(rows, dim, name, file), file);
}

function pooledImageOutput(name: 'clip' | 'resnet', r: Record<string, { data: Float32Array; dims: number[] }>, n: number, dim: number, dir: string): Float32Array {
  const pick = name === 'clip' ? r.image_embeds : r.pooler_output;
  if (pick) {
    if (pick.data.length !== n * dim) throw new FileFormatError(`extractor ${name}: ${dir} outputs [${pick.dims.join(', ')}], expected ${dim} values per image`);
    return pick.data;
  }
  const h = r.last_hidden_state;
  if (name === 'resnet' && h && h.dims.length === 4 && h.dims[1] === dim) {
    // global average pool over [H, W] (what ResNet's pooler does)
    const hw = h.dims[2] * h.dims[3];
    const out = new Float32Array(n * dim);
    for (let i = 0; i < n * dim; i++) {
      let s = 0;
      for (let k = 0; k < hw; k++) s += h.data[i * hw + k];
      out[i] = s / hw;
    }
    return out;
  }
  throw new FileFormatError(
    `extractor ${name}: ${dir} has outputs ${Object.keys(r).join(', ') || 'none'}; expected ${name === 'clip' ? 'image_embeds (a CLIPVisionModelWithProjection export)' : 'pooler_output or last_hidden_state (a ResNetModel feature-extraction export, not an image-classification one)'}`,
    { details: { path: dir } },
  );
}

async function vggishExtract(files: ResolvedModelFiles, file: string, o: { seconds: number; info?: MediaInfo; maxSeconds?: number }): Promise<Float32Array> {
  const model = path.join(files.dir, files.files[0].path);
  const runner = await onnxRunner(model, 'extractor vggish');
  const shape = runner.inputShapes[0] ?? [];
  const dims = (n: number): number[] => {
    if (shape.length === 4 && shape[1] === 1) return [n, 1, VGGISH.exampleFrames, VGGISH.melBands];
    if (shape.length === 4) return [n, VGGISH.exampleFrames, VGGISH.melBands, 1];
    if (shape.length === 3 || shape.length === 0) return [n, VGGISH.exampleFrames, VGGISH.melBands];
    throw new FileFormatError(`extractor vggish: ${model} has input [${shape.join(', ')}]; expected [N, 96, 64], [N, 1, 96, 64] or [N, 96, 64, 1]`);
  };
  const audio = await decodeAudio(file, { sampleRate: VGGISH.sampleRate, maxSeconds: o.maxSeconds, info: o.info });
  return vggishFromSamples(runner, audio.samples, o.seconds, dims, model);
}

async function vggishFromSamples(runner: Runner, samples: Float32Array, seconds: number, dims: (n: number) => number[], model: string): Promise<Float32Array> {
  const ex = vggishExamples(samples, seconds);
  const per = VGGISH.exampleFrames * VGGISH.melBands;
  const out = new Float32Array(seconds * VGGISH.embeddingSize);
  for (let s = 0; s < seconds; s += 32) {
    const n = Math.min(32, seconds - s);
    const r = await runner.run({ [runner.inputNames[0]]: { data: ex.slice(s * per, (s + n) * per), dims: dims(n) } });
    const y = r[runner.outputNames[0]];
    if (y.data.length !== n * VGGISH.embeddingSize) throw new FileFormatError(`extractor vggish: ${model} outputs [${y.dims.join(', ')}], expected [${n}, 128]`);
    out.set(y.data, s * VGGISH.embeddingSize);
  }
  return checkFinite('vggish', out, model);
}

async function i3dExtract(files: ResolvedModelFiles, file: string, o: { seconds: number; info?: MediaInfo; maxSeconds?: number }): Promise<Float32Array> {
  const rgbModel = await onnxRunner(path.join(files.dir, 'i3d_rgb.onnx'), 'extractor i3d (rgb)');
  const flowModel = await onnxRunner(path.join(files.dir, 'i3d_flow.onnx'), 'extractor i3d (flow)');
  const info = o.info ?? (await probeMedia(file));
  if (!info.video) throw new FileFormatError(`${file}: no video stream`, { details: { path: file } });
  const nativeFps = info.video.fpsRational.num / info.video.fpsRational.den;
  const needFrames = I3D.fps * (o.seconds - 1) + I3D.stack;
  const fb = await FarnebackFlow.create();
  const keep = I3D.stack + I3D.fps;
  const rgbs: Uint8Array[] = []; // ring of the last `keep` 25-fps frames (cropped RGB)
  const flows: Float32Array[] = []; // flow[k] = frame k → k + 1 (cropped)
  let base = 0; // index of rgbs[0]
  let k = 0; // next 25-fps frame index
  let prevGray: { data: Uint8Array; width: number; height: number } | undefined;
  const rows = new Float32Array(o.seconds * 2 * I3D.streamDim);
  let nextSecond = 0;
  const runStack = async (s: number, start: number, total: number): Promise<void> => {
    const rgbStack: Uint8Array[] = [];
    const flowStack: Float32Array[] = [];
    for (let t = 0; t < I3D.stack; t++) {
      const j = Math.min(start + t, total - 1) - base; // past the end: repeat the last frame
      rgbStack.push(rgbs[j]);
      flowStack.push(flows[Math.min(j, flows.length - 1)] ?? new Float32Array(I3D.crop * I3D.crop * 2));
    }
    const dims = (c: number): number[] => [1, c, I3D.stack, I3D.crop, I3D.crop];
    const fr = await flowModel.run({ [flowModel.inputNames[0]]: { data: i3dPackFlow(flowStack), dims: dims(2) } });
    const rr = await rgbModel.run({ [rgbModel.inputNames[0]]: { data: i3dPackRgb(rgbStack), dims: dims(3) } });
    const fy = fr[flowModel.outputNames[0]].data;
    const ry = rr[rgbModel.outputNames[0]].data;
    if (fy.length !== I3D.streamDim || ry.length !== I3D.streamDim) throw new FileFormatError(`extractor i3d: ${files.dir} models output ${fy.length} (flow) and ${ry.length} (rgb) values per stack, expected 1024 each`);
    rows.set(fy, s * 2 * I3D.streamDim);
    rows.set(ry, s * 2 * I3D.streamDim + I3D.streamDim);
  };
  try {
    let decodeIndex = 0;
    for await (const f of streamSampledFrames(file, { info, maxSeconds: o.maxSeconds })) {
      decodeIndex = f.decodeIndex;
      let frame: ReturnType<typeof i3dResize> | undefined;
      while (k <= needFrames && i3dSourceFrame(k, nativeFps) <= f.decodeIndex) {
        frame ??= i3dResize(bgrToRgb(f.data), f.width, f.height);
        if (prevGray) {
          const flow = fb.compute(prevGray, { data: frame.gray, width: frame.width, height: frame.height });
          flows.push(i3dCrop(flow.data, frame.width, frame.height, 2));
        }
        prevGray = { data: frame.gray, width: frame.width, height: frame.height };
        rgbs.push(i3dCrop(frame.rgb, frame.width, frame.height, 3));
        k++;
        // a stack is complete when its last frame's flow is known (frame start + 64 has arrived)
        while (nextSecond < o.seconds && I3D.fps * nextSecond + I3D.stack < k) {
          await runStack(nextSecond, I3D.fps * nextSecond, Infinity);
          nextSecond++;
        }
        while (rgbs.length > keep) {
          rgbs.shift();
          flows.shift();
          base++;
        }
      }
      if (k >= needFrames + 1) break;
    }
    if (k === 0) throw new InvalidArgumentError(`extractor i3d: no frames decoded from ${file} (decoded ${decodeIndex + 1})`);
    for (; nextSecond < o.seconds; nextSecond++) await runStack(nextSecond, Math.max(base, i3dStackStart(nextSecond, k)), k);
  } finally {
    fb.dispose();
  }
  return checkFinite('i3d', rows, file);
}

/** Run the VGGish network of a resolved extractor on 16 kHz mono samples (no decoding): `[seconds, 128]`. */
export async function vggishEmbedSamples(x: ResolvedExtractor, samples16k: Float32Array, seconds: number): Promise<Float32Array> {
  if (x.spec.name !== 'vggish' || !x.modelDir) throw new InvalidArgumentError(`vggishEmbedSamples needs the vggish extractor, got ${x.spec.name}`);
  const model = x.modelDir.endsWith('.onnx') ? x.modelDir : path.join(x.modelDir, 'vggish.onnx');
  const runner = await onnxRunner(model, 'extractor vggish');
  const shape = runner.inputShapes[0] ?? [];
  const dims = (n: number): number[] => (shape.length === 4 && shape[1] === 1 ? [n, 1, 96, 64] : shape.length === 4 ? [n, 96, 64, 1] : [n, 96, 64]);
  return vggishFromSamples(runner, samples16k, seconds, dims, model);
}

/** The model files a pretrained extractor expects in a local folder (Hugging Face layout). */
export function pretrainedModelFiles(name: PretrainedExtractorName): readonly string[] {
  return DEFINITIONS[name].files;
}

/** Default model source of a pretrained extractor, or undefined when the user must give one. */
export function pretrainedDefaultSource(name: PretrainedExtractorName): string | undefined {
  return DEFINITIONS[name].defaultSource;
}

/** One line on how to obtain a model for `name` (for errors and `--help`). */
export function pretrainedHowToGet(name: PretrainedExtractorName): string {
  return `${DEFINITIONS[name].howToGet}; ${missingModelHint(name)}`;
}

