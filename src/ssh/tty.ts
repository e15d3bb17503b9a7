// Ink over an ssh channel (docs/tui-stack.md, "Ink over ssh"): there is no server-side pty, so the adapters
// do what a tty would: \n -> \r\n (ONLCR), isTTY, columns/rows and 'resize' on window-change,
// and a no-op setRawMode/ref/unref on the input (the client's ssh already made its tty raw).
import {Readable, Writable} from 'node:stream';
import {StringDecoder} from 'node:string_decoder';
import {guardInkInput} from '../ui/ink-input-guard.js';

export interface PtyInfo {
  cols: number;
  rows: number;
  term: string;
}

export interface TtySink {
  write(data: string): unknown;
  readonly writable?: boolean;
  readonly destroyed?: boolean;
}

export class SshTtyOut extends Writable {
  readonly isTTY = true as const;
  columns: number;
  rows: number;
  /** Bytes written to the channel so far. */
  bytes = 0;

  constructor(private readonly sink: TtySink, pty: {cols: number; rows: number},
    private readonly gate: (len: number) => boolean = () => true) {
    super({decodeStrings: false});
    this.columns = Math.max(1, pty.cols || 80);
    this.rows = Math.max(1, pty.rows || 24);
  }

  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    const s = (typeof chunk === 'string' ? chunk : chunk.toString('utf8')).replace(/\r?\n/g, '\r\n');
    // a closed channel or a client past the hard backlog limit: the bytes go nowhere
    if (this.sink.writable !== false && !this.sink.destroyed && this.gate(s.length)) {
      this.bytes += s.length;
      this.sink.write(s);
    }
    cb();
  }

  resize(cols: number, rows: number): void {
    cols = Math.max(1, cols || this.columns);
    rows = Math.max(1, rows || this.rows);
    if (cols === this.columns && rows === this.rows) return;
    this.columns = cols;
    this.rows = rows;
    this.emit('resize');
  }

  getColorDepth(): number { return 8; }
  hasColors(): boolean { return true; }
  getWindowSize(): [number, number] { return [this.columns, this.rows]; }
}

/** The channel as Ink's stdin: a TTY in raw mode as far as Ink can tell. */
export function asTtyIn<T extends object>(channel: T): NodeJS.ReadStream {
  const c = channel as unknown as Record<string, unknown>;
  c.isTTY = true;
  c.isRaw = false;
  c.setRawMode = (m: boolean) => { c.isRaw = m; return channel; };
  c.ref = () => channel;
  c.unref = () => channel;
  return channel as unknown as NodeJS.ReadStream;
}

export interface InputLimits {
  /** Characters a session may send at once before the rate applies. */
  burst: number;
  /** Characters per second after the burst. */
  perSec: number;
  /** Characters handed to the UI per tick at most (one tick's work on the shared event loop). */
  perTick: number;
  tickMs: number;
  /** Characters held back at most; beyond, the channel is paused (ssh flow control backs the client up). */
  maxQueued: number;
}

/** Typing, key repeat and pasting a command line fit; a flood of keys is spread out. */
export const INPUT_LIMITS: InputLimits = {burst: 1024, perSec: 256, perTick: 32, tickMs: 25, maxQueued: 16 * 1024};

/**
 * A session's keys on their way from the ssh channel to Ink, at a bounded rate: every key
 * re-renders the session's UI on the event loop the engine and the other sessions share, and a
 * pasted megabyte of keys stalled that loop for most of a second. Characters beyond the rate wait
 * here (bounded, then the channel is paused) and are handed over a tick at a time.
 */
export class InputThrottle extends Readable {
  private queue = '';
  private tokens: number;
  private at: number;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private paused = false;
  private readonly decoder = new StringDecoder('utf8');
  /** Characters received / held back at most (for tests and the soak). */
  received = 0;
  peakQueued = 0;

  constructor(private readonly src: NodeJS.ReadableStream, private readonly o: InputLimits = INPUT_LIMITS,
    private readonly now: () => number = () => performance.now()) {
    super();
    this.tokens = o.burst;
    this.at = now();
    src.on('data', (d: Buffer | string) => this.onData(typeof d === 'string' ? d : this.decoder.write(d)));
    src.on('close', () => this.stop());
  }

  override _read(): void { /* data is pushed as the rate allows */ }

  /** Keys Ink's input handling threw on (dropped; the session and the server go on; see guardInkInput). */
  private readonly inkGuard = guardInkInput(this);
  get inputErrors(): number { return this.inkGuard.errors; }

  private onData(s: string): void {
    if (this.destroyed) return;
    this.received += s.length;
    this.queue += s;
    this.peakQueued = Math.max(this.peakQueued, this.queue.length);
    if (this.queue.length >= this.o.maxQueued && !this.paused) {
      this.paused = true;
      this.src.pause();
    }
    if (!this.timer) this.drain();
  }

  private drain(): void {
    this.timer = null;
    const t = this.now();
    this.tokens = Math.min(this.o.burst, this.tokens + ((t - this.at) / 1000) * this.o.perSec);
    this.at = t;
    let n = Math.min(this.queue.length, this.o.perTick, Math.floor(this.tokens));
    // never split a surrogate pair
    if (n > 0 && n < this.queue.length && /[\ud800-\udbff]/.test(this.queue[n - 1]!)) n--;
    if (n > 0) {
      const piece = this.queue.slice(0, n);
      this.queue = this.queue.slice(n);
      this.tokens -= n;
      this.push(piece);
    }
    if (this.paused && this.queue.length < this.o.maxQueued / 2) {
      this.paused = false;
      this.src.resume();
    }
    if (this.queue.length > 0 && !this.destroyed) this.timer = setTimeout(() => this.drain(), this.o.tickMs);
  }

  get queued(): number {
    return this.queue.length;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.queue = '';
    if (!this.destroyed) this.push(null);
  }
}
