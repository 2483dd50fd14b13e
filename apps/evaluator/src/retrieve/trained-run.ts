import * as fs from 'fs';
import * as path from 'path';
import { ConflictError, ConfigError, errorMessage } from '@vmr/core';
import { Dataset, MANIFEST_FILE } from '@vmr/data';
import { getExtractor, resolveExtractors } from '@vmr/features';
import { loadCheckpoint, restoreFromCheckpoint, type Checkpoint } from '@vmr/models';
import { RUN_KIND_TAG, type RunDetail, type Tracker } from '@vmr/tracking';
import { TRAIN_ARTIFACTS, parseTrainConfig, type TrainConfig } from '@vmr/pipeline';

/** A finished training run with its configuration and final checkpoint (the model is built on demand). */
export interface TrainedRun {
  runId: string;
  run: RunDetail;
  config: TrainConfig;
  checkpoint: Checkpoint;
}

/**
 * Resolve a training run for inference (`vmr retrieve`, `vmr listen`): finished, tagged train, with its
 * final checkpoint. `flag` names the CLI flag in errors (e.g. `--run`).
 */
export async function loadTrainedRun(tracker: Tracker, runIdOrPrefix: string, flag: string): Promise<TrainedRun> {
  const runId = await tracker.resolveRunId(runIdOrPrefix);
  const run = await tracker.getRun(runId);
  if (run.tags[RUN_KIND_TAG] !== 'train') throw new ConflictError(`${flag} ${runIdOrPrefix}: run ${runId} is not a training run (tag ${RUN_KIND_TAG}=${run.tags[RUN_KIND_TAG] ?? 'missing'})`);
  if (!run.artifacts.some((a) => a.path === TRAIN_ARTIFACTS.final)) {
    throw new ConflictError(
      `${flag} ${runIdOrPrefix}: run ${runId} (${run.status}) has no checkpoint ${TRAIN_ARTIFACTS.final}; ` +
        (run.status === 'killed' ? `resume it first: vmr train --resume ${runId.slice(0, 8)}` : 'pass a finished training run'),
    );
  }
  let config: TrainConfig;
  try {
    const cfg = JSON.parse(fs.readFileSync(await tracker.artifactFile(runId, TRAIN_ARTIFACTS.config), 'utf8')) as { config: unknown };
    config = parseTrainConfig(cfg.config, `run ${runId} ${TRAIN_ARTIFACTS.config}`);
  } catch (e) {
    if (e instanceof SyntaxError) throw new ConfigError(`${flag} ${runIdOrPrefix}: run ${runId} ${TRAIN_ARTIFACTS.config} is not JSON: ${errorMessage(e)}`);
    throw e;
  }
  const checkpoint = loadCheckpoint(await tracker.artifactFile(runId, TRAIN_ARTIFACTS.final));
  return { runId, run, config, checkpoint };
}

/**
 * Check that new media can be featurised the way the run's training data was: the run's extractors
 * must exist in the registry, be computable by ingest (model-file extractors need `--model name=path`),
 * and not be synthetic stand-ins. One line naming the run, the extractor and the flag.
 */
export function checkRunExtractors(tr: TrainedRun, modelPaths: Record<string, string>, flag: string): void {
  const { config, runId } = tr;
  const where = `${flag} ${runId.slice(0, 8)}`;
  const dsDir = path.resolve(config.dataset);
  if (fs.existsSync(path.join(dsDir, MANIFEST_FILE))) {
    const m = Dataset.open(dsDir).manifest;
    for (const [modality, name] of [
      ['video', config.features],
      ['audio', config.audioFeatures],
    ] as const) {
      const e = m.extractors.find((x) => x.modality === modality && x.name === name);
      if (m.kind === 'synthetic' || e?.synthetic) {
        throw new ConfigError(
          `${where}: the run was trained on SYNTHETIC stand-in ${modality} features '${name}' (dataset ${m.name}), which no video or music file can provide; use a run trained on an ingested dataset (vmr ingest)`,
        );
      }
    }
  }
  for (const [modality, name] of [
    ['video', config.features],
    ['audio', config.audioFeatures],
  ] as const) {
    let spec;
    try {
      spec = getExtractor(name, modality);
    } catch (e) {
      throw new ConfigError(`${where}: the run's ${modality} features '${name}' are not an extractor vmr can compute on new media (${errorMessage(e)})`);
    }
    try {
      resolveExtractors([spec.name], modality, modelPaths);
    } catch (e) {
      throw new ConfigError(`${where}: the run's ${modality} features '${name}' cannot be computed for new media: ${errorMessage(e)}`);
    }
  }
}

/** Build the run's model from its checkpoint (caller disposes). */
export function restoreModel(tr: TrainedRun) {
  return restoreFromCheckpoint(tr.checkpoint).model;
}

