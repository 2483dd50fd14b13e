import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConflictError } from '@vmr/core';
import { selectBackend } from '@vmr/core/tf';
import { createModel, saveCheckpoint } from '@vmr/models';
import { RUN_KIND_TAG, openRunStore, type SqliteTracker } from '@vmr/tracking';
import { TRAIN_ARTIFACTS, loadTrainedRun, modelConfigFor, parseTrainConfig } from '../src';

describe('loadTrainedRun (a real SQLite run store, a real checkpoint)', () => {
  let dir: string;
  let store: SqliteTracker;
  beforeAll(async () => {
    await selectBackend('cpu');
  });
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-trained-run-'));
    store = openRunStore(path.join(dir, 'runs.db'));
  });
  afterEach(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const config = parseTrainConfig({ dataset: 'd', model: 'of-vm-net', ofVmNet: { layers: 1, ffnDim: 8, embedDim: 8, heads: 2 } });

  async function trainingRun(opts: { status?: 'finished' | 'killed'; artifacts?: boolean; kind?: string } = {}): Promise<string> {
    const run = await store.startRun({ experiment: 'e', tags: { [RUN_KIND_TAG]: opts.kind ?? 'train' } });
    if (opts.artifacts !== false) {
      const cfgFile = path.join(dir, 'config.json');
      fs.writeFileSync(cfgFile, JSON.stringify({ config }));
      await store.logArtifact(run.id, cfgFile, TRAIN_ARTIFACTS.config);
      const ck = path.join(dir, 'final.ckpt');
      saveCheckpoint(ck, { model: createModel(modelConfigFor(config, { videoDim: 6, audioDim: 4 }), 3), step: 7 });
      await store.logArtifact(run.id, ck, TRAIN_ARTIFACTS.final);
    }
    await store.endRun(run.id, opts.status ?? 'finished');
    return run.id;
  }

  it('resolves a prefix and returns the stored config and the final checkpoint', async () => {
    const id = await trainingRun();
    const t = await loadTrainedRun(store, id.slice(0, 8));
    expect(t.runId).toBe(id);
    expect(t.config).toEqual(config);
    expect(t.checkpoint.kind).toBe('of-vm-net');
    expect(t.checkpoint.seed).toBe(3);
    expect([t.checkpoint.config.videoDim, t.checkpoint.config.audioDim]).toEqual([6, 4]);
  });

  it('refuses a run that is not a training run, an unfinished one (with the resume command) and one without a final checkpoint', async () => {
    const evalRun = await trainingRun({ kind: 'eval' });
    await expect(loadTrainedRun(store, evalRun)).rejects.toThrow(new ConflictError(`run ${evalRun} is not a training run (tag ${RUN_KIND_TAG}=eval)`));
    const killed = await trainingRun({ status: 'killed' });
    await expect(loadTrainedRun(store, killed)).rejects.toThrow(`run ${killed} is killed; only a finished training run can be evaluated (resume it: vmr train --resume ${killed.slice(0, 8)})`);
    const bare = await trainingRun({ artifacts: false });
    await expect(loadTrainedRun(store, bare)).rejects.toThrow(`run ${bare} has no ${TRAIN_ARTIFACTS.final} artifact`);
  });
});
