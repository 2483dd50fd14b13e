import { FileFormatError, IoError, UnsupportedError, sharedPath } from '@vmr/core';
import { encodeWav16, parseWav, readWav, toMono } from './wav';

const SAMPLE = sharedPath('media', 'onsets', 'sample.wav'); // madmom test data, CC-BY-NC-SA-4.0

describe('WAV reader', () => {
  it('reads the madmom sample (PCM16 mono 44.1 kHz; header overstates the data size, clamped to the file)', () => {
    const a = readWav(SAMPLE);
    expect(a.sampleRate).toBe(44100);
    expect(a.channels).toHaveLength(1);
    expect(a.channels[0].length).toBe((247006 - 44) / 2);
    // first samples: bytes 42 f6 32 f6 → int16 −2494, −2510
    expect(a.channels[0][0]).toBeCloseTo(-2494 / 32768, 7);
    expect(a.channels[0][1]).toBeCloseTo(-2510 / 32768, 7);
  });
  it('round-trips PCM16 stereo and down-mixes by averaging', () => {
    const l = Float32Array.from([0, 0.5, -0.25, 0.999]);
    const r = Float32Array.from([1 - 2 ** -15, -0.5, 0.25, -1]);
    const back = parseWav(encodeWav16({ sampleRate: 8000, channels: [l, r] }));
    expect(back.sampleRate).toBe(8000);
    for (let i = 0; i < 4; i++) {
      expect(back.channels[0][i]).toBeCloseTo(l[i], 4);
      expect(back.channels[1][i]).toBeCloseTo(r[i], 4);
    }
    const m = toMono(back);
    expect(m[1]).toBeCloseTo(0, 6);
    expect(m[3]).toBeCloseTo((back.channels[0][3] + back.channels[1][3]) / 2, 7);
  });
  it('reads float32 WAV', () => {
    const b = encodeWav16({ sampleRate: 16000, channels: [Float32Array.from([0, 0])] });
    // rewrite as float32: format 3, 32 bits, one sample 0.123
    const f = Buffer.alloc(44 + 4);
    b.copy(f, 0, 0, 44);
    f.writeUInt32LE(36 + 4, 4);
    f.writeUInt16LE(3, 20);
    f.writeUInt32LE(16000 * 4, 28);
    f.writeUInt16LE(4, 32);
    f.writeUInt16LE(32, 34);
    f.writeUInt32LE(4, 40);
    f.writeFloatLE(0.123, 44);
    expect(parseWav(f).channels[0][0]).toBeCloseTo(0.123, 7);
  });
  it('names the file and the problem on bad input', () => {
    expect(() => parseWav(Buffer.from('not a wav file at all'), 'x.wav')).toThrow(FileFormatError);
    expect(() => parseWav(Buffer.from('not a wav file at all'), 'x.wav')).toThrow(/x\.wav/);
    const b = encodeWav16({ sampleRate: 8000, channels: [new Float32Array(2)] });
    b.writeUInt16LE(2, 20); // ADPCM
    expect(() => parseWav(b, 'adpcm.wav')).toThrow(UnsupportedError);
    expect(() => readWav('/nonexistent/file.wav')).toThrow(IoError);
  });
});
