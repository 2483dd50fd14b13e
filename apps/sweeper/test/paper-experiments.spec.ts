import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Rng, repoRoot, writeNpy } from '@vmr/core';
import { Dataset, importVmrLayout } from '@vmr/data';
import { checkFeatureDims, parseTrainConfig, prepareData } from '@vmr/pipeline';
import { expandTrials, loadSweepSpec, validateSweep } from '../src';

/**
 * experiments/table1.yaml and table2.yaml must stay runnable, unchanged, on the reference code's
 * feature layout imported with `vmr import vmr-layout` into data/himv and data/symmv: every trial
 * validates, every view has the dims the configs expect, and the paper's S = 10 segmentation yields
 * usable clips. (Training them is the paper's 100 epochs — not a test.)
 */
describe('paper experiment files on an imported vmr-layout', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-paper-'));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  /** A reference layout: `n` clips of 130 s, 10 flow regimes each, all four feature folders. */
  function layout(name: string, n: number, seed: number): string {
    const dir = path.join(root, `layout-${name}`);
    const rng = new Rng(seed);
    const ids = Array.from({ length: n }, (_, i) => `${name}${i}`);
    const T = 130;
    const fill = (rows: number, cols: number) => Float32Array.from({ length: rows * cols }, () => rng.normal());
    const ranks: string[] = [];
    for (const id of ids) {
      writeNpy(path.join(dir, 'resnet/resnet101', `${id}.npy`), fill(T, 2048), [T, 2048]);
      writeNpy(path.join(dir, 'clip/ViT-B_32', `${id}.npy`), fill(T, 512), [T, 512]);
      writeNpy(path.join(dir, 'i3d', `${id}.npy`), fill(T, 2048), [T, 2048]);
      writeNpy(path.join(dir, 'vggish', `${id}.npy`), Float64Array.from(fill(T, 128)), [T, 128]);
      // 10 regimes of 13 s at 3 fps, alternating levels.
      const flow = Float32Array.from({ length: 3 * T }, (_, j) => (Math.floor(j / 39) % 2 ? 4 : 1) * (1 + 0.05 * rng.normal()));
      writeNpy(path.join(dir, 'flow', `${id}.npy`), flow, [3 * T]);
      const segs = Array.from({ length: 10 }, (_, k) => `(${39 * k}, ${39 * (k + 1)})`).join(', ');
      ranks.push(`${ranks.length},${id},"[${[6, 1, 7, 2, 8, 3, 9, 4, 10, 5].join(' ')}]","[${segs}]",39,78,0,39`);
    }
    fs.writeFileSync(path.join(dir, 'flow/ranks.csv'), ',vid,ranks,segments,top_start,top_end,bottom_start,bottom_end\n' + ranks.join('\n') + '\n');
    fs.writeFileSync(path.join(dir, 'train_resnet.csv'), 'vid\n' + ids.slice(0, n - 2).join('\n') + '\n');
    fs.writeFileSync(path.join(dir, 'test_resnet.csv'), 'vid\n' + ids.slice(n - 2).join('\n') + '\n');
    return dir;
  }

  it('table1.yaml and table2.yaml validate and prepare every trial\'s data', () => {
    importVmrLayout({ dir: layout('himv', 5, 1), out: path.join(root, 'data/himv') });
    importVmrLayout({ dir: layout('symmv', 3, 2), out: path.join(root, 'data/symmv') });
    const cwd = process.cwd();
    process.chdir(root); // the files name data/himv and data/symmv relative to where they are run
    try {
      for (const file of ['table1.yaml', 'table2.yaml']) {
        const spec = loadSweepSpec(path.join(repoRoot(), 'experiments', file));
        const { trials } = expandTrials(spec, 'test-v1');
        expect(trials).toHaveLength(18); // 2 models × 3 views × 3 seeds
        // the engine's whole check (configs, datasets and their dims, metric names) finds nothing
        expect(validateSweep(spec, trials, file.replace('.yaml', ''))).toEqual([]);
        for (const e of spec.evaluate) expect(fs.existsSync(path.join(path.resolve(e.dataset), 'dataset.json'))).toBe(true);
        const seen = new Set<string>();
        for (const t of trials) {
          const config = parseTrainConfig(t.config);
          const key = `${config.model}/${config.features}`;
          if (seen.has(key)) continue;
          seen.add(key);
          const ds = Dataset.open(config.dataset);
          expect(checkFeatureDims(ds, config, {}, key)).toEqual({ videoDim: config.features === 'clip' ? 512 : 2048, audioDim: 128 });
          const train = prepareData(ds, config.trainSplit, config);
          expect({ key, clips: train.clips.length, skipped: train.skipped }).toEqual({ key, clips: 3, skipped: [] });
          expect(train.clips[0].segments).toHaveLength(10);
          if (seen.size > 1) continue;
          for (const e of spec.evaluate) {
            const ev = prepareData(Dataset.open(path.resolve(e.dataset)), (e.split ?? 'all') as typeof config.trainSplit, config);
            expect(ev.clips.length).toBeGreaterThanOrEqual(2);
          }
        }
        expect(seen.size).toBe(6);
      }
    } finally {
      process.chdir(cwd);
    }
  });
});
