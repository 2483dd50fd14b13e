import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConflictError } from '@vmr/core';
import { type ExtractorProvenance, ffmpegBinaries, writeTinyModel } from '@vmr/features';
import { Dataset } from '../src/dataset/dataset';
import { ingestMedia } from '../src/ingest/ingest';

const ROOT = path.resolve(__dirname, '../../..');

describe('vmr ingest with pretrained extractors (tiny local models)', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-ingest-pre-'));
  const media = path.join(tmp, 'media');
  const models = path.join(tmp, 'models');

  beforeAll(() => {
    fs.mkdirSync(media);
    // 3 s, 64×48 at 10 fps, lossless; a 1 kHz tone
    execFileSync(ffmpegBinaries().ffmpeg, ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=10', '-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=16000',
      '-t', '3', '-c:v', 'ffv1', '-c:a', 'pcm_s16le', path.join(media, 'tone.mkv')]);
    writeTinyModel('clip', path.join(models, 'clip'));
    writeTinyModel('vggish', path.join(models, 'vggish'));
  });

  it('writes [T, D] features and records each extractor\'s model hashes and pre-processing in dataset.json', async () => {
    const out = path.join(tmp, 'ds');
    const s = await ingestMedia({
      inputs: [media], out, workers: 1, quiet: true, segments: false, split: false, offline: true,
      videoFeatures: ['clip'], audioFeatures: ['vggish'],
      modelPaths: { clip: path.join(models, 'clip'), vggish: path.join(models, 'vggish', 'vggish.onnx') },
    });
    expect(s.failed).toEqual([]);
    const ds = Dataset.open(out);
    const v = ds.videoFeatures('clip', 'tone');
    const a = ds.audioFeatures('vggish', 'tone');
    expect([v.rows, v.cols, a.rows, a.cols]).toEqual([3, 512, 3, 128]);
    const clip = ds.manifest.extractors.find((e) => e.name === 'clip')!;
    const rec = clip.provenanceRecord as unknown as ExtractorProvenance;
    expect(rec).toMatchObject({ extractor: 'clip', loader: 'transformers.js', model: { kind: 'local' } });
    expect(rec.model!.files.map((f) => f.sha256)).toEqual([expect.stringMatching(/^[0-9a-f]{64}$/), expect.stringMatching(/^[0-9a-f]{64}$/)]);
    expect(clip.provenance).toMatch(/onnx\/vision_model.onnx sha256:[0-9a-f]{64}/);
    expect((ds.manifest.extractors.find((e) => e.name === 'vggish')!.provenanceRecord as unknown as ExtractorProvenance).preprocessing.mel).toMatch(/64 HTK-mel bands 125-7500 Hz/);

    // resuming with a different vggish model file is refused, naming the mismatch
    const other = path.join(models, 'other');
    writeTinyModel('clip', other);
    fs.copyFileSync(path.join(other, 'onnx', 'vision_model.onnx'), path.join(other, 'vggish.onnx'));
    const again = ingestMedia({ inputs: [media], out, workers: 0, quiet: true, segments: false, split: false, offline: true, videoFeatures: ['clip'], audioFeatures: ['vggish'], modelPaths: { clip: path.join(models, 'clip'), vggish: path.join(other, 'vggish.onnx') } });
    await expect(again).rejects.toThrow(ConflictError);
    await expect(again).rejects.toThrow(/resuming a dataset ingested with another vggish model .*model files vggish.onnx/);
  }, 120_000);

  it('vmr ingest --offline with an empty model cache: exit 1 and one line naming the model and the flags', () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/vmr.js'), 'ingest', media, '--out', path.join(tmp, 'x'), '--video-features', 'clip', '--offline'], {
      cwd: ROOT, encoding: 'utf8', env: { ...process.env, VMR_MODEL_CACHE: path.join(tmp, 'empty-cache') },
    });
    expect(r.status).not.toBe(0);
    const lines = r.stderr.trim().split('\n').filter((l) => l.trim() && !/^npm warn/i.test(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/model for extractor clip \(Xenova\/clip-vit-base-patch32@main\) is not in the model cache .*empty-cache.* offline mode is on .*--model clip=<local folder or file>/);
  }, 60_000);
});
