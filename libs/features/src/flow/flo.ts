import * as fs from 'fs';
import { FileFormatError, InvalidArgumentError, IoError, errorMessage, writeFileAtomic } from '@vmr/core';
import type { FlowField } from './farneback';

/** Middlebury `.flo` magic: the float32 202021.25 ("PIEH" in ASCII). */
export const FLO_MAGIC = 202021.25;
/** Ground-truth values above this are "unknown" in Middlebury files. */
export const FLO_UNKNOWN_THRESHOLD = 1e9;

/** Encode a flow field as Middlebury `.flo` bytes (little-endian). */
export function encodeFlo(flow: FlowField): Buffer {
  const { width, height, data } = flow;
  if (data.length !== width * height * 2) {
    throw new InvalidArgumentError(`encodeFlo: ${width}x${height} flow needs ${width * height * 2} values, got ${data.length}`);
  }
  const buf = Buffer.alloc(12 + data.length * 4);
  buf.writeFloatLE(FLO_MAGIC, 0);
  buf.writeInt32LE(width, 4);
  buf.writeInt32LE(height, 8);
  for (let i = 0; i < data.length; i++) buf.writeFloatLE(data[i], 12 + i * 4);
  return buf;
}

/** Decode Middlebury `.flo` bytes; `source` names the file in errors. */
export function parseFlo(buf: Uint8Array, source = '<buffer>'): FlowField {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 12) throw new FileFormatError(`${source}: too short for a .flo header (${b.length} bytes)`, { details: { path: source } });
  const magic = b.readFloatLE(0);
  if (magic !== FLO_MAGIC) throw new FileFormatError(`${source}: not a .flo file (magic ${magic}, expected ${FLO_MAGIC})`, { details: { path: source } });
  const width = b.readInt32LE(4);
  const height = b.readInt32LE(8);
  if (width <= 0 || height <= 0 || width > 100_000 || height > 100_000) {
    throw new FileFormatError(`${source}: implausible .flo size ${width}x${height}`, { details: { path: source } });
  }
  const n = width * height * 2;
  if (b.length < 12 + n * 4) {
    throw new FileFormatError(`${source}: truncated .flo data: ${width}x${height} needs ${n * 4} bytes, file has ${b.length - 12}`, { details: { path: source } });
  }
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = b.readFloatLE(12 + i * 4);
  return { width, height, data };
}

export function readFlo(file: string): FlowField {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new IoError(`cannot read ${file}: ${errorMessage(e)}`, { cause: e, details: { path: file } });
  }
  return parseFlo(buf, file);
}

/** Write a `.flo` file atomically. */
export function writeFlo(file: string, flow: FlowField): void {
  writeFileAtomic(file, encodeFlo(flow));
}

export interface EndpointErrorStats {
  /** Average endpoint error over pixels with known ground truth. */
  aepe: number;
  /** Root mean square endpoint error over known pixels. */
  rmsEpe: number;
  nKnown: number;
  nPixels: number;
}

/**
 * Endpoint error of `estimate` against Middlebury ground truth: EPE = ‖(u, v) − (u_gt, v_gt)‖ in
 * float64 over pixels whose ground truth is finite and ≤ 1e9 in absolute value.
 */
export function endpointError(estimate: FlowField, truth: FlowField): EndpointErrorStats {
  if (estimate.width !== truth.width || estimate.height !== truth.height) {
    throw new InvalidArgumentError(`endpointError: sizes differ (${estimate.width}x${estimate.height} vs ${truth.width}x${truth.height})`);
  }
  let s = 0;
  let s2 = 0;
  let known = 0;
  const e = estimate.data;
  const t = truth.data;
  for (let k = 0; k < t.length; k += 2) {
    const ug = t[k];
    const vg = t[k + 1];
    if (!Number.isFinite(ug) || !Number.isFinite(vg) || Math.abs(ug) > FLO_UNKNOWN_THRESHOLD || Math.abs(vg) > FLO_UNKNOWN_THRESHOLD) continue;
    const du = e[k] - ug;
    const dv = e[k + 1] - vg;
    const epe = Math.sqrt(du * du + dv * dv);
    s += epe;
    s2 += epe * epe;
    known++;
  }
  if (known === 0) throw new InvalidArgumentError('endpointError: the ground truth has no known pixels');
  return { aepe: s / known, rmsEpe: Math.sqrt(s2 / known), nKnown: known, nPixels: t.length / 2 };
}
