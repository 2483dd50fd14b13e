/** Audio analysis (DESIGN.md §1.6, §2): WAV reading, resampling, STFT, Slaney mel, onsets, energy peaks. */
export { type PcmAudio, parseWav, readWav, toMono, encodeWav16 } from './wav';
export { type ResampleOptions, resample } from './resample';
export { type Spectrogram, type StftOptions, hannWindow, powerSpectrogram } from './stft';
export {
  type MelOptions,
  type MelFilterbank,
  type PowerToDbOptions,
  hzToMel,
  melToHz,
  melFrequencies,
  melFilterbank,
  applyFilterbank,
  powerToDb,
} from './mel';
export {
  type OnsetStrengthOptions,
  type PeakPickOptions,
  type OnsetDetectOptions,
  type OnsetDetection,
  LIBROSA_SR,
  onsetStrength,
  librosaPeakPickDefaults,
  peakPick,
  onsetDetect,
} from './onset';
export { type EnergyPeakOptions, shortTimeEnergy, energyPeakTimes } from './energy-peaks';
export { audioCommands, loadAudio } from './commands';
