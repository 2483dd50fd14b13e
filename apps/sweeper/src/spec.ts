/**
 * The sweep spec (YAML, validated with zod): a base trainer config, grid and random parameter spaces
 * over any config key (λ1–λ6, lr, …), the extractors / models / seeds to cross, the metric to optimise,
 * the datasets to evaluate on (with table labels), the datasets to generate from synthetic recipes, and
 * the execution limits. An experiment file (experiments/quickstart.yaml, table1.yaml) is a sweep spec
 * whose trainer config is written inline at the top level; `sweeps:` adds further sections (e.g. a λ
 * sweep) that share the base config, the datasets and the evaluations.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, FileFormatError, NotFoundError } from '@vmr/core';
import { SynthRecipeSchema, type SynthRecipe as DataSynthRecipe } from '@vmr/data';
import { SPLIT_CHOICES, TRAIN_PROTOCOLS, TrainConfigSchema } from '@vmr/pipeline';

/** A scalar a config key can take. */
export type ParamScalar = string | number | boolean;

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const finite = z.number().finite();

/** `lambda2: { link: lambda1 }` — a parameter that follows another (optionally scaled and shifted). */
const linkSpace = z
  .object({
    link: z.string().min(1),
    scale: finite.optional(),
    offset: finite.optional(),
  })
  .strict();

/** `{ values: [...] }` — an explicit list (a bare YAML list means the same). */
const valuesSpace = z.object({ values: z.array(scalar).min(1) }).strict();

/**
 * `{ range: [lo, hi], step }` (lo, lo+step, … ≤ hi) or `{ range: [lo, hi], num }` (num evenly spaced
 * values, both ends included). In a random space without step/num: uniform on [lo, hi].
 */
const rangeSpace = z
  .object({
    range: z.tuple([finite, finite]),
    step: finite.positive().optional(),
    num: z.number().int().min(1).optional(),
    /** Round sampled / generated values to integers. */
    int: z.boolean().optional(),
  })
  .strict();

/**
 * `{ log: [lo, hi], num }`: num values evenly spaced in log10 between lo and hi (both > 0, ends
 * included). In a random space without num: log-uniform on [lo, hi].
 */
const logSpace = z
  .object({
    log: z.tuple([finite.positive(), finite.positive()]),
    num: z.number().int().min(1).optional(),
  })
  .strict();

export const paramSpaceSchema = z.union([z.array(scalar).min(1), scalar, valuesSpace, rangeSpace, logSpace, linkSpace]);
export type ParamSpace = z.infer<typeof paramSpaceSchema>;

const listOrOne = <T extends z.ZodTypeAny>(t: T) => z.union([t, z.array(t).min(1)]).transform((v) => (Array.isArray(v) ? v : [v]) as z.infer<T>[]);

const evaluateEntry = z.union([
  z.string().min(1).transform((dataset) => ({ dataset }) as { dataset: string; name?: string; split?: (typeof SPLIT_CHOICES)[number]; table?: string; protocol?: (typeof TRAIN_PROTOCOLS)[number] }),
  z
    .object({
      dataset: z.string().min(1),
      /** Metric prefix for this dataset (default: the directory's base name). */
      name: z
        .string()
        .regex(/^[A-Za-z0-9_-]+$/, 'a name of letters, digits, _ and -')
        .optional(),
      split: z.enum(SPLIT_CHOICES).optional(),
      /** Table id the evaluation is filed under (`vmr eval --table`; default 1 in-distribution, 2 otherwise). */
      table: z.string().min(1).optional(),
      /** Evaluation protocol (`vmr eval --protocol`; default paper). */
      protocol: z.enum(TRAIN_PROTOCOLS).optional(),
    })
    .strict(),
]);

/** A synthetic dataset to generate when its directory has no dataset.json: @vmr/data's one recipe schema. */
export const synthRecipeSchema = SynthRecipeSchema;
export type SynthRecipe = DataSynthRecipe;

/** The dimensions of one section of a sweep: what it crosses. */
const sectionShape = {
  /** Extractors to cross (config key `features`). */
  features: listOrOne(z.string().min(1)).optional(),
  /** Models to cross (config key `model`). */
  model: listOrOne(z.string().min(1)).optional(),
  /** Seeds to cross (config key `seed`): several seeds per configuration. */
  seeds: listOrOne(z.number().int().min(0)).optional(),
  /** Fixed overrides applied to every trial (dotted keys allowed). */
  set: z.record(scalar).default({}),
  /** Cartesian product over these keys. */
  grid: z.record(paramSpaceSchema).default({}),
  /** Random samples, each crossed with every grid point. */
  random: z
    .object({
      samples: z.number().int().min(1),
      seed: z.number().int().min(0).default(0),
      params: z.record(paramSpaceSchema),
    })
    .strict()
    .optional(),
  /** Run at most this many trials (in expansion order). */
  maxTrials: z.number().int().min(1).optional(),
};

/**
 * A further section of an experiment (e.g. a λ sweep of OF-VM-Net): inherits the top level's `model`,
 * `features` and `seeds` unless it gives its own; the top-level `set` applies, then the section's.
 */
export const sweepSectionSchema = z
  .object({
    /** Shown in status and recorded on its trials (tag `sweep.section`). */
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'letters, digits, _ . - (starting with a letter or digit)'),
    description: z.string().optional(),
    ...sectionShape,
  })
  .strict();
export type SweepSection = z.output<typeof sweepSectionSchema>;

export const sweepSpecSchema = z
  .object({
    /** The sweep's name: identifies it in the store, so re-running the spec resumes it (default: `experiment`, else the file's base name). */
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'letters, digits, _ . - (starting with a letter or digit)'),
    /** Experiment the sweep and its trials are logged under (default: the sweep name). */
    experiment: z.string().min(1).optional(),
    description: z.string().optional(),
    /**
     * Base trainer config (YAML), relative to the spec file. Its `dataset` (like `vmr train`'s) and the
     * `evaluate` datasets are relative to the working directory; both are made absolute at expansion.
     * Trainer keys written at the top level of the spec (an experiment file) override the base's.
     */
    base: z.string().min(1).optional(),
    ...sectionShape,
    /** Further sections sharing the base config, datasets and evaluations (e.g. a λ sweep). */
    sweeps: z.array(sweepSectionSchema).min(1).optional(),
    /** Metric to optimise (a trial-run metric key such as `eval.val.r1`) and its direction. */
    metric: z
      .object({
        name: z.string().min(1),
        direction: z.enum(['max', 'min']).default('max'),
      })
      .strict()
      .optional(),
    /** Datasets every trial is evaluated on after training. */
    evaluate: z.array(evaluateEntry).default([]),
    /** Datasets the sweep uses; those with a `synth` recipe are generated when absent. */
    datasets: z.array(z.object({ path: z.string().min(1), synth: synthRecipeSchema.optional() }).strict()).default([]),
    /** Default local pool size (`--workers` overrides; default one per core). */
    workers: z.number().int().min(1).optional(),
    /** At most this many trials at once (the pool size is min(workers, maxParallel)). */
    maxParallel: z.number().int().min(1).optional(),
    /** Attempts per trial, counting retries after crashes and `--retry-failed` (interruptions do not count). */
    maxAttempts: z.number().int().min(1).default(3),
    /**
     * Code version that goes into each trial key: `git` (the checkout's commit, `+dirty` when the
     * tree has changes; outside a checkout the package version + a hash of the installed sources),
     * `sources` (that hash in a checkout too: commits touching only docs keep the trials), or a fixed
     * string (e.g. a release tag).
     */
    codeVersion: z.string().min(1).default('git'),
  })
  .strict();

/** Keys of the sweep spec proper; every other top-level key of a spec file is a trainer-config key. */
export const SWEEP_SPEC_KEYS: readonly string[] = Object.keys(sweepSpecSchema.shape);
/** Trainer-config keys (what a base config or an experiment file's top level may hold). */
export const TRAINER_KEYS: readonly string[] = Object.keys(TrainConfigSchema.shape);

export type SweepSpecInput = z.input<typeof sweepSpecSchema>;
export type SweepSpecParsed = z.output<typeof sweepSpecSchema>;

/** A validated spec plus where it came from and its base config, loaded. */
export interface SweepSpec extends Omit<SweepSpecParsed, 'evaluate' | 'datasets'> {
  /** Absolute path of the spec file ('' for an in-memory spec). */
  specFile: string;
  /** The base config object: `base` plus the inline trainer keys (empty when neither is given). */
  baseConfig: Record<string, unknown>;
  /** Evaluate entries with absolute dataset paths and resolved names. */
  evaluate: EvaluateEntry[];
  /** Dataset entries with absolute paths. */
  datasets: { path: string; synth?: SynthRecipe }[];
}

/** One evaluation of every trial: dataset (absolute), metric prefix, split, table id and protocol. */
export interface EvaluateEntry {
  dataset: string;
  name: string;
  split?: string;
  table?: string;
  protocol?: string;
}

/** Trainer keys of a config object; keys that belong to a sweep spec (an experiment file used as a base) are dropped. */
function trainerPart(raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) if (TRAINER_KEYS.includes(k) || !SWEEP_SPEC_KEYS.includes(k)) out[k] = v;
  // `features` / `model` in an experiment file are sweep dimensions, not fixed trainer keys
  for (const k of ['features', 'model']) if (Array.isArray(out[k])) delete out[k];
  delete out.description;
  return out;
}

function zodPath(p: (string | number)[]): string {
  return p.length ? p.map((k) => (typeof k === 'number' ? `[${k}]` : k)).join('.').replace(/\.\[/g, '[') : '(root)';
}

/** Validate a spec object; `file` names it in errors and anchors relative paths. */
export function parseSweepSpec(raw: unknown, file = ''): SweepSpec {
  const where = file || 'sweep spec';
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`${where}: a sweep spec must be a YAML mapping`, { details: { file } });
  // An experiment file: trainer keys at the top level form the inline base config.
  const specRaw: Record<string, unknown> = {};
  const inline: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (SWEEP_SPEC_KEYS.includes(k)) specRaw[k] = v;
    else if (TRAINER_KEYS.includes(k)) inline[k] = v;
    else specRaw[k] = v; // unknown: reported by the strict schema below
  }
  if (inline.experiment === undefined && typeof specRaw.experiment === 'string') inline.experiment = specRaw.experiment;
  if (specRaw.name === undefined) {
    const fallback = typeof specRaw.experiment === 'string' ? specRaw.experiment : file ? path.basename(file).replace(/\.ya?ml$/i, '') : undefined;
    if (fallback !== undefined) specRaw.name = fallback.replace(/[^A-Za-z0-9_.-]/g, '-');
  }
  const r = sweepSpecSchema.safeParse(specRaw);
  if (!r.success) {
    const issues = r.error.issues.map((i) => {
      const extra = i.code === 'unrecognized_keys' ? ` (${i.keys.join(', ')})` : '';
      return `${zodPath(i.path)}: ${i.message}${extra}`;
    });
    throw new ConfigError(`${where}: invalid sweep spec: ${issues.join('; ')}`, { details: { file, issues: r.error.issues } });
  }
  const spec = r.data;
  const dir = file ? path.dirname(path.resolve(file)) : process.cwd();
  let baseConfig: Record<string, unknown> = {};
  if (spec.base) {
    const basePath = path.resolve(dir, spec.base);
    if (!fs.existsSync(basePath)) throw new NotFoundError(`${where}: base config '${spec.base}' not found (looked at ${basePath})`, { details: { file, key: 'base' } });
    const loaded = readYaml(basePath);
    if (loaded === null || typeof loaded !== 'object' || Array.isArray(loaded)) throw new ConfigError(`${basePath}: a trainer config must be a YAML mapping`);
    // An experiment file (quickstart.yaml) may serve as the base: its sweep keys are not trainer config,
    // but its synthetic dataset recipes say how to make the data its config uses (kept unless redefined).
    baseConfig = trainerPart(loaded as Record<string, unknown>);
    spec.base = basePath;
    const inherited = (loaded as Record<string, unknown>).datasets;
    if (Array.isArray(inherited)) {
      const parsed = z.array(z.object({ path: z.string().min(1), synth: synthRecipeSchema.optional() }).strict()).safeParse(inherited);
      if (!parsed.success) throw new ConfigError(`${basePath}: invalid 'datasets': ${parsed.error.issues.map((i) => `${zodPath(i.path)}: ${i.message}`).join('; ')}`, { details: { file: basePath, key: 'datasets' } });
      const own = new Set(spec.datasets.map((d) => path.resolve(d.path)));
      spec.datasets.push(...parsed.data.filter((d) => !own.has(path.resolve(d.path))));
    }
  }
  Object.assign(baseConfig, inline);
  const names = new Set<string>();
  // Dataset paths follow `vmr train` / `vmr eval`: relative to the working directory.
  const evaluate = spec.evaluate.map((e, i) => {
    const dataset = path.resolve(e.dataset);
    const name = e.name ?? path.basename(dataset).replace(/[^A-Za-z0-9_-]/g, '_');
    if (names.has(name)) throw new ConfigError(`${where}: evaluate[${i}]: two datasets named '${name}'; give them distinct 'name's`, { details: { file, key: `evaluate[${i}]` } });
    names.add(name);
    return { dataset, name, ...(e.split ? { split: e.split } : {}), ...(e.table ? { table: e.table } : {}), ...(e.protocol ? { protocol: e.protocol } : {}) };
  });
  const datasets = spec.datasets.map((d) => ({ ...d, path: path.resolve(d.path) }));
  // Dimensions given twice would silently override each other.
  checkDimensions(spec, where, file);
  for (const [i, sec] of (spec.sweeps ?? []).entries()) checkDimensions(sec, `${where}: sweeps[${i}] (${sec.name})`, file, spec.set);
  const sections = new Set<string>();
  for (const sec of spec.sweeps ?? []) {
    if (sections.has(sec.name)) throw new ConfigError(`${where}: two sweeps named '${sec.name}'`, { details: { file, key: 'sweeps' } });
    sections.add(sec.name);
  }
  return { ...spec, specFile: file ? path.resolve(file) : '', baseConfig, evaluate, datasets };
}

function checkDimensions(spec: { features?: unknown; model?: unknown; seeds?: unknown; set: Record<string, unknown>; grid: Record<string, unknown>; random?: { params: Record<string, unknown> } }, where: string, file: string, inheritedSet: Record<string, unknown> = {}): void {
  const dims = new Map<string, string>();
  const claim = (key: string, origin: string) => {
    const prior = dims.get(key);
    if (prior) throw new ConfigError(`${where}: parameter '${key}' is set by both ${prior} and ${origin}`, { details: { file, key } });
    dims.set(key, origin);
  };
  if (spec.features) claim('features', "'features'");
  if (spec.model) claim('model', "'model'");
  if (spec.seeds) claim('seed', "'seeds'");
  for (const k of Object.keys(spec.set)) claim(k, "'set'");
  for (const k of Object.keys(spec.grid)) claim(k, "'grid'");
  for (const k of Object.keys(spec.random?.params ?? {})) claim(k, "'random.params'");
  void inheritedSet; // a section's dimensions may override the top-level `set`
}

function readYaml(file: string): unknown {
  const text = fs.readFileSync(file, 'utf8');
  try {
    return parseYaml(text);
  } catch (e) {
    throw new FileFormatError(`${file}: not valid YAML: ${(e as Error).message}`, { cause: e, details: { file } });
  }
}

/** Read and validate a sweep spec file. */
export function loadSweepSpec(file: string): SweepSpec {
  const abs = path.resolve(file);
  if (!fs.existsSync(abs)) throw new NotFoundError(`sweep spec '${file}' not found`, { details: { file: abs } });
  return parseSweepSpec(readYaml(abs), abs);
}
