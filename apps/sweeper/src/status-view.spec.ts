import { Writable } from 'stream';
import { SweepStatusView, liveLine } from './status-view';

function sink(isTTY: boolean): NodeJS.WriteStream & { text: () => string } {
  let out = '';
  const w = new Writable({
    write(chunk, _enc, cb) {
      out += chunk.toString();
      cb();
    },
  }) as unknown as NodeJS.WriteStream & { text: () => string };
  Object.assign(w, { isTTY, columns: 200, text: () => out });
  return w;
}

describe('sweep status view', () => {
  const saved = process.env.VMR_QUIET;
  beforeEach(() => delete process.env.VMR_QUIET);
  afterAll(() => {
    if (saved !== undefined) process.env.VMR_QUIET = saved;
  });

  it('off a TTY: one line per event, a summary every interval with each running trial (epoch, loss, validation); the ETA counts only trials run now', () => {
    let now = 0;
    const s = sink(false);
    // 10 trials, 6 finished before this invocation: 4 to run now
    const v = new SweepStatusView({ label: 'sweep g', toRun: 4, quiet: false, stream: s, summaryEverySec: 30, now: () => now });
    v.event('started   t006 (features=clip)');
    const live = [{ label: 't006 (features=clip)', epoch: 3, epochs: 10, loss: 0.12345, val: { name: 'val.r1', value: 0.25 } }];
    now = 10_000;
    v.update({ total: 10, done: 6, running: 1, failed: 0, queued: 3, live });
    expect(s.text()).toBe('started   t006 (features=clip)\n'); // no summary before the interval
    now = 60_000;
    v.trialEnded(); // one trial in 60 s → 3 left ≈ 180 s (the 6 earlier trials do not make it look fast)
    v.update({ total: 10, done: 7, running: 1, failed: 0, queued: 2, live });
    const lines = s.text().trim().split('\n');
    expect(lines[1]).toBe('sweep g: 7/10 done, 1 running, 2 queued, 0 failed | elapsed 1m00s, ETA 3m00s (1/4 run now)');
    expect(lines[2]).toBe('  epoch 3/10  loss 0.1235  val.r1 0.2500  t006 (features=clip)');
    v.stop();
    expect(s.text().trim().split('\n')).toHaveLength(4); // a final summary
  });

  it('ETA is unknown ("?", not NaN) until a trial of this invocation ends; quiet prints nothing', () => {
    const s = sink(false);
    const v = new SweepStatusView({ label: 'x', toRun: 2, quiet: false, stream: s, summaryEverySec: 0, now: () => 5000 });
    v.update({ total: 2, done: 0, running: 1, failed: 0, queued: 1 });
    expect(s.text()).toMatch(/ETA \? \(0\/2 run now\)/);
    expect(s.text()).not.toMatch(/NaN|NF/);
    const q = sink(false);
    const quiet = new SweepStatusView({ label: 'x', toRun: 1, quiet: true, stream: q });
    quiet.event('e');
    quiet.update({ total: 1, done: 0, running: 0, failed: 0, queued: 1 });
    quiet.stop();
    expect(q.text()).toBe('');
  });

  it('on a TTY: the block is redrawn in place (cursor up), events print above it', () => {
    const s = sink(true);
    const v = new SweepStatusView({ label: 'sweep g', toRun: 1, quiet: false, stream: s, now: () => 0 });
    v.update({ total: 1, done: 0, running: 1, failed: 0, queued: 0, live: [{ label: 't000' }] });
    v.event('finished  t000');
    expect(s.text()).toMatch(/\x1b\[2A\x1b\[0Jfinished {2}t000\nsweep g: 0\/1 done/);
    expect(liveLine({ label: 't1', epoch: 2, resumed: true })).toBe('epoch 2  (resumed)  t1');
  });
});
