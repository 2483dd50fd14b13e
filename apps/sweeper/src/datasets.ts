/**
 * The datasets a sweep needs: those named in `datasets:` with a `synth` recipe are generated when their
 * directory has no dataset.json (before the first trial, in the coordinator — never by a trial).
 */
import * as fs from 'fs';
import * as path from 'path';
import { createProgress } from '@vmr/core';
import { MANIFEST_FILE, synthRecipeOptions, writeSyntheticDataset } from '@vmr/data';
import type { SweepSpec, SynthRecipe } from './spec';

/** True when `dir` holds a dataset (its dataset.json exists). */
export function datasetExists(dir: string): boolean {
  return fs.existsSync(path.join(dir, MANIFEST_FILE));
}

/** The spec's synthetic recipe for a dataset directory (absolute), if any. */
export function recipeFor(spec: SweepSpec, dir: string): SynthRecipe | undefined {
  return spec.datasets.find((d) => path.resolve(d.path) === path.resolve(dir))?.synth;
}

/** Generate every missing dataset that has a synthetic recipe; returns the directories made. */
export function generateMissingDatasets(spec: SweepSpec, log: (line: string) => void, quiet: boolean): string[] {
  const made: string[] = [];
  for (const d of spec.datasets) {
    if (!d.synth || datasetExists(d.path)) continue;
    const s = d.synth;
    log(`generating SYNTHETIC ${s.preset} dataset (${s.clips} clips) in ${path.relative(process.cwd(), d.path) || d.path}`);
    const bar = createProgress({ label: `synth ${s.preset}`, total: s.clips, unit: 'clips', quiet });
    try {
      writeSyntheticDataset({
        ...synthRecipeOptions(s),
        out: d.path,
        existing: fs.existsSync(d.path) ? 'resume' : 'error',
        onClip: (done) => bar.update(done),
      });
    } finally {
      bar.stop();
    }
    made.push(d.path);
  }
  return made;
}
