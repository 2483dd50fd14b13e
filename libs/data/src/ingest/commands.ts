import { type VmrCommand, InvalidArgumentError, printResult, withJson } from '@vmr/core';
import { NPM_FFMPEG_FALLBACK_NOTE, parseModelArgs } from '@vmr/features';
import { DatasetWriter, Dataset } from '../dataset/dataset';
import { parseSplitFractions } from '../dataset/splits';
import { ingestMedia, segmentDataset } from './ingest';

function list(v: unknown): string[] | undefined {
  if (v === undefined) return undefined;
  return String(v)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function segmentOptions(a: Record<string, unknown>): { segments?: number; minSegmentSeconds?: number; jumpSeconds?: number; protocol?: 'paper' | 'vmr-code' } {
  const o = {
    segments: a.segments as number | undefined,
    minSegmentSeconds: a['min-segment-seconds'] as number | undefined,
    jumpSeconds: a['jump-seconds'] as number | undefined,
    protocol: a.protocol as 'paper' | 'vmr-code' | undefined,
  };
  // Checked here so that errors name the flags (the planner's own checks name its options).
  if (o.segments !== undefined && !(Number.isInteger(o.segments) && o.segments >= 1)) throw new InvalidArgumentError(`--segments must be a positive integer, got ${o.segments}`);
  if (o.minSegmentSeconds !== undefined && !(o.minSegmentSeconds > 0)) throw new InvalidArgumentError(`--min-segment-seconds must be > 0, got ${o.minSegmentSeconds}`);
  if (o.jumpSeconds !== undefined && !(o.jumpSeconds > 0)) throw new InvalidArgumentError(`--jump-seconds must be > 0, got ${o.jumpSeconds}`);
  return o;
}

export const ingestCommand: VmrCommand = {
  command: 'ingest <inputs..>',
  describe: 'Ingest media files (folders, files or .txt lists) into a dataset: flow, per-second features, peaks, segments',
  builder: (y) =>
    withJson(y)
      .positional('inputs', { type: 'string', array: true, describe: 'media folders, files, or .txt lists of paths' })
      .option('out', { type: 'string', demandOption: true, describe: 'dataset directory (resumed when it exists)' })
      .option('video-features', { type: 'string', default: 'builtin-video', describe: 'comma-separated video extractors' })
      .option('audio-features', { type: 'string', default: 'builtin-audio', describe: 'comma-separated audio extractors' })
      .option('model', { type: 'string', array: true, describe: 'model of a pretrained extractor: name=SOURCE (Hugging Face repo org/name[@rev], URL, or local folder/file); clip and resnet have defaults' })
      .option('offline', { type: 'boolean', describe: 'never download models: use the cache or local --model paths (also VMR_OFFLINE=1)' })
      .option('model-cache', { type: 'string', describe: 'model cache directory (default $VMR_MODEL_CACHE or ~/.cache/vmr/models)' })
      .option('workers', { type: 'number', default: 2, describe: 'worker threads (0 = in-process)' })
      .option('max-seconds', { type: 'number', describe: 'only the first S seconds of each file' })
      .option('min-seconds', { type: 'number', default: 1, describe: 'skip clips shorter than this' })
      .option('allow-silent', { type: 'boolean', default: false, describe: 'keep videos without (audible) audio' })
      .option('segments', { type: 'number', describe: 'S segments per clip for segments.csv (default 10)' })
      .option('min-segment-seconds', { type: 'number', describe: 'minimum segment length (default 10 s)' })
      .option('jump-seconds', { type: 'number', describe: 'breakpoint grid (default 1 s)' })
      .option('protocol', { choices: ['paper', 'vmr-code'], describe: 'long-segment rule (DESIGN §1.2)' })
      .option('split', { type: 'string', default: '0.8,0.1,0.1', describe: 'train,val,test fractions over the video clips' })
      .option('seed', { type: 'number', default: 0, describe: 'split seed' })
      .option('overwrite', { type: 'boolean', default: false, describe: 'start a new dataset instead of resuming' })
      .option('resize', {
        choices: ['opencv', 'ffmpeg'],
        default: 'opencv',
        describe: 'who shrinks frames to 320x240: opencv = full frames to cv.resize (OpenCV-Python parity); ffmpeg = inside the decoder (a little faster; on the parity fixtures flow differs by 0.5 % median, 11 % at worst)',
      })
      .example('$0 ingest ./videos ./music --out data/mine', 'ingest two folders')
      .example('$0 ingest ./videos --out data/c --video-features clip', 'CLIP ViT-B/32 features (model downloaded once, then cached)')
      .example('$0 ingest ./videos --out data/v --audio-features vggish --model vggish=models/vggish.onnx --offline', 'VGGish from a local ONNX file, no network')
      .example('$0 ingest list.txt --out data/mine --workers 2 --max-seconds 120 --json', 'from a list, first 2 minutes of each')
      .epilog(
        'Folders: every file whose extension is a container or stream ffmpeg reads is ingested; files with other ' +
          'extensions are shown to ffprobe; everything left out is listed with its reason. Time is presentation time ' +
          '(variable-frame-rate video is sampled by timestamps; audio is aligned to the first video frame).\n\n' +
          'Decoder: ffmpeg/ffprobe from VMR_FFMPEG / VMR_FFPROBE, else from PATH (recommended: a current ffmpeg, e.g. ' +
          'apt-get install ffmpeg), else the npm fallback. dataset.json records the path, source and version used. ' +
          NPM_FFMPEG_FALLBACK_NOTE +
          '\n\nOptical flow: the native Farnebäck of the features addon (built at npm install with a C++ compiler; bit-identical to ' +
          'OpenCV.js, about 3x faster), else OpenCV.js; VMR_NATIVE_FLOW=0 forces OpenCV.js. The summary and dataset.json ' +
          '(provenance.ingest.flowEngine) say which ran.',
      ),
  handler: async (a: Record<string, unknown>) => {
    const s = await ingestMedia({
      inputs: a.inputs as string[],
      out: a.out as string,
      videoFeatures: list(a['video-features']),
      audioFeatures: list(a['audio-features']),
      modelPaths: parseModelArgs(a.model as string[] | undefined),
      offline: a.offline as boolean | undefined,
      modelCache: a['model-cache'] as string | undefined,
      workers: a.workers as number,
      maxSeconds: a['max-seconds'] as number | undefined,
      minSeconds: a['min-seconds'] as number,
      allowSilent: a['allow-silent'] as boolean,
      segments: segmentOptions(a),
      split: parseSplitFractions(String(a.split)),
      seed: a.seed as number,
      overwrite: a.overwrite as boolean,
      resize: a.resize as 'opencv' | 'ffmpeg',
      quiet: Boolean(a.quiet) || Boolean(a.json),
    });
    printResult(a.json as boolean, s, () => {
      const lines = [
        `${s.out}: ${s.ingested} ingested, ${s.resumed} already done, ${s.failed.length} failed/skipped (of ${s.total} media files; ${s.leftOut.length} other files left out)`,
        `  ${s.videoClips} video clips, ${s.musicTracks} music tracks; ${s.seconds.toFixed(1)} s of video in ${s.wallSeconds.toFixed(1)} s`,
        `  segments.csv: ${s.segmented} clips segmented, ${s.segmentSkipped.length} skipped`,
      ];
      lines.push(`  decoder: ${s.decoder.ffmpeg.version} [${s.decoder.ffmpeg.source}]; ffprobe ${s.decoder.ffprobe.version.replace(/^ffprobe version /, '')} [${s.decoder.ffprobe.source}]`);
      if (s.decoder.note) lines.push(`  NOTE ${s.decoder.note}`);
      lines.push(`  optical flow: ${s.flowEngine.engine}${s.flowEngine.reason ? ` (${s.flowEngine.reason})` : ''}`);
      for (const f of s.failed) lines.push(`  ${f.status.toUpperCase()} [${f.reason}] ${f.message}`);
      if (s.leftOut.length) lines.push(`  ${s.leftOut.length} file(s) in the folders left out:`);
      for (const l of s.leftOut) lines.push(`    LEFT OUT ${l.path}: ${l.reason}`);
      if (s.segmentAdvice) lines.push(`  segments: ${s.segmentAdvice.message}`);
      for (const k of s.segmentSkipped) if (!(s.segmentAdvice && k.reason.startsWith('too-short'))) lines.push(`  segments: ${k.id} skipped (${k.reason})`);
      return lines.join('\n');
    });
  },
};

export const segmentDatasetCommand: VmrCommand = {
  command: 'segment-dataset <dataset>',
  describe: "(Re)compute a dataset's segments.csv from its flow trajectories (DESIGN.md §1.2)",
  builder: (y) =>
    withJson(y)
      .positional('dataset', { type: 'string', describe: 'dataset directory' })
      .option('segments', { type: 'number', describe: 'S segments per clip (default 10)' })
      .option('min-segment-seconds', { type: 'number', describe: 'minimum segment length (default 10 s)' })
      .option('jump-seconds', { type: 'number', describe: 'breakpoint grid (default 1 s)' })
      .option('protocol', { choices: ['paper', 'vmr-code'], describe: 'long-segment rule' })
      .example('$0 segment-dataset data/mine --segments 10', 'paper defaults')
      .example('$0 segment-dataset data/mine --segments 3 --min-segment-seconds 5', 'short clips: fewer, shorter segments (no re-ingest)'),
  handler: async (a: Record<string, unknown>) => {
    const dir = a.dataset as string;
    const m = Dataset.open(dir).manifest;
    if (m.clips.length === 0) throw new InvalidArgumentError(`${dir}: the dataset has no clips`);
    const w = DatasetWriter.create(dir, { name: m.name, kind: m.kind, flowFps: m.flowFps, existing: 'resume' });
    const r = segmentDataset(w, segmentOptions(a));
    w.save();
    printResult(a.json as boolean, r, () =>
      [`${dir}: ${r.rows} clips segmented, ${r.skipped.length} skipped`, ...(r.advice ? [`  ${r.advice.message}`] : []), ...r.skipped.filter((k) => !(r.advice && k.reason.startsWith('too-short'))).map((k) => `  ${k.id}: ${k.reason}`)].join('\n'),
    );
  },
};
