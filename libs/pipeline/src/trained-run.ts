/**
 * A finished training run, ready to embed with: its stored config and final checkpoint, read through
 * the run store. Used by every command that applies a trained model to a dataset (`vmr eval`, and
 * e.g. retrieval), so the checks and error messages are the same everywhere.
 */
import * as fs from 'fs';
import { ConflictError } from '@vmr/core';
import { loadCheckpoint, type Checkpoint } from '@vmr/models';
import { RUN_KIND_TAG, type RunDetail, type Tracker } from '@vmr/tracking';
import { TRAIN_ARTIFACTS } from './artifacts';
import { parseTrainConfig, type TrainConfig } from './config';

export interface TrainedRun {
  /** Full run id (a prefix given by the user is resolved). */
  runId: string;
  run: RunDetail;
  /** The run's resolved training config (its `config.json` artifact). */
  config: TrainConfig;
  /** The run's final checkpoint (`checkpoints/final.ckpt`). */
  checkpoint: Checkpoint;
}

/**
 * Resolve `runIdOrPrefix` and load its config and final checkpoint. Typed errors (naming the run and
 * what to do) when the run is not a training run, not finished (a killed run can be resumed), or has
 * no final checkpoint.
 */
export async function loadTrainedRun(tracker: Tracker, runIdOrPrefix: string): Promise<TrainedRun> {
  const runId = await tracker.resolveRunId(runIdOrPrefix);
  const run = await tracker.getRun(runId);
  if (run.tags[RUN_KIND_TAG] !== 'train') throw new ConflictError(`run ${runId} is not a training run (tag ${RUN_KIND_TAG}=${run.tags[RUN_KIND_TAG] ?? 'missing'})`);
  if (run.status !== 'finished') throw new ConflictError(`run ${runId} is ${run.status}; only a finished training run can be evaluated${run.status === 'killed' ? ` (resume it: vmr train --resume ${runId.slice(0, 8)})` : ''}`);
  if (!run.artifacts.some((a) => a.path === TRAIN_ARTIFACTS.final)) throw new ConflictError(`run ${runId} has no ${TRAIN_ARTIFACTS.final} artifact`);
  const cfg = JSON.parse(fs.readFileSync(await tracker.artifactFile(runId, TRAIN_ARTIFACTS.config), 'utf8')) as { config: unknown };
  const config = parseTrainConfig(cfg.config, `run ${runId} ${TRAIN_ARTIFACTS.config}`);
  const checkpoint = loadCheckpoint(await tracker.artifactFile(runId, TRAIN_ARTIFACTS.final));
  return { runId, run, config, checkpoint };
}
