/**
 * Periodic progress lines on stderr ("label 41% 12,345/30,000 2,100/s ETA 8s"), so long steps
 * show rate and ETA without cluttering stdout, which belongs to the command's result.
 */
export class Progress {
  private readonly started = performance.now();
  private lastPrinted = 0;
  private done = 0;

  private readonly label: string;
  private readonly total: number;
  private readonly intervalMs: number;
  private readonly write: (line: string) => void;

  constructor(
    label: string,
    total: number,
    intervalMs = 2000,
    write: (line: string) => void = (line) => process.stderr.write(line + '\n'),
  ) {
    this.label = label;
    this.total = total;
    this.intervalMs = intervalMs;
    this.write = write;
  }

  tick(count = 1, extra?: string): void {
    this.done += count;
    const now = performance.now();
    if (now - this.lastPrinted >= this.intervalMs) {
      this.lastPrinted = now;
      this.print(extra);
    }
  }

  finish(extra?: string): void {
    this.print(extra, true);
  }

  private print(extra: string | undefined, final = false): void {
    const seconds = (performance.now() - this.started) / 1000;
    const rate = seconds > 0 ? this.done / seconds : 0;
    const pct = this.total > 0 ? Math.min(100, (100 * this.done) / this.total) : 0;
    const eta = rate > 0 && this.total > this.done ? (this.total - this.done) / rate : 0;
    const parts = [
      this.label,
      this.total > 0 ? `${pct.toFixed(0)}%` : '',
      this.total > 0 ? `${fmt(this.done)}/${fmt(this.total)}` : fmt(this.done),
      `${fmt(rate)}/s`,
      final ? `done in ${seconds.toFixed(1)}s` : `ETA ${eta.toFixed(0)}s`,
      extra ?? '',
    ];
    this.write(parts.filter(Boolean).join(' '));
  }
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
