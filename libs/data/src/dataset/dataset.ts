import * as fs from 'fs';
import * as path from 'path';
import {
  ConflictError,
  FileFormatError,
  InvalidArgumentError,
  IoError,
  NotFoundError,
  errorMessage,
  readNpy,
  toFloat32,
  writeFileAtomic,
  writeJsonAtomic,
  writeNpy,
} from '@vmr/core';
import { type SegmentsCsvRow, formatSegmentsCsv, parseSegmentsCsv } from '@vmr/segmentation';
import {
  type ClipEntry,
  type ClipEntryInput,
  type DatasetManifest,
  type ExtractorInfo,
  type ExtractorInfoInput,
  type FailedEntry,
  type Modality,
  type SplitName,
  CLIP_ID_PATTERN,
  DATASET_FORMAT,
  DATASET_VERSION,
  NAME_PATTERN,
  SPLIT_NAMES,
  clipEntrySchema,
  datasetManifestSchema,
  extractorInfoSchema,
  failedEntrySchema,
} from './schema';

export const MANIFEST_FILE = 'dataset.json';

/** A row-major float32 matrix `[rows, cols]`. */
export interface FeatureMatrix {
  rows: number;
  cols: number;
  data: Float32Array;
}

/** Relative paths inside a dataset directory (DESIGN.md §2.1). */
export const datasetPaths = {
  manifest: MANIFEST_FILE,
  features: (modality: Modality, extractor: string, id: string): string => path.join(modality, extractor, `${id}.npy`),
  flow: (id: string): string => path.join('flow', `${id}.npy`),
  peaks: (variant: string, modality: Modality, id: string): string => path.join('peaks', variant, modality, `${id}.npy`),
  segments: 'segments.csv',
  split: (name: SplitName): string => path.join('splits', `${name}.txt`),
};

function checkId(id: string): void {
  if (!CLIP_ID_PATTERN.test(id)) throw new InvalidArgumentError(`invalid clip id ${JSON.stringify(id)}: use [A-Za-z0-9_-][A-Za-z0-9._-]* (≤ 200 chars)`);
}
function checkName(name: string, what: string): void {
  if (!NAME_PATTERN.test(name)) throw new InvalidArgumentError(`invalid ${what} ${JSON.stringify(name)}: use [A-Za-z0-9][A-Za-z0-9._-]* (≤ 64 chars)`);
}

function zodMessage(e: { issues: Array<{ path: (string | number)[]; message: string }> }): string {
  return e.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

/** Turn a file name into a clip id: keep [A-Za-z0-9._-], replace the rest with '_'. */
export function clipIdFromName(name: string): string {
  const stem = path.basename(name).replace(/\.[^.]+$/, '');
  let id = stem.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '');
  if (id.length === 0) id = 'clip';
  return id.slice(0, 200);
}

/** Parse and validate a dataset.json document; errors name `source` and the offending key. */
export function parseManifest(json: unknown, source = MANIFEST_FILE): DatasetManifest {
  const r = datasetManifestSchema.safeParse(json);
  if (!r.success) throw new FileFormatError(`${source}: invalid dataset manifest: ${zodMessage(r.error)}`, { details: { path: source } });
  const m = r.data;
  const seen = new Set<string>();
  for (const c of m.clips) {
    if (seen.has(c.id)) throw new FileFormatError(`${source}: clip id ${c.id} listed twice`, { details: { path: source } });
    seen.add(c.id);
  }
  const ex = new Set<string>();
  for (const e of m.extractors) {
    const key = `${e.modality}/${e.name}`;
    if (ex.has(key)) throw new FileFormatError(`${source}: extractor ${key} listed twice`, { details: { path: source } });
    ex.add(key);
  }
  return m;
}

function readManifestFile(dir: string): DatasetManifest {
  const file = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new NotFoundError(`${dir} is not a dataset: ${MANIFEST_FILE} is missing`, { details: { path: file } });
    }
    throw new IoError(`cannot read ${file}: ${errorMessage(e)}`, { cause: e, details: { path: file } });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new FileFormatError(`${file}: not valid JSON (${errorMessage(e)})`, { details: { path: file } });
  }
  return parseManifest(json, file);
}

/** Read-only view of a dataset directory. Every read validates shapes against the manifest. */
export class Dataset {
  private constructor(readonly dir: string, readonly manifest: DatasetManifest) {}

  /** Open `dir` (reads and validates dataset.json). */
  static open(dir: string): Dataset {
    return new Dataset(path.resolve(dir), readManifestFile(dir));
  }

  get clips(): readonly ClipEntry[] {
    return this.manifest.clips;
  }
  get clipIds(): string[] {
    return this.manifest.clips.map((c) => c.id);
  }
  clip(id: string): ClipEntry {
    const c = this.manifest.clips.find((x) => x.id === id);
    if (!c) throw new NotFoundError(`dataset ${this.dir}: no clip ${JSON.stringify(id)}`, { details: { id } });
    return c;
  }
  extractor(modality: Modality, name: string): ExtractorInfo {
    const e = this.manifest.extractors.find((x) => x.modality === modality && x.name === name);
    if (!e) {
      const have = this.manifest.extractors.filter((x) => x.modality === modality).map((x) => x.name);
      throw new NotFoundError(`dataset ${this.dir}: no ${modality} extractor ${JSON.stringify(name)} (has: ${have.join(', ') || 'none'})`, {
        details: { modality, name },
      });
    }
    return e;
  }

  private abs(rel: string): string {
    return path.join(this.dir, rel);
  }

  /** Per-second features `[T, D]` of a clip; checks D against the extractor and T against the clip. */
  features(modality: Modality, extractor: string, id: string): FeatureMatrix {
    const info = this.extractor(modality, extractor);
    const clip = this.clip(id);
    const file = this.abs(datasetPaths.features(modality, extractor, id));
    if (!fs.existsSync(file)) throw new NotFoundError(`${file} is missing (clip ${id}, ${modality} extractor ${extractor})`, { details: { path: file } });
    const arr = readNpy(file);
    if (arr.shape.length !== 2 || arr.shape[1] !== info.dim) {
      throw new FileFormatError(`${file}: expected shape [T, ${info.dim}], got (${arr.shape.join(', ')})`, { details: { path: file } });
    }
    const rows = arr.shape[0];
    const expectRows = Math.round(clip.seconds * info.fps);
    if (rows !== expectRows) {
      throw new FileFormatError(`${file}: ${rows} rows but clip ${id} has ${clip.seconds} s at ${info.fps} row/s (${expectRows} rows)`, { details: { path: file } });
    }
    const data = toFloat32(arr);
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) throw new FileFormatError(`${file}: non-finite value at flat index ${i}`, { details: { path: file } });
    }
    return { rows, cols: info.dim, data };
  }

  videoFeatures(extractor: string, id: string): FeatureMatrix {
    return this.features('video', extractor, id);
  }
  audioFeatures(extractor: string, id: string): FeatureMatrix {
    return this.features('audio', extractor, id);
  }

  hasFlow(id: string): boolean {
    return fs.existsSync(this.abs(datasetPaths.flow(id)));
  }

  /** Flow trajectory at `manifest.flowFps`. */
  flow(id: string): Float32Array {
    this.clip(id);
    const file = this.abs(datasetPaths.flow(id));
    if (!fs.existsSync(file)) throw new NotFoundError(`${file} is missing (flow trajectory of clip ${id})`, { details: { path: file } });
    const arr = readNpy(file);
    if (arr.shape.length !== 1) throw new FileFormatError(`${file}: a flow trajectory must be 1-D, got (${arr.shape.join(', ')})`, { details: { path: file } });
    return toFloat32(arr);
  }

  /** AV-Align peak times (s) of one variant and modality; undefined when not stored. */
  peaks(variant: string, modality: Modality, id: string): Float64Array | undefined {
    const file = this.abs(datasetPaths.peaks(variant, modality, id));
    if (!fs.existsSync(file)) return undefined;
    const arr = readNpy(file);
    if (arr.shape.length !== 1) throw new FileFormatError(`${file}: peak times must be 1-D`, { details: { path: file } });
    return arr.data instanceof Float64Array ? arr.data : Float64Array.from(toFloat32(arr));
  }

  /** Rows of segments.csv, or undefined when the dataset has none yet. */
  segments(): SegmentsCsvRow[] | undefined {
    const file = this.abs(datasetPaths.segments);
    if (!fs.existsSync(file)) return undefined;
    return parseSegmentsCsv(fs.readFileSync(file, 'utf8'), file);
  }

  /** Clip ids of a split, or undefined when splits/<name>.txt does not exist. */
  split(name: SplitName): string[] | undefined {
    const file = this.abs(datasetPaths.split(name));
    if (!fs.existsSync(file)) return undefined;
    const ids = fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .map((s) => s.trim())
      .filter((s) => s.length > 0 && !s.startsWith('#'));
    const known = new Set(this.clipIds);
    for (const id of ids) {
      if (!known.has(id)) throw new FileFormatError(`${file}: clip ${id} is not in ${MANIFEST_FILE}`, { details: { path: file } });
    }
    return ids;
  }
}

export interface CreateDatasetOptions {
  name: string;
  kind: DatasetManifest['kind'];
  flowFps: number;
  extractors?: ExtractorInfoInput[];
  provenance?: Record<string, unknown>;
  /**
   * What to do when `dir` already holds a dataset: `error` (default), `resume` (keep its clips —
   * extractors must agree), or `overwrite` (start a new manifest; stale files are ignored and replaced).
   */
  existing?: 'error' | 'resume' | 'overwrite';
}

/**
 * Writes a dataset directory. Every file goes through an atomic write (temp + rename), and a clip is
 * listed in dataset.json only after all its files are written (`addClip`), so a crashed run leaves
 * no half-written file and no listed clip with missing data; re-opening with `existing: 'resume'`
 * skips the finished clips.
 */
export class DatasetWriter {
  private manifest: DatasetManifest;
  private dirty = false;
  private lastSave = 0;

  private constructor(readonly dir: string, manifest: DatasetManifest) {
    this.manifest = manifest;
  }

  static create(dir: string, options: CreateDatasetOptions): DatasetWriter {
    const abs = path.resolve(dir);
    const manifestFile = path.join(abs, MANIFEST_FILE);
    const mode = options.existing ?? 'error';
    const extractors = (options.extractors ?? []).map((e) => {
      const r = extractorInfoSchema.safeParse(e);
      if (!r.success) throw new InvalidArgumentError(`extractor ${JSON.stringify((e as { name?: unknown }).name)}: ${zodMessage(r.error)}`);
      return r.data;
    });
    if (!(options.flowFps > 0)) throw new InvalidArgumentError(`flowFps must be > 0, got ${options.flowFps}`);
    if (fs.existsSync(manifestFile) && mode !== 'overwrite') {
      if (mode === 'error') {
        throw new ConflictError(`${abs} already holds a dataset (${MANIFEST_FILE}); resume it or choose another --out`, { details: { path: abs } });
      }
      const old = readManifestFile(abs);
      for (const e of extractors) {
        const prev = old.extractors.find((x) => x.modality === e.modality && x.name === e.name);
        if (prev && prev.dim !== e.dim) {
          throw new ConflictError(`${manifestFile}: ${e.modality} extractor ${e.name} has dim ${prev.dim}, the resumed run asks for ${e.dim}`);
        }
        if (!prev && old.clips.length > 0) {
          throw new ConflictError(`${manifestFile}: cannot add ${e.modality} extractor ${e.name} on resume: ${old.clips.length} clips were ingested without it`);
        }
        if (!prev) old.extractors.push(e);
      }
      if (old.flowFps !== options.flowFps) {
        throw new ConflictError(`${manifestFile}: flowFps ${old.flowFps} differs from the resumed run's ${options.flowFps}`);
      }
      const w = new DatasetWriter(abs, old);
      w.dirty = true;
      w.save();
      return w;
    }
    const now = new Date().toISOString();
    const manifest = parseManifest(
      {
        format: DATASET_FORMAT,
        version: DATASET_VERSION,
        name: options.name,
        kind: options.kind,
        createdAt: now,
        updatedAt: now,
        flowFps: options.flowFps,
        extractors,
        clips: [],
        failed: [],
        peaks: {},
        provenance: options.provenance ?? {},
      },
      manifestFile,
    );
    const w = new DatasetWriter(abs, manifest);
    w.dirty = true;
    w.save();
    return w;
  }

  /** The manifest as it stands (a copy). */
  get current(): DatasetManifest {
    return structuredClone(this.manifest);
  }

  hasClip(id: string): boolean {
    return this.manifest.clips.some((c) => c.id === id);
  }

  /** A clip id derived from `name` that is not used yet (suffix _2, _3, … on collision). */
  uniqueClipId(name: string, reserved: ReadonlySet<string> = new Set()): string {
    const base = clipIdFromName(name);
    let id = base;
    for (let k = 2; this.hasClip(id) || reserved.has(id); k++) id = `${base}_${k}`;
    return id;
  }

  addExtractor(e: ExtractorInfoInput): ExtractorInfo {
    const r = extractorInfoSchema.safeParse(e);
    if (!r.success) throw new InvalidArgumentError(`extractor: ${zodMessage(r.error)}`);
    const prev = this.manifest.extractors.find((x) => x.modality === r.data.modality && x.name === r.data.name);
    if (prev) {
      if (prev.dim !== r.data.dim) throw new ConflictError(`extractor ${prev.modality}/${prev.name} already registered with dim ${prev.dim}`);
      return prev;
    }
    this.manifest.extractors.push(r.data);
    this.dirty = true;
    return r.data;
  }

  private abs(rel: string): string {
    return path.join(this.dir, rel);
  }

  /** Write `[T, D]` features of a clip (atomic). Checks D against the registered extractor. */
  writeFeatures(modality: Modality, extractor: string, id: string, m: FeatureMatrix): void {
    checkId(id);
    const info = this.manifest.extractors.find((x) => x.modality === modality && x.name === extractor);
    if (!info) throw new InvalidArgumentError(`${modality} extractor ${extractor} is not registered in this dataset (call addExtractor first)`);
    if (m.cols !== info.dim) throw new InvalidArgumentError(`clip ${id}: ${modality}/${extractor} features have ${m.cols} columns, extractor dim is ${info.dim}`);
    if (m.data.length !== m.rows * m.cols) throw new InvalidArgumentError(`clip ${id}: feature buffer holds ${m.data.length} values, not ${m.rows}x${m.cols}`);
    for (let i = 0; i < m.data.length; i++) {
      if (!Number.isFinite(m.data[i])) throw new InvalidArgumentError(`clip ${id}: ${modality}/${extractor} feature value ${i} is ${m.data[i]} (must be finite)`);
    }
    // Arrays from worker threads (or another vm realm, as under jest) fail `instanceof`: re-wrap them.
    const data = m.data instanceof Float32Array ? m.data : Float32Array.from(m.data as ArrayLike<number>);
    writeNpy(this.abs(datasetPaths.features(modality, extractor, id)), data, [m.rows, m.cols]);
  }

  writeFlow(id: string, trajectory: ArrayLike<number>): void {
    checkId(id);
    const data = Float32Array.from(trajectory);
    for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) throw new InvalidArgumentError(`clip ${id}: flow sample ${i} is not finite`);
    writeNpy(this.abs(datasetPaths.flow(id)), data);
  }

  /** Peak times in seconds (float64, ascending). */
  writePeaks(variant: string, modality: Modality, id: string, times: ArrayLike<number>): void {
    checkId(id);
    checkName(variant, 'peak variant');
    const data = Float64Array.from(times);
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i]) || data[i] < 0) throw new InvalidArgumentError(`clip ${id}: ${variant}/${modality} peak ${i} is ${data[i]}`);
      if (i > 0 && data[i] < data[i - 1]) throw new InvalidArgumentError(`clip ${id}: ${variant}/${modality} peaks are not ascending`);
    }
    writeNpy(this.abs(datasetPaths.peaks(variant, modality, id)), data);
  }

  /** Declare a peak variant (which modalities it has and how it was computed). */
  setPeakVariant(variant: string, info: { video: boolean; audio: boolean; description: string }): void {
    checkName(variant, 'peak variant');
    this.manifest.peaks[variant] = { ...info };
    this.dirty = true;
  }

  /**
   * List a clip whose files are written. Checks that every registered extractor's file exists for it
   * (video extractors only for video clips) and that the flow file exists for video clips.
   */
  addClip(entry: ClipEntryInput): ClipEntry {
    const r = clipEntrySchema.safeParse(entry);
    if (!r.success) throw new InvalidArgumentError(`clip ${JSON.stringify(entry.id)}: ${zodMessage(r.error)}`);
    const c = r.data;
    if (this.hasClip(c.id)) throw new ConflictError(`clip ${c.id} is already in the dataset`);
    for (const e of this.manifest.extractors) {
      if (e.modality === 'video' && c.kind !== 'video') continue;
      if (e.modality === 'audio' && !c.hasAudio) continue;
      const f = this.abs(datasetPaths.features(e.modality, e.name, c.id));
      if (!fs.existsSync(f)) throw new InvalidArgumentError(`clip ${c.id}: ${f} must be written before the clip is listed`);
    }
    if (c.kind === 'video' && !fs.existsSync(this.abs(datasetPaths.flow(c.id)))) {
      throw new InvalidArgumentError(`clip ${c.id}: flow/${c.id}.npy must be written before the clip is listed`);
    }
    this.manifest.failed = this.manifest.failed.filter((f) => f.id !== c.id);
    this.manifest.clips.push(c);
    this.dirty = true;
    this.maybeSave();
    return c;
  }

  /** Record a clip that failed or was skipped (replaces an earlier record of the same source). */
  addFailure(f: FailedEntry): void {
    const r = failedEntrySchema.safeParse(f);
    if (!r.success) throw new InvalidArgumentError(`failure record: ${zodMessage(r.error)}`);
    this.manifest.failed = this.manifest.failed.filter((x) => x.source !== f.source);
    this.manifest.failed.push(r.data);
    this.dirty = true;
    this.maybeSave();
  }

  /** Write segments.csv (atomic) and record its parameters. */
  writeSegments(rows: readonly SegmentsCsvRow[], params: Record<string, unknown>, skipped: Array<{ id: string; reason: string }> = []): void {
    const known = new Set(this.manifest.clips.map((c) => c.id));
    for (const r of rows) if (!known.has(r.vid)) throw new InvalidArgumentError(`segments.csv: clip ${r.vid} is not in the dataset`);
    writeFileAtomic(this.abs(datasetPaths.segments), formatSegmentsCsv(rows));
    this.manifest.segments = { file: 'segments.csv', params, skipped };
    this.dirty = true;
  }

  /** Write splits/{train,val,test}.txt (atomic). Every id must be a listed clip; splits must be disjoint. */
  writeSplits(splits: Record<SplitName, readonly string[]>): void {
    const known = new Set(this.manifest.clips.map((c) => c.id));
    const seen = new Set<string>();
    for (const name of SPLIT_NAMES) {
      for (const id of splits[name]) {
        if (!known.has(id)) throw new InvalidArgumentError(`split ${name}: clip ${id} is not in the dataset`);
        if (seen.has(id)) throw new InvalidArgumentError(`split ${name}: clip ${id} is in more than one split`);
        seen.add(id);
      }
    }
    for (const name of SPLIT_NAMES) writeFileAtomic(this.abs(datasetPaths.split(name)), splits[name].map((id) => `${id}\n`).join(''));
    this.manifest.splits = { train: splits.train.length, val: splits.val.length, test: splits.test.length };
    this.dirty = true;
  }

  setProvenance(key: string, value: unknown): void {
    this.manifest.provenance[key] = value;
    this.dirty = true;
  }

  private maybeSave(): void {
    // Rewriting dataset.json after every clip is O(n²) for big datasets: throttle to one write per second.
    if (Date.now() - this.lastSave >= 1000) this.save();
  }

  /** Write dataset.json now (atomic) if anything changed. */
  save(): void {
    if (!this.dirty) return;
    this.manifest.updatedAt = new Date().toISOString();
    const checked = parseManifest(this.manifest, path.join(this.dir, MANIFEST_FILE));
    writeJsonAtomic(path.join(this.dir, MANIFEST_FILE), checked);
    this.dirty = false;
    this.lastSave = Date.now();
  }

  /** Save and return a reader over the finished dataset. */
  close(): Dataset {
    this.save();
    return Dataset.open(this.dir);
  }
}
