import { createHash } from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as os from 'os';
import * as path from 'path';
import { InvalidArgumentError, IoError, NotFoundError, errorMessage, writeJsonAtomic, sha256File } from '@vmr/core';

/**
 * The `--model name=source` flags of `vmr ingest` and `vmr retrieve` (source: a Hugging Face repo id, a
 * URL or a local path) as a name → source map; undefined when no flag was given.
 */
export function parseModelArgs(v: string[] | undefined): Record<string, string> | undefined {
  if (!v || v.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const s of v) {
    const i = s.indexOf('=');
    if (i <= 0 || i === s.length - 1) throw new InvalidArgumentError(`--model expects name=source (Hugging Face repo, URL or local path), got ${JSON.stringify(s)}`);
    out[s.slice(0, i)] = s.slice(i + 1);
  }
  return out;
}

/**
 * Where a pretrained extractor's model files come from:
 * - `huggingface`: a Hugging Face repo id, `org/name` or `org/name@revision` (also `hf:org/name`);
 * - `url`: an `http(s)://` URL of one model file (e.g. a VGGish `.onnx`);
 * - `local`: a folder laid out as the extractor expects, or one model file.
 */
export type ModelSourceKind = 'huggingface' | 'url' | 'local';

export interface ModelSource {
  kind: ModelSourceKind;
  /** The source exactly as the user gave it. */
  spec: string;
  /** `huggingface`: repo id `org/name`. */
  repo?: string;
  /** `huggingface`: branch, tag or commit (default `main`). */
  revision?: string;
  /** `url`: the file URL. */
  url?: string;
  /** `local`: absolute path of the folder or file. */
  path?: string;
}

const HF_REPO = /^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Parse a model source (`--model name=SOURCE`). A path that exists on disk always wins over a repo id. */
export function parseModelSource(spec: string): ModelSource {
  const s = spec.trim();
  if (!s) throw new InvalidArgumentError('empty model source');
  if (/^https?:\/\//i.test(s)) return { kind: 'url', spec, url: s };
  const hf = s.startsWith('hf:') ? s.slice(3) : undefined;
  const expanded = s.startsWith('~/') ? path.join(os.homedir(), s.slice(2)) : s;
  if (hf === undefined && (fs.existsSync(expanded) || /^(\.{0,2}\/|~\/)/.test(s) || path.isAbsolute(s) || /\.(onnx|json)$/i.test(s))) {
    return { kind: 'local', spec, path: path.resolve(expanded) };
  }
  const [repo, revision] = (hf ?? s).split('@');
  if (!HF_REPO.test(repo) || repo.includes('..') || (revision !== undefined && !/^[A-Za-z0-9._/-]+$/.test(revision))) {
    throw new InvalidArgumentError(`model source ${JSON.stringify(spec)} is neither an existing file or folder, an http(s) URL, nor a Hugging Face repo id (org/name[@revision])`);
  }
  return { kind: 'huggingface', spec, repo, revision: revision || 'main' };
}

/** Model cache directory: `$VMR_MODEL_CACHE`, else `$XDG_CACHE_HOME/vmr/models`, else `~/.cache/vmr/models`. */
export function modelCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.VMR_MODEL_CACHE) return path.resolve(env.VMR_MODEL_CACHE);
  const base = env.XDG_CACHE_HOME ? env.XDG_CACHE_HOME : path.join(os.homedir(), '.cache');
  return path.join(base, 'vmr', 'models');
}

/** Offline mode: the option if given, else `VMR_OFFLINE` (or `HF_HUB_OFFLINE`) set to 1/true/yes. */
export function isOffline(option?: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  if (option !== undefined) return option;
  const on = (v: string | undefined): boolean => v !== undefined && /^(1|true|yes|on)$/i.test(v.trim());
  return on(env.VMR_OFFLINE) || on(env.HF_HUB_OFFLINE);
}

/** Hugging Face endpoint: `$HF_ENDPOINT` or https://huggingface.co. */
export function huggingFaceEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  return (env.HF_ENDPOINT || 'https://huggingface.co').replace(/\/+$/, '');
}

export interface ModelFileRecord {
  /** Path relative to the model folder (the repo's layout). */
  path: string;
  sha256: string;
  sizeBytes: number;
  /** Where it was downloaded from (absent for local files). */
  url?: string;
}

/** A model's files on local disk, with what they are. */
export interface ResolvedModelFiles {
  source: ModelSource;
  /** Folder holding `files[i].path`. */
  dir: string;
  files: ModelFileRecord[];
  /** Commit the Hugging Face revision resolved to (from the `X-Repo-Commit` header), when known. */
  resolvedRevision?: string;
  /** True when the files came from the cache (no network on this call). */
  fromCache: boolean;
}

export interface ModelFetchOptions {
  /** Cache root (default `modelCacheDir()`). */
  cacheDir?: string;
  /** Never touch the network (default: `isOffline()`). */
  offline?: boolean;
  /** Hugging Face endpoint (default `huggingFaceEndpoint()`; tests point it at a loopback server). */
  endpoint?: string;
  /** Bearer token for Hugging Face (default `$HF_TOKEN`). */
  token?: string;
  /** Called with bytes done / total (total 0 when unknown) while downloading. */
  onProgress?: (file: string, done: number, total: number) => void;
}

/** How an extractor tells the user to provide a model (names the CLI flags). */
export function missingModelHint(extractor: string): string {
  return `run once with internet (\`vmr models fetch ${extractor}\`, or any \`vmr ingest\` with it), or pass --model ${extractor}=<local folder or file>`;
}

const MANIFEST = 'vmr-model.json';

function cacheFolder(root: string, source: ModelSource): string {
  if (source.kind === 'huggingface') return path.join(root, 'huggingface', ...source.repo!.split('/'), source.revision!.replace(/[^A-Za-z0-9._-]/g, '_'));
  const u = new URL(source.url!);
  const key = createHash('sha256').update(source.url!).digest('hex').slice(0, 16);
  return path.join(root, 'url', `${key}-${path.basename(u.pathname) || 'model'}`.replace(/[^A-Za-z0-9._-]/g, '_'));
}


function readManifest(dir: string): { files: ModelFileRecord[]; resolvedRevision?: string } | undefined {
  try {
    const m = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST), 'utf8')) as { files: ModelFileRecord[]; resolvedRevision?: string };
    if (!Array.isArray(m.files)) return undefined;
    for (const f of m.files) {
      const st = fs.statSync(path.join(dir, f.path), { throwIfNoEntry: false });
      if (!st || st.size !== f.sizeBytes) return undefined;
    }
    return m;
  } catch {
    return undefined;
  }
}

/**
 * Make a model's files available locally and say what they are (sha256 of each).
 * - `local`: checks the files exist (a single-file source stands for `files[0]`) and hashes them;
 * - `huggingface` / `url`: returns the cached copy under `cacheDir` when its manifest lists every file,
 *   else downloads them (HTTP, resumable `.part` files, atomic rename, sha256 recorded in
 *   `vmr-model.json`). Offline, a missing cache entry is a `NotFoundError` naming the model and how to
 *   provide it; the network is never touched.
 * `files` are paths in the repo's layout; for a `url` source only `files[0]` is fetched (the URL's file).
 */
export async function ensureModelFiles(extractor: string, source: ModelSource, files: readonly string[], options: ModelFetchOptions = {}): Promise<ResolvedModelFiles> {
  if (files.length === 0) throw new InvalidArgumentError(`extractor ${extractor}: no model files requested`);
  if (source.kind === 'local') return localFiles(extractor, source, files);
  const root = options.cacheDir ?? modelCacheDir();
  const dir = cacheFolder(root, source);
  const wanted = source.kind === 'url' ? [files[0]] : [...files];
  const cached = readManifest(dir);
  if (cached && wanted.every((f) => cached.files.some((c) => c.path === f))) {
    return { source, dir, files: wanted.map((f) => cached.files.find((c) => c.path === f)!), resolvedRevision: cached.resolvedRevision, fromCache: true };
  }
  const what = source.kind === 'huggingface' ? `${source.repo}@${source.revision}` : source.url!;
  if (isOffline(options.offline)) {
    throw new NotFoundError(`model for extractor ${extractor} (${what}) is not in the model cache ${dir} and offline mode is on (--offline / VMR_OFFLINE=1): ${missingModelHint(extractor)}`, {
      details: { extractor, source: source.spec, cacheDir: dir },
    });
  }
  const endpoint = (options.endpoint ?? huggingFaceEndpoint()).replace(/\/+$/, '');
  const token = options.token ?? process.env.HF_TOKEN;
  const records: ModelFileRecord[] = [];
  let resolvedRevision: string | undefined;
  for (const f of wanted) {
    const url =
      source.kind === 'huggingface'
        ? `${endpoint}/${source.repo}/resolve/${encodeURIComponent(source.revision!)}/${f.split('/').map(encodeURIComponent).join('/')}`
        : source.url!;
    const target = path.join(dir, f);
    const headers: Record<string, string> = { 'user-agent': 'vmr-lab' };
    if (source.kind === 'huggingface' && token) headers.authorization = `Bearer ${token}`;
    let r: { commit?: string };
    try {
      r = await downloadFile(url, target, headers, (d, t) => options.onProgress?.(f, d, t));
    } catch (e) {
      throw new IoError(`extractor ${extractor}: cannot download ${f} from ${url} (${errorMessage(e)}); ${missingModelHint(extractor)}`, { cause: e, details: { extractor, url } });
    }
    resolvedRevision ??= r.commit;
    const st = fs.statSync(target);
    records.push({ path: f, sha256: sha256File(target), sizeBytes: st.size, url });
  }
  const merged = [...(cached?.files ?? []).filter((c) => !records.some((r) => r.path === c.path)), ...records];
  writeJsonAtomic(path.join(dir, MANIFEST), { source: source.spec, kind: source.kind, repo: source.repo, revision: source.revision, resolvedRevision, downloadedAt: new Date().toISOString(), files: merged });
  return { source, dir, files: records, resolvedRevision, fromCache: false };
}

function localFiles(extractor: string, source: ModelSource, files: readonly string[]): ResolvedModelFiles {
  const p = source.path!;
  const st = fs.statSync(p, { throwIfNoEntry: false });
  if (!st) throw new NotFoundError(`model for extractor ${extractor} not found: ${p} does not exist; pass --model ${extractor}=<folder or file>`, { details: { extractor, path: p } });
  if (st.isFile()) {
    return { source, dir: path.dirname(p), files: [{ path: path.basename(p), sha256: sha256File(p), sizeBytes: st.size }], fromCache: false };
  }
  const out: ModelFileRecord[] = [];
  for (const f of files) {
    const file = path.join(p, f);
    const fst = fs.statSync(file, { throwIfNoEntry: false });
    if (!fst?.isFile()) {
      throw new NotFoundError(`model folder for extractor ${extractor} (${p}) has no ${f}; expected files: ${files.join(', ')}`, { details: { extractor, path: file } });
    }
    out.push({ path: f, sha256: sha256File(file), sizeBytes: fst.size });
  }
  return { source, dir: p, files: out, fromCache: false };
}

/**
 * GET `url` into `target` through `target.part`: an existing `.part` is resumed with a Range request
 * (a server that answers 200 restarts it), redirects are followed (5 at most), and the finished file
 * is fsynced and renamed into place, so `target` is never half-written.
 */
export async function downloadFile(url: string, target: string, headers: Record<string, string> = {}, onProgress?: (done: number, total: number) => void): Promise<{ commit?: string }> {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const part = `${target}.part`;
  let commit: string | undefined;
  let current = url;
  for (let hop = 0; hop < 6; hop++) {
    const have = fs.statSync(part, { throwIfNoEntry: false })?.size ?? 0;
    const h = { ...headers, ...(have > 0 ? { range: `bytes=${have}-` } : {}) };
    const res = await request(current, h);
    commit ??= header(res, 'x-repo-commit');
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && res.headers.location) {
      res.resume();
      const next = new URL(res.headers.location, current).toString();
      // credentials stay with the origin that was asked
      if (new URL(next).host !== new URL(url).host) delete headers.authorization;
      current = next;
      continue;
    }
    if (status === 416 && have > 0) {
      // the .part already holds the whole file
      res.resume();
      break;
    }
    if (status !== 200 && status !== 206) {
      res.resume();
      throw new Error(`HTTP ${status}${status === 401 || status === 403 ? ' (gated or private: set HF_TOKEN)' : ''}`);
    }
    const append = status === 206 && have > 0;
    const total = Number(res.headers['content-length'] ?? 0) + (append ? have : 0);
    await new Promise<void>((resolve, reject) => {
      const out = fs.createWriteStream(part, { flags: append ? 'a' : 'w' });
      let done = append ? have : 0;
      res.on('data', (c: Buffer) => {
        done += c.length;
        onProgress?.(done, total);
      });
      res.on('error', reject);
      out.on('error', reject);
      out.on('finish', resolve);
      res.pipe(out);
    });
    const size = fs.statSync(part).size;
    if (total > 0 && size !== total) throw new Error(`connection closed after ${size} of ${total} bytes (run again to resume)`);
    break;
  }
  if (!fs.existsSync(part)) throw new Error('too many redirects');
  const fd = fs.openSync(part, 'r+');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(part, target);
  return { commit };
}

function header(res: http.IncomingMessage, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function request(url: string, headers: Record<string, string>): Promise<http.IncomingMessage> {
  const lib = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.get(url, { headers, timeout: 60_000 }, resolve);
    req.on('timeout', () => req.destroy(new Error('timed out after 60 s without data')));
    req.on('error', reject);
  });
}
