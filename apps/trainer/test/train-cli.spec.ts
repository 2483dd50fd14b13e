/**
 * `vmr train` through the real CLI and a real run store: exact resume after SIGINT, and bad input that
 * writes nothing (or only a failed run when the run had started).
 */
import * as fs from 'fs';
import * as path from 'path';
import { ConfigError, NotFoundError } from '@vmr/core';
import { SqliteTracker } from '@vmr/tracking';
import { TRAIN_ARTIFACTS, resumeRun, trainRun } from '../src';
import { parseTrainConfig } from '@vmr/pipeline';
import { tinyConfigYaml, tinyDataset, tmpDir, vmr } from './fixture';

const root = tmpDir('vmr-train-cli-');
const dataset = tinyDataset(path.join(root, 'ds'));
const configFile = path.join(root, 'tiny.yaml');
fs.writeFileSync(configFile, tinyConfigYaml(dataset));

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function open(store: string): SqliteTracker {
  return new SqliteTracker(store, { reapStaleRuns: false, heartbeatIntervalMs: 0 });
}

async function runsIn(store: string) {
  if (!fs.existsSync(store)) return [];
  const t = open(store);
  try {
    return await t.searchRuns({});
  } finally {
    await t.close();
  }
}

describe('vmr train: resume equivalence', () => {
  const store = path.join(root, 'resume.db');

  it('4 epochs uninterrupted = interrupted (SIGINT mid-epoch 2) + --resume: same final weights and metrics', async () => {
    const full = vmr(['train', '-c', configFile, '--store', store, '--json']);
    expect(full.stderr).toBe('');
    expect(full.status).toBe(0);
    const a = JSON.parse(full.stdout) as { runId: string; status: string; steps: number };
    expect(a.status).toBe('finished');
    // the deterministic tiny dataset (himv-like preset, its train share since generator v2) has 13–18
    // usable training clips: 3 batches of ≤ 6 per epoch
    expect(a.steps).toBe(12);

    const cut = vmr(['train', '-c', configFile, '--store', store, '--interrupt-after-steps', '5', '--json']);
    expect(cut.status).toBe(130);
    const b = JSON.parse(cut.stdout) as { runId: string; status: string; steps: number; resumeHint: string };
    expect(b.status).toBe('killed');
    expect(b.steps).toBe(5);
    expect(b.resumeHint).toBe(`vmr train --resume ${b.runId}`);

    const t = open(store);
    try {
      const killed = await t.getRun(b.runId);
      expect(killed.status).toBe('killed');
      expect(killed.failureReason).toMatch(/interrupted by SIGINT at epoch 2, step 5/);
      expect(killed.artifacts.map((x) => x.path)).toContain(TRAIN_ARTIFACTS.latest);
      expect(killed.artifacts.map((x) => x.path)).not.toContain(TRAIN_ARTIFACTS.final);
    } finally {
      await t.close();
    }

    const resumed = vmr(['train', '--resume', b.runId.slice(0, 8), '--store', store, '--json']);
    expect(resumed.status).toBe(0);
    const c = JSON.parse(resumed.stdout) as { runId: string; status: string; steps: number };
    expect(c).toMatchObject({ runId: b.runId, status: 'finished', steps: 12 });

    const t2 = open(store);
    try {
      const ra = await t2.getRun(a.runId);
      const rb = await t2.getRun(b.runId);
      expect(rb.status).toBe('finished');
      expect(rb.tags.resumed).toBe('1');
      const sha = (r: typeof ra, p: string) => r.artifacts.find((x) => x.path === p)?.sha256;
      // byte-identical checkpoints: weights, batch-norm state, Adam moments, step, dropout counter
      expect(sha(rb, TRAIN_ARTIFACTS.final)).toBeDefined();
      expect(sha(rb, TRAIN_ARTIFACTS.final)).toBe(sha(ra, TRAIN_ARTIFACTS.final));
      for (const e of [1, 2, 3, 4]) expect(sha(rb, TRAIN_ARTIFACTS.epoch(e))).toBe(sha(ra, TRAIN_ARTIFACTS.epoch(e)));
      for (const key of ['train.loss', 'train.l1', 'train.l3', 'train.l6', 'val.r1', 'val.r10', 'val.medianRank']) {
        const ha = (await t2.metricHistory(a.runId, key)).map((p) => [p.step, p.value]);
        const hb = (await t2.metricHistory(b.runId, key)).map((p) => [p.step, p.value]);
        expect(ha.length).toBeGreaterThanOrEqual(4);
        expect(hb).toEqual(ha);
      }
      expect((await t2.metricHistory(a.runId, 'train.loss')).length).toBe(12);
    } finally {
      await t2.close();
    }

    // a finished run cannot be resumed
    await expect(resumeRun(b.runId, { store })).rejects.toThrow(/already finished; nothing to resume/);
  });
});

describe('vmr train on wasm with the native GEMM (libs/core/native; built by npm install)', () => {
  const store = path.join(root, 'native.db');
  const wasm = ['-c', configFile, '--store', store, '--set', 'backend=wasm', '--set', 'epochs=2', '--json'];

  it('records the matrix-product engine, resumes byte-identically, and refuses to resume on XNNPACK', async () => {
    const full = vmr(['train', ...wasm]);
    expect(full.stderr).toBe('');
    expect(full.status).toBe(0);
    const a = JSON.parse(full.stdout) as { runId: string; backend: string; steps: number };
    // a test that needs the addon fails (with the reason in the label) when it is not built
    expect(a.backend).toMatch(/^wasm\+native-gemm \(avx(2|512), \d threads?\)$/);
    const cut = vmr(['train', ...wasm, '--interrupt-after-steps', '4']);
    expect(cut.status).toBe(130);
    const b = JSON.parse(cut.stdout) as { runId: string };
    // the same run cannot continue on the stock kernels: their products differ in the last bits
    const refused = vmr(['train', '--resume', b.runId, '--store', store], { VMR_NATIVE_GEMM: '0' });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/computed its matrix products with native-gemm, this process with xnnpack: results would not be identical \(.*VMR_NATIVE_GEMM/);
    const resumed = vmr(['train', '--resume', b.runId, '--store', store, '--json'], { VMR_GEMM_THREADS: '1' }); // threads do not change results
    expect(resumed.status).toBe(0);
    const t = open(store);
    try {
      const ra = await t.getRun(a.runId);
      const rb = await t.getRun(b.runId);
      expect(ra.params['backend.matmul']).toBe('native-gemm');
      expect(ra.params['backend.label']).toBe(a.backend);
      const sha = (r: typeof ra, p: string) => r.artifacts.find((x) => x.path === p)?.sha256;
      expect(sha(rb, TRAIN_ARTIFACTS.final)).toBeDefined();
      expect(sha(rb, TRAIN_ARTIFACTS.final)).toBe(sha(ra, TRAIN_ARTIFACTS.final));
      const la = (await t.metricHistory(a.runId, 'train.loss')).map((p) => p.value);
      expect((await t.metricHistory(b.runId, 'train.loss')).map((p) => p.value)).toEqual(la);
    } finally {
      await t.close();
    }
  });
});

describe('vmr train: bad input writes nothing', () => {
  it('unknown config key → exit 1 naming the key, no store written', async () => {
    const store = path.join(root, 'bad1.db');
    const bad = path.join(root, 'bad.yaml');
    fs.writeFileSync(bad, tinyConfigYaml(dataset, 'ofVmNet2: { layers: 1 }'));
    const r = vmr(['train', '-c', bad, '--store', store]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/vmr: error \[INVALID_CONFIG\]: .*bad\.yaml: unknown key 'ofVmNet2'/);
    expect(await runsIn(store)).toEqual([]);
  });

  it('missing dataset, feature-dim mismatch, unknown resume id → clear errors, no run', async () => {
    const store = path.join(root, 'bad2.db');
    const base = { dataset, features: 'clip', backend: 'cpu' as const };
    const missing = trainRun({ ...base, dataset: path.join(root, 'nope') }, { store });
    await expect(missing).rejects.toBeInstanceOf(NotFoundError);
    await expect(trainRun({ ...base, dataset: path.join(root, 'nope') }, { store })).rejects.toThrow(/dataset .*nope not found: .*dataset\.json does not exist/);
    const dims = trainRun({ ...base, ofVmNet: { videoDim: 2048 } }, { store });
    await expect(dims).rejects.toBeInstanceOf(ConfigError);
    await expect(trainRun({ ...base, ofVmNet: { videoDim: 2048 } }, { store })).rejects.toThrow(
      /feature dim mismatch: the config expects video dim 2048, dataset .* video\/clip has dim 512/,
    );
    await expect(trainRun({ ...base, audioFeatures: 'openl3' }, { store })).rejects.toThrow(/no audio extractor 'openl3' \(it has: vggish\)/);
    await expect(resumeRun('deadbeef', { store })).rejects.toThrow(/deadbeef/);
    await expect(resumeRun('deadbeef', { store })).rejects.toBeInstanceOf(NotFoundError);
    expect(await runsIn(store)).toEqual([]);
  });

  it('a failure after the run started leaves exactly one failed run with the reason', async () => {
    const store = path.join(root, 'bad3', 'runs.db');
    fs.mkdirSync(path.dirname(store), { recursive: true });
    // the artifact store path is taken by a file: logging config.json fails after startRun
    fs.writeFileSync(path.join(root, 'bad3', 'artifacts'), 'not a directory');
    const config = parseTrainConfig({
      dataset,
      features: 'clip',
      backend: 'cpu',
      epochs: 1,
      batchSize: 6,
      valSplit: 'all',
      segmentation: { segments: 3, maxSegmentSeconds: 60, padLength: 60 },
      ofVmNet: { layers: 1, ffnDim: 16, embedDim: 8, heads: 2 },
    });
    await expect(trainRun(config, { store, progress: false })).rejects.toThrow(/artifact/);
    const runs = await runsIn(store);
    expect(runs).toHaveLength(1);
    expect(runs[0].status).toBe('failed');
    expect(runs[0].failureReason).toMatch(/artifact/);
  });

  it('trainRun on a missing dataset throws NotFoundError before opening the store', async () => {
    const store = path.join(root, 'bad4.db');
    await expect(trainRun({ dataset: path.join(root, 'missing') }, { store })).rejects.toBeInstanceOf(NotFoundError);
    expect(fs.existsSync(store)).toBe(false);
  });
});

describe('vmr train: data-parallel replicas', () => {
  it('--set replicas=2 trains the same run as one replica (losses within float rounding), worker threads and all', async () => {
    const store = path.join(root, 'replicas.db');
    const one = vmr(['train', '-c', configFile, '--store', store, '--set', 'epochs=2', '--json']);
    expect(one.status).toBe(0);
    const two = vmr(['train', '-c', configFile, '--store', store, '--set', 'epochs=2', '--set', 'replicas=2', '--json']);
    expect(two.stderr).toBe('');
    expect(two.status).toBe(0);
    const a = JSON.parse(one.stdout) as { runId: string; steps: number };
    const b = JSON.parse(two.stdout) as { runId: string; steps: number };
    expect(b.steps).toBe(a.steps);
    const t = open(store);
    try {
      const la = (await t.metricHistory(a.runId, 'train.loss')).map((p) => p.value);
      const lb = (await t.metricHistory(b.runId, 'train.loss')).map((p) => p.value);
      expect(la.length).toBe(6); // 2 epochs × 3 batches
      expect(lb.length).toBe(la.length);
      for (let i = 0; i < la.length; i++) expect(Math.abs(la[i] - lb[i])).toBeLessThan(1e-4);
      expect((await t.getRun(b.runId)).params.replicas).toBe('2');
    } finally {
      await t.close();
    }
  });
});
