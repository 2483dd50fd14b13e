import * as fs from 'fs';
import { createHash } from 'crypto';
import { writeFileAtomic, FileFormatError, IoError, NotFoundError, InvalidArgumentError, errorMessage } from '@vmr/core';
import { tf } from '@vmr/core/tf';
import { ModelConfigSchema, type ModelConfig } from './config';
import { Adam, AdamConfigSchema, type AdamConfig } from './adam';
import { createOfVmNet, type OfVmNet } from './of-vm-net';
import { createVmNet, type VmNet } from './vm-net';

export type Model = OfVmNet | VmNet;

/** Create either model from its config (`kind` selects). */
export function createModel(config: ModelConfig, seed: number): Model {
  return config.kind === 'vm-net' ? createVmNet(config, seed) : createOfVmNet(config, seed);
}

const MAGIC = 'VMRCKPT1';

interface TensorEntry {
  name: string;
  group: 'param' | 'state' | 'adam.m' | 'adam.v';
  shape: number[];
  offset: number;
  length: number;
}

interface Header {
  format: 'vmr-checkpoint';
  version: 1;
  kind: Model['kind'];
  config: ModelConfig;
  seed: number;
  step: number;
  forwardCount: number;
  optimizer: { config: AdamConfig; step: number } | null;
  extra: Record<string, unknown>;
  tensors: TensorEntry[];
  dataBytes: number;
  sha256: string;
}

/** A loaded checkpoint: everything needed to resume a run exactly. */
export interface Checkpoint {
  kind: Model['kind'];
  config: ModelConfig;
  seed: number;
  step: number;
  forwardCount: number;
  extra: Record<string, unknown>;
  params: Map<string, { shape: number[]; data: Float32Array }>;
  state: Map<string, { shape: number[]; data: Float32Array }>;
  optimizer: { config: AdamConfig; step: number; m: Map<string, Float32Array>; v: Map<string, Float32Array> } | null;
}

/**
 * Save model weights (+ batch-norm state), optimizer state, config, seed, step and `extra` JSON in one
 * file, written atomically (temp file + rename). Layout: 8-byte magic, u32 header length, JSON header,
 * zero padding to 4 bytes, float32 little-endian tensor data (sha256 in the header).
 */
export function saveCheckpoint(
  path: string,
  args: { model: Model; optimizer?: Adam; step: number; extra?: Record<string, unknown> },
): void {
  const { model, optimizer } = args;
  if (!Number.isInteger(args.step) || args.step < 0) throw new InvalidArgumentError(`checkpoint step must be a non-negative integer, got ${args.step}`);
  const entries: Array<{ e: Omit<TensorEntry, 'offset' | 'length'>; t: tf.Tensor }> = [];
  for (const [name, v] of model.params.trainable) entries.push({ e: { name, group: 'param', shape: v.shape }, t: v });
  for (const [name, v] of model.params.state) entries.push({ e: { name, group: 'state', shape: v.shape }, t: v });
  if (optimizer) {
    for (const [name, v] of optimizer.m) entries.push({ e: { name, group: 'adam.m', shape: v.shape }, t: v });
    for (const [name, v] of optimizer.v) entries.push({ e: { name, group: 'adam.v', shape: v.shape }, t: v });
  }
  const tensors: TensorEntry[] = [];
  let offset = 0;
  for (const { e, t } of entries) {
    tensors.push({ ...e, offset, length: t.size });
    offset += t.size * 4;
  }
  const data = new Uint8Array(offset);
  const view = new Float32Array(data.buffer);
  for (let i = 0; i < entries.length; i++) view.set(entries[i].t.dataSync() as Float32Array, tensors[i].offset / 4);
  const header: Header = {
    format: 'vmr-checkpoint',
    version: 1,
    kind: model.kind,
    config: model.config,
    seed: model.seed,
    step: args.step,
    forwardCount: model.forwardCount,
    optimizer: optimizer ? { config: optimizer.config, step: optimizer.step } : null,
    extra: args.extra ?? {},
    tensors,
    dataBytes: data.length,
    sha256: createHash('sha256').update(data).digest('hex'),
  };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (4 - ((12 + headerBytes.length) % 4)) % 4;
  const out = Buffer.alloc(12 + headerBytes.length + pad + data.length);
  out.write(MAGIC, 0, 'ascii');
  out.writeUInt32LE(headerBytes.length, 8);
  headerBytes.copy(out, 12);
  Buffer.from(data.buffer, data.byteOffset, data.length).copy(out, 12 + headerBytes.length + pad);
  writeFileAtomic(path, out);
}

/** Read and verify a checkpoint file (magic, header, sizes, checksum, config schema). */
export function loadCheckpoint(path: string): Checkpoint {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`checkpoint ${path} does not exist`, { cause: e });
    throw new IoError(`cannot read checkpoint ${path}: ${errorMessage(e)}`, { cause: e });
  }
  const bad = (why: string) => new FileFormatError(`checkpoint ${path}: ${why}`, { details: { path } });
  if (buf.length < 12 || buf.toString('ascii', 0, 8) !== MAGIC) throw bad('not a VMR checkpoint (bad magic)');
  const hlen = buf.readUInt32LE(8);
  if (12 + hlen > buf.length) throw bad('truncated header');
  let header: Header;
  try {
    header = JSON.parse(buf.toString('utf8', 12, 12 + hlen)) as Header;
  } catch (e) {
    throw bad(`header is not JSON (${errorMessage(e)})`);
  }
  if (header.format !== 'vmr-checkpoint' || header.version !== 1) throw bad(`unsupported format ${header.format} v${header.version}`);
  const pad = (4 - ((12 + hlen) % 4)) % 4;
  const start = 12 + hlen + pad;
  if (buf.length - start !== header.dataBytes) throw bad(`data section has ${buf.length - start} bytes, header says ${header.dataBytes} (truncated?)`);
  const data = buf.subarray(start);
  if (createHash('sha256').update(data).digest('hex') !== header.sha256) throw bad('checksum mismatch (corrupt file)');
  const cfg = ModelConfigSchema.safeParse(header.config);
  if (!cfg.success) throw bad(`config does not validate: ${cfg.error.issues[0].message}`);
  const aligned = new Float32Array(header.dataBytes / 4);
  new Uint8Array(aligned.buffer).set(data);
  const ck: Checkpoint = {
    kind: header.kind,
    config: cfg.data as ModelConfig,
    seed: header.seed,
    step: header.step,
    forwardCount: header.forwardCount,
    extra: header.extra,
    params: new Map(),
    state: new Map(),
    optimizer: header.optimizer
      ? { config: AdamConfigSchema.parse(header.optimizer.config), step: header.optimizer.step, m: new Map(), v: new Map() }
      : null,
  };
  for (const t of header.tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.length || t.offset + 4 * t.length > header.dataBytes) throw bad(`tensor ${t.name} has inconsistent size`);
    const arr = aligned.slice(t.offset / 4, t.offset / 4 + t.length);
    if (t.group === 'param') ck.params.set(t.name, { shape: t.shape, data: arr });
    else if (t.group === 'state') ck.state.set(t.name, { shape: t.shape, data: arr });
    else if (ck.optimizer) (t.group === 'adam.m' ? ck.optimizer.m : ck.optimizer.v).set(t.name, arr);
  }
  return ck;
}

/** Rebuild the model (and its optimizer, when saved) from a checkpoint: identical outputs and training. */
export function restoreFromCheckpoint(ck: Checkpoint): { model: Model; optimizer: Adam | null; step: number } {
  const model = createModel(ck.config, ck.seed);
  for (const [group, src] of [
    [model.params.trainable, ck.params],
    [model.params.state, ck.state],
  ] as const) {
    for (const [name, v] of group) {
      const s = src.get(name);
      if (!s) throw new FileFormatError(`checkpoint lacks parameter ${name}`);
      if (s.data.length !== v.size) throw new FileFormatError(`checkpoint parameter ${name} has ${s.data.length} values, model expects ${v.size}`);
      v.assign(tf.tensor(s.data, v.shape));
    }
  }
  model.forwardCount = ck.forwardCount;
  let optimizer: Adam | null = null;
  if (ck.optimizer) {
    optimizer = new Adam(model.params, ck.optimizer.config);
    optimizer.setState({ step: ck.optimizer.step, m: ck.optimizer.m, v: ck.optimizer.v });
  }
  return { model, optimizer, step: ck.step };
}
