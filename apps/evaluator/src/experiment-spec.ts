import * as path from 'path';
import { createHash } from 'crypto';
import { z } from 'zod';
import { ConfigError } from '@vmr/core';
import { SynthRecipeSchema } from '@vmr/data';
import { EXPERIMENT_ONLY_KEYS, SPLIT_CHOICES, parseTrainConfig, readConfigFile, type TrainConfig } from '@vmr/trainer';
import { EVAL_PROTOCOLS } from './evaluate';

/** A synthetic dataset to generate when its directory has no dataset.json (one schema: @vmr/data's recipe). */
export const SynthSpecSchema = SynthRecipeSchema;
export type SynthSpec = z.infer<typeof SynthSpecSchema>;

export const ExperimentSectionsSchema = z
  .object({
    description: z.string().optional(),
    /** Datasets the experiment uses; `synth` ones are generated when absent. */
    datasets: z.array(z.object({ path: z.string().min(1), synth: SynthSpecSchema.optional() }).strict()).default([]),
    /** Config key path → values; the trials are the Cartesian product. */
    grid: z.record(z.array(z.union([z.string(), z.number(), z.boolean()])).min(1)).default({}),
    /** Evaluations of every trained model. */
    evaluate: z
      .array(
        z
          .object({
            dataset: z.string().min(1),
            split: z.enum(SPLIT_CHOICES).optional(),
            table: z.string().min(1).optional(),
            protocol: z.enum(EVAL_PROTOCOLS).optional(),
          })
          .strict(),
      )
      .default([]),
    /** Parallel training processes (tfjs-wasm is single-threaded: one per core). */
    workers: z.number().int().min(1).default(1),
  })
  .strict();

export interface ExperimentTrial {
  /** Position in the grid. */
  index: number;
  /** The grid values of this trial (key path → value). */
  values: Record<string, string | number | boolean>;
  config: TrainConfig;
  /** sha256 of the canonical resolved config: re-running the experiment reuses a finished run with it. */
  key: string;
}

export interface ExperimentSpec {
  file: string;
  name: string;
  description?: string;
  datasets: Array<{ path: string; synth?: SynthSpec }>;
  evaluate: Array<{ dataset: string; split?: (typeof SPLIT_CHOICES)[number]; table?: string; protocol?: (typeof EVAL_PROTOCOLS)[number] }>;
  workers: number;
  trials: ExperimentTrial[];
}

function setPath(obj: Record<string, unknown>, keyPath: string, value: unknown): void {
  const keys = keyPath.split('.');
  let node = obj;
  for (const k of keys.slice(0, -1)) {
    if (typeof node[k] !== 'object' || node[k] === null) node[k] = {};
    node = node[k] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]] = value;
}

function canonical(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(canonical).join(',')}]`;
  if (x && typeof x === 'object') {
    return `{${Object.keys(x)
      .sort()
      .filter((k) => (x as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((x as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(x);
}

/** sha256 of a resolved config (key order independent). */
export function configKey(config: TrainConfig): string {
  return createHash('sha256').update(canonical(config)).digest('hex');
}

/**
 * Read an experiment file: a train config (the trials' common settings) plus `datasets`, `grid`,
 * `evaluate`, `workers`. Every trial's config is validated here, before anything runs. Relative dataset
 * paths are resolved against `baseDir` (default: the working directory).
 */
export function loadExperiment(file: string, overrides: { workers?: number } = {}, baseDir = process.cwd()): ExperimentSpec {
  const raw = readConfigFile(file);
  const sections: Record<string, unknown> = {};
  const trainRaw: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) ((EXPERIMENT_ONLY_KEYS as readonly string[]).includes(k) ? sections : trainRaw)[k] = v;
  const r = ExperimentSectionsSchema.safeParse(sections);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new ConfigError(`${file}: '${issue.path.join('.')}' ${issue.message}`, { details: { path: issue.path.join('.') } });
  }
  const s = r.data;
  const abs = (p: string) => path.resolve(baseDir, p);
  const gridKeys = Object.keys(s.grid);
  const combos: Array<Record<string, string | number | boolean>> = [{}];
  for (const k of gridKeys) {
    const next: typeof combos = [];
    for (const c of combos) for (const v of s.grid[k]) next.push({ ...c, [k]: v });
    combos.splice(0, combos.length, ...next);
  }
  const trials = combos.map((values, index) => {
    const cfg = structuredClone(trainRaw);
    for (const [k, v] of Object.entries(values)) setPath(cfg, k, v);
    if (typeof cfg.dataset === 'string') cfg.dataset = abs(cfg.dataset);
    const where = `${file} (trial ${index + 1}: ${Object.entries(values).map(([k, v]) => `${k}=${v}`).join(', ') || 'no grid'})`;
    const config = parseTrainConfig(cfg, where);
    return { index, values, config, key: configKey(config) };
  });
  return {
    file,
    name: trials[0]?.config.experiment ?? 'default',
    description: s.description,
    datasets: s.datasets.map((d) => ({ ...d, path: abs(d.path) })),
    evaluate: s.evaluate.map((e) => ({ ...e, dataset: abs(e.dataset) })),
    workers: overrides.workers ?? s.workers,
    trials,
  };
}
