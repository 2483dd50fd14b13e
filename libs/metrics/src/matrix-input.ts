import { InvalidArgumentError } from '@vmr/core';

/** A matrix given as an array of rows or as a flat row-major buffer with its shape. */
export type MatrixInput =
  | ReadonlyArray<ArrayLike<number>>
  | { rows: number; cols: number; data: ArrayLike<number> };

/**
 * Validate a matrix argument and copy it into a row-major `Float64Array`.
 * @param name names the argument in error messages (e.g. "set a (embeddings.npy)").
 * @throws InvalidArgumentError on ragged rows, a wrong buffer length or a non-finite value.
 */
export function toDense(input: MatrixInput, name: string): { rows: number; cols: number; data: Float64Array } {
  if (Array.isArray(input)) {
    const rows = input.length;
    if (rows === 0) return { rows: 0, cols: 0, data: new Float64Array(0) };
    const cols = (input[0] as ArrayLike<number>).length;
    const data = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      const row = input[r] as ArrayLike<number>;
      if (row == null || typeof row.length !== 'number') {
        throw new InvalidArgumentError(`${name}: row ${r} is not an array of numbers`);
      }
      if (row.length !== cols) {
        throw new InvalidArgumentError(`${name}: row ${r} has ${row.length} values, row 0 has ${cols} (ragged matrix)`);
      }
      for (let c = 0; c < cols; c++) {
        const v = row[c];
        if (typeof v !== 'number' || !Number.isFinite(v)) {
          throw new InvalidArgumentError(`${name}: value at row ${r}, column ${c} is ${String(v)} (must be a finite number)`);
        }
        data[r * cols + c] = v;
      }
    }
    return { rows, cols, data };
  }
  const m = input as { rows: number; cols: number; data: ArrayLike<number> };
  if (!Number.isInteger(m.rows) || !Number.isInteger(m.cols) || m.rows < 0 || m.cols < 0) {
    throw new InvalidArgumentError(`${name}: rows/cols must be non-negative integers, got ${m.rows}×${m.cols}`);
  }
  if (m.data.length !== m.rows * m.cols) {
    throw new InvalidArgumentError(`${name}: data has ${m.data.length} values, expected ${m.rows}×${m.cols} = ${m.rows * m.cols}`);
  }
  const data = new Float64Array(m.rows * m.cols);
  for (let i = 0; i < data.length; i++) {
    const v = m.data[i];
    if (!Number.isFinite(v)) {
      throw new InvalidArgumentError(
        `${name}: value at row ${Math.floor(i / Math.max(1, m.cols))}, column ${i % Math.max(1, m.cols)} is ${v} (must be finite)`,
      );
    }
    data[i] = v;
  }
  return { rows: m.rows, cols: m.cols, data };
}
