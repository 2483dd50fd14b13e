import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { arrayScript, validateSlurmOptions } from './slurm-executor';
import { checkRedis, isLoopbackHost, trialDatasets, uriHost, workerPreflight } from './remote-checks';
import { TAGS } from './sweep-store';

describe('remote checks', () => {
  it('loopback hosts are recognised, routable ones are not', () => {
    expect(['127.0.0.1', '127.3.4.5', 'localhost', '::1', '[::1]', '0.0.0.0'].map(isLoopbackHost)).toEqual([true, true, true, true, true, true]);
    expect(['10.0.0.5', 'head.cluster', '192.168.1.2'].map(isLoopbackHost)).toEqual([false, false, false]);
    expect(uriHost('http://10.213.0.1:5000')).toBe('10.213.0.1');
    expect(uriHost('/tmp/runs.db')).toBeUndefined();
  });

  it("a trial's datasets come from its config and evaluate tags; a missing one is named by the worker check", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-rc-'));
    try {
      const tags = { [TAGS.config]: JSON.stringify({ dataset: dir, epochs: 1 }), [TAGS.evaluate]: JSON.stringify([{ dataset: dir, name: 'a' }, { dataset: '/nonexistent/x', name: 'b' }]) };
      expect(trialDatasets({ tags })).toEqual([dir, '/nonexistent/x']);
      // An existing folder without dataset.json (an unmounted share's mount point) is missing too.
      expect(workerPreflight({ trialRunId: 'r1', datasets: [dir] })).toMatch(/trial r1: dataset path\(s\) '.*vmr-rc-.*' do not exist on worker .*no dataset.json/);
      fs.writeFileSync(path.join(dir, 'dataset.json'), '{}');
      expect(workerPreflight({ trialRunId: 'r1', datasets: [dir] })).toBeUndefined();
      expect(workerPreflight({ trialRunId: 'r1', datasets: trialDatasets({ tags }) })).toMatch(/trial r1: dataset path\(s\) '\/nonexistent\/x' do not exist on worker/);
      // A pinned (non-git) code version is not compared with the checkout.
      expect(workerPreflight({ trialRunId: 'r1', datasets: [dir], codeVersion: 'test-v1' })).toBeUndefined();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a Redis URL where nothing listens is an error within the timeout', async () => {
    const t0 = Date.now();
    await expect(checkRedis('redis://127.0.0.1:1', 2000)).rejects.toThrow(/--redis redis:\/\/127\.0\.0\.1:1: Redis is not reachable \(.*ECONNREFUSED 127\.0\.0\.1:1\)/);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });
});

describe('Slurm array script', () => {
  it('maps task index to trial, throttles, and carries the sbatch options', () => {
    const s = arrayScript({ name: 'λ grid', runIds: ['aa', 'bb', 'cc'], workerUri: 'http://10.0.0.5:5000', logDir: '/shared/logs', throttle: 2, slurm: { partition: 'gpu', gpusPerTrial: 1, time: '04:00', sbatchArgs: ['--mem=8G'] } });
    expect(s.split('\n').filter((l) => l.startsWith('#SBATCH'))).toEqual([
      '#SBATCH --job-name=vmr-__grid',
      '#SBATCH --array=0-2%2',
      '#SBATCH --output=/shared/logs/slurm-%A_%a.log',
      '#SBATCH --ntasks=1',
      '#SBATCH --partition=gpu',
      '#SBATCH --gpus-per-task=1',
      '#SBATCH --time=04:00',
      '#SBATCH --mem=8G',
    ]);
    expect(s).toMatch(/RUNS=\(aa bb cc\)\nRUN="\$\{RUNS\[\$SLURM_ARRAY_TASK_ID\]\}"/);
    expect(s).toMatch(/sweep trial "\$RUN" --tracking-uri 'http:\/\/10\.0\.0\.5:5000' --quiet\n$/);
  });

  it('bad --time, --gpus-per-trial and --sbatch-arg values are clear errors naming the flag', () => {
    expect(() => validateSlurmOptions({ time: '4h' })).toThrow(/--time '4h': expected HH:MM/);
    expect(() => validateSlurmOptions({ gpusPerTrial: 1.5 })).toThrow(/--gpus-per-trial must be a non-negative integer/);
    expect(() => validateSlurmOptions({ sbatchArgs: ['mem=8G'] })).toThrow(/--sbatch-arg 'mem=8G'/);
    expect(() => validateSlurmOptions({ time: '1-02:00:00', gpusPerTrial: 2, sbatchArgs: ['--mem=8G'] })).not.toThrow();
  });
});
