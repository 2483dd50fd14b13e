import { InvalidArgumentError } from '@vmr/core';
import type { MetricPoint, ParamValue } from './types';

/** MLflow's limits: names ≤ 250 chars, param values ≤ 6000, tag values ≤ 8000. */
export const LIMITS = { keyLength: 250, paramValueLength: 6000, tagValueLength: 8000 } as const;

const KEY_RE = /^[A-Za-z0-9_\-. /:]+$/;

export function validateKey(kind: 'metric' | 'param' | 'tag', key: unknown, runId: string): string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new InvalidArgumentError(`run ${runId}: ${kind} key must be a non-empty string, got ${JSON.stringify(key)}`, { details: { runId, kind } });
  }
  if (key.length > LIMITS.keyLength) {
    throw new InvalidArgumentError(`run ${runId}: ${kind} key '${key.slice(0, 40)}…' is ${key.length} characters; the limit is ${LIMITS.keyLength}`, { details: { runId, kind, length: key.length } });
  }
  if (!KEY_RE.test(key)) {
    throw new InvalidArgumentError(`run ${runId}: ${kind} key '${key}' may only contain letters, digits, '_', '-', '.', ' ', '/' and ':'`, { details: { runId, kind, key } });
  }
  return key;
}

export function validateParamValue(key: string, value: unknown, runId: string): string {
  let s: string;
  if (typeof value === 'string') s = value;
  else if (typeof value === 'number' || typeof value === 'boolean') s = String(value);
  else throw new InvalidArgumentError(`run ${runId}: param '${key}' must be a string, number or boolean, got ${value === null ? 'null' : typeof value}`, { details: { runId, key } });
  if (s.length > LIMITS.paramValueLength) {
    throw new InvalidArgumentError(`run ${runId}: param '${key}' value is ${s.length} characters; the limit is ${LIMITS.paramValueLength}`, { details: { runId, key, length: s.length } });
  }
  return s;
}

export function validateTagValue(key: string, value: unknown, runId: string): string {
  if (typeof value !== 'string') {
    throw new InvalidArgumentError(`run ${runId}: tag '${key}' must be a string, got ${value === null ? 'null' : typeof value}`, { details: { runId, key } });
  }
  if (value.length > LIMITS.tagValueLength) {
    throw new InvalidArgumentError(`run ${runId}: tag '${key}' value is ${value.length} characters; the limit is ${LIMITS.tagValueLength}`, { details: { runId, key, length: value.length } });
  }
  return value;
}

export interface NormalisedPoint {
  key: string;
  value: number;
  step: number;
  timestamp: number;
}

/** Validate a whole batch before anything is written, so a bad point leaves the store unchanged. */
export function validateMetricBatch(points: readonly MetricPoint[], runId: string, now = Date.now()): NormalisedPoint[] {
  if (!Array.isArray(points)) throw new InvalidArgumentError(`run ${runId}: metrics must be an array of points`);
  const out: NormalisedPoint[] = new Array(points.length);
  for (let i = 0; i < points.length; i++) {
    const p = points[i] as MetricPoint | null | undefined;
    if (p === null || typeof p !== 'object') throw new InvalidArgumentError(`run ${runId}: metric point #${i} is not an object`);
    const key = validateKey('metric', p.key, runId);
    if (typeof p.value !== 'number') {
      throw new InvalidArgumentError(`run ${runId}: metric '${key}' (point #${i}) has a non-numeric value ${JSON.stringify(p.value)}`, { details: { runId, key, index: i } });
    }
    const step = p.step ?? 0;
    if (!Number.isSafeInteger(step)) throw new InvalidArgumentError(`run ${runId}: metric '${key}' step must be an integer, got ${String(step)}`, { details: { runId, key } });
    const ts = p.timestamp ?? now;
    if (!Number.isSafeInteger(ts) || ts < 0) throw new InvalidArgumentError(`run ${runId}: metric '${key}' timestamp must be integer milliseconds, got ${String(ts)}`, { details: { runId, key } });
    out[i] = { key, value: p.value, step, timestamp: ts };
  }
  return out;
}
