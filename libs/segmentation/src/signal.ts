import { InvalidArgumentError } from '@vmr/core';

/**
 * A signal to segment: `n` samples of `d` dimensions, row-major float64 (`data[i * d + j]`).
 * `d === 1` selects ruptures' 1-D semantics (population variance) whatever the input shape was.
 */
export interface Signal {
  readonly n: number;
  readonly d: number;
  readonly data: Float64Array;
}

/** Anything `toSignal` accepts: a 1-D array, an array of rows, or a row-major matrix. */
export type SignalInput =
  | Signal
  | ArrayLike<number>
  | ReadonlyArray<ArrayLike<number>>
  | { rows: number; cols: number; data: ArrayLike<number> };

function isMatrix(x: unknown): x is { rows: number; cols: number; data: ArrayLike<number> } {
  return typeof x === 'object' && x !== null && 'rows' in x && 'cols' in x && 'data' in x;
}

function isSignal(x: unknown): x is Signal {
  return typeof x === 'object' && x !== null && 'n' in x && 'd' in x && (x as Signal).data instanceof Float64Array;
}

function bad(name: string, problem: string, details: Record<string, unknown> = {}): InvalidArgumentError {
  return new InvalidArgumentError(`${name}: ${problem}`, { details: { input: name, ...details } });
}

/**
 * Validate and copy an input into a float64 `Signal`. Rejects empty input, ragged rows and any
 * non-finite value, naming `name` (a file, clip id or argument) and the offending index.
 *
 * @param input `[n]` (1-D), `[n][d]` rows, or `{rows, cols, data}` row-major.
 */
export function toSignal(input: SignalInput, name = 'signal'): Signal {
  let n: number;
  let d: number;
  let data: Float64Array;
  if (isSignal(input)) {
    n = input.n;
    d = input.d;
    data = Float64Array.from(input.data);
  } else if (isMatrix(input)) {
    n = input.rows;
    d = input.cols;
    if (!Number.isInteger(n) || !Number.isInteger(d) || n < 0 || d < 1 || input.data.length !== n * d) {
      throw bad(name, `matrix shape [${n}, ${d}] does not match its ${input.data.length} values`);
    }
    data = Float64Array.from(input.data as ArrayLike<number>);
  } else {
    const arr = input as ArrayLike<unknown>;
    if (typeof arr !== 'object' || arr === null || typeof arr.length !== 'number') {
      throw bad(name, 'expected an array of numbers or an array of rows');
    }
    n = arr.length;
    if (n > 0 && typeof arr[0] === 'object' && arr[0] !== null) {
      const rows = arr as ArrayLike<ArrayLike<unknown>>;
      d = rows[0].length;
      if (!(d >= 1)) throw bad(name, 'row 0 is empty');
      data = new Float64Array(n * d);
      for (let i = 0; i < n; i++) {
        const row = rows[i];
        if (typeof row !== 'object' || row === null || row.length !== d) {
          throw bad(name, `row ${i} has ${row && typeof row === 'object' ? row.length : 'no'} values, expected ${d} like row 0`, { row: i });
        }
        for (let j = 0; j < d; j++) {
          const v = row[j];
          if (typeof v !== 'number') throw bad(name, `value [${i}][${j}] is not a number (${JSON.stringify(v)})`, { row: i, col: j });
          data[i * d + j] = v;
        }
      }
    } else {
      d = 1;
      data = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const v = arr[i];
        if (typeof v !== 'number') throw bad(name, `value [${i}] is not a number (${JSON.stringify(v)})`, { index: i });
        data[i] = v;
      }
    }
  }
  if (n === 0) throw bad(name, 'the signal is empty (0 samples)');
  for (let k = 0; k < data.length; k++) {
    if (!Number.isFinite(data[k])) {
      const i = Math.floor(k / d);
      const j = k % d;
      throw bad(name, `non-finite value ${data[k]} at ${d === 1 ? `[${i}]` : `[${i}][${j}]`}`, { row: i, col: j });
    }
  }
  return { n, d, data };
}
