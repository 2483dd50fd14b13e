import type { MetricPoint, Tracker } from './types';

/**
 * Buffers metric points and writes them to a tracker in batches (every `maxPoints` points or
 * `maxDelayMs` ms), so a training loop can log per step without a transaction per point.
 */
export class MetricBuffer {
  private points: MetricPoint[] = [];
  private timer: NodeJS.Timeout | undefined;
  private pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly tracker: Tracker,
    private readonly runId: string,
    private readonly maxPoints = 1000,
    private readonly maxDelayMs = 2000,
  ) {}

  log(key: string, value: number, step?: number): void {
    this.points.push({ key, value, step, timestamp: Date.now() });
    if (this.points.length >= this.maxPoints) void this.flush();
    else if (!this.timer && this.maxDelayMs > 0) {
      this.timer = setTimeout(() => void this.flush(), this.maxDelayMs);
      this.timer.unref();
    }
  }

  logMany(values: Record<string, number>, step?: number): void {
    for (const [k, v] of Object.entries(values)) this.log(k, v, step);
  }

  /** Write everything buffered; resolves when it is committed. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.points;
    this.points = [];
    if (batch.length > 0) this.pending = this.pending.then(() => this.tracker.logMetrics(this.runId, batch));
    return this.pending;
  }
}
