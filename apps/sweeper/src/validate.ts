/**
 * Checking a whole sweep before anything runs (`vmr sweep run --dry-run`, and every real run before its
 * first trial): every trial's resolved config against the trainer's schema (unknown and misspelled
 * keys included), every dataset (exists, or has a synthetic recipe to generate it; feature dims match
 * the config and agree between the training and evaluation datasets), and the metric name. All
 * problems are collected and reported together, each naming the trial and the key.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ConfigError, VmrError, errorMessage, getPath } from '@vmr/core';
import { SYNTH_GENERATOR_VERSION, synthPreset, viewDim, type Dataset } from '@vmr/data';
import type { EvalMetrics } from '@vmr/evaluator';
import { checkFeatureDims, openDataset, parseTrainConfig, type TrainConfig } from '@vmr/pipeline';
import { datasetExists, recipeFor } from './datasets';
import type { TrialPlan } from './expand';
import type { SweepSpec } from './spec';

/** One problem found in a spec: which trial (if trial-specific), which key, what is wrong. */
export interface SpecProblem {
  /** Trial labels (`t003 (features=clip, seed=1)`) the problem applies to; empty for spec-wide problems. */
  trials: string[];
  /** The config key or spec key concerned. */
  key: string;
  message: string;
}

/** Numeric results `vmr eval --json` reports under `metrics` (copied onto trials as `eval.<name>.<key>`). */
export const EVAL_METRIC_KEYS = ['avAlignGot', 'avAlign', 'fad', 'r1', 'r5', 'r10', 'medianRank', 'meanRank', 'mAP', 'gallerySize', 'queries'] as const satisfies readonly (keyof EvalMetrics)[];
/** Validation results of the training run, copied onto trials as `train.val.<key>`. */
export const TRAIN_VAL_KEYS = ['r1', 'r5', 'r10', 'medianRank'] as const;

/** Every metric a trial run of this spec records (the names `metric.name` may use). */
export function trialMetricNames(spec: SweepSpec): string[] {
  return ['train.loss', ...TRAIN_VAL_KEYS.map((k) => `train.val.${k}`), ...spec.evaluate.flatMap((e) => EVAL_METRIC_KEYS.map((k) => `eval.${e.name}.${k}`))];
}

export function trialLabel(t: Pick<TrialPlan, 'index' | 'values' | 'section'>): string {
  const v = Object.entries(t.values).map(([k, x]) => `${k}=${x}`);
  return `t${String(t.index).padStart(3, '0')}${t.section ? ` [${t.section}]` : ''}${v.length ? ` (${v.join(', ')})` : ''}`;
}

/**
 * Why an existing dataset with a synth recipe must not be reused (its dataset.json records another
 * generator version than this code's, or none), or undefined when it is current.
 */
export function staleSynthetic(dir: string): string | undefined {
  const file = path.join(dir, 'dataset.json');
  let prov: { generator?: unknown; version?: unknown } | undefined;
  try {
    prov = (JSON.parse(fs.readFileSync(file, 'utf8')) as { provenance?: { synthetic?: { generator?: unknown; version?: unknown } } }).provenance?.synthetic;
  } catch (e) {
    return `datasets: ${file} cannot be read (${errorMessage(e)}); delete ${dir} to regenerate it from its synth recipe`;
  }
  if (prov?.version === SYNTH_GENERATOR_VERSION) return undefined;
  const was = prov === undefined ? 'not by vmr synth (no provenance.synthetic)' : `by vmr synth v${String(prov.version)}`;
  return `datasets: ${dir} was generated ${was}, but its synth recipe now means vmr synth v${SYNTH_GENERATOR_VERSION}; its results would not be comparable. Delete the directory (rm -r ${dir}) and run again to regenerate it`;
}

/** What a dataset directory offers: its extractors' dims (from dataset.json, or from the synthetic recipe's preset). */
interface DatasetView {
  source: 'dataset' | 'recipe';
  video: Map<string, number>;
  audio: Map<string, number>;
  ds?: Dataset;
}

function zodIssues(e: unknown): { key: string; message: string }[] | undefined {
  const issues = e instanceof VmrError ? (e.details.issues as { code: string; path: (string | number)[]; message: string; keys?: string[] }[] | undefined) : undefined;
  if (!issues) return undefined;
  return issues.map((i) => {
    const where = i.path.join('.');
    if (i.code === 'unrecognized_keys' && i.keys) return { key: i.keys.map((k) => (where ? `${where}.${k}` : k)).join(', '), message: `unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `'${where ? `${where}.` : ''}${k}'`).join(', ')}` };
    return { key: where || '(top level)', message: `'${where || '(top level)'}' ${i.message}` };
  });
}

/**
 * Check every trial of an expansion. Returns the problems (empty when the sweep can run). Reads dataset
 * manifests; writes nothing.
 */
export function validateSweep(spec: SweepSpec, trials: readonly TrialPlan[], experiment: string): SpecProblem[] {
  const grouped = new Map<string, SpecProblem>();
  const add = (trial: TrialPlan | undefined, key: string, message: string) => {
    const id = `${key}\u0000${message}`;
    const p = grouped.get(id) ?? { trials: [], key, message };
    if (trial) p.trials.push(trialLabel(trial));
    grouped.set(id, p);
  };
  // A synthetic dataset made by an older generator is not what its recipe now makes: refuse to reuse it.
  for (const d of spec.datasets) {
    if (!d.synth || !datasetExists(d.path)) continue;
    const stale = staleSynthetic(d.path);
    if (stale) add(undefined, 'datasets', stale);
  }
  const views = new Map<string, DatasetView | { error: string }>();
  const viewOf = (dir: string): DatasetView | { error: string } => {
    const abs = path.resolve(dir);
    const cached = views.get(abs);
    if (cached) return cached;
    let v: DatasetView | { error: string };
    if (datasetExists(abs)) {
      try {
        const ds = openDataset(abs);
        const video = new Map<string, number>();
        const audio = new Map<string, number>();
        for (const e of ds.manifest.extractors) (e.modality === 'audio' ? audio : video).set(e.name, e.dim);
        v = { source: 'dataset', video, audio, ds };
      } catch (e) {
        v = { error: errorMessage(e) };
      }
    } else {
      const recipe = recipeFor(spec, abs);
      if (!recipe) {
        v = { error: `dataset ${abs} does not exist (no dataset.json) and 'datasets:' has no synth recipe for it; create it (vmr synth, vmr ingest, vmr import) or add { path, synth } to 'datasets'` };
      } else {
        const cfg = synthPreset(recipe.preset);
        const chosen = recipe.views ? cfg.views.filter((x) => recipe.views!.includes(x.name)) : cfg.views;
        for (const name of recipe.views ?? []) if (!cfg.views.some((x) => x.name === name)) add(undefined, 'datasets', `datasets: synth recipe for ${abs} asks for view '${name}', which preset ${recipe.preset} does not have (it has: ${cfg.views.map((x) => x.name).join(', ')})`);
        v = { source: 'recipe', video: new Map(chosen.map((x) => [x.name, viewDim(x)])), audio: new Map([[cfg.audio.name, viewDim(cfg.audio)]]) };
      }
    }
    views.set(abs, v);
    return v;
  };

  if (spec.metric) {
    const names = trialMetricNames(spec);
    if (!names.includes(spec.metric.name)) add(undefined, 'metric.name', `metric.name '${spec.metric.name}' is not a metric the trials record; one of: ${names.join(', ')}`);
  }

  for (const t of trials) {
    let config: TrainConfig;
    try {
      config = parseTrainConfig({ ...t.config, experiment }, 'config');
    } catch (e) {
      const issues = zodIssues(e);
      if (issues) for (const i of issues) add(t, i.key, i.message);
      else add(t, String((e as VmrError).details?.path ?? 'config'), errorMessage(e).replace(/^config: /, ''));
      // Without the unknown keys the rest of the config may still parse: check its datasets too, so one
      // report lists every problem.
      const stripped = withoutUnknownKeys({ ...t.config, experiment }, e);
      if (!stripped) continue;
      try {
        config = parseTrainConfig(stripped, 'config');
      } catch {
        continue;
      }
    }
    const train = viewOf(config.dataset);
    const explicit = config.model === 'vm-net' ? config.vmNet : config.ofVmNet;
    let dims: { videoDim: number; audioDim: number } | undefined;
    if ('error' in train) add(t, 'dataset', train.error);
    else if (train.ds) {
      try {
        dims = checkFeatureDims(train.ds, config, { videoDim: explicit.videoDim, audioDim: explicit.audioDim }, 'the config');
      } catch (e) {
        add(t, 'features', errorMessage(e));
      }
    } else {
      dims = recipeDims(train, config, explicit, add.bind(null, t), `dataset ${config.dataset} (synthetic recipe)`);
    }
    for (const e of spec.evaluate) {
      const ev = viewOf(e.dataset);
      if ('error' in ev) {
        add(t, `evaluate[${e.name}]`, ev.error);
        continue;
      }
      if (!dims) continue;
      const what = `evaluation dataset ${e.dataset}${ev.source === 'recipe' ? ' (synthetic recipe)' : ''}`;
      const v = ev.video.get(config.features);
      const a = ev.audio.get(config.audioFeatures);
      if (v === undefined) add(t, 'features', `${what} has no video extractor '${config.features}' (it has: ${[...ev.video.keys()].join(', ') || 'none'})`);
      else if (v !== dims.videoDim) add(t, 'features', `feature dim mismatch: the model trained on ${config.dataset} has video dim ${dims.videoDim} (${config.features}), ${what} video/${config.features} has dim ${v}`);
      if (a === undefined) add(t, 'audioFeatures', `${what} has no audio extractor '${config.audioFeatures}' (it has: ${[...ev.audio.keys()].join(', ') || 'none'})`);
      else if (a !== dims.audioDim) add(t, 'audioFeatures', `feature dim mismatch: the model trained on ${config.dataset} has audio dim ${dims.audioDim} (${config.audioFeatures}), ${what} audio/${config.audioFeatures} has dim ${a}`);
    }
  }
  return [...grouped.values()];
}

/** A copy of `raw` without the keys a zod error reported as unrecognized; undefined when there were none. */
function withoutUnknownKeys(raw: Record<string, unknown>, e: unknown): Record<string, unknown> | undefined {
  const issues = e instanceof VmrError ? (e.details.issues as { code: string; path: (string | number)[]; keys?: string[] }[] | undefined) : undefined;
  const unknown = (issues ?? []).filter((i) => i.code === 'unrecognized_keys' && i.keys);
  if (unknown.length === 0) return undefined;
  const out = structuredClone(raw);
  for (const i of unknown) {
    const parent = i.path.length ? getPath(out, i.path.join('.')) : out;
    if (parent && typeof parent === 'object') for (const k of i.keys!) delete (parent as Record<string, unknown>)[k];
  }
  return out;
}

function recipeDims(view: DatasetView, config: TrainConfig, explicit: { videoDim?: number; audioDim?: number }, add: (key: string, message: string) => void, what: string): { videoDim: number; audioDim: number } | undefined {
  const v = view.video.get(config.features);
  const a = view.audio.get(config.audioFeatures);
  let ok = true;
  if (v === undefined) (ok = false), add('features', `${what} has no video extractor '${config.features}' (it will have: ${[...view.video.keys()].join(', ')})`);
  else if (explicit.videoDim !== undefined && explicit.videoDim !== v) (ok = false), add('features', `feature dim mismatch: the config expects video dim ${explicit.videoDim}, ${what} video/${config.features} has dim ${v}`);
  if (a === undefined) (ok = false), add('audioFeatures', `${what} has no audio extractor '${config.audioFeatures}' (it will have: ${[...view.audio.keys()].join(', ')})`);
  else if (explicit.audioDim !== undefined && explicit.audioDim !== a) (ok = false), add('audioFeatures', `feature dim mismatch: the config expects audio dim ${explicit.audioDim}, ${what} audio/${config.audioFeatures} has dim ${a}`);
  return ok ? { videoDim: v!, audioDim: a! } : undefined;
}

/** The error a sweep with problems fails with: every problem, one per line, trials named. */
export class SpecValidationError extends ConfigError {
  constructor(
    where: string,
    readonly problems: SpecProblem[],
  ) {
    super(`${where}: ${problems.length} problem${problems.length > 1 ? 's' : ''} found before running anything (nothing was run or written):\n${formatProblems(problems)}`, { details: { file: where, problems } });
  }
}

export function formatProblems(problems: readonly SpecProblem[], maxTrials = 4): string {
  return problems
    .map((p) => {
      if (p.trials.length === 0) return `  - ${p.message}`;
      const shown = p.trials.slice(0, maxTrials).join('; ');
      const more = p.trials.length > maxTrials ? `; … and ${p.trials.length - maxTrials} more` : '';
      return `  - ${p.message}\n      in ${p.trials.length === 1 ? 'trial' : `${p.trials.length} trials`}: ${shown}${more}`;
    })
    .join('\n');
}
