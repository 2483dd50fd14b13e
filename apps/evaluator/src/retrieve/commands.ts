import type { Argv } from 'yargs';
import { printResult, type VmrCommand } from '@vmr/core';
import { withStore } from '@vmr/tracking';
import { SPLIT_CHOICES, type SplitChoice } from '@vmr/pipeline';
import { parseModelArgs } from '@vmr/features';
import { retrieve, type RetrieveResult } from './retrieve';

const f3 = (x: number | null) => (x === null ? '—' : x.toFixed(3));

export function formatRetrieveResult(r: RetrieveResult): string {
  const g = r.gallery;
  const lines = [
    `run ${r.runId.slice(0, 8)} (${r.model}, ${r.features}/${r.audioFeatures}) · gallery ${g.name}${g.synthetic ? ' (SYNTHETIC)' : ''}${g.split ? ` split ${g.split}` : ''}: ${g.size} tracks, ${g.segmentation}${g.skipped.length ? `, ${g.skipped.length} skipped` : ''}`,
  ];
  for (const x of g.skipped.slice(0, 5)) lines.push(`  skipped ${x.id}: ${x.reason}`);
  if (g.skipped.length > 5) lines.push(`  … and ${g.skipped.length - 5} more skipped (--json lists all)`);
  for (const q of r.queries) {
    lines.push('', `${q.video} (${q.durationSec.toFixed(1)} s${q.cached ? ', cached' : ''}${q.seenInTraining ? ', SEEN IN TRAINING' : ''}) — own track ${q.ownTrackRank === null ? 'not in the gallery' : `at rank ${q.ownTrackRank}`}`);
    lines.push('  rank  similarity  AV-Align  track');
    for (const c of q.top) lines.push(`  ${String(c.rank).padStart(4)}  ${c.similarity.toFixed(4).padStart(10)}  ${f3(c.avAlign).padStart(8)}  ${c.id}${c.ownTrack ? '  (own track)' : ''}${c.seenInTraining ? '  (seen in training)' : ''}`);
  }
  if (r.out) lines.push('', `page: ${r.out.page}`);
  lines.push(`(${r.timing.totalSeconds.toFixed(1)} s: ingest ${r.timing.ingestSeconds.toFixed(1)} s, embed ${r.timing.embedSeconds.toFixed(1)} s${r.out ? `, previews ${r.timing.previewSeconds.toFixed(1)} s` : ''}; cache ${r.cacheDir})`);
  return lines.join('\n');
}

export const retrieveCommand: VmrCommand = {
  command: 'retrieve <videos..>',
  describe: 'find music for videos with a trained run: ingest (cached by content hash), embed, rank a gallery; previews and a page with --out',
  builder: (y: Argv) =>
    withStore(y)
      .positional('videos', { type: 'string', array: true, describe: 'query video file(s)' })
      .option('run', { type: 'string', demandOption: true, describe: 'training run id (or unique prefix) whose final checkpoint embeds' })
      .option('gallery', { type: 'string', array: true, demandOption: true, describe: 'a dataset directory, or music/media files and directories of them' })
      .option('k', { alias: 'top', type: 'number', default: 10, describe: 'candidates per video' })
      .option('split', { type: 'string', choices: SPLIT_CHOICES as unknown as string[], describe: 'split of a dataset gallery (default all)' })
      .option('out', { type: 'string', describe: 'write previews (video muxed with each candidate) and index.html here' })
      .option('cache', { type: 'string', describe: 'cache of ingested media (default $VMR_CACHE_DIR, else $XDG_CACHE_HOME/vmr, else ~/.cache/vmr)' })
      .option('model', { type: 'string', array: true, describe: 'model file of a model-file extractor the run uses: name=path' })
      .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON' })
      .example('$0 retrieve clip.mp4 --run 3f2a --gallery data/my-media', 'top 10 tracks of an ingested dataset for clip.mp4')
      .example('$0 retrieve clip.mp4 --run 3f2a --gallery music/*.mp3 -k 5 --out out/clip', 'rank music files; previews and out/clip/index.html'),
  handler: async (a: Record<string, unknown>) => {
    const r = await retrieve({
      run: String(a.run),
      videos: (a.videos as string[]).map(String),
      gallery: (a.gallery as string[]).map(String),
      k: a.k as number,
      split: a.split as SplitChoice | undefined,
      out: a.out as string | undefined,
      cacheDir: a.cache as string | undefined,
      modelPaths: parseModelArgs(a.model as string[] | undefined) ?? {},
      store: a.store as string | undefined,
      trackingUri: a['tracking-uri'] as string | undefined,
      progress: !a.json,
    });
    printResult(a.json as boolean, r, () => formatRetrieveResult(r));
  },
};
