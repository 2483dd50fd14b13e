import { spawn } from 'child_process';
import { ExternalToolError } from '@vmr/core';

export interface ToolResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

/** Keep only the last `max` characters of a tool's stderr (enough to explain a failure). */
export function tailOf(text: string, max = 2000): string {
  const t = text.trim();
  return t.length <= max ? t : '…' + t.slice(t.length - max);
}

/**
 * Run an external tool to completion, collecting stdout as bytes and stderr as text.
 * Spawn failures (binary missing, not executable) become `ExternalToolError`; a non-zero exit is
 * returned to the caller, which knows which input to name in its error.
 */
export function runTool(bin: string, args: string[], options: { maxStdoutBytes?: number } = {}): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let size = 0;
    let stderr = '';
    let overflow = false;
    child.stdout.on('data', (c: Buffer) => {
      size += c.length;
      if (options.maxStdoutBytes !== undefined && size > options.maxStdoutBytes) {
        if (!overflow) {
          overflow = true;
          child.kill('SIGKILL');
        }
        return;
      }
      chunks.push(c);
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString('utf8');
      if (stderr.length > 64_000) stderr = stderr.slice(stderr.length - 32_000);
    });
    child.on('error', (e) => reject(new ExternalToolError(`cannot run ${bin}: ${e.message}`, { cause: e, details: { tool: bin } })));
    child.on('close', (code, signal) => {
      if (overflow) {
        reject(new ExternalToolError(`${bin} produced more than ${options.maxStdoutBytes} bytes of output`, { details: { tool: bin } }));
        return;
      }
      resolve({ code, signal, stdout: Buffer.concat(chunks), stderr });
    });
  });
}
