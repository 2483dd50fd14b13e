import { RESULT_COLUMNS, type CellStats, type ResultTable } from '@vmr/tracking';
import { formatCell, formatTables } from './report-format';

const cell = (n: number, mean: number, std: number, best: boolean, ci?: [number, number]): CellStats => ({ n, mean, std, best, ciLow: ci?.[0] ?? NaN, ciHigh: ci?.[1] ?? NaN, ciMethod: ci ? 't-over-seeds' : 'none', values: [] });

const table: ResultTable = {
  id: '1',
  title: 'Table 1: in-distribution — trained and evaluated on A (val split)',
  experiment: 'x',
  trainDatasets: ['A'],
  evalDataset: 'A',
  evalDatasetKind: 'synthetic',
  synthetic: true,
  splits: ['val'],
  gallerySizes: [28],
  evalProtocols: ['paper'],
  retrievalProtocols: ['full'],
  directions: ['video-to-music'],
  differing: ['λ'],
  trainOverlap: 0,
  flags: ['Small gallery (28 < 100 clips): Recall@k is coarse'],
  columns: RESULT_COLUMNS.filter((c) => c.key === 'r1' || c.key === 'fad'),
  rows: [
    { model: 'vm-net', features: 'clip', config: {}, label: '', runs: 1, seeds: [0], reference: false, evalRunIds: [], cells: { fad: cell(1, 16.0064, 0, false), r1: cell(1, 0.5, 0, false) } },
    { model: 'of-vm-net', features: 'clip', config: {}, label: 'λ=1:1:0.25:0.25:0.25:0.25', runs: 2, seeds: [0, 1], reference: false, evalRunIds: [], cells: { fad: cell(2, 20, 1.41421, false, [7.29, 32.71]), r1: cell(2, 0.75, 0.05, true, [0.3, 1.2]) } },
  ],
};

describe('report formats', () => {
  it('cells: mean ± std [95 % interval], a single run without ±, MedR 1 decimal, R@k beyond the gallery not reported', () => {
    expect(formatCell(cell(1, 0.5, 0, false), 'r1')).toBe('0.500');
    expect(formatCell(cell(3, 0.12345, 0.0456, false, [0.01, 0.236]), 'r1')).toBe('0.123 ± 0.046 [0.010, 0.236]');
    expect(formatCell(cell(1, 2.5, 0, false), 'medianRank')).toBe('2.5');
    expect(formatCell(undefined, 'r1')).toBe('—');
    expect(formatCell({ ...cell(0, NaN, NaN, false), undefinedFor: 7 }, 'r10')).toBe('—, gallery 7');
    expect(formatCell({ ...cell(1, 0.02, 0, false), nearChance: true }, 'r1')).toBe('0.020 ~');
  });

  it('markdown: n and the differing configuration column, best in bold, gallery / protocol / flags / synthetic label', () => {
    const md = formatTables([table], 'markdown');
    expect(md).toContain('### Table 1: in-distribution — trained and evaluated on A (val split) [SYNTHETIC]');
    expect(md).toContain('| Model | Features | Configuration | n | FAD | R@1 |');
    expect(md).toContain('| VM-Net | CLIP | — | 1 | 16.006 | 0.500 |');
    expect(md).toContain('| OF-VM-Net | CLIP | λ=1:1:0.25:0.25:0.25:0.25 | 2 | 20.000 ± 1.414 [7.290, 32.710] | **0.750 ± 0.050 [0.300, 1.200]** |');
    expect(md).toContain('_Gallery: 28 clips per query (full); direction video-to-music; split val; ties pessimistic._');
    expect(md).toMatch(/n = 1\/2 seed\(s\) per row/);
    expect(md).toMatch(/Rows differ in: λ/);
    expect(md).toMatch(/Small gallery/);
    expect(md).toMatch(/SYNTHETIC data/);
  });

  it('csv is tidy (one line per row × metric with n, mean, std, interval); latex bolds the best; json round-trips', () => {
    const csv = formatTables([table], 'csv').split('\n');
    expect(csv[0]).toBe('report,table,experiment,eval_dataset,split,direction,protocol,gallery_size,synthetic,model,features,configuration,reference,metric,direction_better,n,mean,std,ci_low,ci_high,ci_method,best,not_reported,seeds');
    expect(csv).toHaveLength(5);
    expect(csv[4]).toBe('tables,1,x,A,val,video-to-music,paper/full,28,true,of-vm-net,clip,λ=1:1:0.25:0.25:0.25:0.25,false,r1,higher,2,0.75,0.05,0.3,1.2,t-over-seeds,true,,0 1');
    const tex = formatTables([table], 'latex');
    expect(tex).toContain('OF-VM-Net & CLIP & λ=1:1:0.25:0.25:0.25:0.25 & 2 & 20.000 $\\pm$ 1.414 [7.290, 32.710] & \\textbf{0.750 $\\pm$ 0.050 [0.300, 1.200]} \\\\');
    expect(tex).toContain('\\caption{Table 1: in-distribution — trained and evaluated on A (val split) (synthetic data)}');
    expect(JSON.parse(JSON.stringify(table))).toEqual(JSON.parse(formatTables([table], 'json'))[0]);
  });
});
