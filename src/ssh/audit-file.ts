// The audit file: one JSON object per line, appended synchronously (changes are rare, and an
// audit line must not be lost when the process dies right after). Created with mode 0600. Lines
// are written with safeJson: no raw control, C1 or bidi character reaches whoever `cat`s the file.
import {appendFileSync, closeSync, mkdirSync, openSync} from 'node:fs';
import {dirname} from 'node:path';
import type {AuditEntry} from '../store/actions.js';
import {safeJson} from '../util/untrusted-text.js';

export class JsonLinesFile {
  failed: string | null = null;

  constructor(readonly path: string) {
    mkdirSync(dirname(path), {recursive: true});
    closeSync(openSync(path, 'a', 0o600));
  }

  append(obj: object): void {
    try {
      appendFileSync(this.path, safeJson(obj) + '\n');
      this.failed = null;
    } catch (err) {
      this.failed = (err as Error).message;
    }
  }
}

/** 83_456 ms -> "00:01:23.456". */
export function virtualTime(ms: number): string {
  const t = Math.max(0, Math.floor(ms));
  const h = Math.floor(t / 3_600_000), m = Math.floor(t / 60_000) % 60, s = Math.floor(t / 1000) % 60;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}.${String(t % 1000).padStart(3, '0')}`;
}

/** The JSON line of a change: the entry plus the event type and readable times. */
export function changeRecord(e: AuditEntry): object {
  const {seq, wall, virtual, ...rest} = e;
  return {event: 'change', seq, time: new Date(wall).toISOString(), wall, virtual, virtualTime: virtualTime(virtual), ...rest};
}
