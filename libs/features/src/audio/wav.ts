/**
 * Minimal RIFF/WAVE reader (PCM 8/16/24/32-bit integer, IEEE float 32/64, WAVE_FORMAT_EXTENSIBLE) for
 * tests and `.wav` inputs until every format goes through the ffmpeg decoder. Integer samples are scaled
 * as libsndfile does (int16 / 32768, …), so values match `soundfile`/`librosa.load(..., sr=None)`.
 */
import * as fs from 'fs';
import { FileFormatError, IoError, UnsupportedError, errorMessage } from '@vmr/core';

/** Decoded audio: one Float32Array per channel, samples in [−1, 1). */
export interface PcmAudio {
  sampleRate: number;
  channels: Float32Array[];
}

const FORMAT_PCM = 1;
const FORMAT_FLOAT = 3;
const FORMAT_EXTENSIBLE = 0xfffe;

/** Parse a WAV file held in memory. `source` names it in error messages. */
export function parseWav(buf: Uint8Array, source = '<buffer>'): PcmAudio {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const tag = (o: number) => String.fromCharCode(buf[o], buf[o + 1], buf[o + 2], buf[o + 3]);
  if (buf.length < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') {
    throw new FileFormatError(`${source}: not a RIFF/WAVE file (missing RIFF…WAVE header)`);
  }
  let fmt: { format: number; channels: number; sampleRate: number; bits: number; blockAlign: number } | null = null;
  let data: { offset: number; size: number } | null = null;
  let o = 12;
  while (o + 8 <= buf.length) {
    const id = tag(o);
    const size = view.getUint32(o + 4, true);
    const body = o + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > buf.length) throw new FileFormatError(`${source}: truncated fmt chunk`);
      let format = view.getUint16(body, true);
      if (format === FORMAT_EXTENSIBLE && size >= 40) format = view.getUint16(body + 24, true); // sub-format GUID's first 2 bytes
      fmt = {
        format,
        channels: view.getUint16(body + 2, true),
        sampleRate: view.getUint32(body + 4, true),
        blockAlign: view.getUint16(body + 12, true),
        bits: view.getUint16(body + 14, true),
      };
    } else if (id === 'data') {
      data = { offset: body, size: Math.min(size, buf.length - body) };
      if (fmt) break;
    }
    o = body + size + (size % 2); // chunks are word-aligned
  }
  if (!fmt) throw new FileFormatError(`${source}: no fmt chunk`);
  if (!data) throw new FileFormatError(`${source}: no data chunk`);
  const { format, channels: nch, sampleRate, bits } = fmt;
  if (nch < 1) throw new FileFormatError(`${source}: fmt chunk declares ${nch} channels`);
  if (!(sampleRate > 0)) throw new FileFormatError(`${source}: fmt chunk declares sample rate ${sampleRate}`);
  const bytes = bits / 8;
  const okPcm = format === FORMAT_PCM && [8, 16, 24, 32].includes(bits);
  const okFloat = format === FORMAT_FLOAT && (bits === 32 || bits === 64);
  if (!okPcm && !okFloat) {
    throw new UnsupportedError(`${source}: WAV sample format ${format} with ${bits} bits is not supported (PCM 8/16/24/32 or float 32/64)`);
  }
  const frameBytes = bytes * nch;
  const n = Math.floor(data.size / frameBytes);
  const channels = Array.from({ length: nch }, () => new Float32Array(n));
  let p = data.offset;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < nch; c++, p += bytes) {
      let v: number;
      if (okFloat) v = bits === 32 ? view.getFloat32(p, true) : view.getFloat64(p, true);
      else if (bits === 16) v = view.getInt16(p, true) / 32768;
      else if (bits === 8) v = (view.getUint8(p) - 128) / 128;
      else if (bits === 24) {
        const u = view.getUint8(p) | (view.getUint8(p + 1) << 8) | (view.getInt8(p + 2) << 16);
        v = u / 8388608;
      } else v = view.getInt32(p, true) / 2147483648;
      channels[c][i] = v;
    }
  }
  return { sampleRate, channels };
}

/** Read and parse a `.wav` file. */
export function readWav(file: string): PcmAudio {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new IoError(`cannot read audio file ${file}: ${errorMessage(e)}`, { cause: e });
  }
  return parseWav(buf, file);
}

/** Down-mix to mono by averaging channels (librosa / torchaudio `mean(dim=0)`). */
export function toMono(audio: PcmAudio): Float32Array {
  const [first, ...rest] = audio.channels;
  if (rest.length === 0) return first;
  const out = new Float32Array(first.length);
  const k = audio.channels.length;
  for (let i = 0; i < out.length; i++) {
    let s = 0;
    for (const ch of audio.channels) s += ch[i];
    out[i] = s / k;
  }
  return out;
}

/** Encode mono/multichannel float audio as 16-bit PCM WAV bytes (test fixtures, exports). */
export function encodeWav16(audio: PcmAudio): Buffer {
  const nch = audio.channels.length;
  const n = audio.channels[0]?.length ?? 0;
  const dataBytes = n * nch * 2;
  const b = Buffer.alloc(44 + dataBytes);
  b.write('RIFF', 0, 'ascii');
  b.writeUInt32LE(36 + dataBytes, 4);
  b.write('WAVE', 8, 'ascii');
  b.write('fmt ', 12, 'ascii');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(FORMAT_PCM, 20);
  b.writeUInt16LE(nch, 22);
  b.writeUInt32LE(audio.sampleRate, 24);
  b.writeUInt32LE(audio.sampleRate * nch * 2, 28);
  b.writeUInt16LE(nch * 2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36, 'ascii');
  b.writeUInt32LE(dataBytes, 40);
  let p = 44;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < nch; c++, p += 2) {
      const v = Math.max(-32768, Math.min(32767, Math.round(audio.channels[c][i] * 32768)));
      b.writeInt16LE(v, p);
    }
  }
  return b;
}
