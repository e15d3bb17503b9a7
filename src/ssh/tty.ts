// Ink over an ssh channel (docs/tui-stack.md, "Ink over ssh"): there is no server-side pty, so the adapters
// do what a tty would: \n -> \r\n (ONLCR), isTTY, columns/rows and 'resize' on window-change,
// and a no-op setRawMode/ref/unref on the input (the client's ssh already made its tty raw).
import {Writable} from 'node:stream';

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
