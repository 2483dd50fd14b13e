import * as fs from 'fs';
import * as path from 'path';
import { NotFoundError, errorMessage } from '@vmr/core';
import { probeMedia } from '@vmr/features';

/**
 * File extensions of the audio/video containers and elementary streams ffmpeg demuxes (the "common
 * extensions" of ffmpeg's demuxers, `ffmpeg -h demuxer=NAME`, plus the usual aliases). A folder's file
 * with one of these is ingested; a file with an extension in neither this list nor `NOT_MEDIA` is
 * shown to ffprobe, which decides.
 */
export const MEDIA_EXTENSIONS: readonly string[] = [
  // video containers
  '.3g2', '.3gp', '.asf', '.avi', '.bik', '.divx', '.dv', '.evo', '.f4v', '.flv', '.ivf', '.m2t', '.m2ts', '.m4v', '.mj2',
  '.mk3d', '.mkv', '.mov', '.mp4', '.mpe', '.mpeg', '.mpg', '.mts', '.mxf', '.nsv', '.nut', '.ogm', '.ogv', '.qt', '.rm',
  '.rmvb', '.smk', '.swf', '.tp', '.trp', '.ts', '.vob', '.webm', '.wmv', '.wtv', '.xvid', '.y4m',
  // video elementary streams
  '.264', '.265', '.h261', '.h263', '.h264', '.h265', '.hevc', '.m1v', '.m2v', '.mjpeg', '.mjpg', '.obu', '.vc1',
  // audio
  '.3ga', '.aa', '.aac', '.ac3', '.adts', '.aif', '.aifc', '.aiff', '.amr', '.ape', '.au', '.caf', '.dff', '.dsf', '.dts',
  '.dtshd', '.eac3', '.flac', '.gsm', '.it', '.m4a', '.m4b', '.mka', '.mlp', '.mod', '.mp1', '.mp2', '.mp3', '.mpa',
  '.mpc', '.oga', '.ogg', '.ofr', '.opus', '.ra', '.s3m', '.shn', '.snd', '.spx', '.tak', '.thd', '.truehd', '.tta',
  '.voc', '.vqf', '.w64', '.wav', '.weba', '.wma', '.wv', '.xm',
];

/** Extensions that are not clips, with the reason shown when a folder's file is left out. */
const NOT_MEDIA: ReadonlyArray<[string, readonly string[]]> = [
  ['a still image, not a clip', ['.avif', '.bmp', '.dpx', '.exr', '.gif', '.heic', '.ico', '.jpeg', '.jpg', '.png', '.psd', '.svg', '.tga', '.tif', '.tiff', '.webp']],
  ['subtitles, not a clip', ['.ass', '.idx', '.srt', '.ssa', '.sub', '.vtt']],
  ['a playlist or cue sheet (ingest the media files it names instead)', ['.cue', '.m3u', '.m3u8', '.pls']],
  ['an archive (unpack it first)', ['.7z', '.bz2', '.gz', '.rar', '.tar', '.tgz', '.xz', '.zip']],
  [
    'not a media file',
    ['.csv', '.doc', '.docx', '.html', '.json', '.list', '.log', '.md', '.nfo', '.npy', '.npz', '.pdf', '.py', '.sh', '.tsv', '.txt', '.xml', '.yaml', '.yml'],
  ],
];

/** A folder's file that is not ingested, and why. */
export interface LeftOutFile {
  path: string;
  reason: string;
}

export interface MediaInputs {
  /** Files to ingest (absolute, de-duplicated, in input order; folders sorted). */
  files: string[];
  /** Files found in folders that are not ingested, with the reason (nothing is skipped silently). */
  leftOut: LeftOutFile[];
}

function knownNotMedia(ext: string): string | undefined {
  for (const [reason, exts] of NOT_MEDIA) if (exts.includes(ext)) return `${reason} (${ext})`;
  return undefined;
}

/**
 * Expand inputs into media files: a directory contributes (recursively, sorted) its files with a
 * media extension, plus those of any other extension that ffprobe finds an audio or video stream in;
 * everything else is listed in `leftOut` with its reason. A `.txt`/`.list` file is read as one path per
 * line (relative to the list); any other file given by name is taken as is (a bad one fails later with
 * its own reason).
 */
export async function listMediaInputs(inputs: readonly string[]): Promise<MediaInputs> {
  const out: string[] = [];
  const leftOut: LeftOutFile[] = [];
  const unknown: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name.startsWith('.')) leftOut.push({ path: path.resolve(p), reason: 'hidden folder' });
        else walk(p);
        continue;
      }
      if (!e.isFile() && !e.isSymbolicLink()) {
        leftOut.push({ path: path.resolve(p), reason: 'not a regular file' });
        continue;
      }
      if (e.name.startsWith('.')) {
        leftOut.push({ path: path.resolve(p), reason: 'hidden file' });
        continue;
      }
      const ext = path.extname(e.name).toLowerCase();
      if (MEDIA_EXTENSIONS.includes(ext)) out.push(p);
      else {
        const why = knownNotMedia(ext);
        if (why) leftOut.push({ path: path.resolve(p), reason: why });
        else {
          unknown.push(path.resolve(p));
          out.push(p);
        }
      }
    }
  };
  for (const input of inputs) {
    if (!fs.existsSync(input)) throw new NotFoundError(`input ${input} does not exist`, { details: { path: input } });
    const st = fs.statSync(input);
    if (st.isDirectory()) walk(input);
    else if (/\.(txt|list)$/i.test(input)) {
      const base = path.dirname(input);
      for (const line of fs.readFileSync(input, 'utf8').split('\n')) {
        const t = line.trim();
        if (t && !t.startsWith('#')) out.push(path.isAbsolute(t) ? t : path.join(base, t));
      }
    } else out.push(input);
  }
  // Unknown extensions: ask ffprobe whether it reads an audio or video stream.
  const rejected = new Set<string>();
  for (const f of unknown) {
    try {
      const info = await probeMedia(f);
      if (!info.video && !info.audio) {
        rejected.add(f);
        leftOut.push({ path: f, reason: `ffprobe reads it as ${info.formatName} but finds no audio or video stream` });
      } else if (info.video && !info.audio && /image2|_pipe$/.test(info.formatName)) {
        rejected.add(f);
        leftOut.push({ path: f, reason: `a still image (${info.formatName}), not a clip` });
      }
    } catch (e) {
      rejected.add(f);
      leftOut.push({ path: f, reason: `not a media file ffprobe can read (${errorMessage(e).replace(`${f}: `, '')})` });
    }
  }
  const files = [...new Set(out.map((p) => path.resolve(p)))].filter((p) => !rejected.has(p));
  return { files, leftOut };
}
