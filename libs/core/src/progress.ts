import * as cliProgress from 'cli-progress';

export interface ProgressOptions {
  /** Label printed before the bar. */
  label: string;
  /** Total units of work (steps, clips…). */
  total: number;
  /** Unit name shown after the counts (e.g. "clips"). */
  unit?: string;
  /** Force silence (e.g. `--quiet`). Default: silent unless stderr is a TTY. */
  quiet?: boolean;
  /** Output stream; defaults to stderr so `--json` stdout stays clean. */
  stream?: NodeJS.WriteStream;
}

/** Extra fields shown on the bar, e.g. `{ loss: 0.31 }`. */
export type ProgressFields = Record<string, string | number>;

/**
 * Progress reporter for long work. Draws a `cli-progress` bar on a TTY (ETA and rate included);
 * silent when not a TTY or when `quiet` is set, so logs and CI output stay clean.
 */
export interface Progress {
  readonly enabled: boolean;
  /** Advance by `delta` units (default 1). */
  tick(delta?: number, fields?: ProgressFields): void;
  /** Set the absolute position. */
  update(value: number, fields?: ProgressFields): void;
  /** Stop drawing (idempotent). */
  stop(): void;
}

/**
 * A duration for progress lines: `42s`, `2m05s`, `1h07m`; `?` when unknown (NaN, ±Inf, negative). Seconds
 * are rounded once, before splitting, so 119.6 s is `2m00s`, never `1m60s`.
 */
export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * Rate and ETA of work that started at `startValue` (work already done before — e.g. the steps of a
 * resumed run — counts neither for the rate nor as time spent): units per second since the first
 * update, and the seconds left at that rate; NaN while unknown.
 */
export function rateAndEta(startValue: number, value: number, total: number, elapsedSec: number): { rate: number; etaSec: number } {
  const done = value - startValue;
  if (!(elapsedSec > 0) || done <= 0) return { rate: Number.NaN, etaSec: Number.NaN };
  const rate = done / elapsedSec;
  return { rate, etaSec: Math.max(0, total - value) / rate };
}

function formatFields(fields: ProgressFields | undefined): string {
  if (!fields) return '';
  return Object.entries(fields)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? (Number.isInteger(v) ? v : v.toPrecision(4)) : v}`)
    .join(' ');
}

class SilentProgress implements Progress {
  readonly enabled = false;
  tick(): void {}
  update(): void {}
  stop(): void {}
}

class BarProgress implements Progress {
  readonly enabled = true;
  private readonly bar: cliProgress.SingleBar;
  private value = 0;
  private stopped = false;

  constructor(opts: ProgressOptions) {
    const unit = opts.unit ? ` ${opts.unit}` : '';
    this.bar = new cliProgress.SingleBar(
      {
        format: `${opts.label} [{bar}] {percentage}% {value}/{total}${unit} | {rate}/s | ETA {eta} {fields}`,
        stream: opts.stream ?? process.stderr,
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 50,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
    this.total = opts.total;
    this.bar.start(opts.total, 0, { fields: '', rate: '-', eta: '?' });
  }

  private readonly total: number;
  /** Position and time of the first update: a resumed run starts at its checkpoint, not at 0. */
  private start: { value: number; time: number } | undefined;

  private payload(fields?: ProgressFields): Record<string, string> {
    this.start ??= { value: this.value, time: Date.now() };
    const { rate, etaSec } = rateAndEta(this.start.value, this.value, this.total, (Date.now() - this.start.time) / 1000);
    return { fields: formatFields(fields), rate: Number.isFinite(rate) ? rate.toFixed(2) : '-', eta: formatEta(etaSec) };
  }

  tick(delta = 1, fields?: ProgressFields): void {
    this.value += delta;
    this.bar.update(this.value, this.payload(fields));
  }

  update(value: number, fields?: ProgressFields): void {
    // the first update sets the starting point (e.g. a resumed run's checkpoint step)
    if (this.start === undefined) {
      this.value = value;
      this.start = { value, time: Date.now() };
    }
    this.value = value;
    this.bar.update(value, this.payload(fields));
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.bar.stop();
  }
}

/** Create a progress reporter: a bar on a TTY, silent otherwise or with `quiet`. */
export function createProgress(opts: ProgressOptions): Progress {
  const stream = opts.stream ?? process.stderr;
  if (opts.quiet || !stream.isTTY || process.env.VMR_QUIET === '1') return new SilentProgress();
  return new BarProgress(opts);
}
