// `lvsdeck run --json --packets` (or `--json --trace`) without holding the records: the document is
// written as it goes, "packets" (or "trace") first (each record as the run makes it, in batches),
// then the rest of the document when the run ends. Key order differs from the held form; the
// content is the same.
import type {PacketRecord} from './trace.js';

export const BATCH_CHARS = 1 << 16;

export class PacketStream {
  private buf: string;
  private count = 0;

  constructor(private readonly write: (text: string) => void = (t) => process.stdout.write(t), key: 'packets' | 'trace' = 'packets') {
    this.buf = `{\n  "${key}": [`;
  }

  add(r: PacketRecord | string): void {
    this.buf += `${this.count++ === 0 ? '\n' : ',\n'}    ${JSON.stringify(r)}`;
    if (this.buf.length >= BATCH_CHARS) this.flush();
  }

  /** Close the packets array and write the rest of the document (its own keys after "packets"). */
  end(rest: Record<string, unknown>): void {
    const body = JSON.stringify(rest, null, 2);
    this.buf += `${this.count ? '\n  ' : ''}]${body === '{}' ? '\n}' : `,\n${body.slice(2)}`}\n`;
    this.flush();
  }

  private flush(): void {
    this.write(this.buf);
    this.buf = '';
  }
}
