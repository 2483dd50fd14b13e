/**
 * The `vmr` command manifest: every top-level subcommand, its one-line description, and the package
 * that implements it (loaded only when that command runs, so `vmr --help` loads no package at all).
 *
 * Adding a command: export it from the package's `commands` (as before) AND add one line here.
 * Several packages may contribute subcommands to one parent (`report`): one line per package; their
 * descriptions are joined. tools/test/cli-manifest.spec.ts fails, naming the line to add, when this
 * list and the packages' `commands` disagree.
 */
import type { VmrCommand } from '@vmr/core';

export interface CommandEntry {
  /** The yargs `command` string exactly as the package declares it (`'fad <a> <b>'`); its first word is the name. */
  command: string;
  /** The command's `describe` (shown by `vmr --help` without loading the package). */
  describe: string;
  /**
   * Loads the package whose `commands` export contains the command: `() => require('@vmr/<pkg>')`.
   * (`require`, not `import()`: the compiled bundle evaluates it lazily all the same, and under tsx
   * (VMR_NO_BUILD=1) a dynamic `import()` would load a second copy of the packages as ES modules.)
   */
  load: () => { commands: VmrCommand[] };
}

export const manifest: CommandEntry[] = [
  { command: 'runs <command>', describe: 'look at the run store: list, show, compare runs', load: () => require('@vmr/tracking') },
  { command: 'smoke', describe: 'smoke job: open (create, migrate) the run store, log a short run into it, print where it lives', load: () => require('@vmr/tracking') },
  { command: 'tracking <command>', describe: 'tracking server: serve the run store over HTTP', load: () => require('@vmr/tracking') },
  { command: 'train', describe: 'train VM-Net or OF-VM-Net from a YAML config and log the run (params, loss terms, validation Recall@k, checkpoints)', load: () => require('@vmr/trainer') },
  { command: 'eval', describe: 'evaluate a trained run on a dataset (AV-ALIGN (GOT), AV-ALIGN, FAD, R@1/5/10, median rank); logged as a child run', load: () => require('@vmr/evaluator') },
  { command: 'report <command>', describe: 'reports from the run store: the paper\'s tables, run comparisons, an HTML page', load: () => require('@vmr/evaluator') },
  { command: 'experiment <command>', describe: 'run experiment files (sweeps of training configs plus evaluations, printed as Tables 1 and 2)', load: () => require('@vmr/sweeper') },
  { command: 'quickstart', describe: 'the main job (npm start): synthetic data, VM-Net and OF-VM-Net × ResNet/CLIP/I3D, in- and out-of-distribution evaluation, Tables 1 and 2', load: () => require('@vmr/sweeper') },
  { command: 'retrieve <videos..>', describe: 'find music for videos with a trained run: ingest (cached by content hash), embed, rank a gallery; previews and a page with --out', load: () => require('@vmr/evaluator') },
  { command: 'listen <command>', describe: "blind listening tests of two runs' picks (a small web app) and their report", load: () => require('@vmr/evaluator') },
  { command: 'sweep <command>', describe: 'hyper-parameter sweeps: local pool or BullMQ workers', load: () => require('@vmr/sweeper') },
  { command: 'report <command>', describe: 'sweep reports (ranking, Pareto front, by extractor)', load: () => require('@vmr/sweeper') },
  { command: 'segment <signal>', describe: 'change-point segmentation of a signal (exact DP or PELT, ruptures semantics)', load: () => require('@vmr/segmentation') },
  { command: 'fad <a> <b>', describe: 'Fréchet Audio Distance between two embedding sets [n, d] (.npy or .json rows)', load: () => require('@vmr/metrics') },
  { command: 'flow [video]', describe: 'Optical-flow trajectory of a video (Farnebäck, DESIGN.md §1.1), or dense flow of one image pair', load: () => require('@vmr/features') },
  { command: 'onsets <file>', describe: 'Onset times (s) of an audio file: librosa onset_detect defaults, or the vmr energy peaks', load: () => require('@vmr/features') },
  { command: 'models <action>', describe: 'Pretrained extractor models (clip, resnet, vggish, i3d): fetch into the cache, or list what is there', load: () => require('@vmr/features') },
  { command: 'synth', describe: 'Generate a SYNTHETIC feature-level dataset with known structure (kind: synthetic)', load: () => require('@vmr/data') },
  { command: 'synth-calibrate <datasets..>', describe: 'Measure the statistics the synthetic generator imitates (AV-Align of own pairs, onset rate, flow level/variation, segment lengths) on datasets, side by side', load: () => require('@vmr/data') },
  { command: 'synth-media', describe: 'Generate SYNTHETIC media files (moving shapes + synthesized music, ffmpeg-encoded) with known structure', load: () => require('@vmr/data') },
  { command: 'ingest <inputs..>', describe: 'Ingest media files (folders, files or .txt lists) into a dataset: flow, per-second features, peaks, segments', load: () => require('@vmr/data') },
  { command: 'segment-dataset <dataset>', describe: '(Re)compute a dataset\'s segments.csv from its flow trajectories (DESIGN.md §1.2)', load: () => require('@vmr/data') },
  { command: 'import <layout> <dir>', describe: 'Import precomputed features into a dataset (layout: vmr-layout, the reference code\'s folders)', load: () => require('@vmr/data') },
];

/** The top-level name of a yargs command module (`'runs <command>'` → `runs`). */
export function commandName(c: Pick<VmrCommand, 'command'>): string {
  return String(Array.isArray(c.command) ? c.command[0] : (c.command ?? '')).split(' ')[0];
}
