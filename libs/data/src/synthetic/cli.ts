import type { Argv } from 'yargs';
import { InvalidArgumentError, createProgress, printResult, withJson, type VmrCommand } from '@vmr/core';
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
      .option('segments', { type: 'number', describe: 'S, segments per clip for segments.csv (default 10)' })
      .option('protocol', { choices: SEGMENT_PROTOCOLS, describe: 'segment drop rule (default paper)' })
      .example('$0 synth --clips 200 --seed 1 --out data/synth-himv', '200 HIMV-like clips, all views')
      .example('$0 synth --preset symmv-like --clips 100 --seed 2 --out data/synth-symmv', 'a shifted-domain test set')
      .example('$0 synth --clips 5000 --views clip --max-duration 200 --out data/synth-small --json', 'a lighter dataset'),
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

export const synthCommands: VmrCommand[] = [synthCommand, synthMediaCommand];
