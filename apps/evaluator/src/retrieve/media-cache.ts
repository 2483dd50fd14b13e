import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FileFormatError, NotFoundError, sha256File } from '@vmr/core';
import { Dataset, ingestMedia, type ClipEntry } from '@vmr/data';

/**
 * Where `vmr retrieve` and `vmr listen` keep ingested media and previews: `--cache DIR`, else
 * `$VMR_CACHE_DIR`, else `$XDG_CACHE_HOME/vmr`, else `~/.cache/vmr`. Ingested files live under
 * `<cache>/media/<sha256 of the file>/<extractor key>/` (a one-clip dataset directory, the same format
 * `vmr ingest` writes), previews under `<cache>/previews/`.
 */
export function resolveCacheDir(explicit?: string): string {
  const set = (v: string | undefined) => (v && v.trim() ? v.trim() : undefined);
  const dir = set(explicit) ?? set(process.env.VMR_CACHE_DIR) ?? path.join(set(process.env.XDG_CACHE_HOME) ?? path.join(os.homedir(), '.cache'), 'vmr');
  return path.resolve(dir);
}


export interface IngestedMedia {
  file: string;
  sha256: string;
  /** The one-clip dataset directory in the cache. */
  dir: string;
  dataset: Dataset;
  clip: ClipEntry;
  /** True when the cache already held it (nothing was decoded). */
  cached: boolean;
}

export interface MediaCacheOptions {
  cacheDir: string;
  videoFeatures: string[];
  audioFeatures: string[];
  modelPaths?: Record<string, string>;
  /** Names the input in errors, e.g. `VIDEO argument` or `--gallery`. */
  role: string;
}

/**
 * Ingest one media file through `vmr ingest`'s path (probe → decode → flow → per-second features →
 * AV-Align peaks), cached by the file's sha256 and the extractor settings: a second call with the same
 * bytes decodes nothing. Silent / audio-less videos are kept (`hasAudio: false`) so callers decide.
 * @throws NotFoundError / FileFormatError naming the file and `role` when the file cannot be ingested.
 */
export async function ingestCached(file: string, o: MediaCacheOptions): Promise<IngestedMedia> {
  const abs = path.resolve(file);
  if (!fs.existsSync(abs) || !fs.statSync(abs).isFile()) throw new NotFoundError(`${o.role} ${file} does not exist or is not a file`, { details: { path: abs } });
  const sha256 = sha256File(abs);
  const modelPaths = Object.fromEntries(Object.entries(o.modelPaths ?? {}).map(([k, v]) => [k, path.resolve(v)]).sort());
  const key = createHash('sha256')
    .update(JSON.stringify({ v: o.videoFeatures, a: o.audioFeatures, m: modelPaths }))
    .digest('hex')
    .slice(0, 16);
  const dir = path.join(o.cacheDir, 'media', sha256, key);
  const open = (cached: boolean): IngestedMedia => {
    const dataset = Dataset.open(dir);
    const clip = dataset.clips[0];
    return { file: abs, sha256, dir, dataset, clip, cached };
  };
  if (fs.existsSync(path.join(dir, 'dataset.json'))) {
    try {
      const r = open(true);
      if (r.clip) return r;
    } catch {
      // a damaged cache entry is rebuilt below
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  try {
    const summary = await ingestMedia({
      inputs: [abs],
      out: tmp,
      name: `cache-${sha256.slice(0, 12)}`,
      videoFeatures: o.videoFeatures,
      audioFeatures: o.audioFeatures,
      modelPaths,
      workers: 0,
      allowSilent: true,
      segments: false,
      split: false,
      quiet: true,
      overwrite: true,
    });
    if (summary.failed.length > 0 || summary.ingested + summary.resumed === 0) {
      const f = summary.failed[0];
      const msg = (f ? f.message.split(`${abs}: `).join('') : 'nothing was ingested').replace(/\s*\n\s*/g, ' ').trim();
      throw new FileFormatError(`${o.role} ${file}: ${msg}`, { details: { path: abs, reason: f?.reason } });
    }
    try {
      fs.renameSync(tmp, dir);
    } catch (e) {
      // another process cached the same file meanwhile: keep theirs
      if (!fs.existsSync(path.join(dir, 'dataset.json'))) throw e;
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return open(false);
}
