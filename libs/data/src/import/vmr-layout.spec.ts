import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConflictError, NotFoundError, writeNpy } from '@vmr/core';
import { Dataset } from '../dataset/dataset';
import { importVmrLayout, parseRanksCsv, readIdListCsv } from './vmr-layout';

function fill(rows: number, cols: number, seed: number, Arr: Float32ArrayConstructor | Float64ArrayConstructor = Float32Array) {
  const d = new Arr(rows * cols);
  for (let i = 0; i < d.length; i++) d[i] = seed + i / 1000;
  return d;
}

/** Build a small reference-layout directory: 3 clips, one missing its VGGish file. */
function buildLayout(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-layout-'));
  const ids = ['-abc_1', 'vid2', 'vid3'];
  ids.forEach((id, k) => {
    writeNpy(path.join(dir, 'resnet/resnet101', `${id}.npy`), fill(40 + k, 2048, k), [40 + k, 2048]);
    writeNpy(path.join(dir, 'clip/ViT-B_32', `${id}.npy`), fill(40 + k, 512, k), [40 + k, 512]);
    if (id !== 'vid3') writeNpy(path.join(dir, 'vggish', `${id}.npy`), fill(39 + k, 128, 10 + k, Float64Array), [39 + k, 128]);
    writeNpy(path.join(dir, 'flow', `${id}.npy`), fill(120 + 3 * k, 1, 0.5));
  });
  // pandas to_csv with an index column; numpy-repr ranks wrapped over two lines; python-list segments in samples
  fs.writeFileSync(
    path.join(dir, 'flow/ranks.csv'),
    ',vid,ranks,segments,top_start,top_end,bottom_start,bottom_end\n' +
      '0,-abc_1,"[2 1\n 3]","[(0, 30), (30, 75), (75, 120)]",30,75,75,120\n' +
      '1,vid2,[1 2],"[60, 123]",0,60,60,123\n',
  );
  fs.writeFileSync(path.join(dir, 'train_resnet.csv'), 'vid\n-abc_1\nvid3\n');
  fs.writeFileSync(path.join(dir, 'test_resnet.csv'), ',vid\n0,vid2.mp4\n');
  return dir;
}

describe('vmr import vmr-layout', () => {
  it('round-trips a reference layout into the dataset format', () => {
    const dir = buildLayout();
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-imp-')), 'ds');
    const s = importVmrLayout({ dir, out });
    expect(s.clips).toBe(2);
    expect(s.extractors).toEqual([
      { name: 'resnet', modality: 'video', dim: 2048 },
      { name: 'clip', modality: 'video', dim: 512 },
      { name: 'vggish', modality: 'audio', dim: 128 },
    ]);
    expect(s.failed.map((f) => [f.id, f.message])).toEqual([['vid3', 'missing vggish/vid3.npy']]);
    const ds = Dataset.open(out);
    expect(ds.manifest.kind).toBe('imported');
    // T = min rows: resnet 40 / vggish 39 → 39 rows each
    const a = ds.clip('-abc_1');
    expect(a.seconds).toBe(39);
    const r = ds.videoFeatures('resnet', '-abc_1');
    expect(r.rows).toBe(39);
    expect(r.data[5]).toBeCloseTo(0.005, 6);
    const v = ds.audioFeatures('vggish', 'vid2'); // float64 source → float32
    expect([v.rows, v.cols]).toEqual([40, 128]);
    expect(v.data[0]).toBeCloseTo(11, 6);
    expect(ds.flow('vid2').length).toBe(123);
    // ranks.csv: segments given in flow samples (3 fps) → seconds
    const seg = ds.segments()!;
    expect(seg).toHaveLength(2);
    expect(seg[0]).toMatchObject({ vid: '-abc_1', ranks: [2, 1, 3], segments: [[0, 10], [10, 25], [25, 40]], topStart: 10, topEnd: 25 });
    expect(seg[1]).toMatchObject({ vid: 'vid2', ranks: [1, 2], segments: [[0, 20], [20, 41]] });
    expect(ds.split('train')).toEqual(['-abc_1']); // vid3 was not imported
    expect(ds.split('test')).toEqual(['vid2']);
    expect(() => importVmrLayout({ dir, out })).toThrow(ConflictError);
  });

  it('names what is missing', () => {
    expect(() => importVmrLayout({ dir: '/no/such/layout', out: '/tmp/x' })).toThrow(NotFoundError);
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-layout-empty-'));
    expect(() => importVmrLayout({ dir: empty, out: path.join(empty, 'o') })).toThrow(/no vggish\/ folder/);
    expect(() => parseRanksCsv('vid,ranks\nx,[1]\n', 'ranks.csv')).toThrow(/missing column\(s\) segments/);
    const f = path.join(empty, 'ids.csv');
    fs.writeFileSync(f, 'a1\nb2\n');
    expect(readIdListCsv(f)).toEqual(['a1', 'b2']);
  });
});
