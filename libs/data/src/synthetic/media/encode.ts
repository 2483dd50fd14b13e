import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ExternalToolError, IoError, errorMessage, tempPathFor } from '@vmr/core';

export interface EncodeOptions {
  ffmpeg: string;
  width: number;
  height: number;
  fps: number;
  sampleRate: number;
}

/**
 * Encode grey frames + mono float audio into an H.264/AAC `.mp4` at `target`, atomically: ffmpeg writes
 * a temp file beside the target (frames streamed through stdin, audio from a temp raw f32le file), which
 * is renamed over the target only when ffmpeg succeeded. Any failure removes the temp files and throws
 * an ExternalToolError naming the target and quoting ffmpeg's stderr.
 */
export async function encodeMp4(target: string, frames: Iterable<Uint8Array>, audio: Float32Array, o: EncodeOptions): Promise<void> {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const tmpVideo = tempPathFor(target) + '.mp4';
  const tmpAudio = tempPathFor(target) + '.f32';
  try {
    fs.writeFileSync(tmpAudio, Buffer.from(audio.buffer, audio.byteOffset, audio.byteLength));
  } catch (e) {
    throw new IoError(`cannot write the temporary audio for ${target}: ${errorMessage(e)}`, { cause: e, details: { path: target } });
  }
  const args = [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'rawvideo', '-pix_fmt', 'gray', '-s', `${o.width}x${o.height}`, '-r', String(o.fps), '-i', 'pipe:0',
    '-f', 'f32le', '-ar', String(o.sampleRate), '-ac', '1', '-i', tmpAudio,
    '-map', '0:v', '-map', '1:a',
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '16', '-pix_fmt', 'yuv420p', '-g', String(o.fps * 2),
    '-c:a', 'aac', '-b:a', '128k',
    '-movflags', '+faststart', '-f', 'mp4', tmpVideo,
  ];
  try {
    await runWithStdin(o.ffmpeg, args, frames, target);
    fs.renameSync(tmpVideo, target);
  } catch (e) {
    fs.rmSync(tmpVideo, { force: true });
    if (e instanceof ExternalToolError) throw e;
    throw new IoError(`cannot write ${target}: ${errorMessage(e)}`, { cause: e, details: { path: target } });
  } finally {
    fs.rmSync(tmpAudio, { force: true });
  }
}

function runWithStdin(bin: string, args: string[], frames: Iterable<Uint8Array>, target: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    let settled = false;
    const fail = (e: ExternalToolError): void => {
      if (settled) return;
      settled = true;
      child.kill('SIGKILL');
      reject(e);
    };
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString('utf8');
      if (stderr.length > 20_000) stderr = stderr.slice(-10_000);
    });
    child.on('error', (e) => fail(new ExternalToolError(`cannot run ffmpeg (${bin}) for ${target}: ${e.message}`, { cause: e, details: { tool: bin, path: target } })));
    child.stdin.on('error', () => {
      /* EPIPE when ffmpeg dies early: reported through the exit code and stderr below */
    });
    child.on('close', (code, signal) => {
      if (settled) return;
      settled = true;
      if (code === 0) resolve();
      else {
        reject(
          new ExternalToolError(`ffmpeg failed to encode ${target} (exit ${code ?? signal}): ${stderr.trim().slice(-1500) || '(no message)'}`, {
            details: { tool: bin, path: target, code, signal },
          }),
        );
      }
    });
    const it = frames[Symbol.iterator]();
    const pump = (): void => {
      for (;;) {
        if (settled) return;
        const r = it.next();
        if (r.done) {
          child.stdin.end();
          return;
        }
        // Copy: the renderer reuses its frame buffer.
        if (!child.stdin.write(Buffer.from(r.value))) {
          child.stdin.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });
}
