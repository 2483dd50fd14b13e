/**
 * The live sweep view. On a TTY: a block redrawn in place — the aggregate line (done / total, running,
 * failed, best so far, ETA) and one line per running trial (epoch, loss, last validation metric). Off a
 * TTY (logs, CI): one line per trial event (started, finished, failed, interrupted, aliased) and a
 * periodic summary line. The ETA counts only trials run in this invocation (trials finished before it
 * and aliases are not work done now). Silent with `quiet` / VMR_QUIET=1.
 */
import { formatEta } from '@vmr/core';

export interface LiveTrial {
  label: string;
  epoch?: number;
  epochs?: number;
  loss?: number;
  /** Last validation metric (name, value), e.g. val.r1. */
  val?: { name: string; value: number };
  /** Set when the training run continues an interrupted one. */
  resumed?: boolean;
}

export interface StatusCounts {
  total: number;
  done: number;
  running: number;
  failed: number;
  queued: number;
  /** λ aliases waiting for their canonical trial (not counted in `queued`). */
  aliases?: number;
  best?: { metric: string; value: number; trial: string };
  /** Running trials with their training progress. */
  live?: LiveTrial[];
}

export interface StatusViewOptions {
  label: string;
  /** Trials this invocation will run (the ETA's denominator). */
  toRun: number;
  quiet: boolean;
  stream?: NodeJS.WriteStream;
  /** Seconds between summary lines off a TTY (default 30). */
  summaryEverySec?: number;
  now?: () => number;
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? v.toPrecision(4) : v.toExponential(3);
}

/** A running trial's line: its progress first (so a narrow terminal cuts the label, not the numbers), then the trial. */
export function liveLine(t: LiveTrial): string {
  const parts: string[] = [];
  if (t.epoch !== undefined) parts.push(`epoch ${t.epoch}${t.epochs ? `/${t.epochs}` : ''}`);
  if (t.loss !== undefined && Number.isFinite(t.loss)) parts.push(`loss ${fmt(t.loss)}`);
  if (t.val) parts.push(`${t.val.name} ${fmt(t.val.value)}`);
  if (t.resumed) parts.push('(resumed)');
  if (parts.length === 0) parts.push('starting');
  return [...parts, t.label].filter(Boolean).join('  ');
}

export class SweepStatusView {
  private readonly stream: NodeJS.WriteStream;
  readonly tty: boolean;
  readonly enabled: boolean;
  private readonly started: number;
  private readonly now: () => number;
  private readonly summaryEveryMs: number;
  private lastSummary: number;
  private drawnLines = 0;
  /** Trials that ended (finished or failed) in this invocation. */
  private endedHere = 0;
  private last: StatusCounts | undefined;
  private stopped = false;

  constructor(private readonly opts: StatusViewOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = !!this.stream.isTTY;
    this.enabled = !opts.quiet && process.env.VMR_QUIET !== '1';
    this.now = opts.now ?? Date.now;
    this.started = this.now();
    this.lastSummary = this.started;
    this.summaryEveryMs = (opts.summaryEverySec ?? 30) * 1000;
  }

  /** A trial ended in this invocation (counts towards the ETA). */
  trialEnded(): void {
    this.endedHere++;
  }

  /** Seconds left for this invocation's trials, from its own rate; NaN until one ended. */
  etaSec(): number {
    const elapsed = (this.now() - this.started) / 1000;
    if (this.endedHere === 0 || elapsed <= 0) return Number.NaN;
    return (Math.max(0, this.opts.toRun - this.endedHere) * elapsed) / this.endedHere;
  }

  summary(c: StatusCounts): string {
    const best = c.best ? ` | best ${c.best.metric}=${fmt(c.best.value)} (${c.best.trial})` : '';
    const elapsed = formatEta((this.now() - this.started) / 1000);
    return `${this.opts.label}: ${c.done}/${c.total} done, ${c.running} running, ${c.queued} queued${c.aliases ? ` (+${c.aliases} λ aliases)` : ''}, ${c.failed} failed${best} | elapsed ${elapsed}, ETA ${formatEta(this.etaSec())} (${this.endedHere}/${this.opts.toRun} run now)`;
  }

  /** One event line (printed above the live block on a TTY; as a log line otherwise). */
  event(line: string): void {
    if (!this.enabled || this.stopped) return;
    if (this.tty) this.clear();
    this.stream.write(`${line}\n`);
    if (this.tty && this.last) this.draw(this.last);
  }

  update(c: StatusCounts): void {
    this.last = c;
    if (!this.enabled || this.stopped) return;
    if (this.tty) {
      this.clear();
      this.draw(c);
    } else if (this.now() - this.lastSummary >= this.summaryEveryMs) {
      this.lastSummary = this.now();
      this.stream.write(`${this.summary(c)}\n`);
      for (const t of c.live ?? []) this.stream.write(`  ${liveLine(t)}\n`);
    }
  }

  private draw(c: StatusCounts): void {
    const cols = Math.max(40, this.stream.columns ?? 100);
    const lines = [this.summary(c), ...(c.live ?? []).map((t) => `  ${liveLine(t)}`)].map((l) => (l.length > cols - 1 ? `${l.slice(0, cols - 2)}…` : l));
    this.stream.write(lines.join('\n') + '\n');
    this.drawnLines = lines.length;
  }

  private clear(): void {
    if (this.drawnLines > 0) this.stream.write(`\x1b[${this.drawnLines}A\x1b[0J`);
    this.drawnLines = 0;
  }

  stop(): void {
    if (this.stopped) return;
    if (this.enabled && this.last && !this.tty) this.stream.write(`${this.summary(this.last)}\n`);
    this.stopped = true;
  }
}
