import * as fs from 'fs';
import * as path from 'path';
import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { BackendNameSchema, ConfigError, NotFoundError, errorMessage, setPath } from '@vmr/core';
import { OfLossConfigSchema, VmNetLossConfigSchema } from '@vmr/losses';
import { PoolingSchema, VmNetLayerSchema } from '@vmr/models';

/**
 * `vmr train` configuration (DESIGN.md §1.5). One zod schema, strict at every level: an unknown key is
 * an error naming its path. `protocol` selects the defaults of the protocol-dependent keys
 * (loss.protocol, segmentation.protocol, ofVmNet.pooling, batchSize); a key set explicitly wins.
 */
export const TRAIN_PROTOCOLS = ['paper', 'vmr-code'] as const;
export type TrainProtocol = (typeof TRAIN_PROTOCOLS)[number];
export const MODEL_KINDS = ['of-vm-net', 'vm-net'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];
export const SPLIT_CHOICES = ['train', 'val', 'test', 'all'] as const;
export type SplitChoice = (typeof SPLIT_CHOICES)[number];

const int = () => z.number().int();

/** Segment planning (DESIGN.md §1.2): the same options as @vmr/segmentation's planClipSegments. */
export const SegmentationConfigSchema = z
  .object({
    segments: int().min(1).default(10),
    minSegmentSeconds: z.number().positive().default(10),
    jumpSeconds: z.number().positive().default(1),
    maxSegmentSeconds: z.number().positive().default(200),
    padLength: int().min(1).default(200),
    protocol: z.enum(TRAIN_PROTOCOLS).optional(),
  })
  .strict();

/** OF-VM-Net overrides (videoDim / audioDim default to the dataset's extractor dims). */
export const OfVmNetOverridesSchema = z
  .object({
    videoDim: int().positive().optional(),
    audioDim: int().positive().optional(),
    embedDim: int().positive().optional(),
    heads: int().positive().optional(),
    layers: int().nonnegative().optional(),
    ffnDim: int().positive().optional(),
    dropout: z.number().min(0).lt(1).optional(),
    maxLen: int().positive().optional(),
    layerNormEps: z.number().positive().optional(),
    pooling: PoolingSchema.optional(),
    identicalLayerInit: z.boolean().optional(),
    maxAttentionGroups: int().positive().optional(),
  })
  .strict();

export const VmNetOverridesSchema = z
  .object({
    videoDim: int().positive().optional(),
    audioDim: int().positive().optional(),
    embedDim: int().positive().optional(),
    audioHidden: z.array(VmNetLayerSchema.strict()).optional(),
    videoHidden: z.array(VmNetLayerSchema.strict()).optional(),
    outputBatchNorm: z.boolean().optional(),
    dropout: z.number().min(0).lt(1).optional(),
    batchNormEps: z.number().positive().optional(),
    batchNormMomentum: z.number().min(0).lt(1).optional(),
  })
  .strict();

export const TrainConfigSchema = z
  .object({
    /** Experiment (run-store grouping) the run belongs to. */
    experiment: z.string().min(1).default('default'),
    /** Run name (default `<model>/<features>/seed<seed>`). */
    name: z.string().min(1).optional(),
    /** Dataset directory (dataset.json …), relative to the working directory. */
    dataset: z.string().min(1),
    trainSplit: z.enum(SPLIT_CHOICES).default('train'),
    /** Split for per-epoch validation Recall@k; `none` turns validation off. */
    valSplit: z.enum([...SPLIT_CHOICES, 'none']).default('val'),
    /** Video extractor (dataset video/<features>/). */
    features: z.string().min(1).default('resnet'),
    /** Audio extractor (dataset audio/<audioFeatures>/). */
    audioFeatures: z.string().min(1).default('vggish'),
    model: z.enum(MODEL_KINDS).default('of-vm-net'),
    protocol: z.enum(TRAIN_PROTOCOLS).default('paper'),
    ofVmNet: OfVmNetOverridesSchema.default({}),
    vmNet: VmNetOverridesSchema.default({}),
    /** OF-VM-Net loss: λ1…λ6 (`lambdas.l1`…), hardest-k mining, margin, vmr-code options. */
    loss: OfLossConfigSchema.default({}),
    vmNetLoss: VmNetLossConfigSchema.default({}),
    segmentation: SegmentationConfigSchema.default({}),
    /** Clips per mini-batch (paper 32; vmr-code 128). */
    batchSize: int().min(2).optional(),
    epochs: int().min(1).default(100),
    lr: z.number().positive().default(1e-4),
    /** Step decay lr × rate^floor(step / steps) (VM-Net: 0.96 every 1000). */
    lrDecay: z.object({ rate: z.number().positive().max(1).default(1), steps: int().positive().default(1000) }).strict().default({}),
    seed: int().min(0).default(0),
    backend: BackendNameSchema.default('auto'),
    /** Save a checkpoint artifact every N epochs (and always at the end). */
    checkpointEvery: int().min(1).default(10),
    /** Validate every N epochs (0 = never). */
    validateEvery: int().min(0).default(1),
    /** Clips per gradient chunk for OF-VM-Net (memory bound; exact). Default: the whole batch. */
    chunkClips: int().min(1).optional(),
    /**
     * OF-VM-Net data-parallel replicas (worker threads, one core each; exact: same result as 1 within
     * float rounding). Use 2 on a 2-core machine when no other trial runs; ignored for VM-Net.
     */
    replicas: int().min(1).default(1),
  })
  .strict();

export type TrainConfigInput = z.input<typeof TrainConfigSchema>;
type ParsedTrainConfig = z.infer<typeof TrainConfigSchema>;

/** A validated configuration with the protocol defaults applied (what a run logs as params). */
export type TrainConfig = Omit<ParsedTrainConfig, 'batchSize' | 'segmentation' | 'ofVmNet'> & {
  batchSize: number;
  segmentation: Required<z.infer<typeof SegmentationConfigSchema>>;
  ofVmNet: z.infer<typeof OfVmNetOverridesSchema> & { pooling: z.infer<typeof PoolingSchema> };
};

/**
 * Keys an experiment file (a sweep spec with its trainer config inline) may add on top of a train
 * config: read by `vmr experiment run` / `vmr sweep run`, ignored by `vmr train -c` (so
 * `vmr train -c experiments/quickstart.yaml` trains the file's base setting).
 */
export const EXPERIMENT_ONLY_KEYS = ['description', 'datasets', 'grid', 'evaluate', 'workers', 'seeds', 'sweeps', 'set', 'random', 'metric', 'maxTrials', 'maxParallel', 'maxAttempts', 'codeVersion', 'base'] as const;

function zodConfigError(e: z.ZodError, source: string): ConfigError {
  const issue = e.issues[0];
  const key = issue.path.join('.') || '(top level)';
  let msg = issue.message;
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys;
    const where = issue.path.join('.');
    return new ConfigError(`${source}: unknown key${keys.length > 1 ? 's' : ''} ${keys.map((k) => `'${where ? `${where}.` : ''}${k}'`).join(', ')}`, {
      details: { path: keys.map((k) => (where ? `${where}.${k}` : k)), issues: e.issues },
    });
  }
  if (issue.code === 'invalid_type' && issue.received === 'undefined') msg = 'is required';
  return new ConfigError(`${source}: '${key}' ${msg}`, { details: { path: key, issues: e.issues } });
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * Validate a raw config object and apply the protocol defaults.
 * @param source names the config in errors (file path or `config`).
 * @throws ConfigError naming the key path.
 */
export function parseTrainConfig(raw: unknown, source = 'config'): TrainConfig {
  if (!isObject(raw)) throw new ConfigError(`${source}: a train config must be a mapping of keys, got ${Array.isArray(raw) ? 'a list' : typeof raw}`);
  const input: Record<string, unknown> = { ...raw };
  for (const k of EXPERIMENT_ONLY_KEYS) delete input[k];
  const protocol = (input.protocol ?? 'paper') as TrainProtocol;
  // protocol-dependent defaults, filled before validation so that explicit keys win
  const loss = isObject(input.loss) ? { ...input.loss } : input.loss === undefined ? {} : input.loss;
  if (isObject(loss) && loss.protocol === undefined && TRAIN_PROTOCOLS.includes(protocol)) loss.protocol = protocol;
  input.loss = loss;
  const r = TrainConfigSchema.safeParse(input);
  if (!r.success) throw zodConfigError(r.error, source);
  const c = r.data;
  const config: TrainConfig = {
    ...c,
    batchSize: c.batchSize ?? (c.protocol === 'vmr-code' ? 128 : 32),
    segmentation: { ...c.segmentation, protocol: c.segmentation.protocol ?? c.protocol },
    ofVmNet: { ...c.ofVmNet, pooling: c.ofVmNet.pooling ?? (c.protocol === 'vmr-code' ? 'mean-all' : 'masked-mean') },
  };
  if (config.segmentation.maxSegmentSeconds > config.segmentation.padLength) {
    throw new ConfigError(`${source}: 'segmentation.maxSegmentSeconds' (${config.segmentation.maxSegmentSeconds}) exceeds 'segmentation.padLength' (${config.segmentation.padLength})`);
  }
  if (config.ofVmNet.maxLen !== undefined && config.ofVmNet.maxLen < config.segmentation.padLength) {
    throw new ConfigError(`${source}: 'ofVmNet.maxLen' (${config.ofVmNet.maxLen}) is below 'segmentation.padLength' (${config.segmentation.padLength})`);
  }
  return config;
}

/** Parse a `--set key.path=value` value: JSON when it parses (numbers, booleans, lists), else a string. */
export function parseSetValue(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Apply `key.path=value` overrides to a raw config object (returns a copy). */
export function applySets(raw: Record<string, unknown>, sets: readonly string[]): Record<string, unknown> {
  const out = structuredClone(raw);
  for (const s of sets) {
    const i = s.indexOf('=');
    if (i <= 0) throw new ConfigError(`--set expects key.path=value, got '${s}'`);
    setPath(out, s.slice(0, i).trim(), parseSetValue(s.slice(i + 1)), `--set '${s}'`);
  }
  return out;
}

/** Read a YAML (or JSON) config file into a raw object. */
export function readConfigFile(file: string): Record<string, unknown> {
  const abs = path.resolve(file);
  if (!fs.existsSync(abs)) throw new NotFoundError(`config file ${file} does not exist`, { details: { path: abs } });
  let raw: unknown;
  try {
    raw = parseYaml(fs.readFileSync(abs, 'utf8'));
  } catch (e) {
    throw new ConfigError(`${file}: not valid YAML: ${errorMessage(e)}`, { cause: e, details: { path: abs } });
  }
  if (raw === null || raw === undefined) raw = {};
  if (!isObject(raw)) throw new ConfigError(`${file}: the top level must be a mapping of keys`);
  return raw;
}

/**
 * Load a train config: the YAML file, then `--set` overrides, validated. A relative `dataset` path is
 * resolved against the working directory.
 */
export function loadTrainConfig(file: string | undefined, sets: readonly string[] = []): TrainConfig {
  const raw = file ? readConfigFile(file) : {};
  return parseTrainConfig(applySets(raw, sets), file ?? 'config');
}

/** Flatten a config to `a.b.c` → scalar params (lists as JSON) for the run store. */
export function flattenParams(obj: unknown, prefix = ''): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  if (!isObject(obj)) return out;
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v === undefined) continue;
    if (isObject(v)) Object.assign(out, flattenParams(v, key));
    else if (Array.isArray(v)) out[key] = JSON.stringify(v);
    else if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') out[key] = v;
    else out[key] = String(v);
  }
  return out;
}
