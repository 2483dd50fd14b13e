import { Writable } from 'stream';
import { createProgress } from './progress';

/** A writable stream that records what is written and claims (or not) to be a TTY. */
function sink(isTTY: boolean): NodeJS.WriteStream & { text: () => string } {
  let out = '';
  const w = new Writable({
    write(chunk, _enc, cb) {
      out += chunk.toString();
      cb();
    },
  }) as unknown as NodeJS.WriteStream & { text: () => string };
  Object.assign(w, { isTTY, columns: 120, cursorTo: () => true, clearLine: () => true, moveCursor: () => true, text: () => out });
  return w;
}

describe('createProgress', () => {
  const saved = process.env.VMR_QUIET;
  afterEach(() => {
    if (saved === undefined) delete process.env.VMR_QUIET;
    else process.env.VMR_QUIET = saved;
  });

  it('is silent when the stream is not a TTY', () => {
    const s = sink(false);
    const p = createProgress({ label: 'train', total: 10, stream: s });
    p.tick(5);
    p.stop();
    expect(p.enabled).toBe(false);
    expect(s.text()).toBe('');
  });

  it('is silent with quiet: true or VMR_QUIET=1 even on a TTY', () => {
    const s = sink(true);
    expect(createProgress({ label: 'x', total: 1, stream: s, quiet: true }).enabled).toBe(false);
    process.env.VMR_QUIET = '1';
    expect(createProgress({ label: 'x', total: 1, stream: s }).enabled).toBe(false);
    expect(s.text()).toBe('');
  });

  it('draws a bar with label, counts, unit and fields on a TTY', () => {
    delete process.env.VMR_QUIET;
    const s = sink(true);
    const p = createProgress({ label: 'ingest', total: 4, unit: 'clips', stream: s });
    p.tick(1, { loss: 0.123456 });
    p.update(4, { loss: 0.5 });
    p.stop();
    p.stop(); // idempotent
    expect(p.enabled).toBe(true);
    expect(s.text()).toMatch(/ingest \[.*\] 100% 4\/4 clips/);
    expect(s.text()).toMatch(/loss=0\.5/);
  });
});

describe('rate and ETA', () => {
  const { formatEta, rateAndEta } = jest.requireActual('./progress') as typeof import('./progress');
  it('formats durations without 60-second minutes and unknowns as ?', () => {
    expect(formatEta(119.6)).toBe('2m00s'); // cli-progress printed "1m60s"-style values here
    expect(formatEta(179.5)).toBe('3m00s');
    expect(formatEta(59.4)).toBe('59s');
    expect(formatEta(3600 + 7 * 60 + 59)).toBe('1h07m');
    expect(formatEta(Number.NaN)).toBe('?'); // not "NFs"
    expect(formatEta(Number.POSITIVE_INFINITY)).toBe('?');
    expect(formatEta(-1)).toBe('?');
  });
  it('counts only the work done since the first update (a resumed run does not start at a huge rate)', () => {
    // resumed at step 200 of 300; 10 steps in 5 s: 2 steps/s, 90 left → 45 s (not 200/s)
    expect(rateAndEta(200, 210, 300, 5)).toEqual({ rate: 2, etaSec: 45 });
    const none = rateAndEta(200, 200, 300, 5);
    expect(Number.isNaN(none.rate) && Number.isNaN(none.etaSec)).toBe(true);
  });
  it('a bar started at a resumed position shows the rate of this process only', () => {
    delete process.env.VMR_QUIET;
    const s = sink(true);
    const p = createProgress({ label: 'train', total: 300, unit: 'steps', stream: s });
    p.update(200);
    p.update(201);
    p.stop();
    expect(s.text()).not.toMatch(/NF|\b\d+m60s/);
    expect(s.text()).not.toMatch(/[1-9]\d{2,}\.\d\d\/s/); // no 200.00/s: only 1 step was done here
  });
});
