/**
 * Test helper (not exported from the package): a minimal ONNX protobuf writer and tiny stand-in models
 * with the real input/output names and shapes of the pretrained extractors, laid out as a local model
 * folder. Each model is linear in channel/band means, so its outputs can be computed by hand.
 */
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as path from 'path';

function varint(n: number): number[] {
  const out: number[] = [];
  let v = BigInt(n);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
}
const key = (field: number, wire: number): number[] => varint((field << 3) | wire);
const int = (field: number, n: number): number[] => [...key(field, 0), ...varint(n)];
const bytes = (field: number, b: number[] | Uint8Array): number[] => [...key(field, 2), ...varint(b.length), ...b];
const str = (field: number, s: string): number[] => bytes(field, [...Buffer.from(s, 'utf8')]);

function valueInfo(name: string, dims: Array<number | string>): number[] {
  const dimMsgs = dims.flatMap((d) => bytes(1, typeof d === 'number' ? int(1, d) : str(2, d)));
  const tensorType = [...int(1, 1), ...bytes(2, dimMsgs)]; // elem_type FLOAT, shape
  return [...str(1, name), ...bytes(2, bytes(1, tensorType))];
}
const attrInts = (name: string, v: number[]): number[] => [...str(1, name), ...v.flatMap((x) => int(8, x)), ...int(20, 7)];
const attrInt = (name: string, v: number): number[] => [...str(1, name), ...int(3, v), ...int(20, 2)];
const node = (inputs: string[], outputs: string[], op: string, attrs: number[][] = []): number[] =>
  bytes(1, [...inputs.flatMap((i) => str(1, i)), ...outputs.flatMap((o) => str(2, o)), ...str(4, op), ...attrs.flatMap((a) => bytes(5, a))]);
const initializer = (name: string, dims: number[], w: Float32Array): number[] =>
  bytes(5, [...dims.flatMap((d) => int(1, d)), ...int(2, 1), ...str(8, name), ...bytes(9, new Uint8Array(w.buffer, w.byteOffset, w.byteLength))]);

/**
 * out[N, D] = ReduceMean(x, axes) · W   (x: `inputDims`, W: [C, D], C = the kept channel axis).
 * With `conv1x1`, out is [N, D, 1, 1] via keepdims + a 1×1 Conv (ResNet's pooler_output shape).
 */
export function meanLinearOnnx(o: { input: string; inputDims: Array<number | string>; axes: number[]; output: string; weights: Float32Array; channels: number; dim: number; conv1x1?: boolean }): Uint8Array {
  const nodes: number[] = [];
  const inits: number[] = [];
  let outDims: Array<number | string>;
  if (o.conv1x1) {
    // Conv weight [D, C, 1, 1]
    const wt = new Float32Array(o.dim * o.channels);
    for (let c = 0; c < o.channels; c++) for (let d = 0; d < o.dim; d++) wt[d * o.channels + c] = o.weights[c * o.dim + d];
    nodes.push(...node([o.input], ['m'], 'ReduceMean', [attrInts('axes', o.axes), attrInt('keepdims', 1)]));
    nodes.push(...node(['m', 'W'], [o.output], 'Conv'));
    inits.push(...initializer('W', [o.dim, o.channels, 1, 1], wt));
    outDims = ['N', o.dim, 1, 1];
  } else {
    nodes.push(...node([o.input], ['m'], 'ReduceMean', [attrInts('axes', o.axes), attrInt('keepdims', 0)]));
    nodes.push(...node(['m', 'W'], [o.output], 'MatMul'));
    inits.push(...initializer('W', [o.channels, o.dim], o.weights));
    outDims = ['N', o.dim];
  }
  const graph = [...nodes, ...str(2, 'g'), ...inits, ...bytes(11, valueInfo(o.input, o.inputDims)), ...bytes(12, valueInfo(o.output, outDims))];
  return Uint8Array.from([...int(1, 8), ...bytes(8, [...str(1, ''), ...int(2, 13)]), ...bytes(7, graph)]);
}

/** Deterministic weights: W[c, d] = ((c + 1) · (d + 3) mod 7 − 3) / 10. */
export function tinyWeights(channels: number, dim: number): Float32Array {
  const w = new Float32Array(channels * dim);
  for (let c = 0; c < channels; c++) for (let d = 0; d < dim; d++) w[c * dim + d] = ((((c + 1) * (d + 3)) % 7) - 3) / 10;
  return w;
}

function write(file: string, data: Uint8Array | string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, data);
}

/** A local model folder for `name`, in the layout the extractor expects; returns the folder. */
export function writeTinyModel(name: 'clip' | 'resnet' | 'vggish' | 'i3d', dir: string): string {
  if (name === 'clip') {
    write(path.join(dir, 'config.json'), JSON.stringify({ model_type: 'clip', architectures: ['CLIPVisionModelWithProjection'], projection_dim: 512 }));
    write(path.join(dir, 'onnx', 'vision_model.onnx'), meanLinearOnnx({ input: 'pixel_values', inputDims: ['N', 3, 224, 224], axes: [2, 3], output: 'image_embeds', weights: tinyWeights(3, 512), channels: 3, dim: 512 }));
  } else if (name === 'resnet') {
    write(path.join(dir, 'onnx', 'model.onnx'), meanLinearOnnx({ input: 'pixel_values', inputDims: ['N', 3, 224, 224], axes: [2, 3], output: 'pooler_output', weights: tinyWeights(3, 2048), channels: 3, dim: 2048, conv1x1: true }));
  } else if (name === 'vggish') {
    write(path.join(dir, 'vggish.onnx'), meanLinearOnnx({ input: 'input_features', inputDims: ['N', 96, 64], axes: [1], output: 'embedding', weights: tinyWeights(64, 128), channels: 64, dim: 128 }));
  } else {
    write(path.join(dir, 'i3d_rgb.onnx'), meanLinearOnnx({ input: 'rgb', inputDims: [1, 3, 64, 224, 224], axes: [2, 3, 4], output: 'features', weights: tinyWeights(3, 1024), channels: 3, dim: 1024 }));
    write(path.join(dir, 'i3d_flow.onnx'), meanLinearOnnx({ input: 'flow', inputDims: [1, 2, 64, 224, 224], axes: [2, 3, 4], output: 'features', weights: tinyWeights(2, 1024), channels: 2, dim: 1024 }));
  }
  return dir;
}

/**
 * A loopback HTTP server answering `/<org>/<name>/resolve/<rev>/<file>` from local folders (the
 * Hugging Face layout), so downloads are tested without a network; `requests` lists every path asked.
 */
export function serveModelFolders(repos: Record<string, string>): Promise<{ url: string; requests: string[]; close: () => Promise<void> }> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    const m = /^\/([^/]+\/[^/]+)\/resolve\/[^/]+\/(.+)$/.exec(req.url ?? '');
    const dir = m ? repos[m[1]] : undefined;
    const file = dir ? path.join(dir, decodeURIComponent(m![2])) : undefined;
    if (!file || !fs.existsSync(file)) {
      res.writeHead(404);
      res.end();
      return;
    }
    const body = fs.readFileSync(file);
    res.writeHead(200, { 'content-length': body.length, 'x-repo-commit': 'c0ffee' });
    res.end(body);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((r) => server.close(() => r())) });
    }),
  );
}
