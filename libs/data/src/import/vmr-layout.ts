import * as fs from 'fs';
import * as path from 'path';
import { errorMessage, FileFormatError, InvalidArgumentError, NotFoundError, parseCsv, parsePyNumberList, readNpy } from '@vmr/core';
import type { SegmentsCsvRow } from '@vmr/segmentation';
import { DatasetWriter, clipIdFromName } from '../dataset/dataset';
import { CLIP_ID_PATTERN, type FailedEntry, type SplitName } from '../dataset/schema';

/** Feature folders of the reference code's layout (DESIGN.md §2.1) → our extractor names. */
export const VMR_LAYOUT_FOLDERS: ReadonlyArray<{ folder: string; name: string; modality: 'video' | 'audio'; note: string }> = [
  { folder: 'resnet/resnet101', name: 'resnet', modality: 'video', note: 'ResNet-101, 1 fps' },
  { folder: 'clip/ViT-B_32', name: 'clip', modality: 'video', note: 'CLIP ViT-B/32, 1 fps' },
  { folder: 'i3d', name: 'i3d', modality: 'video', note: 'I3D flow ‖ rgb (1024 + 1024), 1 fps' },
  { folder: 'vggish', name: 'vggish', modality: 'audio', note: 'VGGish, 1 fps (float64 in the source, stored float32)' },
];

export type SegmentUnits = 'seconds' | 'samples' | 'auto';

export interface ImportVmrLayoutOptions {
  dir: string;
  out: string;
  name?: string;
  /** Sample rate of flow/<id>.npy (reference: 3). */
  flowFps?: number;
  /** Units of ranks.csv segment bounds; `auto` picks samples when bounds exceed the clip's seconds. */
  segmentUnits?: SegmentUnits;
  overwrite?: boolean;
}

export interface ImportSummary {
  out: string;
  clips: number;
  extractors: Array<{ name: string; modality: string; dim: number }>;
  failed: FailedEntry[];
  segments: number;
  splits: Record<SplitName, number>;
}

function npyIds(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.npy'))
    .map((f) => f.slice(0, -4))
    .sort();
}

/** Read one of `train_<feat>.csv` / `test_<feat>.csv`: the id column (vid/id/video/name, else the first). */
export function readIdListCsv(file: string): string[] {
  const rows = parseCsv(fs.readFileSync(file, 'utf8'), file);
  if (rows.length === 0) return [];
  const header = rows[0].map((h) => h.trim().toLowerCase());
  const named = header.findIndex((h) => ['vid', 'id', 'video', 'video_id', 'name', 'file'].includes(h));
  let col: number;
  let body: string[][];
  if (named >= 0) {
    col = named;
    body = rows.slice(1);
  } else if (header[0] === '' || header[0] === 'unnamed: 0') {
    col = 1; // pandas index column, unnamed id column
    body = rows.slice(1);
  } else {
    // a bare list of ids, maybe "index,id" pairs
    col = rows.every((r) => r.length > 1 && /^\d+$/.test(r[0].trim())) ? 1 : 0;
    body = rows;
  }
  return body.map((r) => (r[col] ?? '').trim().replace(/\.(npy|mp4|webm|mkv|avi|mov)$/i, '')).filter((x) => x.length > 0);
}

/** Parse the reference code's flow/ranks.csv (numpy-repr ranks, python-list segments). */
export function parseRanksCsv(text: string, source: string): Array<{ vid: string; ranks: number[]; segments: Array<[number, number]>; top: [number, number]; bottom: [number, number] }> {
  const rows = parseCsv(text, source);
  if (rows.length === 0) throw new FileFormatError(`${source}: empty file`, { details: { path: source } });
  const header = rows[0].map((h) => h.trim());
  const need = ['vid', 'ranks', 'segments', 'top_start', 'top_end', 'bottom_start', 'bottom_end'];
  const idx = Object.fromEntries(need.map((k) => [k, header.indexOf(k)]));
  const missing = need.filter((k) => idx[k] < 0);
  if (missing.length > 0) throw new FileFormatError(`${source}: missing column(s) ${missing.join(', ')} (header: ${header.join(',')})`, { details: { path: source } });
  return rows.slice(1).map((r, i) => {
    const where = `${source}: row ${i + 2}`;
    const vid = (r[idx.vid] ?? '').trim();
    if (!vid) throw new FileFormatError(`${where}: empty vid`);
    const ranks = parsePyNumberList(r[idx.ranks] ?? '', `${where} ranks`);
    if (ranks.some((x) => Array.isArray(x))) throw new FileFormatError(`${where}: ranks must be a flat list`);
    const segRaw = parsePyNumberList(r[idx.segments] ?? '', `${where} segments`);
    let segments: Array<[number, number]>;
    if (segRaw.length > 0 && Array.isArray(segRaw[0])) {
      segments = (segRaw as number[][]).map((p) => {
        if (p.length !== 2) throw new FileFormatError(`${where}: a segment must be [start, end], got [${p.join(', ')}]`);
        return [p[0], p[1]];
      });
    } else {
      // ruptures-style ends: [e1, e2, …, n] → [0, e1], [e1, e2], …
      const ends = segRaw as number[];
      segments = ends.map((e, k) => [k === 0 ? 0 : ends[k - 1], e]);
    }
    if ((ranks as number[]).length !== segments.length) throw new FileFormatError(`${where}: ${ranks.length} ranks but ${segments.length} segments`);
    const n = (k: string): number => {
      const v = Number((r[idx[k]] ?? '').trim());
      if (!Number.isFinite(v)) throw new FileFormatError(`${where}: ${k} is not a number (${JSON.stringify(r[idx[k]])})`);
      return v;
    };
    return { vid, ranks: ranks as number[], segments, top: [n('top_start'), n('top_end')], bottom: [n('bottom_start'), n('bottom_end')] };
  });
}

/**
 * `vmr import vmr-layout`: convert the reference code's feature folders (resnet/resnet101, clip/ViT-B_32,
 * i3d, vggish (float64), flow, flow/ranks.csv, train_/test_<feat>.csv) into a dataset directory.
 * Each clip's T is the smallest row count over its features (longer ones are cut, noted in meta).
 * Clips missing a feature file are listed as failed, not imported.
 */
export function importVmrLayout(o: ImportVmrLayoutOptions): ImportSummary {
  const dir = path.resolve(o.dir);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new NotFoundError(`vmr-layout directory ${dir} does not exist`, { details: { path: dir } });
  const present = VMR_LAYOUT_FOLDERS.filter((f) => fs.existsSync(path.join(dir, f.folder)));
  if (!present.some((f) => f.modality === 'audio')) throw new NotFoundError(`${dir}: no vggish/ folder (audio features are required)`, { details: { path: dir } });
  if (!present.some((f) => f.modality === 'video')) {
    throw new NotFoundError(`${dir}: no video feature folder (expected one of ${VMR_LAYOUT_FOLDERS.filter((f) => f.modality === 'video').map((f) => f.folder).join(', ')})`, { details: { path: dir } });
  }
  const flowFps = o.flowFps ?? 3;
  const idsPer = present.map((f) => new Set(npyIds(path.join(dir, f.folder))));
  const allIds = [...new Set(idsPer.flatMap((s) => [...s]))].sort();
  // dims from the first file of each folder
  const dims = present.map((f, k) => {
    const first = [...idsPer[k]][0];
    if (!first) throw new FileFormatError(`${path.join(dir, f.folder)}: no .npy files`);
    const a = readNpy(path.join(dir, f.folder, `${first}.npy`));
    if (a.shape.length !== 2) throw new FileFormatError(`${path.join(dir, f.folder, first)}.npy: expected [T, D], got (${a.shape.join(', ')})`);
    return a.shape[1];
  });
  const writer = DatasetWriter.create(o.out, {
    name: o.name ?? path.basename(dir),
    kind: 'imported',
    flowFps,
    existing: o.overwrite ? 'overwrite' : 'error',
    extractors: present.map((f, k) => ({ name: f.name, modality: f.modality, dim: dims[k], fps: 1, provenance: `imported from vmr-layout ${path.join(dir, f.folder)} (${f.note})` })),
    provenance: { import: { layout: 'vmr-layout', dir } },
  });
  const failed: FailedEntry[] = [];
  const imported = new Map<string, number>();
  for (const rawId of allIds) {
    const id = CLIP_ID_PATTERN.test(rawId) ? rawId : clipIdFromName(rawId);
    const fail = (message: string): void => {
      const f: FailedEntry = { source: rawId, id, reason: 'error', status: 'failed', message };
      writer.addFailure(f);
      failed.push(f);
    };
    const missing = present.filter((_, k) => !idsPer[k].has(rawId)).map((f) => `${f.folder}/${rawId}.npy`);
    if (missing.length > 0) {
      fail(`missing ${missing.join(', ')}`);
      continue;
    }
    try {
      const mats = present.map((f, k) => {
        const file = path.join(dir, f.folder, `${rawId}.npy`);
        const a = readNpy(file);
        if (a.shape.length !== 2 || a.shape[1] !== dims[k]) throw new FileFormatError(`${file}: expected [T, ${dims[k]}], got (${a.shape.join(', ')})`);
        return { f, rows: a.shape[0], data: a.data instanceof Float32Array ? a.data : Float32Array.from(a.data as ArrayLike<number>) };
      });
      const T = Math.min(...mats.map((m) => m.rows));
      if (T < 1) {
        fail('a feature file has 0 rows');
        continue;
      }
      for (const m of mats) writer.writeFeatures(m.f.modality, m.f.name, id, { rows: T, cols: m.data.length / m.rows, data: m.data.subarray(0, T * (m.data.length / m.rows)) });
      const flowFile = path.join(dir, 'flow', `${rawId}.npy`);
      let flowLength: number | undefined;
      if (fs.existsSync(flowFile)) {
        const fl = readNpy(flowFile);
        const vals = Float32Array.from(fl.data as ArrayLike<number>);
        writer.writeFlow(id, vals);
        flowLength = vals.length;
      } else {
        fail(`missing flow/${rawId}.npy`);
        continue;
      }
      writer.addClip({
        id,
        kind: 'video',
        durationSec: T,
        seconds: T,
        flowLength,
        hasAudio: true,
        meta: { importedFrom: rawId, rows: Object.fromEntries(mats.map((m) => [m.f.name, m.rows])) },
      });
      imported.set(rawId, T);
    } catch (e) {
      fail(errorMessage(e));
    }
  }
  // segments from flow/ranks.csv
  let segmentRows = 0;
  const ranksFile = path.join(dir, 'flow', 'ranks.csv');
  if (fs.existsSync(ranksFile)) {
    const parsed = parseRanksCsv(fs.readFileSync(ranksFile, 'utf8'), ranksFile);
    const rows: SegmentsCsvRow[] = [];
    const units = o.segmentUnits ?? 'auto';
    let usedUnits: 'seconds' | 'samples' = 'seconds';
    for (const r of parsed) {
      const T = imported.get(r.vid);
      if (T === undefined) continue;
      const maxEnd = Math.max(...r.segments.map((s) => s[1]));
      const asSamples = units === 'samples' || (units === 'auto' && maxEnd > T + 1);
      if (asSamples) usedUnits = 'samples';
      const conv = (x: number): number => (asSamples ? Math.round(x / flowFps) : x);
      const id = CLIP_ID_PATTERN.test(r.vid) ? r.vid : clipIdFromName(r.vid);
      rows.push({
        vid: id,
        ranks: r.ranks,
        segments: r.segments.map(([a, b]) => [conv(a), conv(b)]),
        topStart: conv(r.top[0]),
        topEnd: conv(r.top[1]),
        bottomStart: conv(r.bottom[0]),
        bottomEnd: conv(r.bottom[1]),
      });
    }
    writer.writeSegments(rows, { source: ranksFile, units: usedUnits, flowFps });
    segmentRows = rows.length;
  }
  // splits from train_<feat>.csv / test_<feat>.csv
  const splitFile = (prefix: string): string | undefined => {
    const c = fs.readdirSync(dir).filter((f) => f.startsWith(`${prefix}_`) && f.endsWith('.csv')).sort();
    return c.length > 0 ? path.join(dir, c[0]) : undefined;
  };
  const toIds = (file?: string): string[] =>
    file ? readIdListCsv(file).filter((r) => imported.has(r)).map((r) => (CLIP_ID_PATTERN.test(r) ? r : clipIdFromName(r))) : [];
  const train = toIds(splitFile('train'));
  const test = toIds(splitFile('test')).filter((id) => !train.includes(id));
  const val = toIds(splitFile('val')).filter((id) => !train.includes(id) && !test.includes(id));
  if (train.length + test.length + val.length > 0) writer.writeSplits({ train, val, test });
  writer.close();
  return {
    out: writer.dir,
    clips: imported.size,
    extractors: present.map((f, k) => ({ name: f.name, modality: f.modality, dim: dims[k] })),
    failed,
    segments: segmentRows,
    splits: { train: train.length, val: val.length, test: test.length },
  };
}

/** Raise on obviously wrong option values (CLI boundary). */
export function checkSegmentUnits(v: string): SegmentUnits {
  if (v !== 'seconds' && v !== 'samples' && v !== 'auto') throw new InvalidArgumentError(`--segment-units must be seconds, samples or auto, got ${v}`);
  return v;
}
