/**
 * The VMR Lab error hierarchy. Every error a user can trigger is a `VmrError` with a stable `code`,
 * a message that names the input (file, key, run id…) and the problem, and an optional `cause`.
 * The CLI prints `message` (never the stack) and exits non-zero.
 */
export type VmrErrorCode =
  | 'INVALID_ARGUMENT'
  | 'INVALID_CONFIG'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'CONFLICT'
  | 'IO_ERROR'
  | 'BAD_FILE_FORMAT'
  | 'UNSUPPORTED'
  | 'STORE_CORRUPT'
  | 'STORE_BUSY'
  | 'INSUFFICIENT_DATA'
  | 'NUMERIC_ERROR'
  | 'EXTERNAL_TOOL'
  | 'INTERRUPTED'
  | 'INTERNAL';

export interface VmrErrorOptions {
  cause?: unknown;
  /** Structured context (file path, key, sizes…) for programmatic consumers and `--json` output. */
  details?: Record<string, unknown>;
}

export class VmrError extends Error {
  readonly code: VmrErrorCode;
  readonly details: Record<string, unknown>;
  override readonly cause?: unknown;

  constructor(code: VmrErrorCode, message: string, options: VmrErrorOptions = {}) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.details = options.details ?? {};
    if (options.cause !== undefined) this.cause = options.cause;
  }

  toJSON(): { name: string; code: VmrErrorCode; message: string; details: Record<string, unknown> } {
    return { name: this.name, code: this.code, message: this.message, details: this.details };
  }
}

/** Bad argument or value supplied by the caller (CLI flag, function argument, metric value…). */
export class InvalidArgumentError extends VmrError {
  constructor(message: string, options?: VmrErrorOptions) {
    super('INVALID_ARGUMENT', message, options);
  }
}

/** A configuration file or object failed validation; `details.path` names the offending key. */
export class ConfigError extends VmrError {
  constructor(message: string, options?: VmrErrorOptions) {
    super('INVALID_CONFIG', message, options);
  }
}

/** A named thing (run, experiment, file, dataset clip…) does not exist. */
export class NotFoundError extends VmrError {
  constructor(message: string, options?: VmrErrorOptions) {
    super('NOT_FOUND', message, options);
  }
}

/** A write conflicts with existing state (e.g. a param re-logged with a different value). */
export class ConflictError extends VmrError {
  constructor(message: string, options?: VmrErrorOptions) {
    super('CONFLICT', message, options);
  }
}

/** A file exists but its content is not in the expected format (npy header, dataset.json, .flo…). */
export class FileFormatError extends VmrError {
  constructor(message: string, options?: VmrErrorOptions) {
    super('BAD_FILE_FORMAT', message, options);
  }
}

/** Reading or writing a file failed at the OS level. */
export class IoError extends VmrError {
  constructor(message: string, options?: VmrErrorOptions) {
    super('IO_ERROR', message, options);
  }
}

/** Not enough samples / clips / rows for the requested computation; says how many were needed. */
export class InsufficientDataError extends VmrError {
  constructor(message: string, options?: VmrErrorOptions) {
    super('INSUFFICIENT_DATA', message, options);
  }
}

/** A numeric computation would produce NaN/Inf or failed to converge. */
export class NumericError extends VmrError {
  constructor(message: string, options?: VmrErrorOptions) {
    super('NUMERIC_ERROR', message, options);
  }
}

/** An external program (ffmpeg, ffprobe…) failed or is missing. */
export class ExternalToolError extends VmrError {
  constructor(message: string, options?: VmrErrorOptions) {
    super('EXTERNAL_TOOL', message, options);
  }
}

/** A requested feature/dtype/format is recognised but not supported. */
export class UnsupportedError extends VmrError {
  constructor(message: string, options?: VmrErrorOptions) {
    super('UNSUPPORTED', message, options);
  }
}

export function isVmrError(e: unknown): e is VmrError {
  return e instanceof VmrError;
}

/** Message of any thrown value, for wrapping foreign errors into a `VmrError`. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
