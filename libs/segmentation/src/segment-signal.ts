import { InvalidArgumentError } from '@vmr/core';
import { type CostName, COST_NAMES, createCost, sumOfCosts } from './cost';
import { dynp } from './dynp';
import { pelt } from './pelt';
import { type SignalInput, toSignal } from './signal';

export type SegmentMethod = 'dynp' | 'pelt';
export const SEGMENT_METHODS: readonly SegmentMethod[] = ['dynp', 'pelt'];

export interface SegmentSignalOptions {
  method?: SegmentMethod;
  cost?: CostName;
  /** dynp: number of breakpoints. */
  nBkps?: number;
  /** pelt: penalty per segment. */
  penalty?: number;
  minSize?: number;
  jump?: number;
  /** Names the signal in errors (file path, clip id). */
  input?: string;
}

export interface SegmentSignalResult {
  method: SegmentMethod;
  cost: CostName;
  /** Ascending end indices, last = n (ruptures convention). */
  breakpoints: number[];
  /** Σ segment costs, each evaluated directly (two-pass, as ruptures/numpy do). */
  totalCost: number;
  /** pelt only: totalCost + penalty · #segments. */
  penalizedCost?: number;
  nSamples: number;
  nDims: number;
  minSize: number;
  jump: number;
}

/**
 * Segment a signal with exact DP (fixed breakpoint count) or PELT (penalty), reporting the
 * breakpoints and the total cost. Validates everything and throws typed errors naming `input`.
 */
export function segmentSignal(signalInput: SignalInput, options: SegmentSignalOptions): SegmentSignalResult {
  const input = options.input ?? 'signal';
  const method = options.method ?? 'dynp';
  const costName = options.cost ?? 'normal';
  if (!SEGMENT_METHODS.includes(method)) {
    throw new InvalidArgumentError(`unknown method "${String(method)}"; expected one of ${SEGMENT_METHODS.join(', ')}`);
  }
  if (!COST_NAMES.includes(costName)) {
    throw new InvalidArgumentError(`unknown cost "${String(costName)}"; expected one of ${COST_NAMES.join(', ')}`);
  }
  const signal = toSignal(signalInput, input);
  const cost = createCost(costName, signal);
  const minSize = options.minSize ?? 2;
  const jump = options.jump ?? 5;
  let breakpoints: number[];
  let penalizedCost: number | undefined;
  if (method === 'dynp') {
    if (options.nBkps === undefined) throw new InvalidArgumentError('dynp needs the number of breakpoints (nBkps)');
    if (options.penalty !== undefined) throw new InvalidArgumentError('a penalty applies to pelt only; dynp takes nBkps');
    breakpoints = dynp(cost, { nBkps: options.nBkps, minSize, jump, input }).breakpoints;
  } else {
    if (options.penalty === undefined) throw new InvalidArgumentError('pelt needs a penalty');
    if (options.nBkps !== undefined) throw new InvalidArgumentError('pelt chooses the number of breakpoints itself; give a penalty, not nBkps');
    breakpoints = pelt(cost, { penalty: options.penalty, minSize, jump, input }).breakpoints;
  }
  const totalCost = sumOfCosts(costName, signal, breakpoints);
  if (method === 'pelt') penalizedCost = totalCost + (options.penalty as number) * breakpoints.length;
  return {
    method,
    cost: costName,
    breakpoints,
    totalCost,
    ...(penalizedCost !== undefined ? { penalizedCost } : {}),
    nSamples: signal.n,
    nDims: signal.d,
    minSize: Math.max(minSize, cost.minSize),
    jump,
  };
}
