import * as fs from 'fs';
import * as path from 'path';
import type { Argv } from 'yargs';
import {
  FileFormatError,
  InvalidArgumentError,
  IoError,
  UnsupportedError,
  errorMessage,
  parseNpy,
  printResult,
  type VmrCommand,
} from '@vmr/core';
import { COST_NAMES, type CostName } from './cost';
import { type SegmentMethod, SEGMENT_METHODS, segmentSignal } from './segment-signal';
import { type Signal, toSignal } from './signal';
import { type SegmentProtocol, SEGMENT_PROTOCOLS, planClipSegments } from './plan';
import { formatSegmentsCsvRow, planToSegmentsRow, SEGMENTS_CSV_HEADER } from './segments-csv';

/**
 * Read a signal file: `.npy` (1-D `[n]` or 2-D `[n, d]`, any numeric dtype) or `.json` (an array of
 * numbers, or an array of rows). Errors name the file.
 */
export function readSignalFile(file: string): Signal {
  const ext = path.extname(file).toLowerCase();
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new IoError(`cannot read ${file}: ${errorMessage(e)}`, { cause: e, details: { path: file } });
  }
  if (ext === '.npy') {
    const arr = parseNpy(buf, file);
    if (arr.shape.length !== 1 && arr.shape.length !== 2) {
      throw new FileFormatError(`${file}: expected a 1-D or 2-D array, got shape (${arr.shape.join(', ')})`, { details: { path: file } });
    }
    const rows = arr.shape[0];
    const cols = arr.shape.length === 2 ? arr.shape[1] : 1;
    const data =
      arr.data instanceof BigInt64Array ? Float64Array.from(arr.data, (v) => Number(v)) : Float64Array.from(arr.data as ArrayLike<number>);
    if (cols === 0) throw new FileFormatError(`${file}: the array has 0 columns`, { details: { path: file } });
    return toSignal({ rows, cols, data }, file);
  }
  if (ext === '.json') {
    let value: unknown;
    try {
      value = JSON.parse(buf.toString('utf8'));
    } catch (e) {
      throw new FileFormatError(`${file}: not valid JSON (${errorMessage(e)})`, { cause: e, details: { path: file } });
    }
    if (!Array.isArray(value)) throw new FileFormatError(`${file}: expected a JSON array of numbers or of rows`, { details: { path: file } });
    try {
      return toSignal(value as number[], file);
    } catch (e) {
      if (e instanceof InvalidArgumentError) throw new FileFormatError(e.message, { cause: e, details: e.details });
      throw e;
    }
  }
  throw new UnsupportedError(`${file}: unsupported signal file type "${ext || '(none)'}"; give a .npy or .json file`, {
    details: { path: file },
  });
}

interface SegmentArgs {
  signal: string;
  segments?: number;
  breakpoints?: number;
  'min-size': number;
  jump: number;
  method: SegmentMethod;
  penalty?: number;
  cost: CostName;
  plan: boolean;
  'flow-fps': number;
  'feature-length'?: number;
  protocol: SegmentProtocol;
  json: boolean;
}

function segmentHandler(a: SegmentArgs): void {
  // flags first, so a usage mistake is reported before any file is read
  let nBkps: number | undefined;
  if (a.plan && (a.breakpoints !== undefined || a.method === 'pelt' || a.penalty !== undefined)) {
    throw new InvalidArgumentError('--plan segments a clip with exact DP into --segments S (default 10); --breakpoints, --penalty and --method pelt do not apply');
  }
  if (a.segments !== undefined && a.breakpoints !== undefined) {
    throw new InvalidArgumentError('give either --segments S or --breakpoints K, not both');
  }
  if (a.segments !== undefined) nBkps = a.segments - 1;
  if (a.breakpoints !== undefined) nBkps = a.breakpoints;
  if (!a.plan && a.method === 'dynp' && nBkps === undefined) throw new InvalidArgumentError('--method dynp needs --segments S or --breakpoints K');
  if (a.method === 'pelt' && nBkps !== undefined) {
    throw new InvalidArgumentError('--method pelt chooses the number of segments itself: give --penalty, not --segments/--breakpoints');
  }
  if (a.method === 'pelt' && a.penalty === undefined) throw new InvalidArgumentError('--method pelt needs --penalty P');
  if (a.method === 'dynp' && a.penalty !== undefined) throw new InvalidArgumentError('--penalty applies to --method pelt only');
  const signal = readSignalFile(a.signal);
  if (a.plan) {
    if (signal.d !== 1) throw new InvalidArgumentError(`--plan needs a 1-D flow trajectory; ${a.signal} has ${signal.d} columns`);
    const flowFps = a['flow-fps'];
    const featureLength = a['feature-length'] ?? Math.floor(signal.n / flowFps);
    const plan = planClipSegments(signal.data, {
      flowFps,
      featureLength,
      segments: a.segments ?? 10,
      protocol: a.protocol,
      cost: a.cost,
      clipId: path.basename(a.signal).replace(/\.[^.]+$/, ''),
    });
    if (plan.status === 'skipped') {
      printResult(a.json, { status: plan.status, reason: plan.reason, message: plan.message, details: plan.details }, () => `skipped (${plan.reason}): ${plan.message}`);
      return;
    }
    const row = planToSegmentsRow(plan);
    const out = {
      status: plan.status,
      breakpoints: plan.breakpoints,
      segments: plan.segments.map((s) => ({ start: s.start, end: s.end, meanFlow: s.meanFlow, rank: s.rank })),
      dropped: plan.dropped.map((s) => ({ start: s.start, end: s.end })),
      top: [plan.top.start, plan.top.end],
      bottom: [plan.bottom.start, plan.bottom.end],
      csv: formatSegmentsCsvRow(row),
    };
    printResult(a.json, out, () => `${SEGMENTS_CSV_HEADER}\n${out.csv}`);
    return;
  }
  const r = segmentSignal(signal, {
    method: a.method,
    cost: a.cost,
    nBkps,
    penalty: a.penalty,
    minSize: a['min-size'],
    jump: a.jump,
    input: a.signal,
  });
  const out: Record<string, unknown> = { breakpoints: r.breakpoints, cost: r.totalCost };
  if (r.penalizedCost !== undefined) out.penalizedCost = r.penalizedCost;
  printResult(
    a.json,
    out,
    () =>
      `${r.breakpoints.length} segment(s) of ${r.nSamples} samples × ${r.nDims} (${r.method}, cost ${r.cost}, minSize ${r.minSize}, jump ${r.jump})\n` +
      `breakpoints: ${r.breakpoints.join(', ')}\n` +
      `total cost:  ${r.totalCost}` +
      (r.penalizedCost !== undefined ? `\npenalized:   ${r.penalizedCost}` : ''),
  );
}

const segment: VmrCommand = {
  command: 'segment <signal>',
  describe: 'change-point segmentation of a signal (exact DP or PELT, ruptures semantics)',
  builder: (y: Argv) =>
    y
      .positional('signal', { type: 'string', describe: '.npy (1-D or 2-D) or .json (array of numbers or of rows)' })
      .option('segments', { alias: 'S', type: 'number', describe: 'number of segments (= breakpoints + 1)' })
      .option('breakpoints', { alias: 'K', type: 'number', describe: 'number of breakpoints' })
      .option('min-size', { type: 'number', default: 30, describe: 'minimum segment length in samples (10 s at 3 fps)' })
      .option('jump', { type: 'number', default: 3, describe: 'breakpoints on multiples of this (1 s at 3 fps)' })
      .option('method', { type: 'string', choices: SEGMENT_METHODS as unknown as string[], default: 'dynp' })
      .option('penalty', { type: 'number', describe: 'PELT penalty per segment' })
      .option('cost', { type: 'string', choices: COST_NAMES as unknown as string[], default: 'normal', describe: 'normal: Gaussian mean+covariance; l2: squared deviations' })
      .option('plan', { type: 'boolean', default: false, describe: 'plan a clip: seconds, ranks, top/bottom, segments.csv row (1-D flow)' })
      .option('flow-fps', { type: 'number', default: 3, describe: '--plan: trajectory samples per second' })
      .option('feature-length', { type: 'number', describe: '--plan: rows of the 1-fps features (default ⌊n / flow-fps⌋)' })
      .option('protocol', { type: 'string', choices: SEGMENT_PROTOCOLS as unknown as string[], default: 'paper', describe: '--plan: over-long segment drops the segment (paper) or the clip (vmr-code)' })
      .option('json', { type: 'boolean', default: false, describe: 'print JSON: {"breakpoints": [...], "cost": <total cost>}' })
      .example('$0 segment flow/clip1.npy --segments 10 --json', 'exact DP, 10 segments, min 30 samples, jump 3')
      .example('$0 segment sig.json --breakpoints 2 --min-size 5 --jump 1 --cost l2', 'two breakpoints under the L2 cost')
      .example('$0 segment sig.npy --method pelt --penalty 20 --min-size 5 --jump 1', 'PELT with a penalty')
      .example('$0 segment flow/clip1.npy --plan --flow-fps 3 --feature-length 120', "a clip's segments.csv row"),
  handler: (a: Record<string, unknown>) => segmentHandler(a as unknown as SegmentArgs),
};

export const commands: VmrCommand[] = [segment];
