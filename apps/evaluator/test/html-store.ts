/**
 * A run store for the HTML report tests, written through the Tracker API with the names the trainer
 * (`vmr train`), the evaluator (`vmr eval`) and the sweeper (`vmr sweep run`) use: training runs tagged
 * `vmr.kind=train` with config params (`model`, `features`, `seed`, `loss.lambdas.l1`…, `dataset.name`),
 * `train.loss` / `train.l1…l6` (OF-VM-Net) or `train.mv|vm|sm|sv` (VM-Net) / `train.lr` / `train.epoch`
 * per step, `val.r1|r5|r10|medianRank` per epoch; evaluations as child runs tagged `vmr.kind=eval` with
 * `eval.*` params and metrics; a sweep run (`sweep.role=sweep`) → trial runs (`sweep.role=trial`) →
 * training run → evaluation.
 */
import { SqliteTracker } from '@vmr/tracking';

export const EXPERIMENT = 'html-e2e';
export const SWEEP_EXPERIMENT = 'html-sweep';
export const SWEEP_NAME = 'lambda-grid';
/** The sweep's training runs land in the base config's experiment (as `vmr sweep run` does when the base names one). */
export const SWEEP_TRAIN_EXPERIMENT = 'html-sweep-base';
export const EPOCHS = 3;
export const STEPS_PER_EPOCH = 12;

/** Eval metrics of one training run, in-distribution (Table 1) and on the other dataset (Table 2). */
export interface RunSpec {
  model: 'vm-net' | 'of-vm-net';
  features: string;
  seed: number;
  lambdas?: Partial<Record<'l1' | 'l2' | 'l3' | 'l4' | 'l5' | 'l6', number>>;
  table1: { r1: number; r5: number; r10: number; avAlign: number; avAlignGot: number; fad: number; medianRank: number };
  table2?: { r1: number; r5: number; r10: number; avAlign: number; avAlignGot: number; fad: number; medianRank: number };
}

/** Table 1 values chosen so means/stds are easy by hand (two seeds per row). */
export const EXPERIMENT_RUNS: RunSpec[] = [
  { model: 'vm-net', features: 'resnet', seed: 0, table1: { r1: 0.3, r5: 0.6, r10: 0.8, avAlign: 0.2, avAlignGot: 0.5, fad: 4, medianRank: 3 }, table2: { r1: 0.1, r5: 0.3, r10: 0.5, avAlign: 0.15, avAlignGot: 0.4, fad: 6, medianRank: 9 } },
  { model: 'vm-net', features: 'resnet', seed: 1, table1: { r1: 0.34, r5: 0.62, r10: 0.82, avAlign: 0.22, avAlignGot: 0.5, fad: 4.2, medianRank: 3 }, table2: { r1: 0.12, r5: 0.32, r10: 0.52, avAlign: 0.17, avAlignGot: 0.4, fad: 6.2, medianRank: 8 } },
  { model: 'of-vm-net', features: 'resnet', seed: 0, table1: { r1: 0.25, r5: 0.55, r10: 0.75, avAlign: 0.3, avAlignGot: 0.5, fad: 3.5, medianRank: 4 }, table2: { r1: 0.14, r5: 0.36, r10: 0.56, avAlign: 0.25, avAlignGot: 0.4, fad: 5, medianRank: 7 } },
  { model: 'of-vm-net', features: 'resnet', seed: 1, table1: { r1: 0.27, r5: 0.57, r10: 0.77, avAlign: 0.34, avAlignGot: 0.5, fad: 3.7, medianRank: 4 }, table2: { r1: 0.16, r5: 0.38, r10: 0.58, avAlign: 0.27, avAlignGot: 0.4, fad: 5.2, medianRank: 6 } },
  { model: 'vm-net', features: 'clip', seed: 0, table1: { r1: 0.4, r5: 0.7, r10: 0.9, avAlign: 0.18, avAlignGot: 0.5, fad: 3.8, medianRank: 2 } },
  { model: 'of-vm-net', features: 'clip', seed: 0, table1: { r1: 0.36, r5: 0.66, r10: 0.86, avAlign: 0.28, avAlignGot: 0.5, fad: 3.2, medianRank: 2 } },
];

/**
 * λ grid of the sweep (OF-VM-Net, resnet, seed 0), with (R@1, AV-Align) chosen so the Pareto front is
 * known by hand: A (0.40, 0.20), B (0.30, 0.30) and D (0.10, 0.35) are optimal; C (0.25, 0.25) is
 * dominated by B, E (0.35, 0.15) by A.
 */
export const SWEEP_POINTS: Array<{ name: string; lambdas: Partial<Record<'l1' | 'l3' | 'l5', number>>; r1: number; avAlign: number; front: boolean }> = [
  { name: 'A', lambdas: { l3: 0 }, r1: 0.4, avAlign: 0.2, front: true },
  { name: 'B', lambdas: { l3: 1 }, r1: 0.3, avAlign: 0.3, front: true },
  { name: 'C', lambdas: { l3: 2 }, r1: 0.25, avAlign: 0.25, front: false },
  { name: 'D', lambdas: { l3: 4 }, r1: 0.1, avAlign: 0.35, front: true },
  { name: 'E', lambdas: { l5: 0 }, r1: 0.35, avAlign: 0.15, front: false },
];

let clock = Date.UTC(2025, 0, 1);
const tick = () => (clock += 1000);

function configParams(s: { model: string; features: string; seed: number; lambdas?: Record<string, number> }, dataset: string): Record<string, string | number | boolean> {
  const p: Record<string, string | number | boolean> = {
    experiment: 'x',
    dataset: `vmr-data/${dataset}`,
    trainSplit: 'train',
    valSplit: 'val',
    features: s.features,
    audioFeatures: 'vggish',
    model: s.model,
    protocol: 'paper',
    batchSize: 32,
    epochs: EPOCHS,
    lr: 1e-4,
    seed: s.seed,
    'dataset.name': dataset,
    'dataset.kind': 'synthetic',
    'dataset.synthetic': true,
  };
  if (s.model === 'of-vm-net') {
    for (const l of ['l1', 'l2', 'l3', 'l4', 'l5', 'l6']) p[`loss.lambdas.${l}`] = s.lambdas?.[l] ?? 1;
    p['loss.margin'] = 0.2;
  }
  return p;
}

/** Loss of step t (1-based) for term k: a decaying curve, distinct per term. */
export function lossValue(term: number, t: number): number {
  return (1 + term * 0.1) * Math.exp(-t / 15) + 0.05;
}

async function trainRun(
  tracker: SqliteTracker,
  experiment: string,
  s: { model: string; features: string; seed: number; lambdas?: Record<string, number> },
  parentId: string | undefined,
  valR1Final: number,
): Promise<string> {
  const run = await tracker.startRun({
    experiment,
    name: `${s.model}/${s.features}/seed${s.seed}`,
    parentId,
    seed: s.seed,
    protocol: 'paper',
    backend: 'cpu',
    startTime: tick(),
    tags: { 'vmr.kind': 'train', model: s.model, features: s.features, dataset: 'synth-a', synthetic: 'true' },
  });
  await tracker.logParams(run.id, configParams(s, 'synth-a'));
  const terms = s.model === 'of-vm-net' ? ['l1', 'l2', 'l3', 'l4', 'l5', 'l6'] : ['mv', 'vm', 'sm', 'sv'];
  const points = [];
  for (let t = 1; t <= EPOCHS * STEPS_PER_EPOCH; t++) {
    const vals = terms.map((_, i) => lossValue(i, t));
    points.push({ key: 'train.loss', value: vals.reduce((a, b) => a + b, 0), step: t });
    terms.forEach((k, i) => points.push({ key: `train.${k}`, value: vals[i], step: t }));
    points.push({ key: 'train.lr', value: 1e-4, step: t });
    if (t % STEPS_PER_EPOCH === 0) points.push({ key: 'train.epoch', value: t / STEPS_PER_EPOCH, step: t });
  }
  for (let e = 1; e <= EPOCHS; e++) {
    const r1 = (valR1Final * e) / EPOCHS;
    points.push({ key: 'val.r1', value: r1, step: e }, { key: 'val.r5', value: Math.min(1, r1 + 0.2), step: e }, { key: 'val.r10', value: Math.min(1, r1 + 0.35), step: e }, { key: 'val.medianRank', value: 10 - 2 * e, step: e });
  }
  await tracker.logMetrics(run.id, points);
  await tracker.endRun(run.id, 'finished');
  return run.id;
}

async function evalRun(tracker: SqliteTracker, experiment: string, trainRunId: string, s: { model: string; features: string; seed: number }, dataset: string, m: Record<string, number>): Promise<string> {
  const run = await tracker.startRun({
    experiment,
    name: `eval/${dataset}/test`,
    parentId: trainRunId,
    seed: s.seed,
    protocol: 'paper',
    backend: 'cpu',
    startTime: tick(),
    tags: { 'vmr.kind': 'eval', dataset, datasetKind: 'synthetic', split: 'test', model: s.model, features: s.features, synthetic: 'true' },
  });
  await tracker.logParams(run.id, {
    'eval.trainRun': trainRunId,
    'eval.dataset.name': dataset,
    'eval.dataset.kind': 'synthetic',
    'eval.dataset.synthetic': true,
    'eval.split': 'test',
    'eval.protocol': 'paper',
    'eval.retrievalProtocol': 'full',
    'eval.direction': 'video-to-music',
    model: s.model,
    features: s.features,
  });
  await tracker.logMetrics(run.id, Object.entries({ ...m, meanRank: (m.medianRank ?? 1) + 1, mAP: 0.3, gallerySize: 40, queries: 40 }).map(([k, value]) => ({ key: `eval.${k}`, value, step: 0 })));
  await tracker.endRun(run.id, 'finished');
  return run.id;
}

export interface PopulatedStore {
  trainRuns: string[];
  sweepId: string;
  sweepTrainRuns: string[];
}

/** Fill `tracker` with the experiment (Tables 1 and 2) and the sweep (λ grid). */
export async function populateStore(tracker: SqliteTracker): Promise<PopulatedStore> {
  const trainRuns: string[] = [];
  for (const s of EXPERIMENT_RUNS) {
    const id = await trainRun(tracker, EXPERIMENT, s, undefined, s.table1.r1);
    trainRuns.push(id);
    await evalRun(tracker, EXPERIMENT, id, s, 'synth-a', s.table1);
    if (s.table2) await evalRun(tracker, EXPERIMENT, id, s, 'synth-b', s.table2);
  }
  const sweep = await tracker.startRun({ experiment: SWEEP_EXPERIMENT, name: `sweep/${SWEEP_NAME}`, startTime: tick(), tags: { 'sweep.role': 'sweep', 'sweep.name': SWEEP_NAME, 'sweep.metric': 'eval.synth-a.r1', 'sweep.direction': 'max' } });
  const sweepTrainRuns: string[] = [];
  for (const [i, p] of SWEEP_POINTS.entries()) {
    const trial = await tracker.startRun({ experiment: SWEEP_EXPERIMENT, name: `trial ${i}`, parentId: sweep.id, startTime: tick(), tags: { 'sweep.role': 'trial', 'sweep.trial_key': p.name, 'sweep.index': String(i) } });
    const s = { model: 'of-vm-net', features: 'resnet', seed: 0, lambdas: p.lambdas as Record<string, number> };
    const id = await trainRun(tracker, SWEEP_TRAIN_EXPERIMENT, s, trial.id, p.r1);
    sweepTrainRuns.push(id);
    await evalRun(tracker, SWEEP_TRAIN_EXPERIMENT, id, s, 'synth-a', { r1: p.r1, r5: 0.6, r10: 0.8, avAlign: p.avAlign, avAlignGot: 0.5, fad: 4, medianRank: 3 });
    await tracker.logMetrics(trial.id, [{ key: 'eval.synth-a.r1', value: p.r1 }, { key: 'eval.synth-a.avAlign', value: p.avAlign }]);
    await tracker.setTags(trial.id, { 'sweep.train_run': id });
    await tracker.endRun(trial.id, 'finished');
  }
  await tracker.endRun(sweep.id, 'finished');
  return { trainRuns, sweepId: sweep.id, sweepTrainRuns };
}

// ---------------------------------------------------------------------------------------------------
// The "must show" store of issue 14: 2 models × 3 settings × 3 seeds, known metrics, per-query artifacts.

export const MS_EXPERIMENT = 'must-show';
export const MS_SWEEP = 'must-show-sweep';
/** Queries (= gallery size) of every evaluation: ≥ 100, so no small-gallery flag; every R@k defined. */
export const MS_QUERIES = 120;
/** Seed offsets added to each configuration's base value: mean = base, sample std = step. */
export const MS_SEEDS = [0, 1, 2];
export const MS_DELTA = { r1: [-0.025, 0, 0.025], avAlign: [-0.01, 0, 0.01], fad: [-0.5, 0, 0.5] };

export interface MsConfig {
  name: string;
  model: 'of-vm-net' | 'vm-net';
  /** Logged λ per seed (seed 2 of `B` logs a positive multiple: the same configuration). */
  lambdas?: (seed: number) => Record<'l1' | 'l2' | 'l3' | 'l4' | 'l5' | 'l6', number>;
  canonical?: string;
  margin?: number;
  base: { r1: number; avAlign: number; fad: number };
}

const of = (l3: number) => ({ l1: 1, l2: 1, l3, l4: l3, l5: l3, l6: l3 });
/**
 * OF-VM-Net: λ ratio (λ1, λ2 : λ3…λ6) 1, 4 and 0.25 — R@1 rises and AV-Align falls with the ratio (a
 * trade-off by construction: r = −1 per seed). VM-Net: three margins (no λ).
 */
export const MS_CONFIGS: MsConfig[] = [
  { name: 'A', model: 'of-vm-net', lambdas: () => of(1), canonical: '1:1:1:1:1:1', base: { r1: 0.3, avAlign: 0.35, fad: 5 } },
  { name: 'B', model: 'of-vm-net', lambdas: (s) => (s === 2 ? { l1: 4, l2: 4, l3: 1, l4: 1, l5: 1, l6: 1 } : of(0.25)), canonical: '1:1:0.25:0.25:0.25:0.25', base: { r1: 0.35, avAlign: 0.3, fad: 6 } },
  { name: 'C', model: 'of-vm-net', lambdas: () => of(4), canonical: '1:1:4:4:4:4', base: { r1: 0.25, avAlign: 0.4, fad: 4 } },
  { name: 'V1', model: 'vm-net', margin: 0.1, base: { r1: 0.2, avAlign: 0.3, fad: 7 } },
  { name: 'V3', model: 'vm-net', margin: 0.3, base: { r1: 0.225, avAlign: 0.28, fad: 8 } },
  { name: 'V5', model: 'vm-net', margin: 0.5, base: { r1: 0.275, avAlign: 0.26, fad: 9 } },
];

/** Metrics of one (configuration, seed index). */
export function msMetrics(c: MsConfig, i: number): { r1: number; avAlign: number; fad: number } {
  return { r1: c.base.r1 + MS_DELTA.r1[i], avAlign: c.base.avAlign + MS_DELTA.avAlign[i], fad: c.base.fad + MS_DELTA.fad[i] };
}

function msParams(c: MsConfig, seed: number): Record<string, string | number | boolean> {
  const p: Record<string, string | number | boolean> = {
    experiment: MS_EXPERIMENT,
    dataset: 'vmr-data/synth-a',
    features: 'clip',
    audioFeatures: 'vggish',
    model: c.model,
    protocol: 'paper',
    epochs: 2,
    lr: 1e-4,
    seed,
    'dataset.name': 'synth-a',
    'dataset.kind': 'synthetic',
    'dataset.synthetic': true,
    'data.trainClips': 300,
  };
  const l = c.lambdas?.(seed) ?? of(1); // VM-Net runs log the (unused) λ defaults too
  for (const [k, v] of Object.entries(l)) p[`loss.lambdas.${k}`] = v;
  p['vmNetLoss.margin'] = c.margin ?? 0.5;
  return p;
}

/**
 * Sweep run → trial per (configuration, seed) → training run → evaluation with `eval.*` metrics and a
 * per-query `retrieval.json` whose ranks and AV-Align reproduce the metrics exactly.
 */
export async function populateMustShow(tracker: SqliteTracker, artifactDir: string): Promise<{ sweepId: string; evalRuns: Record<string, string[]> }> {
  const fs = await import('fs');
  const path = await import('path');
  const sweep = await tracker.startRun({ experiment: MS_EXPERIMENT, name: `sweep/${MS_SWEEP}`, startTime: tick(), tags: { 'sweep.role': 'sweep', 'sweep.name': MS_SWEEP, 'sweep.metric': 'eval.synth-a.r1', 'sweep.direction': 'max' } });
  const evalRuns: Record<string, string[]> = {};
  let index = 0;
  for (const c of MS_CONFIGS) {
    evalRuns[c.name] = [];
    for (const [i, seed] of MS_SEEDS.entries()) {
      const m = msMetrics(c, i);
      const params = msParams(c, seed);
      const trial = await tracker.startRun({ experiment: MS_EXPERIMENT, name: `trial ${index}`, parentId: sweep.id, seed, startTime: tick(), tags: { 'sweep.role': 'trial', 'sweep.trial_key': `${c.name}-${seed}`, 'sweep.index': String(index++), 'sweep.attempts': '1', 'sweep.values': JSON.stringify({ seed }) } });
      await tracker.logParams(trial.id, { ...params, trial_key: `${c.name}-${seed}` });
      const train = await tracker.startRun({ experiment: MS_EXPERIMENT, name: `${c.model}/${c.name}/seed${seed}`, parentId: trial.id, seed, protocol: 'paper', backend: 'cpu', startTime: tick(), tags: { 'vmr.kind': 'train', model: c.model, features: 'clip', synthetic: 'true' } });
      await tracker.logParams(train.id, params);
      await tracker.logMetrics(train.id, [{ key: 'train.loss', value: 1, step: 1 }, { key: 'train.loss', value: 0.5, step: 2 }]);
      await tracker.endRun(train.id, 'finished');
      const ev = await tracker.startRun({ experiment: MS_EXPERIMENT, name: 'eval/synth-a/test', parentId: train.id, seed, protocol: 'paper', startTime: tick(), tags: { 'vmr.kind': 'eval', dataset: 'synth-a', split: 'test', synthetic: 'true' } });
      await tracker.logParams(ev.id, { 'eval.dataset.name': 'synth-a', 'eval.dataset.kind': 'synthetic', 'eval.dataset.synthetic': true, 'eval.split': 'test', 'eval.protocol': 'paper', 'eval.retrievalProtocol': 'full', 'eval.direction': 'video-to-music', 'eval.trainOverlap': 0, model: c.model, features: 'clip' });
      const hits = Math.round(m.r1 * MS_QUERIES);
      const ranks = Array.from({ length: MS_QUERIES }, (_, q) => (q < hits ? 1 : 20));
      const metrics = { r1: m.r1, r5: m.r1, r10: m.r1, avAlign: m.avAlign, avAlignGot: 0.5, fad: m.fad, medianRank: 20, meanRank: ranks.reduce((a, b) => a + b, 0) / MS_QUERIES, gallerySize: MS_QUERIES, queries: MS_QUERIES };
      await tracker.logMetrics(ev.id, Object.entries(metrics).map(([k, value]) => ({ key: `eval.${k}`, value, step: 0 })));
      const file = path.join(artifactDir, `retrieval-${ev.id}.json`);
      const clips = Array.from({ length: MS_QUERIES }, (_, q) => `clip${String(q).padStart(3, '0')}`);
      fs.writeFileSync(file, JSON.stringify({ version: 1, direction: 'video-to-music', tiePolicy: 'pessimistic', retrievalProtocol: 'full', gallerySize: MS_QUERIES, clips, top1: clips, top1Index: clips.map((_, q) => q), ranks, ranksInClipOrder: true, avAlign: clips.map(() => m.avAlign), avAlignGot: clips.map(() => 0.5), skipped: [] }));
      await tracker.logArtifact(ev.id, file, 'retrieval.json');
      await tracker.endRun(ev.id, 'finished');
      evalRuns[c.name].push(ev.id);
      await tracker.logMetrics(trial.id, Object.entries({ r1: m.r1, avAlign: m.avAlign, fad: m.fad, gallerySize: MS_QUERIES }).map(([k, value]) => ({ key: `eval.synth-a.${k}`, value })));
      await tracker.setTags(trial.id, { 'sweep.train_run': train.id });
      await tracker.endRun(trial.id, 'finished');
    }
  }
  // a killed attempt of configuration A: listed, never aggregated
  const killed = await tracker.startRun({ experiment: MS_EXPERIMENT, name: `trial ${index}`, parentId: sweep.id, seed: 9, startTime: tick(), tags: { 'sweep.role': 'trial', 'sweep.trial_key': 'A-9', 'sweep.index': String(index), 'sweep.attempts': '1', 'sweep.values': JSON.stringify({ seed: 9 }) } });
  await tracker.logParams(killed.id, { ...msParams(MS_CONFIGS[0], 9), trial_key: 'A-9' });
  await tracker.logMetrics(killed.id, [{ key: 'eval.synth-a.r1', value: 0.99 }]);
  await tracker.endRun(killed.id, 'killed');
  await tracker.endRun(sweep.id, 'finished');
  return { sweepId: sweep.id, evalRuns };
}
