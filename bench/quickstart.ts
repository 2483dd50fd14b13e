/**
 * `npm run bench -- quickstart [--workers N]`: wall time of the main job (`vmr quickstart`, what
 * `npm start` runs) from scratch — synthetic data generated, 6 trainings, 12 evaluations, tables —
 * in a temporary directory with a fresh store. Prints the tables' first lines, the wall time and the
 * load average around the run (the machine is shared: compare runs made at similar load).
 * Budget (issue 8): under 10 minutes on 2 cores.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';

const root = path.resolve(__dirname, '..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-bench-quickstart-'));
const i = process.argv.indexOf('--workers');
const extra = i >= 0 ? ['--workers', process.argv[i + 1]] : [];
const load0 = os.loadavg();
const t0 = Date.now();
const r = spawnSync(process.execPath, [path.join(root, 'bin', 'vmr.js'), 'quickstart', '--store', path.join(dir, 'runs.db'), '--json', ...extra], {
  cwd: dir,
  encoding: 'utf8',
  env: { ...process.env, VMR_QUIET: '1' },
  maxBuffer: 64 << 20,
});
const wall = (Date.now() - t0) / 1000;
const load1 = os.loadavg();
if (r.status !== 0) {
  process.stderr.write(r.stderr);
  throw new Error(`vmr quickstart exited with ${r.status}`);
}
const res = JSON.parse(r.stdout) as { trials: Array<{ status: string; evals: Array<{ model: string; features: string; dataset: { name: string }; metrics: { r1: number } }> }> };
const rows = res.trials.flatMap((t) => t.evals.map((e) => ({ model: e.model, features: e.features, dataset: e.dataset.name, r1: e.metrics.r1 === undefined ? null : Number(e.metrics.r1.toFixed(3)) })));
console.table(rows);
console.log(JSON.stringify({ bench: 'quickstart', wallSeconds: Number(wall.toFixed(1)), cpus: os.cpus().length, loadavgBefore: load0.map((x) => Number(x.toFixed(2))), loadavgAfter: load1.map((x) => Number(x.toFixed(2))), trialsFinished: res.trials.filter((t) => t.status === 'finished').length }));
fs.rmSync(dir, { recursive: true, force: true });
