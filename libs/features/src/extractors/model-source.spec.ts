import { createHash } from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { InvalidArgumentError, IoError, NotFoundError } from '@vmr/core';
import { ensureModelFiles, isOffline, modelCacheDir, parseModelArgs, parseModelSource } from './model-source';

/** A loopback HTTP server holding a few files in the Hugging Face `resolve` layout; counts requests. */
function startServer(files: Record<string, Buffer>): Promise<{ url: string; requests: Array<{ path: string; range?: string }>; close: () => Promise<void> }> {
  const requests: Array<{ path: string; range?: string }> = [];
  const server = http.createServer((req, res) => {
    requests.push({ path: req.url ?? '', range: req.headers.range });
    if (req.url === '/moved/config.json') {
      res.writeHead(302, { location: '/org/tiny/resolve/main/config.json' });
      res.end();
      return;
    }
    const m = /^\/org\/tiny\/resolve\/main\/(.+)$/.exec(req.url ?? '');
    const body = m ? files[decodeURIComponent(m[1])] : undefined;
    if (!body) {
      res.writeHead(404);
      res.end('not found');
      return;
    }
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range) {
      const from = Number(range[1]);
      res.writeHead(206, { 'content-length': body.length - from, 'x-repo-commit': 'abc123' });
      res.end(body.subarray(from));
    } else {
      res.writeHead(200, { 'content-length': body.length, 'x-repo-commit': 'abc123' });
      res.end(body);
    }
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((r) => server.close(() => r())) });
    }),
  );
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('--model flags', () => {
  it('name=source pairs (the source may hold "="); none given is undefined; a malformed flag names --model', () => {
    expect(parseModelArgs(['clip=openai/clip-vit-base-patch32', 'vggish=/m/vggish.onnx', 'i3d=https://h/x?a=b'])).toEqual({ clip: 'openai/clip-vit-base-patch32', vggish: '/m/vggish.onnx', i3d: 'https://h/x?a=b' });
    expect(parseModelArgs(undefined)).toBeUndefined();
    expect(parseModelArgs([])).toBeUndefined();
    for (const bad of ['clip', '=x', 'clip=']) expect(() => parseModelArgs([bad])).toThrow(InvalidArgumentError);
    expect(() => parseModelArgs(['clip'])).toThrow(/--model expects name=source .* got "clip"/);
  });
});

describe('model sources, cache and downloads (offline: a loopback server)', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-models-'));
  const files = { 'config.json': Buffer.from('{"model_type":"clip"}'), 'onnx/vision_model.onnx': Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 251)) };

  it('parses repo ids, URLs and local paths; cache dir and offline flag from the environment', () => {
    expect(parseModelSource('Xenova/clip-vit-base-patch32')).toMatchObject({ kind: 'huggingface', repo: 'Xenova/clip-vit-base-patch32', revision: 'main' });
    expect(parseModelSource('hf:org/m@v1.0')).toMatchObject({ kind: 'huggingface', repo: 'org/m', revision: 'v1.0' });
    expect(parseModelSource('https://example.org/x/vggish.onnx')).toMatchObject({ kind: 'url', url: 'https://example.org/x/vggish.onnx' });
    expect(parseModelSource(tmp)).toMatchObject({ kind: 'local', path: tmp });
    expect(parseModelSource('./models/vggish.onnx')).toMatchObject({ kind: 'local', path: path.resolve('models/vggish.onnx') });
    expect(() => parseModelSource('not a source')).toThrow(/neither an existing file or folder, an http\(s\) URL, nor a Hugging Face repo id/);
    expect(modelCacheDir({ VMR_MODEL_CACHE: '/x/cache' })).toBe('/x/cache');
    expect(modelCacheDir({ XDG_CACHE_HOME: '/y' })).toBe('/y/vmr/models');
    expect(modelCacheDir({ HOME: os.homedir() })).toBe(path.join(os.homedir(), '.cache', 'vmr', 'models'));
    expect(isOffline(undefined, { VMR_OFFLINE: '1' })).toBe(true);
    expect(isOffline(undefined, {})).toBe(false);
    expect(isOffline(false, { VMR_OFFLINE: '1' })).toBe(false); // an explicit option wins
  });

  it('downloads a repo once (sha256 recorded), then serves it from the cache with no request', async () => {
    const srv = await startServer(files);
    try {
      const cacheDir = path.join(tmp, 'cache1');
      const src = parseModelSource('org/tiny');
      const a = await ensureModelFiles('clip', src, ['config.json', 'onnx/vision_model.onnx'], { cacheDir, endpoint: srv.url, offline: false });
      expect(a.fromCache).toBe(false);
      expect(srv.requests.map((r) => r.path)).toEqual(['/org/tiny/resolve/main/config.json', '/org/tiny/resolve/main/onnx/vision_model.onnx']);
      expect(a.files.map((f) => [f.path, f.sha256, f.sizeBytes])).toEqual([
        ['config.json', sha(files['config.json']), files['config.json'].length],
        ['onnx/vision_model.onnx', sha(files['onnx/vision_model.onnx']), 5000],
      ]);
      expect(a.resolvedRevision).toBe('abc123');
      expect(fs.readFileSync(path.join(a.dir, 'onnx/vision_model.onnx'))).toEqual(files['onnx/vision_model.onnx']);
      expect(JSON.parse(fs.readFileSync(path.join(a.dir, 'vmr-model.json'), 'utf8')).files).toHaveLength(2);
      // second call: the cache answers, the server sees nothing (also offline)
      const b = await ensureModelFiles('clip', src, ['config.json', 'onnx/vision_model.onnx'], { cacheDir, endpoint: srv.url, offline: true });
      expect(b.fromCache).toBe(true);
      expect(b.files).toEqual(a.files);
      expect(srv.requests).toHaveLength(2);
    } finally {
      await srv.close();
    }
  });

  it('offline with an empty cache: one clear error naming the model and how to provide it; no request', async () => {
    const srv = await startServer(files);
    try {
      const p = ensureModelFiles('clip', parseModelSource('org/tiny'), ['config.json'], { cacheDir: path.join(tmp, 'empty'), endpoint: srv.url, offline: true });
      await expect(p).rejects.toThrow(NotFoundError);
      await expect(p).rejects.toThrow(/model for extractor clip \(org\/tiny@main\) is not in the model cache .* offline mode is on \(--offline \/ VMR_OFFLINE=1\).*--model clip=<local folder or file>/);
      expect(srv.requests).toHaveLength(0);
    } finally {
      await srv.close();
    }
  });

  it('resumes a partial download with a Range request and never leaves a half-written file', async () => {
    const srv = await startServer(files);
    try {
      const cacheDir = path.join(tmp, 'cache2');
      const src = parseModelSource('org/tiny');
      const body = files['onnx/vision_model.onnx'];
      // a previous run died after 1200 bytes
      const dir = path.join(cacheDir, 'huggingface', 'org', 'tiny', 'main');
      fs.mkdirSync(path.join(dir, 'onnx'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'onnx', 'vision_model.onnx.part'), body.subarray(0, 1200));
      expect(fs.existsSync(path.join(dir, 'onnx', 'vision_model.onnx'))).toBe(false);
      const r = await ensureModelFiles('clip', src, ['onnx/vision_model.onnx'], { cacheDir, endpoint: srv.url, offline: false });
      expect(srv.requests).toEqual([{ path: '/org/tiny/resolve/main/onnx/vision_model.onnx', range: 'bytes=1200-' }]);
      expect(r.files[0].sha256).toBe(sha(body));
      expect(fs.existsSync(path.join(dir, 'onnx', 'vision_model.onnx.part'))).toBe(false);
    } finally {
      await srv.close();
    }
  });

  it('follows redirects for URL sources; a missing file is an IoError naming the URL and the --model flag', async () => {
    const srv = await startServer(files);
    try {
      const cacheDir = path.join(tmp, 'cache3');
      const r = await ensureModelFiles('vggish', parseModelSource(`${srv.url}/moved/config.json`), ['vggish.onnx'], { cacheDir, offline: false });
      expect(r.files[0]).toMatchObject({ path: 'vggish.onnx', sha256: sha(files['config.json']) });
      expect(srv.requests.map((q) => q.path)).toEqual(['/moved/config.json', '/org/tiny/resolve/main/config.json']);
      const p = ensureModelFiles('vggish', parseModelSource(`${srv.url}/nope.onnx`), ['vggish.onnx'], { cacheDir, offline: false });
      await expect(p).rejects.toThrow(IoError);
      await expect(p).rejects.toThrow(/extractor vggish: cannot download vggish.onnx from http:\/\/127.0.0.1:\d+\/nope.onnx \(HTTP 404\).*--model vggish=/);
    } finally {
      await srv.close();
    }
  });

  it('local folders: missing files are named; hashes are recorded', async () => {
    const dir = path.join(tmp, 'local');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'i3d_rgb.onnx'), 'rgb');
    await expect(ensureModelFiles('i3d', parseModelSource(dir), ['i3d_rgb.onnx', 'i3d_flow.onnx'])).rejects.toThrow(/model folder for extractor i3d \(.*local\) has no i3d_flow.onnx/);
    fs.writeFileSync(path.join(dir, 'i3d_flow.onnx'), 'flow');
    const r = await ensureModelFiles('i3d', parseModelSource(dir), ['i3d_rgb.onnx', 'i3d_flow.onnx']);
    expect(r.files.map((f) => f.sha256)).toEqual([sha(Buffer.from('rgb')), sha(Buffer.from('flow'))]);
    await expect(ensureModelFiles('vggish', parseModelSource(path.join(tmp, 'nowhere.onnx')), ['vggish.onnx'])).rejects.toThrow(/model for extractor vggish not found: .*nowhere.onnx does not exist/);
  });
});
