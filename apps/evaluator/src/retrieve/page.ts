import * as fs from 'fs';
import * as path from 'path';
import { createProgress, errorMessage, writeFileAtomic } from '@vmr/core';
import { muxPreview } from './previews';
import type { RetrieveResult } from './retrieve';

/** Escape text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);
}

const f3 = (x: number | null) => (x === null ? '—' : x.toFixed(3));

/**
 * Write `--out DIR`: `previews/q<N>-<rank>-<track>.mp4` (the query video muxed with each candidate),
 * `previews/q<N>-original.mp4` (the video with its own audio), `index.html` (self-contained: inline CSS,
 * relative links to the previews, no scripts) and `results.json`. Fills each candidate's `preview`.
 */
export async function writeRetrievePage(r: RetrieveResult, outDir: string, o: { quiet?: boolean } = {}): Promise<{ dir: string; page: string; results: string }> {
  const prevDir = path.join(outDir, 'previews');
  fs.mkdirSync(prevDir, { recursive: true });
  const total = r.queries.reduce((s, q) => s + q.top.length + 1, 0);
  const bar = createProgress({ label: 'retrieve: previews', total, unit: 'previews', quiet: o.quiet });
  try {
    for (let qi = 0; qi < r.queries.length; qi++) {
      const q = r.queries[qi];
      const orig = `previews/q${qi + 1}-original.mp4`;
      await muxPreview({ video: q.video, out: path.join(outDir, orig) });
      q.original = orig;
      bar.tick(1);
      for (const c of q.top) {
        if (!c.source || !fs.existsSync(c.source)) {
          c.previewMissing = c.source ? `track media ${c.source} not found` : 'the gallery has no media file for this track (feature-only dataset)';
        } else {
          const rel = `previews/q${qi + 1}-${String(c.rank).padStart(2, '0')}-${safeName(c.id)}.mp4`;
          try {
            await muxPreview({ video: q.video, track: c.source, out: path.join(outDir, rel) });
            c.preview = rel;
          } catch (e) {
            c.previewMissing = errorMessage(e);
          }
        }
        bar.tick(1);
      }
    }
  } finally {
    bar.stop();
  }
  const page = path.join(outDir, 'index.html');
  writeFileAtomic(page, retrievePageHtml(r));
  return { dir: outDir, page, results: path.join(outDir, 'results.json') };
}

/** The page: one section per query video, its candidates as a table with a preview player each. */
export function retrievePageHtml(r: RetrieveResult): string {
  const g = r.gallery;
  const sections = r.queries.map((q, qi) => {
    const rows = q.top
      .map(
        (c) => `<tr class="cand${c.ownTrack ? ' own' : ''}" data-rank="${c.rank}" data-id="${escapeHtml(c.id)}">
<td class="num">${c.rank}</td><td>${escapeHtml(c.id)}${c.ownTrack ? ' <b title="the video\'s own track">(own track)</b>' : ''}${c.seenInTraining ? ' <i title="this clip was in the run\'s training split">(seen in training)</i>' : ''}</td>
<td class="num">${c.similarity.toFixed(4)}</td><td class="num">${f3(c.avAlign)}</td>
<td>${c.preview ? `<video controls preload="metadata" width="320" src="${escapeHtml(c.preview)}"></video>` : `<span class="missing">no preview: ${escapeHtml(c.previewMissing ?? 'not written')}</span>`}</td></tr>`,
      )
      .join('\n');
    return `<section class="query" id="q${qi + 1}">
<h2>${escapeHtml(path.basename(q.video))}</h2>
<p class="meta">${q.durationSec.toFixed(2)} s · sha256 ${q.sha256.slice(0, 12)}… · ${q.cached ? 'ingest from cache' : 'ingested now'}${r.model === 'of-vm-net' ? ` · segments ${q.segments.map(([s, e]) => `${s}–${e}`).join(', ')} s` : ''} · own track ${q.ownTrackRank === null ? 'not in the gallery' : `at rank ${q.ownTrackRank}`}${q.seenInTraining ? ' · <b>this video was in the run\'s training split</b>' : ''}</p>
${q.original ? `<p>Original: <video controls preload="metadata" width="320" src="${escapeHtml(q.original)}"></video></p>` : ''}
<table><thead><tr><th>rank</th><th>track</th><th>similarity</th><th>AV-Align</th><th>preview (video + this track from its start)</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</section>`;
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>vmr retrieve — run ${escapeHtml(r.runId.slice(0, 8))}</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}
td,th{border:1px solid #ccc;padding:.3rem .5rem;vertical-align:middle;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.own{background:#eef7ee}
.meta{color:#555;font-size:.9rem}
.missing{color:#a33;font-size:.85rem}
</style></head><body>
<h1>Music for your video — top ${r.k}</h1>
<p class="meta">run ${escapeHtml(r.runId)} · ${escapeHtml(r.model)} on ${escapeHtml(r.features)} / ${escapeHtml(r.audioFeatures)} features ·
gallery ${escapeHtml(g.name)}${g.synthetic ? ' (SYNTHETIC)' : ''}${g.split ? `, split ${escapeHtml(g.split)}` : ''}: ${g.size} tracks (${escapeHtml(g.segmentation)})${g.skipped.length ? `, ${g.skipped.length} skipped` : ''} ·
similarity = dot product of the L2-normalised embeddings · AV-Align ${r.avAlignVariant} (video flow peaks vs the track's onsets over the video's duration)</p>
${g.skipped.length ? `<details class="meta"><summary>${g.skipped.length} gallery track(s) skipped</summary><ul>${g.skipped.map((x) => `<li>${escapeHtml(x.id)}: ${escapeHtml(x.reason)}</li>`).join('')}</ul></details>` : ''}
${sections.join('\n')}
</body></html>
`;
}
