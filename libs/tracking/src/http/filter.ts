import { InvalidArgumentError } from '@vmr/core';
import type { OrderBy } from '../types';

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
