import { createProgress, type Progress } from '@vmr/core';
import { formatDuration } from '@vmr/tracking';

export interface StatusCounts {
  total: number;
  done: number;
  running: number;
  failed: number;
  queued: number;
  best?: { metric: string; value: number; trial: string };
}

/**
 * The live sweep view: a progress bar (done / total, ETA from the trial rate) with running, failed
 * and best-so-far fields. Drawn on stderr when it is a TTY; silent otherwise or with `quiet`.
 */
export class SweepStatusView {
  private readonly bar: Progress;
  private lastDone = 0;
  private readonly started = Date.now();

  constructor(label: string, total: number, done: number, quiet: boolean) {
    this.bar = createProgress({ label, total, unit: 'trials', quiet });
    this.lastDone = done;
    if (done > 0) this.bar.update(done, {});
  }

  get enabled(): boolean {
    return this.bar.enabled;
  }

  update(c: StatusCounts): void {
    const fields: Record<string, string | number> = { running: c.running, failed: c.failed, queued: c.queued };
    if (c.best) fields.best = `${c.best.metric}=${c.best.value.toPrecision(4)}@${c.best.trial}`;
    fields.elapsed = formatDuration(this.started, Date.now());
    this.bar.update(c.done, fields);
    this.lastDone = c.done;
  }

  stop(): void {
    this.bar.stop();
  }
}
