import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConfigError, NotFoundError } from '@vmr/core';
import { parseSweepSpec, loadSweepSpec } from './spec';
import { canonicalJson } from '@vmr/core';
import { expandTrials, gridValues, trialKey } from './expand';
import { installedSourcesVersion, resolveCodeVersion } from './code-version';

const spec = (raw: Record<string, unknown>) => parseSweepSpec({ name: 's', ...raw });

describe('sweep spec validation', () => {
  it('rejects unknown keys, naming them', () => {
    expect(() => spec({ grdi: {} })).toThrow(/unrecognized key.*grdi/i);
    expect(() => spec({ random: { samples: 2, params: {}, sed: 1 } })).toThrow(/random.*sed/);
  });
  it('rejects bad names, log ranges with non-positive ends, and a key given twice', () => {
    expect(() => spec({ name: 'bad name!' })).toThrow(ConfigError);
    expect(() => spec({ grid: { lr: { log: [0, 1], num: 3 } } })).toThrow(/grid\.lr/);
    expect(() => spec({ features: ['a'], grid: { features: ['b'] } })).toThrow(/'features' is set by both 'features' and 'grid'/);
    expect(() => spec({ set: { lr: 1 }, random: { samples: 1, params: { lr: { log: [1e-4, 1e-2] } } } })).toThrow(/'lr' is set by both/);
  });
  it('names a missing base config and a missing spec file', () => {
    expect(() => spec({ base: '/nonexistent/base.yaml' })).toThrow(NotFoundError);
    expect(() => loadSweepSpec('/nonexistent/sweep.yaml')).toThrow(/sweep spec '\/nonexistent\/sweep.yaml' not found/);
  });
  it('loads YAML with a base config relative to the spec file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-spec-'));
    fs.writeFileSync(path.join(dir, 'base.yaml'), 'epochs: 3\nloss: { lambdas: { l1: 2 } }\n');
    fs.writeFileSync(path.join(dir, 'sweep.yaml'), 'name: g\nbase: base.yaml\ngrid:\n  loss.lambdas.l2: [0, 1]\n');
    const s = loadSweepSpec(path.join(dir, 'sweep.yaml'));
    expect(s.baseConfig).toEqual({ epochs: 3, loss: { lambdas: { l1: 2 } } });
    const e = expandTrials(s, 'v');
    expect(e.trials.map((t) => t.config)).toEqual([
      { epochs: 3, loss: { lambdas: { l1: 2, l2: 0 } } },
      { epochs: 3, loss: { lambdas: { l1: 2, l2: 1 } } },
    ]);
  });
});

describe('grid values', () => {
  it('ranges by step include the end and are free of float drift', () => {
    expect(gridValues('x', { range: [0, 0.5], step: 0.1 })).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5]);
    expect(gridValues('x', { range: [1, 2], num: 5 })).toEqual([1, 1.25, 1.5, 1.75, 2]);
    expect(gridValues('x', { range: [1, 4], step: 1.5 })).toEqual([1, 2.5, 4]);
    expect(gridValues('x', { range: [0, 1], num: 4, int: true })).toEqual([0, 1]);
  });
  it('log ranges are geometric with exact ends', () => {
    expect(gridValues('lr', { log: [1e-4, 1e-2], num: 3 })).toEqual([1e-4, 1e-3, 1e-2]);
    expect(gridValues('lr', { log: [1, 1000], num: 4 })).toEqual([1, 10, 100, 1000]);
  });
  it('a grid range without step/num is an error naming the key', () => {
    expect(() => gridValues('lambda', { range: [0, 1] })).toThrow(/grid\.lambda: a grid range needs 'step' or 'num'/);
    expect(() => gridValues('lr', { log: [1e-3, 1e-1] })).toThrow(/needs 'num'/);
  });
});

describe('trial expansion', () => {
  it('crosses model × features × grid × seeds in that order, with linked λ', () => {
    const s = spec({ features: ['resnet', 'clip', 'i3d'], seeds: [1, 2], grid: { 'loss.lambdas.l1': [0.5, 1], 'loss.lambdas.l2': { link: 'loss.lambdas.l1' }, 'loss.lambdas.l3': { link: 'loss.lambdas.l1', scale: 2, offset: 0.1 } } });
    const e = expandTrials(s, 'v1');
    expect(e.trials).toHaveLength(12);
    expect(e.trials[0].values).toEqual({ features: 'resnet', 'loss.lambdas.l1': 0.5, seed: 1, 'loss.lambdas.l2': 0.5, 'loss.lambdas.l3': 1.1 });
    expect(e.trials[1].values).toMatchObject({ features: 'resnet', 'loss.lambdas.l1': 0.5, seed: 2 });
    expect(e.trials[2].values).toMatchObject({ features: 'resnet', 'loss.lambdas.l1': 1, seed: 1, 'loss.lambdas.l3': 2.1 });
    expect(e.trials[11].config).toEqual({ features: 'i3d', seed: 2, loss: { lambdas: { l1: 1, l2: 1, l3: 2.1 } } });
    expect(new Set(e.trials.map((t) => t.key)).size).toBe(12);
  });
  it('links to a base-config key, and reports cycles and dangling links', () => {
    const base = spec({ grid: { b: { link: 'a' } } });
    base.baseConfig = { a: 7 };
    expect(expandTrials(base, 'v').trials[0].config).toEqual({ a: 7, b: 7 });
    expect(() => expandTrials(spec({ grid: { a: { link: 'b' }, b: { link: 'a' } } }), 'v')).toThrow(/cycle/);
    expect(() => expandTrials(spec({ grid: { a: { link: 'zz' } } }), 'v')).toThrow(/'a' links to 'zz'/);
  });
  it('random spaces are reproducible, within bounds, and crossed with the grid', () => {
    const raw = { features: ['a', 'b'], random: { samples: 5, seed: 3, params: { lr: { log: [1e-4, 1e-2] }, m: { range: [0.1, 0.3] }, k: [1, 2, 3] } } };
    const e1 = expandTrials(spec(raw), 'v');
    const e2 = expandTrials(spec(raw), 'v');
    expect(e1.trials.map((t) => t.key)).toEqual(e2.trials.map((t) => t.key));
    expect(e1.trials).toHaveLength(10);
    for (const t of e1.trials) {
      expect(t.values.lr).toBeGreaterThanOrEqual(1e-4);
      expect(t.values.lr).toBeLessThanOrEqual(1e-2);
      expect(t.values.m).toBeGreaterThanOrEqual(0.1);
      expect(t.values.m).toBeLessThanOrEqual(0.3);
      expect([1, 2, 3]).toContain(t.values.k);
    }
    // the same 5 draws for both grid points
    expect(e1.trials.slice(0, 5).map((t) => t.values.lr)).toEqual(e1.trials.slice(5).map((t) => t.values.lr));
    const other = expandTrials(spec({ ...raw, random: { ...raw.random, seed: 4 } }), 'v');
    expect(other.trials[0].values.lr).not.toBe(e1.trials[0].values.lr);
  });
  it('maxTrials keeps the first trials in order and reports the full count; identical configs are one trial', () => {
    const e = expandTrials(spec({ grid: { a: [1, 2, 3, 4] }, maxTrials: 3 }), 'v');
    expect(e.trials.map((t) => t.values.a)).toEqual([1, 2, 3]);
    expect(e.total).toBe(4);
    expect(expandTrials(spec({ grid: { a: [1, 1, 2] } }), 'v').trials).toHaveLength(2);
  });
  it('makes the config dataset path absolute (relative to the working directory)', () => {
    const s = spec({ set: { dataset: 'data/x' } });
    expect(expandTrials(s, 'v').trials[0].config.dataset).toBe(path.resolve('data/x'));
  });
});

describe('trial keys', () => {
  it('hash the canonical config (key order does not matter), the datasets and the code version', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: 'z' } })).toBe('{"a":{"c":"z","d":[1,{"x":1,"y":2}]},"b":1}');
    const k = trialKey({ a: 1, b: { c: 2 } }, [], 'v1');
    expect(k).toMatch(/^[0-9a-f]{64}$/);
    expect(trialKey({ b: { c: 2 }, a: 1 }, [], 'v1')).toBe(k);
    expect(trialKey({ a: 1, b: { c: 2 } }, [], 'v2')).not.toBe(k);
    expect(trialKey({ a: 1, b: { c: 3 } }, [], 'v1')).not.toBe(k);
    expect(trialKey({ a: 1, b: { c: 2 } }, [{ dataset: '/d', name: 'd' }], 'v1')).not.toBe(k);
  });
  it('refuses non-finite numbers', () => {
    expect(() => canonicalJson({ a: NaN })).toThrow(ConfigError);
  });
});

describe('experiment files are sweep specs', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-expfile-'));
  const load = (name: string, lines: string[]) => {
    fs.writeFileSync(path.join(dir, name), lines.join('\n') + '\n');
    return loadSweepSpec(path.join(dir, name));
  };
  it('trainer keys at the top level are the base config; the name defaults to the experiment; unknown keys are named', () => {
    const s = load('exp.yaml', ['experiment: tables', 'dataset: data/x', 'epochs: 2', 'loss: { lambdas: { l1: 2 } }', 'grid:', '  model: [vm-net, of-vm-net]', '  features: [resnet, clip]', '  seed: [0, 1, 2]', "evaluate: [{ dataset: data/x, split: test, table: '1' }]", 'workers: 2']);
    expect(s.name).toBe('tables');
    expect(s.workers).toBe(2);
    expect(s.baseConfig).toEqual({ experiment: 'tables', dataset: 'data/x', epochs: 2, loss: { lambdas: { l1: 2 } } });
    expect(s.evaluate).toEqual([{ dataset: path.resolve('data/x'), name: 'x', split: 'test', table: '1' }]);
    const e = expandTrials(s, 'v');
    expect(e.trials).toHaveLength(12);
    expect(e.trials[0].values).toEqual({ model: 'vm-net', features: 'resnet', seed: 0 });
    expect(() => load('typo.yaml', ['experiment: t', 'dataset: d', 'epoch: 3'])).toThrow(/unrecognized key.*epoch/i);
  });
  it('the repository experiment files (quickstart, Tables 1 and 2) still load and expand as before', () => {
    const root = path.resolve(__dirname, '../../..');
    const qs = loadSweepSpec(path.join(root, 'experiments/quickstart.yaml'));
    // Tables 1 and 2: model × features × 3 seeds; then the λ section (OF-VM-Net/CLIP, λ3–λ6 ∈ {0, ¼, 1, 4}
    // × 3 seeds) whose λ3–λ6 = 1 points are the grid's OF-VM-Net/CLIP trials (expanded once)
    const qe = expandTrials(qs, 'v').trials;
    const grid = ['vm-net', 'of-vm-net'].flatMap((m) => ['resnet', 'clip', 'i3d'].flatMap((f) => [0, 1, 2].map((seed) => `${m}/${f}/${seed}`)));
    expect(qe.filter((t) => !t.section).map((t) => `${t.values.model}/${t.values.features}/${t.values.seed}`)).toEqual(grid);
    expect(qe.filter((t) => t.section === 'lambda').map((t) => `${t.config.model}/${t.config.features}/${t.values['loss.lambdas.l3']}/${t.values.seed}`)).toEqual(
      [0, 0.25, 4].flatMap((l) => [0, 1, 2].map((seed) => `of-vm-net/clip/${l}/${seed}`)),
    );
    expect(qe).toHaveLength(27);
    expect(qs.evaluate.map((e) => [e.name, e.split, e.table])).toEqual([
      ['himv-like', 'test', '1'],
      ['symmv-like', 'all', '2'],
    ]);
    expect(qs.datasets.map((d) => d.synth?.preset)).toEqual(['himv-like', 'symmv-like']);
    for (const f of ['table1', 'table2']) expect(expandTrials(loadSweepSpec(path.join(root, `experiments/${f}.yaml`)), 'v').trials).toHaveLength(18);
    // the README's λ grid borrows the quickstart's config and its dataset recipes (so a fresh clone can run it)
    const lg = loadSweepSpec(path.join(root, 'experiments/sweeps/lambda-grid.yaml'));
    expect(lg.datasets.map((d) => d.synth?.preset)).toEqual(['himv-like', 'symmv-like']);
    const e = expandTrials(lg, 'v');
    expect(e.trials).toHaveLength(27);
    // 12 of the 27 repeat another trial's model: per extractor, λ = (a,a,b,b,b,b) for a, b ∈ {¼, 1, 4} gives 5 ratios a/b
    expect(e.trials.filter((t) => t.aliasOf)).toHaveLength(12);
  });
  it('sweeps: sections share the base, datasets and evaluations, inherit model / features / seeds, and are recorded', () => {
    const s = spec({
      set: { dataset: 'd' },
      features: 'clip',
      seeds: [0, 1],
      grid: { model: ['vm-net', 'of-vm-net'] },
      sweeps: [{ name: 'lambda', model: 'of-vm-net', grid: { 'loss.lambdas.l1': [0.5, 2] } }, { name: 'lr', set: { epochs: 3 }, grid: { lr: [0.01] }, seeds: [7] }],
    });
    const e = expandTrials(s, 'v');
    expect(e.trials.map((t) => [t.section ?? '', t.values])).toEqual([
      ['', { features: 'clip', model: 'vm-net', seed: 0 }],
      ['', { features: 'clip', model: 'vm-net', seed: 1 }],
      ['', { features: 'clip', model: 'of-vm-net', seed: 0 }],
      ['', { features: 'clip', model: 'of-vm-net', seed: 1 }],
      ['lambda', { model: 'of-vm-net', features: 'clip', 'loss.lambdas.l1': 0.5, seed: 0 }],
      ['lambda', { model: 'of-vm-net', features: 'clip', 'loss.lambdas.l1': 0.5, seed: 1 }],
      ['lambda', { model: 'of-vm-net', features: 'clip', 'loss.lambdas.l1': 2, seed: 0 }],
      ['lambda', { model: 'of-vm-net', features: 'clip', 'loss.lambdas.l1': 2, seed: 1 }],
      ['lr', { features: 'clip', lr: 0.01, seed: 7 }],
    ]);
    expect(e.trials[8].config).toMatchObject({ epochs: 3, lr: 0.01, seed: 7, features: 'clip' });
    expect(() => spec({ sweeps: [{ name: 'a' }, { name: 'a' }] })).toThrow(/two sweeps named 'a'/);
    expect(() => spec({ sweeps: [{ name: 'a', features: ['x'], grid: { features: ['y'] } }] })).toThrow(/sweeps\[0\] \(a\): parameter 'features' is set by both/);
  });
});

describe('λ aliases', () => {
  const base = { dataset: 'd', model: 'of-vm-net' };
  it('configs that differ only by a positive common factor of λ are aliases of the first; others are not', () => {
    const s = spec({ set: base, grid: { 'loss.lambdas.l1': [1, 2, 0.5], 'loss.lambdas.l2': { link: 'loss.lambdas.l1' }, 'loss.lambdas.l3': [1, 2], 'loss.lambdas.l4': { link: 'loss.lambdas.l3' }, 'loss.lambdas.l5': { link: 'loss.lambdas.l3' }, 'loss.lambdas.l6': { link: 'loss.lambdas.l3' } } });
    const e = expandTrials(s, 'v');
    const v = (t: (typeof e.trials)[number]) => `${t.values['loss.lambdas.l1']}/${t.values['loss.lambdas.l3']}`;
    const alias = Object.fromEntries(e.trials.map((t) => [v(t), t.aliasOf ? `${v(e.trials[t.aliasOf.index])}×${t.aliasOf.scale}` : '']));
    // (0.5,0.5,1,1,1,1) = ½ × (1,1,2,2,2,2); (0.5,0.5,2,2,2,2) is a multiple of no other
    expect(alias).toEqual({ '1/1': '', '1/2': '', '2/1': '', '2/2': '1/1×2', '0.5/1': '1/2×0.5', '0.5/2': '' });
    expect(e.trials.find((t) => v(t) === '2/2')!.aliasOf!.key).toBe(e.trials[0].key);
  });
  it('λ written out equal to the defaults is the same model; VM-Net (no λ) and unparseable configs are never aliased', () => {
    const e = expandTrials(spec({ set: base, grid: { 'loss.lambdas.l1': [1] }, sweeps: [{ name: 'plain', grid: { lr: [0.0001] } }] }), 'v');
    expect(e.trials.map((t) => t.aliasOf?.scale ?? null)).toEqual([null, 1]);
    expect(expandTrials(spec({ set: { ...base, model: 'vm-net' }, grid: { 'loss.lambdas.l1': [1, 2], 'loss.lambdas.l2': { link: 'loss.lambdas.l1' } } }), 'v').trials.some((t) => t.aliasOf)).toBe(false);
    expect(expandTrials(spec({ grid: { 'loss.lambdas.l1': [1, 2] } }), 'v').trials.some((t) => t.aliasOf)).toBe(false); // no dataset: does not parse
  });
});

describe('code version', () => {
  it('outside a git checkout: package version + a hash of the installed sources, which changes with them (never "unknown")', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-install-'));
    fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'vmr-lab', version: '1.2.3' }));
    fs.mkdirSync(path.join(root, 'libs', 'x', 'src'), { recursive: true });
    fs.mkdirSync(path.join(root, 'libs', 'x', 'node_modules'), { recursive: true });
    fs.writeFileSync(path.join(root, 'libs', 'x', 'src', 'a.ts'), 'export const a = 1;\n');
    fs.writeFileSync(path.join(root, 'libs', 'x', 'node_modules', 'dep.js'), 'ignored');
    const saved = process.env.VMR_CODE_VERSION;
    delete process.env.VMR_CODE_VERSION;
    try {
      const v1 = resolveCodeVersion('git', root);
      expect(v1).toMatch(/^vmr-lab@1\.2\.3\+src\.[0-9a-f]{16}$/);
      const other = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-install-'));
      fs.cpSync(root, other, { recursive: true });
      fs.writeFileSync(path.join(other, 'libs', 'x', 'node_modules', 'dep.js'), 'changed');
      expect(installedSourcesVersion(other)).toBe(v1); // node_modules are not "the code"
      fs.writeFileSync(path.join(other, 'libs', 'x', 'src', 'a.ts'), 'export const a = 2;\n');
      const fresh = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-install-'));
      fs.cpSync(other, fresh, { recursive: true });
      expect(installedSourcesVersion(fresh)).not.toBe(v1);
      expect(resolveCodeVersion('release-7', root)).toBe('release-7');
      // `sources`: the source hash (also inside a checkout); docs are not sources, the lock file is.
      const docs = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-install-'));
      fs.cpSync(root, docs, { recursive: true });
      fs.writeFileSync(path.join(docs, 'README.md'), '# edited\n');
      fs.writeFileSync(path.join(docs, 'libs', 'x', 'README.md'), 'notes\n');
      expect(resolveCodeVersion('sources', docs)).toBe(v1);
      const locked = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-install-'));
      fs.cpSync(root, locked, { recursive: true });
      fs.writeFileSync(path.join(locked, 'package-lock.json'), '{"lockfileVersion": 3}\n');
      expect(resolveCodeVersion('sources', locked)).not.toBe(v1);
    } finally {
      if (saved !== undefined) process.env.VMR_CODE_VERSION = saved;
    }
  });
});
