import type { Argv, CommandModule } from 'yargs';
import { VmrError, errorMessage } from './errors';

/**
 * A `vmr` subcommand contributed by a lib or an app. The `vmr` entry (bin/vmr.ts) collects
 * the `commands` arrays that packages export and registers them with yargs.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type VmrCommand = CommandModule<any, any>;

/** Options every command shares. */
export interface GlobalOptions {
  json?: boolean;
  quiet?: boolean;
}

/** Add `--json` to a command that prints results. */
export function withJson<T>(y: Argv<T>): Argv<T & { json: boolean }> {
  return y.option('json', { type: 'boolean', default: false, describe: 'print machine-readable JSON on stdout' });
}

/** Print a result either as JSON (`--json`) or through the human formatter. */
export function printResult(json: boolean | undefined, value: unknown, human: () => string): void {
  if (json) process.stdout.write(JSON.stringify(value, null, 2) + '\n');
  else process.stdout.write(human() + '\n');
}

/**
 * Turn a thrown value into a CLI exit: `VmrError`s print their message (and code), anything else
 * prints its message too, with the stack only when `VMR_DEBUG=1`.
 */
export function reportCliError(e: unknown, json = false): number {
  const debug = process.env.VMR_DEBUG === '1';
  if (json) {
    const body = e instanceof VmrError ? e.toJSON() : { name: 'Error', code: 'INTERNAL', message: errorMessage(e) };
    process.stdout.write(JSON.stringify({ error: body }, null, 2) + '\n');
  }
  if (e instanceof VmrError) {
    process.stderr.write(`vmr: error [${e.code}]: ${e.message}\n`);
  } else {
    process.stderr.write(`vmr: unexpected error: ${errorMessage(e)}\n`);
    if (!debug) process.stderr.write('(set VMR_DEBUG=1 for the stack trace)\n');
  }
  if (debug && e instanceof Error && e.stack) process.stderr.write(e.stack + '\n');
  return e instanceof VmrError ? 1 : 2;
}
