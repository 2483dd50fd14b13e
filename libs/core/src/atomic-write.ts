import * as fs from 'fs';
import * as path from 'path';
import { IoError, errorMessage } from './errors';

let counter = 0;

/** A temp path beside `target` (same directory, so the final rename is atomic on one filesystem). */
export function tempPathFor(target: string): string {
  const dir = path.dirname(target);
  const base = path.basename(target);
  counter += 1;
  return path.join(dir, `.${base}.${process.pid}.${Date.now().toString(36)}.${counter}.tmp`);
}

/**
 * Write `data` to `target` atomically: write a temp file in the same directory, fsync it, then rename
 * it over the target. A crash leaves either the old file or the new one, never a half-written file.
 * Parent directories are created.
 */
export function writeFileAtomic(target: string, data: string | Uint8Array): void {
  const dir = path.dirname(target);
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new IoError(`cannot create directory ${dir} for ${target}: ${errorMessage(e)}`, { cause: e });
  }
  const tmp = tempPathFor(target);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'w');
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, target);
  } catch (e) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        /* already failing */
      }
    }
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      /* best effort */
    }
    throw new IoError(`cannot write ${target}: ${errorMessage(e)}`, { cause: e, details: { path: target } });
  }
}

/** Atomically write a JSON document (2-space indented, trailing newline). */
export function writeJsonAtomic(target: string, value: unknown): void {
  writeFileAtomic(target, JSON.stringify(value, null, 2) + '\n');
}

/** Atomically copy `src` to `target` (copy to a temp file beside the target, then rename). */
export function copyFileAtomic(src: string, target: string): void {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const tmp = tempPathFor(target);
  try {
    fs.copyFileSync(src, tmp);
    fs.renameSync(tmp, target);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw new IoError(`cannot copy ${src} to ${target}: ${errorMessage(e)}`, { cause: e, details: { src, path: target } });
  }
}
