import type { Argv } from 'yargs';
import { InvalidArgumentError, createProgress, printResult, withJson, type VmrCommand } from '@vmr/core';
import { Dataset } from '../dataset/dataset';
import { CALIBRATION_SEGMENTATION, CALIBRATION_STATS, calibrateDataset, type CalibrationSummary } from './calibrate';
import { ffmpegBinaries } from '@vmr/features';
import { SEGMENT_PROTOCOLS, type SegmentProtocol } from '@vmr/segmentation';
import { SYNTH_PRESETS, type SynthOverrides, type SynthPresetName } from './config';
import { writeSyntheticDataset } from './write';
import { generateSyntheticMedia } from './media/generate-media';

interface SynthArgs {
  preset: SynthPresetName;
  clips: number;
  seed: string;
  out: string;
  views?: string;
  name?: string;
  resume: boolean;
  overwrite: boolean;
  'min-duration'?: number;
  'max-duration'?: number;
  'pair-noise'?: number;
  'style-strength'?: number;
  'noise-scale'?: number;
  'unsynced-share'?: number;
  'cross-match-share'?: number;
  coupling?: number;
  segments?: number;
  protocol?: SegmentProtocol;
  json: boolean;
  quiet: boolean;
}

function seedOf(s: string): number | string {
  return /^-?\d+$/.test(s) ? Number(s) : s;
}

const synthCommand: VmrCommand = {
  command: 'synth',
  describe: 'Generate a SYNTHETIC feature-level dataset with known structure (kind: synthetic)',
  builder: (y: Argv) =>
    withJson(y)
      .option('preset', { choices: SYNTH_PRESETS, default: 'himv-like' as SynthPresetName, describe: 'himv-like (training domain) or symmv-like (shifted domain, all test)' })
      .option('clips', { type: 'number', demandOption: true, describe: 'number of clips' })
      .option('seed', { type: 'string', default: '0', describe: 'dataset seed (clip i is the same for any --clips)' })
      .option('out', { type: 'string', demandOption: true, describe: 'output dataset directory' })
      .option('views', { type: 'string', describe: 'comma-separated video views to write (default resnet,clip,i3d)' })
      .option('name', { type: 'string', describe: 'dataset name (default synthetic-<preset>-seed<seed>)' })
      .option('resume', { type: 'boolean', default: false, describe: 'keep the clips already in --out' })
      .option('overwrite', { type: 'boolean', default: false, describe: 'replace the dataset in --out' })
      .option('min-duration', { type: 'number', describe: 'shortest clip (s); preset: 60 (himv-like), 120 (symmv-like)' })
      .option('max-duration', { type: 'number', describe: 'longest clip (s); preset: 400' })
      .option('pair-noise', { type: 'number', describe: 'std of the style noise on each side of a pair (retrieval difficulty)' })
      .option('style-strength', { type: 'number', describe: 'multiplier of the style weight in every view' })
      .option('noise-scale', { type: 'number', describe: 'multiplier of the feature noise in every view' })
      .option('unsynced-share', { type: 'number', describe: 'share of pairs whose music is NOT cut to the video (0 = clean ground truth); preset: 0.5 himv-like, 0.15 symmv-like' })
      .option('cross-match-share', { type: 'number', describe: 'of the unsynced pairs, the share whose music follows ANOTHER clip\'s motion; preset 0.6 / 0.5' })
      .option('coupling', { type: 'number', describe: 'coupling of music energy to the driving motion regimes, 0–1; preset 0.8 / 0.9' })
      .option('segments', { type: 'number', describe: 'S, segments per clip for segments.csv (default 10)' })
      .option('protocol', { choices: SEGMENT_PROTOCOLS, describe: 'segment drop rule (default paper)' })
      .example('$0 synth --clips 200 --seed 1 --out data/synth-himv', '200 HIMV-like clips, all views')
      .example('$0 synth --preset symmv-like --clips 100 --seed 2 --out data/synth-symmv', 'a shifted-domain test set')
      .example('$0 synth --clips 5000 --views clip --max-duration 200 --out data/synth-small --json', 'a lighter dataset')
      .example('$0 synth --clips 100 --unsynced-share 0 --out data/synth-clean', 'clean pairs: every track cut to its video'),
  handler: (raw: Record<string, unknown>) => {
    const a = raw as unknown as SynthArgs;
    if (!(Number.isInteger(a.clips) && a.clips >= 1)) throw new InvalidArgumentError(`--clips must be a positive integer, got ${a.clips}`);
    if (a.resume && a.overwrite) throw new InvalidArgumentError('--resume and --overwrite exclude each other');
    const overrides: SynthOverrides = {
      minDuration: a['min-duration'],
      maxDuration: a['max-duration'],
      pairNoise: a['pair-noise'],
      styleStrength: a['style-strength'],
      noiseScale: a['noise-scale'],
      unsyncedShare: a['unsynced-share'],
      crossMatchShare: a['cross-match-share'],
      coupling: a.coupling,
    };
    const views = a.views ? a.views.split(',').map((s) => s.trim()).filter((s) => s.length > 0) : undefined;
    const progress = createProgress({ label: `synth ${a.preset}`, total: a.clips, unit: 'clips', quiet: a.quiet || a.json });
    try {
      const summary = writeSyntheticDataset({
        out: a.out,
        preset: a.preset,
        clips: a.clips,
        seed: seedOf(a.seed),
        overrides,
        plan: { segments: a.segments, protocol: a.protocol },
        views,
        name: a.name,
        existing: a.resume ? 'resume' : a.overwrite ? 'overwrite' : 'error',
        onClip: () => progress.tick(),
      });
      progress.stop();
      printResult(a.json, { kind: 'synthetic', ...summary }, () =>
        [
          `SYNTHETIC dataset ${summary.name} (${summary.preset}, seed ${summary.seed}) → ${summary.dir}`,
          `  ${summary.clips} clips (${summary.written} written now), splits train ${summary.splits.train} / val ${summary.splits.val} / test ${summary.splits.test}`,
          `  views (synthetic stand-ins): ${summary.views.join(', ')}; audio: ${summary.audio}`,
          `  segments.csv: ${summary.clips - summary.segmentSkipped} planned, ${summary.segmentSkipped} skipped (too short for S segments)`,
          `  ${(summary.bytes / 1e6).toFixed(1)} MB in ${summary.seconds.toFixed(1)} s; ground truth in dataset.json meta.synthetic and synthetic-truth.jsonl`,
        ].join('\n'),
      );
    } finally {
      progress.stop();
    }
  },
};

interface SynthMediaArgs {
  clips: number;
  seed: string;
  out: string;
  preset: SynthPresetName;
  'min-duration': number;
  'max-duration': number;
  regimes: number;
  fps: number;
  overwrite: boolean;
  json: boolean;
  quiet: boolean;
}

const synthMediaCommand: VmrCommand = {
  command: 'synth-media',
  describe: 'Generate SYNTHETIC media files (moving shapes + synthesized music, ffmpeg-encoded) with known structure',
  builder: (y: Argv) =>
    withJson(y)
      .option('clips', { type: 'number', demandOption: true, describe: 'number of .mp4 files' })
      .option('seed', { type: 'string', default: '0', describe: 'seed' })
      .option('out', { type: 'string', demandOption: true, describe: 'output directory (media/<id>.mp4 + synthetic-media.json)' })
      .option('preset', { choices: SYNTH_PRESETS, default: 'himv-like' as SynthPresetName, describe: 'style / level / tempo settings' })
      .option('min-duration', { type: 'number', default: 8, describe: 'shortest clip (s)' })
      .option('max-duration', { type: 'number', default: 16, describe: 'longest clip (s)' })
      .option('regimes', { type: 'number', default: 3, describe: 'motion regimes per clip (≥ 2 s each)' })
      .option('fps', { type: 'number', default: 12, describe: 'video frame rate' })
      .option('overwrite', { type: 'boolean', default: false, describe: 'replace an existing synthetic-media.json in --out' })
      .example('$0 synth-media --clips 4 --out data/synth-media', 'four 8–16 s clips for `vmr ingest`')
      .example('$0 synth-media --clips 20 --seed 3 --min-duration 30 --max-duration 60 --regimes 5 --out media/', 'longer clips'),
  handler: async (raw: Record<string, unknown>) => {
    const a = raw as unknown as SynthMediaArgs;
    const { ffmpeg } = ffmpegBinaries();
    const progress = createProgress({ label: 'synth-media', total: a.clips, unit: 'clips', quiet: a.quiet || a.json });
    try {
      const m = await generateSyntheticMedia({
        out: a.out,
        clips: a.clips,
        seed: seedOf(a.seed),
        preset: a.preset,
        minDuration: a['min-duration'],
        maxDuration: a['max-duration'],
        regimes: a.regimes,
        video: { fps: a.fps },
        ffmpeg,
        overwrite: a.overwrite,
        onClip: () => progress.tick(),
      });
      progress.stop();
      printResult(a.json, { out: a.out, kind: m.kind, clips: m.clips.map((c) => ({ id: c.id, file: c.file, duration: c.duration })) }, () =>
        [
          `SYNTHETIC media: ${m.clips.length} clips in ${a.out}/media (ground truth: ${a.out}/synthetic-media.json)`,
          ...m.clips.map((c) => `  ${c.file}  ${c.duration} s  regimes ${c.regimes.length}  onsets ${c.onsets.length}`),
        ].join('\n'),
      );
    } finally {
      progress.stop();
    }
  },
};

const STAT_LABELS: Record<(typeof CALIBRATION_STATS)[number], string> = {
  gotAlign: 'AV-Align own pair (GOT, yariv)',
  otherAlign: 'AV-Align with other clips\' music',
  onsetRate: 'onsets / s',
  videoPeakRate: 'video peaks / s',
  flowMean: 'flow level (mean px/frame pair)',
  flowCv: 'flow variation (CV of per-second flow)',
  flowLag1: 'flow smoothness (lag-1 autocorrelation)',
  segmentSeconds: 'segment length (s, PELT)',
};

function formatCalibration(rs: CalibrationSummary[]): string {
  const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '—');
  const head = `| statistic | ${rs.map((r) => `${r.dataset} (${r.kind}, ${r.clips} clips, ${Math.round(r.seconds)} s)`).join(' | ')} |`;
  const sep = `|---|${rs.map(() => '---').join('|')}|`;
  const rows = CALIBRATION_STATS.map((k) => `| ${STAT_LABELS[k]} | ${rs.map((r) => `${fmt(r.stats[k].mean)} [${fmt(r.stats[k].min)}, ${fmt(r.stats[k].max)}]`).join(' | ')} |`);
  return [head, sep, ...rows, '', `mean [min, max] over clips; segment lengths: PELT (${CALIBRATION_SEGMENTATION.cost} cost) on the flow, penalty ${CALIBRATION_SEGMENTATION.penalty}, segments ≥ ${CALIBRATION_SEGMENTATION.minSeconds} s`].join('\n');
}

const synthCalibrateCommand: VmrCommand = {
  command: 'synth-calibrate <datasets..>',
  describe: 'Measure the statistics the synthetic generator imitates (AV-Align of own pairs, onset rate, flow level/variation, segment lengths) on datasets, side by side',
  builder: (y: Argv) =>
    withJson(y)
      .positional('datasets', { type: 'string', array: true, describe: 'dataset directories (ingested real clips, synthetic datasets)' })
      .option('max-clips', { type: 'number', describe: 'only the first N clips of each dataset' })
      .example('$0 ingest ../shared/media/music-videos --out data/real && $0 synth-calibrate data/real', 'measure real music videos')
      .example('$0 synth-calibrate data/real vmr-data/quickstart/himv-like vmr-data/quickstart/symmv-like --json', 'real vs synthetic presets'),
  handler: (raw: Record<string, unknown>) => {
    const dirs = (raw.datasets as string[]) ?? [];
    if (dirs.length === 0) throw new InvalidArgumentError('give at least one dataset directory');
    const max = raw['max-clips'] as number | undefined;
    if (max !== undefined && !(Number.isInteger(max) && max >= 1)) throw new InvalidArgumentError(`--max-clips must be a positive integer, got ${max}`);
    const rs = dirs.map((d) => calibrateDataset(Dataset.open(d), { maxClips: max }));
    printResult(raw.json as boolean, rs, () => formatCalibration(rs));
  },
};

export const synthCommands: VmrCommand[] = [synthCommand, synthMediaCommand, synthCalibrateCommand];
