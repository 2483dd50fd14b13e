/**
 * Trial expansion: a spec → the ordered list of resolved trial configs, each with its key
 * (sha256 of the canonical resolved config, the evaluation datasets and the code version).
 */
import { createHash } from 'crypto';
import * as path from 'path';
import { ConfigError, Rng } from '@vmr/core';
import type { ParamScalar, ParamSpace, SweepSpec } from './spec';

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

/** Read a dotted key from a nested object. */
export function getPath(obj: Record<string, unknown>, key: string): unknown {
  let cur: unknown = obj;
  for (const part of key.split('.')) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** Set a dotted key in a nested object (creating intermediate mappings). */
export function setPath(obj: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  let cur = obj;
  for (let i = 0; i < parts.length - 1; i++) {
    const next = cur[parts[i]];
    if (next === undefined) cur[parts[i]] = {};
    else if (next === null || typeof next !== 'object' || Array.isArray(next)) {
      throw new ConfigError(`cannot set '${key}': '${parts.slice(0, i + 1).join('.')}' is a ${Array.isArray(next) ? 'list' : typeof next}, not a mapping`, { details: { key } });
    }
    cur = cur[parts[i]] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1]] = value;
}

/** JSON with object keys sorted at every level (stable across key order and machines). */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') {
    if (typeof v === 'number' && !Number.isFinite(v)) throw new ConfigError(`cannot hash a non-finite number (${v})`);
    return JSON.stringify(v);
  }
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
    .join(',')}}`;
}

/** The trial key: sha256 over the resolved config, the evaluation datasets and the code version. */
export function trialKey(config: Record<string, unknown>, evaluate: SweepSpec['evaluate'], codeVersion: string): string {
  const material = canonicalJson({ config, evaluate: evaluate.map((e) => ({ dataset: e.dataset, name: e.name, split: e.split ?? null })), codeVersion });
  return createHash('sha256').update(material).digest('hex');
}

function cartesian(dims: [string, ParamScalar[]][]): Record<string, ParamScalar>[] {
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
 * Expand a spec into its trials. Order: model, features, the grid keys in spec order, seeds last
 * (so the seeds of one setting are adjacent); each grid point is crossed with `random.samples` draws
 * from a `Rng(random.seed)`, so the expansion is reproducible.
 */
export function expandTrials(spec: SweepSpec, codeVersion: string): Expansion {
  const links = new Map<string, Linked>();
  const gridDims: [string, ParamScalar[]][] = [];
  if (spec.model) gridDims.push(['model', spec.model]);
  if (spec.features) gridDims.push(['features', spec.features]);
  for (const [k, space] of Object.entries(spec.grid)) {
    if (isLink(space)) links.set(k, space);
    else gridDims.push([k, gridValues(k, space)]);
  }
  if (spec.seeds) gridDims.push(['seed', spec.seeds]);
  const randomDims: [string, ParamSpace][] = [];
  for (const [k, space] of Object.entries(spec.random?.params ?? {})) {
    if (isLink(space)) links.set(k, space);
    else randomDims.push([k, space]);
  }
  const gridPoints = cartesian(gridDims);
  // Random draws are made once (not per grid point), so every grid point sees the same samples.
  const rng = new Rng(spec.random?.seed ?? 0);
  const samples: Record<string, ParamScalar>[] = spec.random ? Array.from({ length: spec.random.samples }, () => Object.fromEntries(randomDims.map(([k, s]) => [k, sampleValue(k, s, rng)]))) : [{}];
  const all: TrialPlan[] = [];
  const seen = new Map<string, number>();
  for (const g of gridPoints) {
    for (const s of samples) {
      const values: Record<string, ParamScalar> = { ...g, ...s };
      const config = structuredClone(spec.baseConfig);
      for (const [k, v] of Object.entries(spec.set)) setPath(config, k, v);
      for (const [k, v] of Object.entries(values)) setPath(config, k, v);
      resolveLinks(links, values, config);
      for (const k of links.keys()) setPath(config, k, values[k]);
      // `dataset` is relative to the working directory (as for `vmr train`); workers elsewhere need it absolute.
      if (typeof config.dataset === 'string') config.dataset = path.resolve(config.dataset);
      const key = trialKey(config, spec.evaluate, codeVersion);
      // Identical configs (e.g. a random space that drew the same value twice) are one trial.
      if (seen.has(key)) continue;
      seen.set(key, all.length);
      all.push({ index: all.length, key, values, config });
    }
  }
  const trials = spec.maxTrials !== undefined ? all.slice(0, spec.maxTrials) : all;
  return { trials, total: all.length, codeVersion };
}
