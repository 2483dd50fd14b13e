/** `vmr fad` — FAD between two embedding files. */
import * as fs from 'fs';
import * as path from 'path';
import { FileFormatError, IoError, errorMessage, printResult, readNpy, type VmrCommand, withJson } from '@vmr/core';
import { fad, fadInfinity } from './fad';
import type { MatrixInput } from './matrix-input';

/** Load `[n, d]` embeddings from `.npy` (2-D, or 1-D as one column) or `.json` (array of rows). */
export function loadEmbeddings(file: string): MatrixInput {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.npy') {
    const arr = readNpy(file);
    if (arr.shape.length !== 1 && arr.shape.length !== 2) {
      throw new FileFormatError(`${file}: expected a 2-D array [n, d], got shape (${arr.shape.join(', ')})`);
    }
    const rows = arr.shape[0];
    const cols = arr.shape.length === 2 ? arr.shape[1] : 1;
    const data = arr.data instanceof BigInt64Array ? Float64Array.from(arr.data, Number) : (arr.data as ArrayLike<number>);
    return { rows, cols, data };
  }
  if (ext === '.json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code) throw new IoError(`cannot read ${file}: ${errorMessage(e)}`, { cause: e });
      throw new FileFormatError(`${file}: invalid JSON (${errorMessage(e)})`, { cause: e });
    }
    if (!Array.isArray(parsed) || !parsed.every((r) => Array.isArray(r))) {
      throw new FileFormatError(`${file}: expected a JSON array of rows (arrays of numbers)`);
    }
    return parsed as number[][];
  }
  throw new FileFormatError(`${file}: unsupported embeddings file type "${ext || '(none)'}" (use .npy or .json)`);
}

interface FadArgs {
  a: string;
  b: string;
  json: boolean;
  method: 'auto' | 'eigen';
  epsilon: number;
  inf: boolean;
  steps: number;
  minN: number;
  seed: number;
}

const fadCommand: VmrCommand = {
  command: 'fad <a> <b>',
  describe: 'Fréchet Audio Distance between two embedding sets [n, d] (.npy or .json rows)',
  builder: (y) =>
    withJson(y)
      .positional('a', { type: 'string', describe: 'first set (e.g. ground-truth track features)', demandOption: true })
      .positional('b', { type: 'string', describe: 'second set (e.g. retrieved track features)', demandOption: true })
      .option('method', { choices: ['auto', 'eigen'] as const, default: 'auto' as const, describe: 'trace-term route' })
      .option('epsilon', { type: 'number', default: 1e-6, describe: 'ε·I added to both covariances if the first attempt fails' })
      .option('inf', { type: 'boolean', default: false, describe: 'also compute FAD∞ (fadtk): b is bootstrapped at growing n' })
      .option('steps', { type: 'number', default: 25, describe: 'FAD∞: number of subset sizes' })
      .option('min-n', { type: 'number', default: 500, describe: 'FAD∞: smallest subset size' })
      .option('seed', { type: 'number', default: 0, describe: 'FAD∞: bootstrap seed' })
      .example('$0 fad gt.npy retrieved.npy --json', 'FAD between two [n, d] float arrays')
      .example('$0 fad a.json b.json --inf --min-n 200', 'with FAD∞ extrapolation'),
  handler: (args: Record<string, unknown>) => {
    const argv = args as unknown as FadArgs;
    const a = loadEmbeddings(argv.a);
    const b = loadEmbeddings(argv.b);
    const r = fad(a, b, { method: argv.method, epsilon: argv.epsilon, names: [argv.a, argv.b] });
    const out: Record<string, unknown> = {
      fad: r.fad,
      rankDeficient: r.rankDeficient,
      n: [r.n1, r.n2],
      d: r.d,
      method: r.method,
      epsilonAdded: r.epsilonAdded,
      components: r.components,
    };
    if (argv.inf) {
      const inf = fadInfinity(a, b, { method: argv.method, epsilon: argv.epsilon, steps: argv.steps, minN: argv.minN, seed: argv.seed });
      out.fadInf = { value: inf.fadInf, slope: inf.slope, r2: inf.r2, points: inf.points };
    }
    printResult(argv.json, out, () => {
      const lines = [
        `FAD ${r.fad.toPrecision(8)}  (n = ${r.n1} vs ${r.n2}, d = ${r.d}, ${r.method} route${r.epsilonAdded ? ', ε·I added' : ''})`,
      ];
      if (r.rankDeficient) lines.push(`warning: rank-deficient covariance (n ≤ d): FAD is biased and unstable at this sample size`);
      if (out.fadInf) lines.push(`FAD∞ ${(out.fadInf as { value: number }).value.toPrecision(8)}`);
      return lines.join('\n');
    });
  },
};

export const commands: VmrCommand[] = [fadCommand];
