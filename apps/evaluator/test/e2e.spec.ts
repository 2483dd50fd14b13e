/**
 * train → eval → report through the real CLI and a real run store, on tiny synthetic data; evaluation
 * errors. (Experiment files run through the sweep engine: apps/sweeper/test/experiment.e2e.spec.ts.)
 */
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { ConfigError, NotFoundError, repoRoot } from '@vmr/core';
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
  - { dataset: ${himv}, split: all }
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
