/** `vmr onsets` — onset times of an audio file (librosa defaults, or the `vmr` energy peaks). */
import * as path from 'path';
import { InvalidArgumentError, printResult, UnsupportedError, type VmrCommand, withJson } from '@vmr/core';
import { energyPeakTimes } from './energy-peaks';
import { LIBROSA_SR, onsetDetect } from './onset';
import { resample } from './resample';
import { readWav, toMono, type PcmAudio } from './wav';

/** Decode an audio file to PCM. Today: `.wav` only (other formats will go through the ffmpeg decoder). */
export function loadAudio(file: string): PcmAudio {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.wav' || ext === '.wave') return readWav(file);
  throw new UnsupportedError(`${file}: only .wav audio can be read until the ffmpeg decoder lands; convert it first (ffmpeg -i ${path.basename(file)} out.wav)`);
}

interface OnsetArgs {
  file: string;
  json: boolean;
  method: 'librosa' | 'energy';
  sr: number;
}

const onsetsCommand: VmrCommand = {
  command: 'onsets <file>',
  describe: 'Onset times (s) of an audio file: librosa onset_detect defaults, or the vmr energy peaks',
  builder: (y) =>
    withJson(y)
      .positional('file', { type: 'string', describe: 'audio file (.wav for now)', demandOption: true })
      .option('method', {
        choices: ['librosa', 'energy'] as const,
        default: 'librosa' as const,
        describe: 'librosa: spectral-flux onsets (AV-Align yariv); energy: short-time energy peaks (AV-Align vmr)',
      })
      .option('sr', { type: 'number', default: LIBROSA_SR, describe: 'analysis rate for librosa (0 = native rate)' })
      .example('$0 onsets song.wav --json', '{"onsets": [0.116, 0.325, …]}')
      .example('$0 onsets song.wav --method energy', 'the reference code\'s energy peaks'),
  handler: (args: Record<string, unknown>) => {
    const argv = args as unknown as OnsetArgs;
    const audio = loadAudio(argv.file);
    const mono = toMono(audio);
    let onsets: number[];
    let rate = audio.sampleRate;
    if (argv.method === 'energy') {
      onsets = energyPeakTimes(mono, audio.sampleRate);
    } else {
      if (!Number.isInteger(argv.sr) || argv.sr < 0) throw new InvalidArgumentError(`--sr must be a non-negative integer, got ${argv.sr}`);
      rate = argv.sr === 0 ? audio.sampleRate : argv.sr;
      const y = rate === audio.sampleRate ? mono : resample(mono, audio.sampleRate, rate);
      onsets = onsetDetect(y, rate).times;
    }
    printResult(argv.json, { onsets, method: argv.method, sampleRate: rate, duration: mono.length / audio.sampleRate }, () =>
      [`${onsets.length} onsets (${argv.method}, ${rate} Hz):`, ...onsets.map((t) => t.toFixed(3))].join('\n'),
    );
  },
};

export const audioCommands: VmrCommand[] = [onsetsCommand];
