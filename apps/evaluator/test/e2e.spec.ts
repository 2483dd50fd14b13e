/**
 * train → eval → report through the real CLI and a real run store, on tiny synthetic data; evaluation
 * errors. (Experiment files run through the sweep engine: apps/sweeper/test/experiment.e2e.spec.ts.)
 */
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { ConfigError, ConflictError, InvalidArgumentError, NotFoundError, repoRoot } from '@vmr/core';
import { Dataset, writeSyntheticDataset } from '@vmr/data';
import { avAlignFromPeaks } from '@vmr/metrics';
import { SqliteTracker } from '@vmr/tracking';
import { evaluateRun } from '../src';

const root = fs.mkdtempSync(path.join(require('os').tmpdir(), 'vmr-e2e-'));
const himv = path.join(root, 'himv');
const symmv = path.join(root, 'symmv');
const store = path.join(root, 'runs.db');

function synth(out: string, preset: 'himv-like' | 'symmv-like', clips: number, seed: number): void {
  writeSyntheticDataset({ out, preset, clips, seed, views: ['clip'], overrides: { minDuration: 40, maxDuration: 60 }, plan: { segments: 3, maxSegmentSeconds: 60 } });
}
synth(himv, 'himv-like', 24, 5);
synth(symmv, 'symmv-like', 12, 6);

const experimentYaml = `
experiment: e2e
dataset: ${himv}
features: clip
valSplit: all
segmentation: { segments: 3, minSegmentSeconds: 10, maxSegmentSeconds: 60, padLength: 60 }
ofVmNet: { layers: 1, ffnDim: 16, embedDim: 8, heads: 2 }
vmNet: { embedDim: 16, audioHidden: [{ units: 16, batchNorm: true }], videoHidden: [{ units: 16, batchNorm: true }] }
batchSize: 6
epochs: 2
lr: 0.003
backend: cpu
checkpointEvery: 1
validateEvery: 1
grid:
  model: [vm-net, of-vm-net]
evaluate:
  - { dataset: ${himv}, split: test }
  - { dataset: ${symmv}, split: all }
workers: 2
`;
const experimentFile = path.join(root, 'e2e.yaml');
fs.writeFileSync(experimentFile, experimentYaml);

function vmr(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(repoRoot(), 'bin', 'vmr.js'), ...args], { encoding: 'utf8', env: { ...process.env, VMR_QUIET: '1' }, timeout: 240_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function open(): SqliteTracker {
  return new SqliteTracker(store, { reapStaleRuns: false, heartbeatIntervalMs: 0 });
}

describe('train → eval → report (real CLI, real store)', () => {
  let trainId = '';

  it('vmr train then vmr eval logs a child run with every table column', async () => {
    const t = vmr(['train', '-c', experimentFile, '--set', 'model=of-vm-net', '--set', 'experiment=cli', '--store', store, '--json']);
    expect(t.stderr).toBe('');
    expect(t.status).toBe(0);
    trainId = (JSON.parse(t.stdout) as { runId: string }).runId;
    const e = vmr(['eval', '--run', trainId.slice(0, 8), '--dataset', symmv, '--store', store, '--json']);
    expect(e.status).toBe(0);
    const r = JSON.parse(e.stdout) as { evalRunId: string; split: string; metrics: Record<string, number>; dataset: { name: string; kind: string } };
    expect(r.split).toBe('test'); // symmv-like puts every clip in test
    expect(r.dataset).toMatchObject({ name: 'synthetic-symmv-like-seed6', kind: 'synthetic' });
    const m = r.metrics;
    expect(m.gallerySize).toBe(12);
    for (const k of ['avAlignGot', 'avAlign', 'fad', 'r1', 'r5', 'r10', 'medianRank']) expect(Number.isFinite(m[k])).toBe(true);
    expect(m.r1).toBeLessThanOrEqual(m.r5);
    expect(m.r5).toBeLessThanOrEqual(m.r10);
    expect(m.fad).toBeGreaterThanOrEqual(0);

    const tr = open();
    try {
      const ev = await tr.getRun(r.evalRunId);
      expect(ev.parentId).toBe(trainId);
      expect(ev.experimentName).toBe('cli');
      expect(ev.tags).toMatchObject({ 'vmr.kind': 'eval', dataset: 'synthetic-symmv-like-seed6', datasetKind: 'synthetic', synthetic: 'true' });
      expect(ev.params['eval.direction']).toBe('video-to-music');
      expect([ev.params['backend.matmul'], ev.params['backend.label']]).toEqual(['tfjs-cpu', 'cpu']); // the engine of the embedding pass is recorded
      // independent recomputation from the retrieval artifact and the dataset's peaks
      const detail = JSON.parse(fs.readFileSync(await tr.artifactFile(ev.id, 'retrieval.json'), 'utf8')) as { clips: string[]; top1: string[]; ranks: number[] };
      expect(detail.clips).toHaveLength(12);
      expect(m.r1).toBeCloseTo(detail.ranks.filter((x) => x === 1).length / 12, 12);
      expect(m.r10).toBeCloseTo(detail.ranks.filter((x) => x <= 10).length / 12, 12);
      const ds = Dataset.open(symmv);
      const score = (audioOf: string, video: string) => {
        const secs = ds.clip(video).seconds;
        const a = Array.from(ds.peaks('yariv', 'audio', audioOf)!).filter((x) => x <= secs);
        return avAlignFromPeaks(a, ds.peaks('yariv', 'video', video)!, 3, 'yariv').score;
      };
      const got = detail.clips.reduce((s, id) => s + score(id, id), 0) / 12;
      const ret = detail.clips.reduce((s, id, i) => s + score(detail.top1[i], id), 0) / 12;
      expect(m.avAlignGot).toBeCloseTo(got, 12);
      expect(m.avAlign).toBeCloseTo(ret, 12);
    } finally {
      await tr.close();
    }

    const rep = vmr(['report', 'tables', '-e', 'cli', '--store', store]);
    expect(rep.status).toBe(0);
    expect(rep.stdout).toMatch(/### Table 2: out-of-distribution — trained on synthetic-himv-like-seed5, evaluated on synthetic-symmv-like-seed6 \(test split\) \[SYNTHETIC\]/);
    expect(rep.stdout).toMatch(/\| OF-VM-Net \| CLIP \| /);
    expect(rep.stdout).toMatch(/Gallery: 12 clips per query \(full\)/);
    expect(rep.stdout).toMatch(/SYNTHETIC data/);
  });

  it('guards: training-overlap split refused (then labelled), vmr AV-Align without vmr video peaks refused, music-to-video on correct pairs, per-query artifact', async () => {
    const tr = open();
    try {
      const n0 = (await tr.searchRuns({})).length;
      // the training dataset's `all` split contains the run's training clips
      await expect(evaluateRun(trainId, himv, { tracker: tr, split: 'all', progress: false })).rejects.toBeInstanceOf(ConflictError);
      await expect(evaluateRun(trainId, himv, { tracker: tr, split: 'all', progress: false })).rejects.toThrow(/split 'all' of dataset synthetic-himv-like-seed5 .* contains \d+ of run [0-9a-f]{8}'s training clips .* --allow-train-overlap/);
      // a copy of symmv whose manifest has `vmr` audio peaks but no `vmr` video peaks
      const noVmrVideo = path.join(root, 'symmv-vmr-audio-only');
      fs.cpSync(symmv, noVmrVideo, { recursive: true });
      fs.cpSync(path.join(noVmrVideo, 'peaks', 'yariv', 'audio'), path.join(noVmrVideo, 'peaks', 'vmr', 'audio'), { recursive: true });
      const mf = path.join(noVmrVideo, 'dataset.json');
      const man = JSON.parse(fs.readFileSync(mf, 'utf8')) as { peaks: Record<string, unknown> };
      man.peaks.vmr = { audio: true, video: false, description: 'energy onsets only (test copy)' };
      fs.writeFileSync(mf, JSON.stringify(man));
      await expect(evaluateRun(trainId, noVmrVideo, { tracker: tr, avAlignVariant: 'vmr', progress: false })).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(evaluateRun(trainId, noVmrVideo, { tracker: tr, avAlignVariant: 'vmr', progress: false })).rejects.toThrow(/--av-align-variant vmr: dataset .* has no 'vmr' video peaks/);
      expect((await tr.searchRuns({})).length).toBe(n0); // nothing logged for refused evaluations
      // vmr-code protocol without vmr video peaks: yariv, named as such
      const vc = await evaluateRun(trainId, noVmrVideo, { tracker: tr, protocol: 'vmr-code', progress: false });
      expect(vc.avAlignVariant).toBe('yariv');

      const over = await evaluateRun(trainId, himv, { tracker: tr, split: 'all', allowTrainOverlap: true, progress: false });
      expect(over.trainOverlap).toBeGreaterThan(0);
      expect((await tr.getRun(over.evalRunId)).params['eval.trainOverlap']).toBe(String(over.trainOverlap));

      // music-to-video: FAD not computed (it scores retrieved music), AV-Align of each query track over its top-1 video
      const m2v = await evaluateRun(trainId, symmv, { tracker: tr, direction: 'music-to-video', progress: false });
      expect(m2v.metrics.fad).toBeUndefined();
      expect(m2v.fadMissing).toMatch(/not defined for music-to-video/);
      const detail = JSON.parse(fs.readFileSync(await tr.artifactFile(m2v.evalRunId, 'retrieval.json'), 'utf8')) as { clips: string[]; top1Index: number[]; ranks: number[]; avAlign: number[]; avAlignGot: number[]; direction: string; ranksInClipOrder: boolean };
      expect(detail.direction).toBe('music-to-video');
      expect(detail.ranksInClipOrder).toBe(true);
      const ds = Dataset.open(symmv);
      const score = (audioOf: string, video: string) => avAlignFromPeaks(Array.from(ds.peaks('yariv', 'audio', audioOf)!).filter((x) => x <= ds.clip(video).seconds), ds.peaks('yariv', 'video', video)!, 3, 'yariv').score;
      const ret = detail.clips.map((id, j) => score(id, detail.clips[detail.top1Index[j]]));
      detail.avAlign.forEach((v, j) => expect(v).toBeCloseTo(ret[j], 12));
      expect(m2v.metrics.avAlign).toBeCloseTo(ret.reduce((a, b) => a + b, 0) / ret.length, 12);
      // top-1 follows R@1's tie policy: top-1 is the ground truth exactly when the rank is 1
      detail.ranks.forEach((rk, j) => expect(detail.top1Index[j] === j).toBe(rk === 1));
      expect(m2v.metrics.r1).toBeCloseTo(detail.ranks.filter((x) => x === 1).length / detail.clips.length, 12);
    } finally {
      await tr.close();
    }
    const rep = vmr(['report', 'tables', '-e', 'cli', '--store', store]);
    expect(rep.status).toBe(0);
    expect(rep.stdout).toMatch(/Table 1: trained and evaluated on synthetic-himv-like-seed5 \(all split — NOT held out/);
    expect(rep.stdout).toMatch(/TRAINING OVERLAP: up to \d+ evaluated clips were training clips/);
    expect(rep.stdout).not.toMatch(/in-distribution — trained and evaluated on synthetic-himv-like-seed5 \(all/);
    expect(rep.stdout).toMatch(/Rows differ in: .*direction/);
    // one-run rows: a 95 % bootstrap interval over the run's queries (from its per-query artifact); none for FAD
    const js = vmr(['report', 'tables', '-e', 'cli', '--store', store, '--json']);
    const tt = JSON.parse(js.stdout) as Array<{ rows: Array<{ runs: number; cells: Record<string, { ciMethod: string; ciLow: number | null; ciHigh: number | null; mean: number }> }> }>;
    const one = tt.flatMap((t) => t.rows).find((r) => r.runs === 1 && r.cells.r1 && r.cells.fad)!;
    expect(one.cells.r1.ciMethod).toBe('bootstrap-over-queries');
    expect(one.cells.r1.ciLow!).toBeLessThanOrEqual(one.cells.r1.mean);
    expect(one.cells.r1.ciHigh!).toBeGreaterThanOrEqual(one.cells.r1.mean);
    expect(one.cells.fad.ciMethod).toBe('none');
  });

  it('eval errors: unknown run id, missing dataset, feature dims that do not match the model — nothing written', async () => {
    const tr = open();
    const count = async () => (await tr.searchRuns({})).length;
    try {
      const n0 = await count();
      await expect(evaluateRun('abcdef12', himv, { tracker: tr })).rejects.toBeInstanceOf(NotFoundError);
      await expect(evaluateRun(trainId, path.join(root, 'missing'), { tracker: tr })).rejects.toThrow(/dataset .*missing not found/);
      // a copy of the dataset whose manifest declares another clip dim
      const other = path.join(root, 'himv-256');
      fs.cpSync(himv, other, { recursive: true });
      const mf = path.join(other, 'dataset.json');
      const m = JSON.parse(fs.readFileSync(mf, 'utf8')) as { extractors: Array<{ name: string; dim: number }> };
      m.extractors.find((e) => e.name === 'clip')!.dim = 256;
      fs.writeFileSync(mf, JSON.stringify(m));
      const dims = evaluateRun(trainId, other, { tracker: tr });
      await expect(dims).rejects.toBeInstanceOf(ConfigError);
      await expect(evaluateRun(trainId, other, { tracker: tr })).rejects.toThrow(/feature dim mismatch: run [0-9a-f]{8}'s model expects video dim 512, dataset .* video\/clip has dim 256/);
      expect(await count()).toBe(n0);
      const cli = vmr(['eval', '--run', 'abcdef12', '--dataset', himv, '--store', store]);
      expect(cli.status).toBe(1);
      expect(cli.stderr).toMatch(/vmr: error \[NOT_FOUND\]: no run with id 'abcdef12'/);
      const missingStore = vmr(['report', 'tables', '-e', 'x', '--store', path.join(root, 'none.db')]);
      expect(missingStore.status).toBe(1);
      expect(missingStore.stderr).toMatch(/run store .*none\.db does not exist/);
      expect(fs.existsSync(path.join(root, 'none.db'))).toBe(false);
    } finally {
      await tr.close();
    }
  });
});
