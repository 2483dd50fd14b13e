import * as fs from 'fs';
import * as path from 'path';
import { ExternalToolError } from '@vmr/core';

/** Where an ffmpeg/ffprobe binary came from. */
export type BinarySource = 'env' | 'system' | 'npm';

export interface FfmpegBinaries {
  ffmpeg: string;
  ffprobe: string;
  source: { ffmpeg: BinarySource; ffprobe: BinarySource };
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** First `name` on `PATH` that is an executable file, or undefined. */
export function findOnPath(name: string, envPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function npmBinary(pkg: '@ffmpeg-installer/ffmpeg' | '@ffprobe-installer/ffprobe'): string | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const p = (require(pkg) as { path?: string }).path;
    if (!p || !fs.existsSync(p)) return undefined;
    if (!isExecutable(p)) {
      // npm may skip the installer's `chmod u+x` postinstall script: fix the mode ourselves.
      try {
        fs.chmodSync(p, 0o755);
      } catch {
        return undefined;
      }
    }
    return isExecutable(p) ? p : undefined;
  } catch {
    return undefined;
  }
}

let cached: FfmpegBinaries | undefined;

function resolveOne(
  name: 'ffmpeg' | 'ffprobe',
  envVar: string,
  pkg: '@ffmpeg-installer/ffmpeg' | '@ffprobe-installer/ffprobe',
): { path: string; source: BinarySource } {
  const fromEnv = process.env[envVar];
  if (fromEnv) {
    if (!isExecutable(fromEnv)) {
      throw new ExternalToolError(`${envVar}=${fromEnv} is not an executable file`, { details: { envVar, path: fromEnv } });
    }
    return { path: fromEnv, source: 'env' };
  }
  const sys = findOnPath(name);
  if (sys) return { path: sys, source: 'system' };
  const npm = npmBinary(pkg);
  if (npm) return { path: npm, source: 'npm' };
  throw new ExternalToolError(
    `${name} not found: not on PATH and the npm package ${pkg} has no binary for ${process.platform}-${process.arch}. ` +
      `Install ${name} (e.g. apt-get install ffmpeg) or set ${envVar}.`,
    { details: { tool: name } },
  );
}

/**
 * Resolve the ffmpeg and ffprobe binaries: `VMR_FFMPEG` / `VMR_FFPROBE` when set, else the system
 * binaries on `PATH`, else the ones shipped by `@ffmpeg-installer/ffmpeg` / `@ffprobe-installer/ffprobe`
 * (so `npm install` alone is enough). Cached after the first call.
 */
export function ffmpegBinaries(): FfmpegBinaries {
  if (cached) return cached;
  const ffmpeg = resolveOne('ffmpeg', 'VMR_FFMPEG', '@ffmpeg-installer/ffmpeg');
  const ffprobe = resolveOne('ffprobe', 'VMR_FFPROBE', '@ffprobe-installer/ffprobe');
  cached = { ffmpeg: ffmpeg.path, ffprobe: ffprobe.path, source: { ffmpeg: ffmpeg.source, ffprobe: ffprobe.source } };
  return cached;
}

/**
 * The npm fallback's known differences, shown by `vmr ingest --help` and recorded in dataset.json
 * whenever the npm-shipped binaries decode. No maintained npm package ships a current static
 * ffmpeg + ffprobe of one release inside its tarball (ffmpeg-static and its forks download at install,
 * which cannot work offline), so the fallback stays @ffmpeg-installer / @ffprobe-installer.
 */
export const NPM_FFMPEG_FALLBACK_NOTE =
  'npm fallback (no ffmpeg/ffprobe on PATH): @ffmpeg-installer/ffmpeg ships a 2018 ffmpeg build (N-47683, libavcodec 58.42) ' +
  'and @ffprobe-installer/ffprobe a 2023 ffprobe (N-66595), not one release. Known differences from a current ffmpeg: ' +
  'VP8 decodes bit-exactly (the OpenCV-Python parity fixtures pass with both), but its older decoders differ on some ' +
  "codecs (on a WMV clip one flow sample was 22.6 % off OpenCV-Python's with a current ffmpeg) and it lacks codecs added since 2018. " +
  'Install ffmpeg (apt-get install ffmpeg) or set VMR_FFMPEG / VMR_FFPROBE for faithful decoding.';

export interface DecoderVersions {
  ffmpeg: { path: string; source: BinarySource; version: string };
  ffprobe: { path: string; source: BinarySource; version: string };
  /** Present when an npm-shipped binary is used: its version and known differences. */
  note?: string;
}

let versions: DecoderVersions | undefined;

function versionLine(bin: string): string {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const out = (require('child_process') as typeof import('child_process')).execFileSync(bin, ['-version'], { encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'ignore'] });
    const first = out.split('\n')[0] ?? '';
    const lib = /libavcodec\s+(\d+\.\s*\d+\.\s*\d+)/.exec(out);
    return first.replace(/\s+Copyright.*$/, '').trim() + (lib ? ` (libavcodec ${lib[1].replace(/\s+/g, '')})` : '');
  } catch (e) {
    return `unknown (${bin} -version failed: ${(e as Error).message})`;
  }
}

/** Which ffmpeg/ffprobe decode, with their `-version` lines (for dataset.json provenance). Cached. */
export function decoderVersions(): DecoderVersions {
  if (versions) return versions;
  const b = ffmpegBinaries();
  versions = {
    ffmpeg: { path: b.ffmpeg, source: b.source.ffmpeg, version: versionLine(b.ffmpeg) },
    ffprobe: { path: b.ffprobe, source: b.source.ffprobe, version: versionLine(b.ffprobe) },
  };
  if (b.source.ffmpeg === 'npm' || b.source.ffprobe === 'npm') versions.note = NPM_FFMPEG_FALLBACK_NOTE;
  return versions;
}
