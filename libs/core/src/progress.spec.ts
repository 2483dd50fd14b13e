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
