/**
 * The sweep spec (YAML, validated with zod): a base trainer config, grid and random parameter spaces
 * over any config key (λ1–λ6, lr, …), the extractors / models / seeds to cross, the metric to optimise,
 * the datasets to evaluate on, and the execution limits.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, FileFormatError, NotFoundError } from '@vmr/core';
import { EXPERIMENT_ONLY_KEYS } from '@vmr/pipeline';

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
  z.string().min(1).transform((dataset) => ({ dataset, name: undefined as string | undefined, split: undefined as string | undefined })),
  z
    .object({
      dataset: z.string().min(1),
      /** Metric prefix for this dataset (default: the directory's base name). */
      name: z
        .string()
        .regex(/^[A-Za-z0-9_-]+$/, 'a name of letters, digits, _ and -')
        .optional(),
      split: z.string().optional(),
    })
    .strict(),
]);

export const sweepSpecSchema = z
  .object({
    /** The sweep's name: identifies it in the store, so re-running the spec resumes it. */
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'letters, digits, _ . - (starting with a letter or digit)'),
    /** Experiment the sweep and its trials are logged under (default: the sweep name). */
    experiment: z.string().min(1).optional(),
    description: z.string().optional(),
    /**
     * Base trainer config (YAML), relative to the spec file. Its `dataset` (like `vmr train`'s) and the
     * `evaluate` datasets are relative to the working directory; both are made absolute at expansion.
     */
    base: z.string().min(1).optional(),
    /** Fixed overrides applied to every trial (dotted keys allowed). */
    set: z.record(scalar).default({}),
    /** Extractors to cross (config key `features`). */
    features: listOrOne(z.string().min(1)).optional(),
    /** Models to cross (config key `model`). */
    model: listOrOne(z.string().min(1)).optional(),
    /** Seeds to cross (config key `seed`). */
    seeds: listOrOne(z.number().int().min(0)).optional(),
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
    /** Run at most this many trials (in expansion order). */
    maxTrials: z.number().int().min(1).optional(),
    /** At most this many trials at once (the pool size is min(workers, maxParallel)). */
    maxParallel: z.number().int().min(1).optional(),
    /** Attempts per trial, counting retries after crashes and `--retry-failed`. */
    maxAttempts: z.number().int().min(1).default(3),
    /**
     * Code version that goes into each trial key: `git` (the checkout's commit, `+dirty` when the
     * tree has changes) or a fixed string (e.g. a release tag).
     */
    codeVersion: z.string().min(1).default('git'),
  })
  .strict();

export type SweepSpecInput = z.input<typeof sweepSpecSchema>;
export type SweepSpecParsed = z.output<typeof sweepSpecSchema>;

/** A validated spec plus where it came from and its base config, loaded. */
export interface SweepSpec extends SweepSpecParsed {
  /** Absolute path of the spec file ('' for an in-memory spec). */
  specFile: string;
  /** The base config object (empty when `base` is not given). */
  baseConfig: Record<string, unknown>;
  /** Evaluate entries with absolute dataset paths and resolved names. */
  evaluate: { dataset: string; name: string; split?: string }[];
}

function zodPath(p: (string | number)[]): string {
  return p.length ? p.map((k) => (typeof k === 'number' ? `[${k}]` : k)).join('.').replace(/\.\[/g, '[') : '(root)';
}

/** Validate a spec object; `file` names it in errors and anchors relative paths. */
export function parseSweepSpec(raw: unknown, file = ''): SweepSpec {
  const where = file || 'sweep spec';
  const r = sweepSpecSchema.safeParse(raw);
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
    baseConfig = { ...(loaded as Record<string, unknown>) };
    // An experiment file (quickstart.yaml) may serve as the base: its experiment-only keys are not trainer config.
    for (const k of EXPERIMENT_ONLY_KEYS) delete baseConfig[k];
    spec.base = basePath;
  }
  const names = new Set<string>();
  // Dataset paths follow `vmr train` / `vmr eval`: relative to the working directory.
  const evaluate = spec.evaluate.map((e, i) => {
    const dataset = path.resolve(e.dataset);
    const name = e.name ?? path.basename(dataset).replace(/[^A-Za-z0-9_-]/g, '_');
    if (names.has(name)) throw new ConfigError(`${where}: evaluate[${i}]: two datasets named '${name}'; give them distinct 'name's`, { details: { file, key: `evaluate[${i}]` } });
    names.add(name);
    return { dataset, name, ...(e.split ? { split: e.split } : {}) };
  });
  // Dimensions given twice would silently override each other.
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
  return { ...spec, specFile: file ? path.resolve(file) : '', baseConfig, evaluate };
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
