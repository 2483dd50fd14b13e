/**
 * Dotted config paths and canonical hashing: the one implementation that `vmr train --set`, sweep /
 * experiment expansion and trial keys share.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import { ConfigError } from './errors';

/** Read a dotted key (`loss.lambdas.l1`) from a nested object; undefined when any part is missing. */
export function getPath(obj: Record<string, unknown>, key: string): unknown {
  let cur: unknown = obj;
  for (const part of key.split('.')) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/**
 * Set a dotted key in a nested object, creating intermediate mappings. A part that exists and is not a
 * mapping, or an empty part, is a ConfigError naming the key (`what` prefixes the message, e.g. `--set 'a.b=1'`).
 */
export function setPath(obj: Record<string, unknown>, key: string, value: unknown, what = `cannot set '${key}'`): void {
  const parts = key.split('.');
  if (parts.some((p) => p.length === 0)) throw new ConfigError(`${what}: empty key segment in '${key}'`, { details: { key } });
  let cur = obj;
  for (let i = 0; i < parts.length - 1; i++) {
    const next = cur[parts[i]];
    if (next === undefined) cur[parts[i]] = {};
    else if (next === null || typeof next !== 'object' || Array.isArray(next)) {
      throw new ConfigError(`${what}: '${parts.slice(0, i + 1).join('.')}' is not a mapping (it is ${Array.isArray(next) ? 'a list' : next === null ? 'null' : `a ${typeof next}`})`, { details: { key } });
    }
    cur = cur[parts[i]] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1]] = value;
}

/** JSON with object keys sorted at every level (stable across key order and machines); undefined members dropped. */
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

/** sha256 (hex) of a string or bytes. */
export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** sha256 (hex) of a file's bytes, streamed in 1 MiB reads (media and model files can be large). */
export function sha256File(file: string): string {
  const h = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}
