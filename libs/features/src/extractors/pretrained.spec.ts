import { execFile, execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConflictError, InvalidArgumentError, NotFoundError } from '@vmr/core';
import { ffmpegBinaries } from '../media/ffmpeg-binaries';
import { decodeAudio } from '../media/decode';
import { I3D, i3dFlowValue } from './i3d-input';
import { CLIP_PREPROCESSING, type ImagePreprocessing, RESNET_PREPROCESSING } from './image-preprocess';
import { type ExtractorProvenance, assertSameExtractor, resolveExtractor } from './pretrained';
import { serveModelFolders, tinyWeights, writeTinyModel } from './testing/tiny-onnx';
import { VGGISH, vggishExamples } from './vggish-input';

const ROOT = path.resolve(__dirname, '../../../..');
const NAMES = ['clip', 'resnet', 'vggish', 'i3d'] as const;

/**
 * onnxruntime-node's native outputs fail `instanceof Float32Array` inside jest's sandboxed realm, so
 * the extractors run in a plain Node child process (the code path `vmr ingest` uses).
 */
function runChild(tmp: string, body: string): Promise<Record<string, unknown>> {
  const script = path.join(tmp, `child-${Math.random().toString(36).slice(2)}.ts`);
  fs.writeFileSync(
    script,
    `import { resolveExtractor } from ${JSON.stringify(path.join(__dirname, 'pretrained'))};\n` +
      `(async () => { const out: Record<string, unknown> = {}; ${body}; process.stdout.write(JSON.stringify(out)); })().catch((e) => { console.error(e?.message ?? e); process.exit(1); });\n`,
  );
  return new Promise((resolve, reject) =>
    execFile(process.execPath, ['-r', 'tsx/cjs', script], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, VMR_OFFLINE: '' } }, (err, stdout, stderr) =>
      err ? reject(new Error(`child failed: ${stderr || err.message}`)) : resolve(JSON.parse(stdout)),
    ),
  );
}

const COLOURS: Array<[number, number, number]> = [[255, 0, 0], [0, 255, 0], [0, 0, 255]]; // seconds 0, 1, 2

/** Hand value of a mean-linear tiny image model on a frame of one colour: Σ_c ((v_c/255 − mean_c)/std_c) · W[c, d]. */
function imageExpected(rgb: [number, number, number], p: ImagePreprocessing, dim: number): number[] {
  const w = tinyWeights(3, dim);
  return Array.from({ length: dim }, (_, d) => [0, 1, 2].reduce((s, c) => s + ((rgb[c] / 255 - p.mean[c]) / p.std[c]) * w[c * dim + d], 0));
}

describe('pretrained extractors from tiny local models (real names and shapes)', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-pretrained-'));
  const video = path.join(tmp, 'clip.mkv');
  const models: Record<string, string> = {};
  let samples: Float32Array;

  beforeAll(async () => {
    for (const n of NAMES) models[n] = writeTinyModel(n, path.join(tmp, 'models', n));
    // 3 s, 64×48 at 10 fps, lossless (ffv1 bgr0): red, green, blue seconds; 1 kHz sine at 16 kHz, float PCM
    const { ffmpeg } = ffmpegBinaries();
    const col = (c: string): string[] => ['-f', 'lavfi', '-i', `color=c=${c}:s=64x48:r=10:d=1,format=bgr0`];
    execFileSync(ffmpeg, [
      '-y', '-v', 'error', ...col('0xff0000'), ...col('0x00ff00'), ...col('0x0000ff'),
      '-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=16000:duration=3',
      '-filter_complex', '[0:v][1:v][2:v]concat=n=3:v=1:a=0[v]', '-map', '[v]', '-map', '3:a',
      '-c:v', 'ffv1', '-pix_fmt', 'bgr0', '-c:a', 'pcm_f32le', video,
    ]);
    samples = (await decodeAudio(video, { sampleRate: 16000 })).samples;
    expect(samples.length).toBe(48000);
  });

  it('each extractor loads from a local folder and gives [T, D] at 1 row per second, matching hand values', async () => {
    const out = await runChild(
      tmp,
      NAMES.map((n) => `{ const x = await resolveExtractor('${n}', { source: ${JSON.stringify(models[n])}, offline: true });
        const f = x.extractVideo ? await x.extractVideo(${JSON.stringify(video)}, { seconds: 3 }) : await x.extractAudio!(${JSON.stringify(video)}, { seconds: 3 });
        out['${n}'] = { n: f.length, rows: [0, 1, 2].map((s) => Array.from(f.subarray(s * (f.length / 3), (s + 1) * (f.length / 3)))), provenance: x.provenance }; }`).join('\n'),
    );
    type R = { n: number; rows: number[][]; provenance: ExtractorProvenance };
    const r = out as unknown as Record<string, R>;
    expect(NAMES.map((n) => r[n].n)).toEqual([3 * 512, 3 * 2048, 3 * 128, 3 * 2048]);
    // CLIP and ResNet: the first frame of each second, resized/cropped/normalised, through the model
    for (let s = 0; s < 3; s++) {
      const ce = imageExpected(COLOURS[s], CLIP_PREPROCESSING, 512);
      const re = imageExpected(COLOURS[s], RESNET_PREPROCESSING, 2048);
      for (const d of [0, 1, 2, 100, 511]) expect(r.clip.rows[s][d]).toBeCloseTo(ce[d], 4);
      for (const d of [0, 5, 2047]) expect(r.resnet.rows[s][d]).toBeCloseTo(re[d], 4);
    }
    // VGGish: second s = model(example s) = mean over the 96 frames of the log-mel · W
    const ex = vggishExamples(samples, 3);
    const w = tinyWeights(64, 128);
    for (let s = 0; s < 3; s++) {
      for (const d of [0, 64, 127]) {
        let e = 0;
        for (let b = 0; b < 64; b++) {
          let m = 0;
          for (let t = 0; t < 96; t++) m += ex[s * 96 * 64 + t * 64 + b];
          e += (m / 96) * w[b * 128 + d];
        }
        expect(r.vggish.rows[s][d]).toBeCloseTo(e, 3);
      }
    }
    // I3D: 75 frames at 25 fps (frame k shows source frame ⌊k·10/25⌋); stacks start at 0, 11, 11 (clamped
    // inside the video); rgb = mean over the stack of (2v/255 − 1) per channel · W; flat colours → zero flow.
    const colourAt = (k: number): [number, number, number] => COLOURS[Math.floor(Math.floor((k * 10) / 25) / 10)];
    const wr = tinyWeights(3, 1024);
    const wf = tinyWeights(2, 1024);
    for (const [s, start] of [[0, 0], [1, 11], [2, 11]]) {
      const mean = [0, 1, 2].map((c) => {
        let a = 0;
        for (let k = start; k < start + I3D.stack; k++) a += (2 * colourAt(k)[c]) / 255 - 1;
        return a / I3D.stack;
      });
      for (const d of [0, 3, 1023]) {
        expect(r.i3d.rows[s][1024 + d]).toBeCloseTo(mean.reduce((a, m, c) => a + m * wr[c * 1024 + d], 0), 4);
        expect(r.i3d.rows[s][d]).toBeCloseTo(i3dFlowValue(0) * (wf[d] + wf[1024 + d]), 3);
      }
    }
    // provenance names the model files by hash and the pre-processing
    expect(r.clip.provenance).toMatchObject({ extractor: 'clip', dim: 512, fps: 1, loader: 'transformers.js', model: { kind: 'local' } });
    expect(r.clip.provenance.model!.files.map((f) => f.path)).toEqual(['config.json', 'onnx/vision_model.onnx']);
    expect(r.i3d.provenance.loader).toBe('onnxruntime-node');
    expect(r.vggish.provenance.preprocessing.stft).toMatch(/400 samples \(25 ms\), hop 160/);
  }, 120_000);

  it('downloads from a Hugging Face endpoint once; a second process uses the cache (no request to the server)', async () => {
    const srv = await serveModelFolders({ 'org/tiny-clip': models.clip, 'org/tiny-vggish': models.vggish });
    try {
      const cache = path.join(tmp, 'cache');
      const body = `for (const [n, repo] of [['clip', 'org/tiny-clip'], ['vggish', 'org/tiny-vggish']]) {
        const x = await resolveExtractor(n, { source: repo, cacheDir: ${JSON.stringify(cache)}, endpoint: ${JSON.stringify(srv.url)}, offline: false });
        const f = x.extractVideo ? await x.extractVideo(${JSON.stringify(video)}, { seconds: 2 }) : await x.extractAudio!(${JSON.stringify(video)}, { seconds: 2 });
        out[n] = { n: f.length, first: f[0], revision: x.provenance.model!.resolvedRevision };
      }`;
      const a = await runChild(tmp, body);
      expect(srv.requests.sort()).toEqual(['/org/tiny-clip/resolve/main/config.json', '/org/tiny-clip/resolve/main/onnx/vision_model.onnx', '/org/tiny-vggish/resolve/main/vggish.onnx']);
      expect(a).toMatchObject({ clip: { n: 1024, revision: 'c0ffee' }, vggish: { n: 256 } });
      const b = await runChild(tmp, body);
      expect(b).toEqual(a);
      expect(srv.requests).toHaveLength(3); // the second call never reached the server
    } finally {
      await srv.close();
    }
  }, 120_000);

  it('offline with nothing cached: a one-line error naming the model and the flags, for each extractor', async () => {
    const cacheDir = path.join(tmp, 'empty-cache');
    await expect(resolveExtractor('clip', { offline: true, cacheDir })).rejects.toThrow(/^model for extractor clip \(Xenova\/clip-vit-base-patch32@main\) is not in the model cache .*offline mode is on \(--offline \/ VMR_OFFLINE=1\): run once with internet .*--model clip=<local folder or file>$/);
    await expect(resolveExtractor('resnet', { offline: true, cacheDir })).rejects.toThrow(NotFoundError);
    await expect(resolveExtractor('vggish', { offline: true, cacheDir })).rejects.toThrow(/extractor vggish has no default model download: pass --model vggish=/);
    await expect(resolveExtractor('i3d', { offline: true, cacheDir, source: 'org/i3d' })).rejects.toThrow(/model for extractor i3d \(org\/i3d@main\) is not in the model cache/);
    await expect(resolveExtractor('i3d', { source: path.join(models.i3d, 'i3d_rgb.onnx') })).rejects.toThrow(InvalidArgumentError);
    await expect(resolveExtractor('vggish', { source: path.join(tmp, 'no-such-folder') })).rejects.toThrow(/model for extractor vggish not found/);
  });

  it('provenance comparison: same files and pre-processing match; another model file is a clear ConflictError', async () => {
    const a = (await resolveExtractor('vggish', { source: models.vggish })).provenance;
    const copy = path.join(tmp, 'vggish-copy');
    fs.mkdirSync(copy, { recursive: true });
    fs.copyFileSync(path.join(models.vggish, 'vggish.onnx'), path.join(copy, 'vggish.onnx'));
    const b = (await resolveExtractor('vggish', { source: copy })).provenance;
    expect(() => assertSameExtractor(a, b)).not.toThrow(); // same bytes elsewhere: same extractor
    const other = path.join(tmp, 'vggish-other');
    writeTinyModel('clip', other); // not vggish at all, but a different file under the same name is what matters here
    fs.copyFileSync(path.join(other, 'onnx', 'vision_model.onnx'), path.join(other, 'vggish.onnx'));
    const c = (await resolveExtractor('vggish', { source: other })).provenance;
    expect(() => assertSameExtractor(a, c, 'run r1 vs query')).toThrow(ConflictError);
    expect(() => assertSameExtractor(a, c, 'run r1 vs query')).toThrow(/^run r1 vs query: extractor vggish does not match: model files vggish.onnx [0-9a-f]{12} .* vs vggish.onnx [0-9a-f]{12}/);
    const builtin = (await resolveExtractor('builtin-audio')).provenance;
    expect(() => assertSameExtractor(a, builtin)).toThrow(/extractor vggish vs builtin-audio/);
    expect(VGGISH.embeddingSize).toBe(128);
  });
});
