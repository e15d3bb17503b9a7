// A progress line for long headless runs (replay, run, demo) on stderr: drawn only when stderr is a
// terminal, silent otherwise (pipes, files, CI logs), at most ten redraws a second, and erased
// before anything else is printed and at the end.

/** The part of a tty stream the line needs (process.stderr, or a fake one in tests). */
export interface ProgressOut {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

export interface Progress {
  /** `done` in the same unit as the total (bytes read, virtual ms). */
  update(done: number): void;
  /** Erase the line (before other output, and at the end); the next update draws it again. */
  clear(): void;
}

export interface ProgressOptions {
  /** The position in words, e.g. "t=120s of 400s" (default: none). */
  describe?: (done: number) => string;
  now?: () => number;
}

/** A progress line on `out` if it is a terminal, else null: callers write `progress?.update(x)`. */
export function progressLine(out: ProgressOut, total: number, o: ProgressOptions = {}): Progress | null {
  if (!out.isTTY) return null;
  const now = o.now ?? (() => performance.now());
  const started = now();
  let lastDraw = -Infinity;
  let drawn = false;
  return {
    update(done: number) {
      const t = now();
      if (t - lastDraw < 100) return;
      lastDraw = t;
      const share = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
      const width = Math.max(10, Math.min(40, (out.columns ?? 80) - 50));
      const fill = Math.round(share * width);
      const secs = (t - started) / 1000;
      const eta = share > 0 ? secs / share - secs : 0;
      const what = o.describe ? ` ${o.describe(done)}` : '';
      out.write(`\r\x1b[K[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${(share * 100).toFixed(0).padStart(3)}%${what}  ${secs.toFixed(1)} s, ~${eta.toFixed(0)} s left`);
      drawn = true;
    },
    clear() {
      if (drawn) out.write('\r\x1b[K');
      drawn = false;
      lastDraw = -Infinity;
    },
  };
}
