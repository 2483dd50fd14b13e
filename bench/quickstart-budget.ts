/**
 * `npm run bench -- quickstart-budget [--sweep-settings 4] [--sweep-seeds 3]`: the main job's compute
 * budget from single measurements, so its size can be chosen before running it. Generates the
 * quickstart's synthetic datasets (experiments/quickstart.yaml `datasets` recipes) in a temporary
 * directory, then measures CPU seconds (user + sys of the child, /usr/bin/time) of one training and one
 * evaluation per model kind with the quickstart's config, and one oracle row; extrapolates to the
 * quickstart grid (models × views × seeds) plus an OF-VM-Net λ sweep, divided over 2 cores.
 * CPU seconds, not wall time: the machine is shared, and CPU time is what 2 idle cores would spend.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { SynthRecipeSchema, synthRecipeOptions, writeSyntheticDataset } from '@vmr/data';
import { readConfigFile } from '@vmr/pipeline';

const root = path.resolve(__dirname, '..');
const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const sweepSettings = arg('--sweep-settings', 4);
const sweepSeeds = arg('--sweep-seeds', 3);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-bench-qs-budget-'));
const file = path.join(root, 'experiments', 'quickstart.yaml');
const raw = readConfigFile(file) as Record<string, unknown>;
const grid = (raw.grid ?? {}) as Record<string, unknown[]>;
const datasets = (raw.datasets as Array<{ path: string; synth: unknown }>).map((d) => ({ path: path.join(dir, path.basename(d.path)), recipe: SynthRecipeSchema.parse(d.synth) }));

const cpu0 = process.cpuUsage();
const t0 = Date.now();
for (const d of datasets) writeSyntheticDataset({ ...synthRecipeOptions(d.recipe), out: d.path });
const c = process.cpuUsage(cpu0);
const gen = { cpuSeconds: (c.user + c.system) / 1e6, wallSeconds: (Date.now() - t0) / 1000 };
const [himv, symmv] = datasets.map((d) => d.path);
const store = path.join(dir, 'runs.db');

function timed(args: string[]): { cpuSeconds: number; wallSeconds: number; stdout: string } {
  const timeFile = path.join(dir, 'time.txt');
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S %e', '-o', timeFile, process.execPath, path.join(root, 'bin', 'vmr.js'), ...args, '--store', store], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, VMR_QUIET: '1' },
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`vmr ${args.join(' ')} exited with ${r.status}: ${r.stderr}`);
  const [u, s, e] = fs.readFileSync(timeFile, 'utf8').trim().split(/\s+/).slice(-3).map(Number);
  return { cpuSeconds: u + s, wallSeconds: e, stdout: r.stdout };
}

const kinds = [
  { model: 'vm-net', features: 'clip' },
  { model: 'vm-net', features: 'i3d' },
  { model: 'of-vm-net', features: 'clip' },
  { model: 'of-vm-net', features: 'i3d' },
];
const measured = kinds.map((k) => {
  const train = timed(['train', '--config', file, '--set', `dataset=${himv}`, '--set', `model=${k.model}`, '--set', `features=${k.features}`, '--set', 'experiment=budget', '--quiet', '--json']);
  const runId = (JSON.parse(train.stdout) as { runId: string }).runId;
  const ev = timed(['eval', '--run', runId, '--dataset', symmv, '--json']);
  return { ...k, trainCpu: train.cpuSeconds, trainWall: train.wallSeconds, evalCpu: ev.cpuSeconds };
});
const oracle = timed(['eval', '--oracle', 'motion', '--dataset', himv, '--split', 'test', '-e', 'budget', '--json']);

const views = (grid.features ?? ['resnet', 'clip', 'i3d']).length;
const seeds = (grid.seed ?? [0]).length;
const evalsPerModel = ((raw.evaluate as unknown[]) ?? []).length;
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const vm = measured.filter((m) => m.model === 'vm-net');
const of = measured.filter((m) => m.model === 'of-vm-net');
const perVm = mean(vm.map((m) => m.trainCpu + evalsPerModel * m.evalCpu));
const perOf = mean(of.map((m) => m.trainCpu + evalsPerModel * m.evalCpu));
const tableCpu = views * seeds * (perVm + perOf);
// The λ sweep: OF-VM-Net (CLIP view); its all-ones setting is the table's row (reused).
const ofClip = of.find((m) => m.features === 'clip')!;
const sweepCpu = Math.max(0, sweepSettings - 1) * sweepSeeds * (ofClip.trainCpu + evalsPerModel * ofClip.evalCpu);
const oraclesCpu = 2 * evalsPerModel * oracle.cpuSeconds;
const totalCpu = gen.cpuSeconds + tableCpu + sweepCpu + oraclesCpu;
console.table(measured.map((m) => ({ ...m, trainCpu: +m.trainCpu.toFixed(1), trainWall: +m.trainWall.toFixed(1), evalCpu: +m.evalCpu.toFixed(1) })));
console.log(
  JSON.stringify({
    bench: 'quickstart-budget',
    generate: { cpuSeconds: +gen.cpuSeconds.toFixed(1), wallSeconds: +gen.wallSeconds.toFixed(1) },
    oracleRowCpuSeconds: +oracle.cpuSeconds.toFixed(1),
    grid: { views, seeds, evaluationsPerModel: evalsPerModel },
    sweep: { settings: sweepSettings, seeds: sweepSeeds, newTrainings: Math.max(0, sweepSettings - 1) * sweepSeeds },
    cpuSeconds: { generate: +gen.cpuSeconds.toFixed(0), tables: +tableCpu.toFixed(0), sweep: +sweepCpu.toFixed(0), oracles: +oraclesCpu.toFixed(0), total: +totalCpu.toFixed(0) },
    estimatedWallSecondsOn2IdleCores: +(totalCpu / 2).toFixed(0),
    loadavg: os.loadavg().map((x) => +x.toFixed(2)),
  }),
);
fs.rmSync(dir, { recursive: true, force: true });
