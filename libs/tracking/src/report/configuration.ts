/**
 * A configuration (DESIGN.md §2.5) = the resolved training config minus the seed. Reports aggregate over
 * the seeds of one configuration only. Read from a training run's params (the trainer logs its whole
 * config flattened) or a sweep trial's params; bookkeeping params (names, paths, backend, derived counts)
 * are not part of it, and the λ vector is shown canonically (divided by its first non-zero entry), so
 * positive multiples — which train identically under Adam — are one configuration.
 */

const LAMBDAS = ['l1', 'l2', 'l3', 'l4', 'l5', 'l6'] as const;

/** Params that are not configuration: the seed, names, machine-specific paths and derived bookkeeping. */
const NOT_CONFIG = new Set(['seed', 'experiment', 'name', 'dataset', 'dataset.path', 'dataset.kind', 'dataset.synthetic', 'backend', 'model.config', 'checkpointEvery', 'validateEvery', 'chunkClips', 'trial_key', 'data.segmentSource']);
const NOT_CONFIG_PREFIX = ['backend.', 'data.', 'sweep.'];

const fmtNum = (x: number): string => String(Number(x.toPrecision(6)));

/** λ1…λ6 of params (defaults 1), or null for a model without the λ loss (VM-Net, oracles). */
export function lambdaVector(params: Record<string, string>): number[] | null {
  if (params.model !== undefined && params.model !== 'of-vm-net') return null;
  const v = LAMBDAS.map((l) => Number(params[`loss.lambdas.${l}`] ?? '1'));
  return v.every(Number.isFinite) ? v : null;
}

/** Canonical λ: divided by the first non-zero λ (`1:1:0.25:0.25:0.25:0.25`); all zero stays as is. */
export function canonicalLambdas(v: readonly number[]): string {
  const d = v.find((x) => x !== 0) ?? 1;
  const s = d > 0 ? d : 1;
  return v.map((x) => fmtNum(x / s)).join(':');
}

/** The configuration of a run from its params: everything but the seed and bookkeeping; λ canonical. */
export function configurationOf(params: Record<string, string>): Record<string, string> {
  const model = params.model;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) {
    if (NOT_CONFIG.has(k) || NOT_CONFIG_PREFIX.some((p) => k.startsWith(p))) continue;
    if (k.startsWith('loss.lambdas.')) continue;
    // Settings of the other model do not change this one's training.
    if (model === 'vm-net' && (k.startsWith('loss.') || k.startsWith('ofVmNet.'))) continue;
    if (model === 'of-vm-net' && (k.startsWith('vmNetLoss.') || k.startsWith('vmNet.'))) continue;
    out[k] = v;
  }
  const lv = lambdaVector(params);
  if (lv) out['λ'] = canonicalLambdas(lv);
  return out;
}

/** Stable key of a configuration. */
export function configurationKey(config: Record<string, string>): string {
  return Object.keys(config)
    .sort()
    .map((k) => `${k}=${config[k]}`)
    .join('\u0001');
}

/**
 * Keys whose values differ between configurations, sorted with model / features / λ first. A key only
 * some configurations have counts when its values differ among those that have it, or when configurations
 * of one model disagree on having it (a key of one model only — λ of OF-VM-Net — is not a difference by itself).
 */
export function differingKeys(configs: ReadonlyArray<Record<string, string>>): string[] {
  const keys = new Set(configs.flatMap((c) => Object.keys(c)));
  const first = ['model', 'features', 'λ'];
  const differs = (k: string) => {
    if (new Set(configs.filter((c) => k in c).map((c) => c[k])).size > 1) return true;
    const byModel = new Map<string, Set<boolean>>();
    for (const c of configs) byModel.set(c.model ?? '', (byModel.get(c.model ?? '') ?? new Set()).add(k in c));
    return [...byModel.values()].some((s) => s.size > 1);
  };
  return [...keys].filter(differs).sort((a, b) => (first.indexOf(a) + 1 || 99) - (first.indexOf(b) + 1 || 99) || a.localeCompare(b));
}

/** `λ=1:1:0.25:… · lr=0.001`: a configuration's values on the given keys (keys it does not have are left out). */
export function configurationLabel(config: Record<string, string>, keys: readonly string[]): string {
  return keys
    .filter((k) => config[k] !== undefined)
    .map((k) => `${k}=${config[k]}`)
    .join(' · ');
}

/** The λ ratio mean(λ1, λ2) / mean(λ3…λ6): ground-truth vs optical-flow weight (Infinity without optical-flow terms). */
export function lambdaRatio(config: Record<string, string>): number | null {
  const s = config['λ'];
  if (!s) return null;
  const v = s.split(':').map(Number);
  const gt = (v[0] + v[1]) / 2;
  const of = (v[2] + v[3] + v[4] + v[5]) / 4;
  return of === 0 ? Infinity : gt / of;
}

/** A λ ratio for people: '∞ (λ3–λ6 = 0)' rather than 'Infinity', '?' when the configuration has no λ. */
export function formatLambdaRatio(x: number | null, digits = 3): string {
  if (x === null || Number.isNaN(x)) return '?';
  return x === Infinity ? '∞ (λ3–λ6 = 0)' : Number(x.toPrecision(digits)).toString();
}
