/**
 * The one experiment engine, end to end through the real CLI, trainer, evaluator and run store:
 * an experiment file (a tiny quickstart: model grid + a λ sweep section, a synthetic dataset generated
 * from its recipe, oracle reference rows, Table 1, the λ front, the verdict and the HTML report; a dataset
 * from an older generator refused) runs through the sweeper with one key policy and λ aliases; the spec
 * check reports every problem at once and writes nothing; `sweep forget`; a trial interrupted mid-epoch
 * resumes from its checkpoint to a byte-identical final checkpoint; Ctrl-C on the coordinator exits 130
 * and prints the command that resumes.
 */
import * as fs from 'fs';
import * as path from 'path';
import { sha256Hex } from '@vmr/core';
import type { SqliteTracker } from '@vmr/tracking';
import { trialKey } from '../src/expand';
import { FORGOTTEN_ROLE, TAGS } from '../src/sweep-store';
import type { SweepRunResult } from '../src/coordinator';
import { finished, json, makeTinySetup, openStore, runCli, startCli, tmpDir, waitFor, writeSpec } from './helpers';

jest.setTimeout(600_000);

let dir: string;

beforeAll(async () => {
  dir = tmpDir('engine');
  await makeTinySetup(dir);
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

async function trialRuns(store: SqliteTracker, sweepId: string) {
  const out = [];
  for (const r of await store.searchRuns({ parentId: sweepId })) out.push(await store.getRun(r.id));
  return out.sort((a, b) => Number(a.tags[TAGS.index]) - Number(b.tags[TAGS.index]));
}

describe('experiment files run on the sweep engine', () => {
  const db = () => path.join(dir, 'exp', 'runs.db');
  let spec: string;

  it('a tiny quickstart with a λ section: data generated, 4 trainings + 2 λ aliases, Table 1 with oracle reference rows, the λ front, the verdict and the HTML page; a rerun reuses everything; a dataset from an older generator is refused', async () => {
    spec = writeSpec(path.join(dir, 'tiny-quickstart.yaml'), [
      'experiment: tinyqs',
      'dataset: gen/himv',
      'valSplit: all',
      'features: clip',
      'segmentation: { segments: 3, minSegmentSeconds: 3, maxSegmentSeconds: 20, padLength: 20 }',
      'ofVmNet: { layers: 1, ffnDim: 16, embedDim: 8, heads: 2 }',
      'vmNet: { embedDim: 16, audioHidden: [{ units: 16, batchNorm: true }], videoHidden: [{ units: 16, batchNorm: true }] }',
      'batchSize: 4',
      'epochs: 1',
      'backend: cpu',
      'checkpointEvery: 100',
      'codeVersion: test-v1',
      'grid:',
      '  model: [vm-net, of-vm-net]',
      'evaluate:',
      "  - { dataset: gen/himv, split: test, table: '1' }", // not 'all': vmr eval refuses a split holding training clips
      'datasets:',
      '  - path: gen/himv',
      '    synth: { preset: himv-like, clips: 24, seed: 3, views: [clip], minDuration: 20, maxDuration: 30, segments: 3, maxSegmentSeconds: 20 }',
      'sweeps:',
      '  - name: lambda',
      '    model: of-vm-net',
      '    grid:',
      '      loss.lambdas.l1: [1, 2]',
      '      loss.lambdas.l2: { link: loss.lambdas.l1 }',
      '      loss.lambdas.l3: [1, 2]',
      '      loss.lambdas.l4: { link: loss.lambdas.l3 }',
      '      loss.lambdas.l5: { link: loss.lambdas.l3 }',
      '      loss.lambdas.l6: { link: loss.lambdas.l3 }',
      'workers: 2',
    ]);
    const r = await runCli(['experiment', 'run', spec, '--store', db(), '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    const res = json<SweepRunResult & { tables: { id: string; rows: { model: string }[] }[]; oracles: { oracle: string; reused: boolean; dataset: string }[]; html?: { out: string }; verdict: string[]; fronts: { section: string; points: { ratio: number; n: number }[] }[] }>(r);
    expect(res).toMatchObject({ status: 'finished', trials: 6, finished: 6, failed: 0, aliases: 2, attempts: 4, experiment: 'tinyqs' });
    expect(res.datasetsGenerated).toEqual([path.join(dir, 'gen', 'himv')]);
    expect(fs.existsSync(path.join(dir, 'gen', 'himv', 'dataset.json'))).toBe(true);
    expect(res.tables.map((t) => t.id)).toEqual(['1']);
    // the trained models plus the two oracle reference rows of the synthetic evaluation dataset
    expect(new Set(res.tables[0].rows.map((x) => x.model))).toEqual(new Set(['vm-net', 'of-vm-net', 'oracle-style', 'oracle-motion']));
    expect(res.oracles.map((o) => [o.oracle, o.dataset, o.reused])).toEqual([
      ['style', 'himv', false],
      ['motion', 'himv', false],
    ]);
    // the λ section's front: λ1=λ2 : λ3–λ6 = 1 (the top-level OF-VM-Net trial and its aliases), 0.5 and 2
    expect(res.fronts.map((f) => [f.section, f.points.map((p) => [p.ratio, p.n])])).toEqual([['lambda', [[0.5, 1], [1, 1], [2, 1]]]]);
    expect(res.verdict.join('\n')).toMatch(/beats VM-Net on AV-Align\? Δ AV-Align = /);
    expect(res.html?.out).toBe(path.join(dir, 'exp', 'tinyqs.html'));

    const store = openStore(db());
    try {
      const trials = await trialRuns(store, res.sweepId);
      expect(trials).toHaveLength(6);
      const byKey = new Map(trials.map((t) => [t.tags[TAGS.key], t]));
      const evaluate = JSON.parse(trials[0].tags[TAGS.evaluate]);
      for (const t of trials) {
        // one key policy: sha256 of resolved config + evaluation datasets + code version
        expect(t.tags[TAGS.key]).toBe(trialKey(JSON.parse(t.tags[TAGS.config]), evaluate, 'test-v1'));
        expect(t.status).toBe('finished');
      }
      // λ (1,1,1,1,1,1) is the top-level OF-VM-Net trial's config; (2,2,2,2,2,2) is 2× it: both aliases of trial 1
      const aliases = trials.filter((t) => t.tags[TAGS.aliasOf]);
      expect(aliases.map((t) => JSON.parse(t.tags[TAGS.values])['loss.lambdas.l1'] + '/' + JSON.parse(t.tags[TAGS.values])['loss.lambdas.l3'])).toEqual(['1/1', '2/2']);
      const canon = trials.find((t) => t.tags[TAGS.index] === '1')!;
      expect(JSON.parse(canon.tags[TAGS.values])).toEqual({ features: 'clip', model: 'of-vm-net' });
      for (const a of aliases) {
        expect(a.tags[TAGS.aliasOf]).toBe(canon.tags[TAGS.key]);
        expect(byKey.get(a.tags[TAGS.aliasOf])).toBe(canon);
        expect(a.tags[TAGS.section]).toBe('lambda');
        expect(a.tags[TAGS.attempts]).toBe('0'); // never run
        expect(await store.searchRuns({ parentId: a.id })).toHaveLength(0); // no training run of its own
        expect(a.tags[TAGS.trainRun]).toBe(canon.tags[TAGS.trainRun]);
        const [am, cm] = [await store.latestMetrics(a.id), await store.latestMetrics(canon.id)];
        expect(am['eval.himv.r1'].value).toBe(cm['eval.himv.r1'].value);
        expect(am['train.loss']).toBeUndefined(); // λ-scaled: not copied
      }
      expect(aliases.map((a) => Number(a.tags[TAGS.aliasScale]))).toEqual([1, 2]);
      const trained = trials.filter((t) => !t.tags[TAGS.aliasOf]);
      expect(trained).toHaveLength(4);
      for (const t of trained) expect(await store.searchRuns({ parentId: t.id, tags: { 'vmr.kind': 'train' } })).toHaveLength(1);

      // status shows the aliases
      const st = json<{ trials: { index: number; aliasOf: { index: number; scale: number } | null }[] }>(await runCli(['sweep', 'status', 'tinyqs', '--store', db(), '--json']));
      expect(st.trials.filter((t) => t.aliasOf).map((t) => [t.index, t.aliasOf!.index, t.aliasOf!.scale])).toEqual([
        [2, 1, 1],
        [5, 1, 2],
      ]);

      // the sweep report lists the aliases as such (not ranked, not averaged twice)
      const rep = json<{ trials: { index: number; status: string; aliasOf?: string }[] }>(await runCli(['report', 'sweep', 'tinyqs', '--store', db(), '--format', 'json']));
      expect(rep.trials.filter((t) => t.status === 'alias').map((t) => [t.index, t.aliasOf])).toEqual([
        [2, canon.tags[TAGS.key]],
        [5, canon.tags[TAGS.key]],
      ]);

      const before = (await store.searchRuns({})).length;
      const again = await runCli(['experiment', 'run', spec, '--store', db()], { cwd: dir });
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(/experiment tinyqs: 6\/6 trials finished \(6 reused from the store\), 2 λ aliases/);
      expect(again.stdout).toMatch(/### Table 1: in-distribution/);
      // oracle rows reused (no new runs below), printed as reference rows; the front, the verdict, the HTML page
      expect(again.stdout).toMatch(/reference rows: oracle-style on himv \(test\), oracle-motion on himv \(test\) — 2 reused from the store/);
      expect(again.stdout).toMatch(/^\| oracle \(style\) \[reference\] \| ground-truth \|/m);
      expect(again.stdout).toMatch(/^\| oracle \(motion\) \[reference\] \| ground-truth \|/m);
      expect(again.stdout).toMatch(/### λ sweep 'lambda' on himv \(gallery \d+\): Recall@1 vs AV-Align/);
      expect(again.stdout).toMatch(/### Verdict[^\n]*\n\nCLIP on .*: OF-VM-Net \(λ=1:1:1:1:1:1\), n = 1 vs VM-Net, n = 1/);
      expect(again.stdout).toMatch(/  loses on R@1\? +Δ R@1 = /);
      expect(again.stdout).toMatch(/reference \(not a competitor\): oracle \(motion\)/);
      const html = again.stdout.match(/^HTML report: (\S+) \(\d+ KiB\)$/m)?.[1];
      expect(html).toBe(path.join(dir, 'exp', 'tinyqs.html'));
      const page = fs.readFileSync(html!, 'utf8');
      expect(page).toMatch(/^<!DOCTYPE html>/i);
      expect(page).toMatch(/oracle \(style\)/);
      expect((await store.searchRuns({})).length).toBe(before);

      // a synthetic dataset written by an older generator version is refused, not silently reused
      const mf = path.join(dir, 'gen', 'himv', 'dataset.json');
      const manifest = fs.readFileSync(mf, 'utf8');
      const m = JSON.parse(manifest) as { provenance: { synthetic: { version: number } } };
      const current = m.provenance.synthetic.version;
      m.provenance.synthetic.version = current - 1;
      fs.writeFileSync(mf, JSON.stringify(m));
      try {
        const old = await runCli(['experiment', 'run', spec, '--store', db()], { cwd: dir });
        expect(old.code).toBe(1);
        expect(old.stderr).toMatch(new RegExp(`gen/himv was generated by vmr synth v${current - 1}, but its synth recipe now means vmr synth v${current}.*Delete the directory`));
        expect((await store.searchRuns({})).length).toBe(before);
      } finally {
        fs.writeFileSync(mf, manifest);
      }

      // the same file through `vmr sweep run --dry-run`: the finished sweep stays finished, nothing is written
      const sweepBefore = await store.getRun(res.sweepId);
      const dry = await runCli(['sweep', 'run', spec, '--store', db(), '--dry-run', '--json'], { cwd: dir });
      expect(dry.code).toBe(0);
      expect(json(dry)).toMatchObject({ status: 'planned', trials: 6, finished: 6, aliases: 2, attempts: 0 });
      const sweepAfter = await store.getRun(res.sweepId);
      expect(sweepAfter.status).toBe('finished');
      expect(sweepAfter.heartbeat).toBe(sweepBefore.heartbeat);
      expect((await store.searchRuns({})).length).toBe(before);
    } finally {
      await store.close();
    }
  });
});

describe('the spec check', () => {
  it('dry-run reports a misspelled key, a missing dataset and a dimension mismatch at once, naming trials; nothing is written', async () => {
    // a copy of the tiny dataset whose manifest declares another clip dim
    const other = path.join(dir, 'ds-clip256');
    fs.cpSync(path.join(dir, 'ds'), other, { recursive: true });
    const mf = path.join(other, 'dataset.json');
    const m = JSON.parse(fs.readFileSync(mf, 'utf8')) as { extractors: { name: string; dim: number }[] };
    m.extractors.find((e) => e.name === 'clip')!.dim = 256;
    fs.writeFileSync(mf, JSON.stringify(m));
    const spec = writeSpec(path.join(dir, 'typo.yaml'), [
      'name: typo',
      'base: tiny.yaml',
      'features: [resnet, clip]',
      'grid:',
      '  loss.lamdbas.l1: [0.5, 1]',
      'metric: { name: eval.other.r1 }',
      'evaluate:',
      '  - { dataset: no-such-dataset, name: missing }',
      '  - { dataset: ds-clip256, name: other, split: all }',
    ]);
    const db = path.join(dir, 'typo', 'runs.db');
    for (const extra of [['--dry-run'], []]) {
      const r = await runCli(['sweep', 'run', spec, '--store', db, ...extra], { cwd: dir });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/typo\.yaml: 3 problems found before running anything \(nothing was run or written\)/);
      expect(r.stderr).toMatch(/unknown key 'loss\.lamdbas'\n\s+in 4 trials: t000 \(features=resnet, loss\.lamdbas\.l1=0\.5\)/);
      expect(r.stderr).toMatch(/dataset .*no-such-dataset does not exist .*no synth recipe/);
      expect(r.stderr).toMatch(/feature dim mismatch: the model trained on .*\/ds has video dim 512 \(clip\), evaluation dataset .*ds-clip256 video\/clip has dim 256\n\s+in 2 trials: t002 \(features=clip/);
      expect(fs.existsSync(db)).toBe(false);
      expect(fs.existsSync(path.dirname(db))).toBe(false);
    }
    const j = await runCli(['sweep', 'run', spec, '--store', db, '--dry-run', '--json'], { cwd: dir });
    const { error: err } = JSON.parse(j.stdout) as { error: { code: string; details: { problems: { key: string; trials: string[] }[] } } };
    expect(err.code).toBe('INVALID_CONFIG');
    expect(err.details.problems.map((p) => [p.key, p.trials.length])).toEqual([
      ['loss.lamdbas', 4],
      ['evaluate[missing]', 4],
      ['features', 2],
    ]);
  });

  it('a metric name the trials do not record is a problem too; `sweep forget --failed` removes a failed trial, its runs stay, marked', async () => {
    const badMetric = writeSpec(path.join(dir, 'metric.yaml'), ['name: m', 'base: tiny.yaml', 'metric: { name: eval.himv.r1 }']);
    const r0 = await runCli(['sweep', 'run', badMetric, '--dry-run', '--store', path.join(dir, 'm.db')], { cwd: dir });
    expect(r0.code).toBe(1);
    expect(r0.stderr).toMatch(/metric\.name 'eval\.himv\.r1' is not a metric the trials record; one of: train\.loss, train\.val\.r1/);

    // fails at run time (no clip can be cut into 40 segments), which the spec check cannot know
    const spec = writeSpec(path.join(dir, 'forget.yaml'), ['name: forget-me', 'base: tiny.yaml', 'codeVersion: test-v1', 'maxAttempts: 1', 'set: { segmentation.segments: 40 }']);
    const db = path.join(dir, 'forget', 'runs.db');
    const first = json<SweepRunResult>(await runCli(['sweep', 'run', spec, '--store', db, '--json'], { cwd: dir }));
    expect(first).toMatchObject({ status: 'failed', failed: 1 });
    const f = await runCli(['sweep', 'forget', 'forget-me', '--failed', '--store', db, '--json']);
    expect(f.code).toBe(0);
    expect(json<{ forgotten: unknown[] }>(f).forgotten).toHaveLength(1);
    const st = json<{ trials: unknown[] }>(await runCli(['sweep', 'status', 'forget-me', '--store', db, '--json']));
    expect(st.trials).toHaveLength(0);
    // running the spec again makes a fresh trial for the same key; the forgotten run stays, tagged
    const again = json<SweepRunResult>(await runCli(['sweep', 'run', spec, '--store', db, '--json'], { cwd: dir }));
    expect(again).toMatchObject({ sweepId: first.sweepId, trials: 1, failed: 1, attempts: 1 });
    const store = openStore(db);
    try {
      const runs = await trialRuns(store, first.sweepId);
      expect(runs).toHaveLength(2);
      expect(new Set(runs.map((x) => x.tags[TAGS.key])).size).toBe(1);
      const gone = runs.find((x) => x.tags[TAGS.role] === FORGOTTEN_ROLE)!;
      expect(gone.tags[TAGS.forgotten]).toMatch(/^\d+$/);
      expect(gone.status).toBe('failed');
    } finally {
      await store.close();
    }
    const noFlag = await runCli(['sweep', 'forget', 'forget-me', '--store', db]);
    expect(noFlag.code).toBe(2);
    expect(noFlag.stderr).toMatch(/give --failed, --trial KEY or --all/);
  });
});

describe('resume, not restart', () => {
  const trainSpec = (name: string, epochs: number) => writeSpec(path.join(dir, `${name}.yaml`), [`name: ${name}`, 'base: tiny.yaml', 'codeVersion: test-v1', 'features: resnet', `set: { epochs: ${epochs}, validateEvery: 2, checkpointEvery: 100 }`]);

  async function trainingRun(store: SqliteTracker, sweepId: string) {
    const [trial] = await trialRuns(store, sweepId);
    const [train] = await store.searchRuns({ parentId: trial.id });
    return { trial, train: await store.getRun(train.id) };
  }

  it('a trial SIGINTed mid-epoch resumes from its checkpoint (not a failed attempt); its final checkpoint is byte-identical to an uninterrupted one', async () => {
    const db = path.join(dir, 'resume', 'runs.db');
    const plain = json<SweepRunResult>(await runCli(['sweep', 'run', trainSpec('plain', 3), '--store', db, '--json'], { cwd: dir }));
    expect(plain.status).toBe('finished');
    // the trial process raises SIGINT on itself after 4 training steps (11 train clips, batch 4: 3 steps per epoch → epoch 2, batch 1)
    const cut = await runCli(['sweep', 'run', trainSpec('cut', 3), '--store', db, '--json'], { cwd: dir, env: { VMR_TEST_INTERRUPT_AFTER_STEPS: '4' } });
    const r = json<SweepRunResult>(cut);
    expect(r).toMatchObject({ status: 'finished', finished: 1, failed: 0 });
    const store = openStore(db);
    try {
      const a = await trainingRun(store, plain.sweepId);
      const b = await trainingRun(store, r.sweepId);
      const perEpoch = Math.floor(Number(b.train.params['data.trainClips']) / 4) + (Number(b.train.params['data.trainClips']) % 4 >= 2 ? 1 : 0);
      expect(perEpoch).toBe(3);
      expect(4 % perEpoch).not.toBe(0); // the interruption fell inside an epoch
      expect(b.trial.tags).toMatchObject({ [TAGS.attempts]: '1', [TAGS.interruptions]: '1' });
      expect(b.trial.tags[TAGS.lastError]).toMatch(/attempt interrupted: trial process received SIGINT/);
      expect(b.train.tags.resumed).toBe('1'); // the same training run, continued
      expect(await store.searchRuns({ parentId: b.trial.id })).toHaveLength(1);
      expect(b.train.status).toBe('finished');
      // every step logged once, and the same losses as the uninterrupted run
      const la = await store.metricHistory(a.train.id, 'train.loss');
      const lb = await store.metricHistory(b.train.id, 'train.loss');
      expect(lb.map((p) => p.step)).toEqual(Array.from({ length: 9 }, (_, i) => i + 1));
      expect(lb.map((p) => p.value)).toEqual(la.map((p) => p.value));
      const final = async (runId: string) => sha256Hex(fs.readFileSync(await store.artifactFile(runId, 'checkpoints/final.ckpt')));
      expect(await final(b.train.id)).toBe(await final(a.train.id));
    } finally {
      await store.close();
    }
  });

  it('Ctrl-C on the coordinator: exit 130, the command that resumes is printed, the trial is requeued; that command finishes it from the checkpoint', async () => {
    const spec = trainSpec('ctrl-c', 12);
    const db = path.join(dir, 'ctrlc', 'runs.db');
    const coord = startCli(['sweep', 'run', spec, '--store', db], { cwd: dir });
    const store = openStore(db);
    try {
      const train = await waitFor(
        'the training run to log a step',
        async () => {
          if (!fs.existsSync(db)) return undefined;
          for (const t of await store.searchRuns({ status: 'running', tags: { 'vmr.kind': 'train' } })) if ((await store.latestMetrics(t.id))['train.loss']) return t.id;
          return undefined;
        },
        180_000,
        100,
      );
      coord.kill('SIGINT');
      const res = await finished(coord);
      expect(res.code).toBe(130);
      expect(res.stderr).toMatch(/Resume with:\n\s+vmr sweep run .*ctrl-c\.yaml --store .*ctrlc\/runs\.db/);
      const killed = await store.getRun(train);
      expect(killed.status).toBe('killed');
      expect(killed.artifacts.map((x) => x.path)).toContain('checkpoints/latest.ckpt');
      const [trial] = await store.searchRuns({ tags: { [TAGS.role]: 'trial', [TAGS.name]: 'ctrl-c' } });
      const t = await store.getRun(trial.id);
      expect(t.status).toBe('queued');
      expect(t.tags[TAGS.attempts]).toBe('0');
      const again = json<SweepRunResult>(await runCli(['sweep', 'run', spec, '--store', db, '--json'], { cwd: dir }));
      expect(again).toMatchObject({ status: 'finished', finished: 1, attempts: 1 });
      const done = await store.getRun(train);
      expect(done.status).toBe('finished');
      expect(done.tags.resumed).toBe('1');
      expect((await store.metricHistory(train, 'train.loss')).map((p) => p.step)).toEqual(Array.from({ length: 36 }, (_, i) => i + 1));
    } finally {
      await store.close();
    }
  });
});
