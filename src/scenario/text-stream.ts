// Streamed output of `lvsdeck run` and `lvsdeck replay` (docs/bounds.md): what can be written as the
// run goes is written then, in batches, instead of being held until the end. Text with --trace:
// every trace line and report as it comes; --json --packets: the records; --json --trace: the
// trace lines. Only --json --packets --trace holds something (the trace, within BOUNDS.traceLines).
import {PacketStream, BATCH_CHARS} from './packet-stream.js';
import {type OutputBlock, type RunOptions, type RunResult, blockText, renderText} from './runner.js';
import {runJson} from './json.js';

/** The text output of renderText, written block by block. */
export class TextStream {
  private buf = '';
  private prev: OutputBlock['kind'] | null = null;
  /** Reports before the first trace line: without any trace line the output is renderText's. */
  private held: OutputBlock[] = [];
  private traced = false;
  /** End-of-run reports (their time is the end, known when the run returns). */
  private atEnd: OutputBlock[] = [];

  constructor(private readonly write: (text: string) => void = (t) => process.stdout.write(t)) {}

  add(b: OutputBlock): void {
    if (b.kind === 'report' && b.atMs === null) { this.atEnd.push(b); return; }
    if (!this.traced) {
      if (b.kind === 'report') { this.held.push(b); return; }
      this.traced = true;
      for (const h of this.held.splice(0)) this.put(h, 0);
    }
    this.put(b, 0);
  }

  end(r: RunResult): void {
    if (!this.traced) {
      this.write(renderText(r)); // no trace line: a single report prints alone
      return;
    }
    for (const b of this.atEnd) this.put(b, r.endMs);
    this.flush();
  }

  private put(b: OutputBlock, endMs: number): void {
    this.buf += blockText(b, this.prev, endMs);
    this.prev = b.kind;
    if (this.buf.length >= BATCH_CHARS) this.flush();
  }

  private flush(): void {
    if (this.buf) this.write(this.buf);
    this.buf = '';
  }
}

export interface OutputChoice {
  json: boolean;
  trace: boolean;
  packets: boolean;
  maxConns?: number;
}

/**
 * The run options and the closing step for an output choice: streamed where it can be, held
 * otherwise. `finish` writes what is left once the run has returned.
 */
export function streamedOutput(o: OutputChoice, write: (text: string) => void = (t) => process.stdout.write(t)):
  {options: Pick<RunOptions, 'trace' | 'packets' | 'onPacket' | 'onBlock'>; finish(r: RunResult): void} {
  const maxConns = o.maxConns ?? Infinity;
  if (!o.json) {
    if (!o.trace) return {options: {trace: false, packets: false}, finish: (r) => write(renderText(r))};
    const text = new TextStream(write);
    return {options: {trace: true, packets: false, onBlock: (b) => text.add(b)}, finish: (r) => text.end(r)};
  }
  if (o.packets) {
    // the records stream; a trace alongside is held (one document cannot interleave two arrays)
    const stream = new PacketStream(write, 'packets');
    return {
      options: {trace: o.trace, packets: true, onPacket: (p) => stream.add(p)},
      finish: (r) => stream.end(runJson(r, {trace: o.trace, packets: false, maxConns})),
    };
  }
  if (o.trace) {
    const stream = new PacketStream(write, 'trace');
    return {
      options: {trace: true, packets: false, onBlock: (b) => { if (b.kind === 'trace') stream.add(b.line); }},
      finish: (r) => stream.end(runJson(r, {trace: false, packets: false, maxConns})),
    };
  }
  return {options: {trace: false, packets: false}, finish: (r) => write(`${JSON.stringify(runJson(r, {maxConns}), null, 2)}\n`)};
}
