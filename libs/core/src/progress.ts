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
        format: `${opts.label} [{bar}] {percentage}% {value}/{total}${unit} | {rate}/s | ETA {eta_formatted} {fields}`,
        stream: opts.stream ?? process.stderr,
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 50,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(opts.total, 0, { fields: '', rate: '0' });
  }

  private started = Date.now();

  private payload(fields?: ProgressFields): Record<string, string> {
    const secs = (Date.now() - this.started) / 1000;
    return { fields: formatFields(fields), rate: secs > 0 ? (this.value / secs).toFixed(2) : '0' };
  }

  tick(delta = 1, fields?: ProgressFields): void {
    this.value += delta;
    this.bar.update(this.value, this.payload(fields));
  }

  update(value: number, fields?: ProgressFields): void {
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
