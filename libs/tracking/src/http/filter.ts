import { InvalidArgumentError } from '@vmr/core';
import type { MetricOp, OrderBy, RunQuery, RunStatus } from '../types';
import { ATTR_TAGS, VMR_STATUS } from './mlflow-mapping';

/**
 * Parse the MLflow search-filter subset we serve: clauses joined by AND, each
 * `params.K = 'v'`, `tags.K = 'v'`, `metrics.K <op> number`, `attributes.status = 'FINISHED'`
 * (keys may be back-quoted: tags.`mlflow.parentRunId`).
 */
export function parseRunFilter(filter: string | undefined): Pick<RunQuery, 'params' | 'tags' | 'metrics' | 'status' | 'parentId'> {
  const out: Pick<RunQuery, 'params' | 'tags' | 'metrics' | 'status' | 'parentId'> = { params: {}, tags: {}, metrics: [] };
  if (!filter || !filter.trim()) return out;
  const clauses = filter.split(/\s+and\s+/i);
  for (const clause of clauses) {
    const m = /^\s*(params|param|tags|tag|metrics|metric|attributes|attribute|attr|run)\.(`[^`]+`|"[^"]+"|[\w.\-/: ]+?)\s*(>=|<=|!=|=|>|<)\s*(.+?)\s*$/i.exec(clause);
    if (!m) throw new InvalidArgumentError(`unsupported filter clause '${clause.trim()}' (supported: params.K = 'v', tags.K = 'v', metrics.K > 0.5, attributes.status = 'FINISHED', joined by AND)`);
    const kind = m[1].toLowerCase();
    const key = m[2].replace(/^[`"]|[`"]$/g, '');
    const op = m[3] as MetricOp;
    const rawValue = m[4];
    const str = /^'(.*)'$|^"(.*)"$/.exec(rawValue);
    if (kind.startsWith('metric')) {
      const v = Number(rawValue);
      if (!Number.isFinite(v)) throw new InvalidArgumentError(`filter '${clause.trim()}': metric comparisons need a number, got ${rawValue}`);
      out.metrics!.push({ key, op, value: v });
      continue;
    }
    if (op !== '=') throw new InvalidArgumentError(`filter '${clause.trim()}': only '=' is supported for ${kind}`);
    if (!str) throw new InvalidArgumentError(`filter '${clause.trim()}': the value must be quoted, e.g. '${rawValue}'`);
    const value = str[1] ?? str[2] ?? '';
    if (kind.startsWith('param')) out.params![key] = value;
    else if (kind.startsWith('tag')) {
      if (key === ATTR_TAGS.parentId) out.parentId = value;
      else out.tags![key] = value;
    } else {
      if (key !== 'status') throw new InvalidArgumentError(`filter '${clause.trim()}': only attributes.status is supported`);
      const st = VMR_STATUS[value.toUpperCase()];
      if (!st) throw new InvalidArgumentError(`filter '${clause.trim()}': unknown status '${value}'`);
      out.status = [...((out.status as RunStatus[] | undefined) ?? []), st];
    }
  }
  return out;
}

/** Parse MLflow `order_by` entries: `metrics.K DESC`, `params.K`, `attributes.start_time ASC`. */
export function parseMlflowOrderBy(items: string[] | undefined): OrderBy[] {
  return (items ?? []).map((s) => {
    const m = /^\s*(metrics|params|attributes|attribute|attr)?\.?(`[^`]+`|[\w.\-/: ]+?)\s*(asc|desc)?\s*$/i.exec(s);
    if (!m) throw new InvalidArgumentError(`unsupported order_by '${s}'`);
    const key = m[2].replace(/^`|`$/g, '');
    const desc = (m[3] ?? '').toLowerCase() === 'desc';
    const kind = (m[1] ?? 'attributes').toLowerCase();
    if (kind === 'metrics') return { kind: 'metric', key, desc };
    if (kind === 'params') return { kind: 'param', key, desc };
    const attr = key === 'run_name' ? 'name' : key;
    return { kind: 'attribute', key: attr, desc };
  });
}
