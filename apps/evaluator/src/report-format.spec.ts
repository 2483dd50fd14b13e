import { RESULT_COLUMNS, type ResultTable } from '@vmr/tracking';
import { formatCell, formatTables } from './report-format';

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
  columns: RESULT_COLUMNS.filter((c) => c.key === 'r1' || c.key === 'fad'),
  rows: [
    { model: 'vm-net', features: 'clip', runs: 1, seeds: [0], cells: { fad: { n: 1, mean: 16.0064, std: 0, best: true }, r1: { n: 1, mean: 0.5, std: 0, best: false } } },
    { model: 'of-vm-net', features: 'clip', runs: 2, seeds: [0, 1], cells: { fad: { n: 2, mean: 20, std: 1.41421, best: false }, r1: { n: 2, mean: 0.75, std: 0.05, best: true } } },
  ],
};

describe('report formats', () => {
  it('cells: 3 decimals, ± only with several runs, median rank 1 decimal', () => {
    expect(formatCell({ n: 1, mean: 0.5, std: 0, best: false }, 'r1')).toBe('0.500');
    expect(formatCell({ n: 3, mean: 0.12345, std: 0.0456, best: false }, 'r1')).toBe('0.123 ± 0.046');
    expect(formatCell({ n: 1, mean: 2.5, std: 0, best: false }, 'medianRank')).toBe('2.5');
    expect(formatCell(undefined, 'r1')).toBe('—');
  });

  it('markdown marks the best in bold and states gallery, protocol and the synthetic label', () => {
    const md = formatTables([table], 'markdown');
    expect(md).toContain('### Table 1: in-distribution — trained and evaluated on A (val split) [SYNTHETIC]');
    expect(md).toContain('| Model | Features | FAD | R@1 |');
    expect(md).toContain('| VM-Net | CLIP | **16.006** | 0.500 |');
    expect(md).toContain('| OF-VM-Net | CLIP | 20.000 ± 1.414 | **0.750 ± 0.050** |');
    expect(md).toContain('_Gallery: 28 clips per query (full); direction video-to-music; split val; ties pessimistic._');
    expect(md).toMatch(/1\/2 runs per row, mean ± sample std over seeds/);
    expect(md).toMatch(/SYNTHETIC data/);
  });

  it('csv has one line per row with mean, std and best per column; latex bolds the best', () => {
    const csv = formatTables([table], 'csv').split('\n');
    expect(csv[0]).toBe('table,eval_dataset,synthetic,model,features,runs,seeds,gallery_size,protocol,fad_mean,fad_std,fad_best,r1_mean,r1_std,r1_best');
    expect(csv[2]).toBe('1,A,true,of-vm-net,clip,2,0 1,28,paper,20,1.41421,false,0.75,0.05,true');
    const tex = formatTables([table], 'latex');
    expect(tex).toContain('OF-VM-Net & CLIP & 20.000 $\\pm$ 1.414 & \\textbf{0.750 $\\pm$ 0.050} \\\\');
    expect(tex).toContain('\\caption{Table 1: in-distribution — trained and evaluated on A (val split) (synthetic data)}');
    expect(JSON.parse(formatTables([table], 'json'))).toEqual([table]);
  });
});
