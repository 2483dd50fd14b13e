import { spawn } from 'child_process';
import { ExternalToolError } from '@vmr/core';

export interface ToolResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  /** What the tool wrote to file descriptors 3, 4, … (`extraOutputs` of them), e.g. ffmpeg's `pipe:3`. */
  extraOutputs: Buffer[];
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
export function runTool(bin: string, args: string[], options: { maxStdoutBytes?: number; extraOutputs?: number } = {}): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const nExtra = options.extraOutputs ?? 0;
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe', ...Array.from({ length: nExtra }, () => 'pipe' as const)] });
    const extra: Buffer[][] = Array.from({ length: nExtra }, () => []);
    for (let i = 0; i < nExtra; i++) (child.stdio[3 + i] as NodeJS.ReadableStream).on('data', (c: Buffer) => extra[i].push(c));
    const chunks: Buffer[] = [];
    let size = 0;
    let stderr = '';
    let overflow = false;
    child.stdout!.on('data', (c: Buffer) => {
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
    child.stderr!.on('data', (c: Buffer) => {
      stderr += c.toString('utf8');
      if (stderr.length > 64_000) stderr = stderr.slice(stderr.length - 32_000);
    });
    child.on('error', (e) => reject(new ExternalToolError(`cannot run ${bin}: ${e.message}`, { cause: e, details: { tool: bin } })));
    child.on('close', (code, signal) => {
      if (overflow) {
        reject(new ExternalToolError(`${bin} produced more than ${options.maxStdoutBytes} bytes of output`, { details: { tool: bin } }));
        return;
      }
      resolve({ code, signal, stdout: Buffer.concat(chunks), stderr, extraOutputs: extra.map((e) => Buffer.concat(e)) });
    });
  });
}
