// Bounds on what one ssh client can ask of the shared server (docs/ssh.md, "Bounds"). A reader's
// pty request is the size of a terminal the server draws into for every frame: unbounded, a
// 10000x5000 terminal grew the heap to 4 GiB. Everything a client sends is clamped or refused here.

/** Terminal sizes the UI is drawn at: larger requests are clamped, 0 means the 80x24 default. */
export const PTY_BOUNDS = {minCols: 1, maxCols: 400, minRows: 1, maxRows: 150} as const;
/** Window changes are applied at most this often; the latest one wins. */
export const RESIZE_INTERVAL_MS = 100;
/** Session channels open at once on one connection (sshd's MaxSessions default). */
export const CHANNELS_PER_CONN = 10;
/** exec requests per connection: a burst, then this many per second. */
export const EXEC_BURST = 20;
export const EXECS_PER_SEC = 5;
/** TERM names longer than this are cut (the value is only shown, never interpreted). */
export const MAX_TERM = 64;
/** exec command lines longer than this are refused. */
export const MAX_EXEC_LINE = 4096;

/** A client's terminal size within PTY_BOUNDS (non-numbers and 0 give the 80x24 default). */
export function clampPty(cols: unknown, rows: unknown): {cols: number; rows: number} {
  const one = (v: unknown, dflt: number, lo: number, hi: number) => {
    const n = typeof v === 'number' && Number.isFinite(v) ? Math.floor(v) : 0;
    return n <= 0 ? dflt : Math.min(hi, Math.max(lo, n));
  };
  return {
    cols: one(cols, 80, PTY_BOUNDS.minCols, PTY_BOUNDS.maxCols),
    rows: one(rows, 24, PTY_BOUNDS.minRows, PTY_BOUNDS.maxRows),
  };
}

/**
 * Coalesces window changes: the first one is applied at once, later ones at most every
 * `intervalMs`, only the latest of a burst. A client sending thousands per second costs the
 * server one re-layout per interval.
 */
export class ResizeThrottle {
  private pending: {cols: number; rows: number} | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** Window changes received / applied. */
  received = 0;
  applied = 0;

  constructor(private readonly apply: (cols: number, rows: number) => void, private readonly intervalMs = RESIZE_INTERVAL_MS) {}

  request(cols: unknown, rows: unknown): void {
    this.received++;
    const size = clampPty(cols, rows);
    if (this.timer) { this.pending = size; return; }
    this.fire(size);
  }

  private fire(size: {cols: number; rows: number}): void {
    this.applied++;
    this.apply(size.cols, size.rows);
    this.timer = setTimeout(() => {
      this.timer = null;
      const next = this.pending;
      this.pending = null;
      if (next) this.fire(next);
    }, this.intervalMs);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending = null;
  }
}

/** A token bucket on a wall clock. */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(private readonly burst: number, private readonly perSec: number, private readonly now: () => number = Date.now) {
    this.tokens = burst;
    this.at = now();
  }

  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.at) / 1000) * this.perSec);
    this.at = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
