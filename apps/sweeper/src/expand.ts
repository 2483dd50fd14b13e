/**
 * Trial expansion: a spec → the ordered list of resolved trial configs, each with its key
 * (sha256 of the canonical resolved config, the evaluation datasets and the code version), and the
 * λ aliases among them. The one implementation of the cartesian product, the dotted-path set and the
 * hashing that sweeps, experiments and the quickstart share.
 */
import * as path from 'path';
import { ConfigError, Rng, canonicalJson, getPath, setPath, sha256Hex } from '@vmr/core';
import { parseTrainConfig } from '@vmr/pipeline';
import type { EvaluateEntry, ParamScalar, ParamSpace, SweepSection, SweepSpec } from './spec';

/** One trial: its position in the expansion, the values it varies, its full config and key. */
export interface TrialPlan {
  /** 0-based position in expansion order. */
  index: number;
  /** sha256 (hex) of the resolved config + evaluation datasets + code version. */
  key: string;
  /** The values this trial sets (spec dimensions, linked params included), dotted keys. */
  values: Record<string, ParamScalar>;
  /** Base config with `set`, the dimensions and the linked params applied. */
  config: Record<string, unknown>;
  /** The spec section (`sweeps[].name`) the trial comes from; undefined for the top level. */
  section?: string;
  /**
   * Set when this trial's config equals an earlier trial's except for a positive common factor of the
   * λ vector (loss.lambdas.l1…l6): Adam is invariant to the loss scale, so it is not run; its results
   * are the canonical trial's.
   */
  aliasOf?: { key: string; index: number; scale: number };
}

export interface Expansion {
  trials: TrialPlan[];
  /** Trials the spec expands to before `maxTrials`. */
  total: number;
  codeVersion: string;
}

/** Values rounded to 12 significant digits (so 0.1 + 0.2 gives the grid point 0.3). */
function clean(v: number): number {
  return v === 0 ? 0 : Number(v.toPrecision(12));
}

type Linked = { link: string; scale?: number; offset?: number };
const isLink = (s: ParamSpace): s is Linked => typeof s === 'object' && s !== null && !Array.isArray(s) && 'link' in s;

/** The discrete values of a grid dimension. */
export function gridValues(key: string, space: ParamSpace): ParamScalar[] {
  if (Array.isArray(space)) return space;
  if (typeof space !== 'object' || space === null) return [space];
  if ('values' in space) return space.values;
  if ('range' in space) {
    const [lo, hi] = space.range;
    if (hi < lo) throw new ConfigError(`grid.${key}: range [${lo}, ${hi}] is empty (hi < lo)`, { details: { key } });
    let out: number[];
    if (space.step !== undefined && space.num !== undefined) throw new ConfigError(`grid.${key}: give either step or num, not both`, { details: { key } });
    if (space.step !== undefined) {
      out = [];
      const n = Math.floor((hi - lo) / space.step + 1e-9);
      if (n > 100_000) throw new ConfigError(`grid.${key}: range [${lo}, ${hi}] with step ${space.step} has ${n + 1} points (limit 100000)`, { details: { key } });
      for (let i = 0; i <= n; i++) out.push(clean(lo + i * space.step));
    } else if (space.num !== undefined) {
      out = space.num === 1 ? [lo] : Array.from({ length: space.num }, (_, i) => clean(lo + ((hi - lo) * i) / (space.num! - 1)));
    } else {
      throw new ConfigError(`grid.${key}: a grid range needs 'step' or 'num' (a bare range is only for random spaces)`, { details: { key } });
    }
    if (space.int) out = [...new Set(out.map((v) => Math.round(v)))];
    return out;
  }
  if ('log' in space) {
    const [lo, hi] = space.log;
    if (hi < lo) throw new ConfigError(`grid.${key}: log range [${lo}, ${hi}] is empty (hi < lo)`, { details: { key } });
    if (space.num === undefined) throw new ConfigError(`grid.${key}: a grid log range needs 'num'`, { details: { key } });
    const n = space.num;
    if (n === 1) return [lo];
    const a = Math.log10(lo);
    const b = Math.log10(hi);
    return Array.from({ length: n }, (_, i) => (i === 0 ? lo : i === n - 1 ? hi : clean(10 ** (a + ((b - a) * i) / (n - 1)))));
  }
  throw new ConfigError(`grid.${key}: a linked parameter is not a dimension`, { details: { key } });
}

/** One draw from a random-space dimension. */
export function sampleValue(key: string, space: ParamSpace, rng: Rng): ParamScalar {
  if (Array.isArray(space)) return space[rng.int(0, space.length)];
  if (typeof space !== 'object' || space === null) return space;
  if ('values' in space) return space.values[rng.int(0, space.values.length)];
  if ('range' in space) {
    if (space.step !== undefined || space.num !== undefined) {
      const pts = gridValues(key, space);
      return pts[rng.int(0, pts.length)];
    }
    const [lo, hi] = space.range;
    if (hi < lo) throw new ConfigError(`random.params.${key}: range [${lo}, ${hi}] is empty (hi < lo)`, { details: { key } });
    return space.int ? Math.floor(rng.uniform(Math.ceil(lo), Math.floor(hi) + 1)) : clean(rng.uniform(lo, hi));
  }
  if ('log' in space) {
    if (space.num !== undefined) {
      const pts = gridValues(key, space);
      return pts[rng.int(0, pts.length)];
    }
    const [lo, hi] = space.log;
    if (hi < lo) throw new ConfigError(`random.params.${key}: log range [${lo}, ${hi}] is empty (hi < lo)`, { details: { key } });
    return clean(10 ** rng.uniform(Math.log10(lo), Math.log10(hi)));
  }
  throw new ConfigError(`random.params.${key}: a linked parameter is not sampled`, { details: { key } });
}

/** The trial key: sha256 over the resolved config, the evaluation datasets and the code version. */
export function trialKey(config: Record<string, unknown>, evaluate: readonly EvaluateEntry[], codeVersion: string): string {
  const material = canonicalJson({
    config,
    // table / protocol enter only when given, so keys of specs without them stay as they were
    evaluate: evaluate.map((e) => ({ dataset: e.dataset, name: e.name, split: e.split ?? null, ...(e.table ? { table: e.table } : {}), ...(e.protocol ? { protocol: e.protocol } : {}) })),
    codeVersion,
  });
  return sha256Hex(material);
}

const LAMBDA_KEYS = ['l1', 'l2', 'l3', 'l4', 'l5', 'l6'] as const;

/**
 * The λ-scale class of a trial config: the resolved config (trainer defaults applied) with its λ vector
 * divided by its largest entry, and that factor. Configs in one class differ only by a positive common
 * factor of λ and train identically under Adam. Undefined for a config that does not parse (validation
 * reports it) or whose λ are all zero.
 */
export function lambdaClass(config: Record<string, unknown>): { key: string; scale: number } | undefined {
  let parsed: ReturnType<typeof parseTrainConfig>;
  try {
    parsed = parseTrainConfig(config);
  } catch {
    return undefined;
  }
  if (parsed.model !== 'of-vm-net') return undefined;
  const l = parsed.loss.lambdas as Record<string, number>;
  const scale = Math.max(...LAMBDA_KEYS.map((k) => l[k]));
  if (!(scale > 0)) return undefined;
  const normalized = Object.fromEntries(LAMBDA_KEYS.map((k) => [k, clean(l[k] / scale)]));
  return { key: sha256Hex(canonicalJson({ ...parsed, loss: { ...parsed.loss, lambdas: normalized } })), scale };
}

/** The cartesian product of named value lists, in order (the last dimension varies fastest). */
export function cartesian(dims: [string, ParamScalar[]][]): Record<string, ParamScalar>[] {
  let out: Record<string, ParamScalar>[] = [{}];
  for (const [k, vals] of dims) {
    const next: Record<string, ParamScalar>[] = [];
    for (const o of out) for (const v of vals) next.push({ ...o, [k]: v });
    out = next;
  }
  return out;
}

/** Resolve linked params (`b = scale·a + offset`), following chains; cycles are errors. */
function resolveLinks(links: Map<string, Linked>, values: Record<string, ParamScalar>, config: Record<string, unknown>): void {
  const resolving = new Set<string>();
  const resolve = (key: string): unknown => {
    if (key in values) return values[key];
    const link = links.get(key);
    if (!link) return getPath(config, key);
    if (resolving.has(key)) throw new ConfigError(`linked parameters form a cycle through '${key}'`, { details: { key } });
    resolving.add(key);
    const src = resolve(link.link);
    resolving.delete(key);
    if (src === undefined) throw new ConfigError(`'${key}' links to '${link.link}', which is neither a sweep parameter nor a key of the base config`, { details: { key } });
    let v = src as ParamScalar;
    if (link.scale !== undefined || link.offset !== undefined) {
      if (typeof src !== 'number') throw new ConfigError(`'${key}' scales '${link.link}', whose value ${JSON.stringify(src)} is not a number`, { details: { key } });
      v = clean(src * (link.scale ?? 1) + (link.offset ?? 0));
    } else if (typeof src === 'object') {
      throw new ConfigError(`'${key}' links to '${link.link}', which is not a scalar`, { details: { key } });
    }
    values[key] = v;
    return v;
  };
  for (const k of links.keys()) resolve(k);
}

/**
 * The sections to expand: the top level (when it has a `grid` or `random` space, or there are no
 * `sweeps`), then each of `sweeps`, which inherit the top level's `model`, `features` and `seeds`
 * unless they give their own (the top-level `grid` / `random` are not inherited).
 */
function sectionsOf(spec: SweepSpec): (Pick<SweepSection, 'features' | 'model' | 'seeds' | 'set' | 'grid' | 'random' | 'maxTrials'> & { name?: string })[] {
  const top = { features: spec.features, model: spec.model, seeds: spec.seeds, set: {}, grid: spec.grid, random: spec.random, maxTrials: undefined };
  if (!spec.sweeps) return [top];
  const topHasSpace = !!spec.random || Object.keys(spec.grid).length > 0;
  return [
    ...(topHasSpace ? [top] : []),
    ...spec.sweeps.map((s) => ({ ...s, model: s.model ?? (s.grid.model === undefined ? spec.model : undefined), features: s.features ?? (s.grid.features === undefined ? spec.features : undefined), seeds: s.seeds ?? (s.grid.seed === undefined ? spec.seeds : undefined) })),
  ];
}

/**
 * Expand a spec into its trials: each section in turn (the top level, then `sweeps` in order). Order
 * within a section: model, features, the grid keys in spec order, seeds last (so the seeds of one
 * setting are adjacent); each grid point is crossed with `random.samples` draws from a
 * `Rng(random.seed)`, so the expansion is reproducible. Identical configs are one trial; configs that
 * differ only by a positive common factor of λ are aliases of the first (`aliasOf`).
 */
export function expandTrials(spec: SweepSpec, codeVersion: string): Expansion {
  const all: TrialPlan[] = [];
  const seen = new Map<string, number>();
  const classes = new Map<string, number>();
  for (const sec of sectionsOf(spec)) {
    const links = new Map<string, Linked>();
    const gridDims: [string, ParamScalar[]][] = [];
    if (sec.model) gridDims.push(['model', sec.model]);
    if (sec.features) gridDims.push(['features', sec.features]);
    for (const [k, space] of Object.entries(sec.grid)) {
      if (isLink(space)) links.set(k, space);
      else gridDims.push([k, gridValues(k, space)]);
    }
    if (sec.seeds) gridDims.push(['seed', sec.seeds]);
    const randomDims: [string, ParamSpace][] = [];
    for (const [k, space] of Object.entries(sec.random?.params ?? {})) {
      if (isLink(space)) links.set(k, space);
      else randomDims.push([k, space]);
    }
    const gridPoints = cartesian(gridDims);
    // Random draws are made once (not per grid point), so every grid point sees the same samples.
    const rng = new Rng(sec.random?.seed ?? 0);
    const samples: Record<string, ParamScalar>[] = sec.random ? Array.from({ length: sec.random.samples }, () => Object.fromEntries(randomDims.map(([k, s]) => [k, sampleValue(k, s, rng)]))) : [{}];
    let inSection = 0;
    for (const g of gridPoints) {
      for (const s of samples) {
        if (sec.maxTrials !== undefined && inSection >= sec.maxTrials) break;
        const values: Record<string, ParamScalar> = { ...g, ...s };
        const config = structuredClone(spec.baseConfig);
        for (const [k, v] of Object.entries(spec.set)) setPath(config, k, v);
        for (const [k, v] of Object.entries(sec.set)) setPath(config, k, v);
        for (const [k, v] of Object.entries(values)) setPath(config, k, v);
        resolveLinks(links, values, config);
        for (const k of links.keys()) setPath(config, k, values[k]);
        // `dataset` is relative to the working directory (as for `vmr train`); workers elsewhere need it absolute.
        if (typeof config.dataset === 'string') config.dataset = path.resolve(config.dataset);
        const key = trialKey(config, spec.evaluate, codeVersion);
        // Identical configs (e.g. a random space that drew the same value twice) are one trial.
        if (seen.has(key)) continue;
        seen.set(key, all.length);
        inSection++;
        const plan: TrialPlan = { index: all.length, key, values, config, ...(sec.name ? { section: sec.name } : {}) };
        const cls = lambdaClass(config);
        if (cls) {
          const first = classes.get(cls.key);
          if (first === undefined) classes.set(cls.key, all.length);
          else {
            const canon = all[first];
            plan.aliasOf = { key: canon.key, index: canon.index, scale: clean(cls.scale / lambdaClass(canon.config)!.scale) };
          }
        }
        all.push(plan);
      }
    }
  }
  const trials = spec.maxTrials !== undefined ? all.slice(0, spec.maxTrials) : all;
  return { trials, total: all.length, codeVersion };
}
