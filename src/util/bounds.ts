// Every input's bound, in one place (documented in docs/bounds.md). Each bound is far above what a
// real configuration or scenario needs and far below what would exhaust the process: an input past
// one is refused with a message naming the bound, before any work is done.
import {closeSync, constants, fstatSync, openSync, readSync} from 'node:fs';

export const BOUNDS = {
  /** State file of `lvsdeck ipvsadm` / `lvsdeck sysctl` (a 1000-service configuration is ~300 KB). */
  stateFileBytes: 16 * 2 ** 20,
  /** A file for `sysctl -p`, `ipvsadm -R` on standard input, a --config file, a scenario file. */
  configFileBytes: 4 * 2 ** 20,
  /** Arrivals per second of one traffic generator (sessions, or packets for the floods). */
  trafficRate: 1_000_000,
  /** Bytes of one packet (`len:`; an IPv4/IPv6 datagram without jumbograms). */
  packetBytes: 65_535,
  /** Bytes of a request or a response of one session. */
  sessionBytes: 64 * 2 ** 20,
  /** `repeat:` of one sessions: entry. */
  sessionRepeat: 100_000,
  /** Session instances of a whole scenario: the sum over sessions: of (repeat + 1). */
  scenarioSessions: 200_000,
  /** Packets a scenario's sessions: plan (each session's segments, counted before running). */
  scenarioPlannedPackets: 20_000_000,
  /** Packets one run may send in total (sessions, packets: and traffic: generators): the run stops with an error past it. */
  runPackets: 20_000_000,
  /** Per-packet records a run keeps in memory (`--json --packets` streams them instead). */
  keptPacketRecords: 1_000_000,
  /** Trace lines a run keeps (`--trace`). */
  traceLines: 1_000_000,
  /** Entries of packets: and of each list in a scenario. */
  scenarioListEntries: 100_000,
  /** Virtual duration of a run (`until:`, `--until`, `demo --for`): 30 days. */
  runMs: 30 * 86_400_000,
} as const;

export class BoundError extends Error {}

/** Refuse a number outside [min, max] (or not finite) with a message naming what it is and the bound. */
export function checkBound(what: string, v: number, max: number, min = 0): number {
  if (!Number.isFinite(v)) throw new BoundError(`${what}: ${v} is not a finite number`);
  if (v < min) throw new BoundError(`${what}: ${v} is below ${min}`);
  if (v > max) throw new BoundError(`${what}: ${v} is over the limit of ${max} (see docs/bounds.md)`);
  return v;
}

/**
 * Read a whole regular file of at most maxBytes as UTF-8. Opened non-blocking, so a FIFO does not
 * wait for a writer; anything but a regular file (a FIFO, a device such as /dev/zero, a directory)
 * is refused before reading, and so is a file over the bound. Errors are BoundError or the
 * system's (ENOENT...).
 */
export function readBoundedFile(path: string, maxBytes: number): string {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      const kind = st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isDirectory() ? 'a directory' : st.isSocket() ? 'a socket' : 'not a regular file';
      throw new BoundError(`${path} is ${kind}; only regular files are read`);
    }
    if (st.size > maxBytes) throw new BoundError(`${path} is ${st.size} bytes, over the limit of ${maxBytes} (see docs/bounds.md)`);
    // read up to one byte past the bound: a file that grows while it is read is still caught
    let buf = Buffer.allocUnsafe(Math.min(maxBytes, st.size) + 1);
    let n = 0;
    for (;;) {
      if (n === buf.length) {
        if (n > maxBytes) throw new BoundError(`${path} grew past the limit of ${maxBytes} bytes while being read`);
        const bigger = Buffer.allocUnsafe(Math.min(maxBytes + 1, buf.length * 2));
        buf.copy(bigger, 0, 0, n);
        buf = bigger;
      }
      const r = readSync(fd, buf, n, buf.length - n, null);
      if (r === 0) break;
      n += r;
    }
    return buf.toString('utf8', 0, n);
  } finally {
    closeSync(fd);
  }
}

/** Read a stream (standard input) to its end, refusing it past maxBytes. */
export async function readBoundedStream(stream: AsyncIterable<unknown>, maxBytes: number, what: string): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of stream) {
    const b = typeof c === 'string' ? Buffer.from(c) : c as Buffer;
    n += b.length;
    if (n > maxBytes) throw new BoundError(`${what} is over the limit of ${maxBytes} bytes (see docs/bounds.md)`);
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A file error as a user reads it: the system's reason without the JS decoration. */
export function fileErrorText(err: unknown): string {
  if (err instanceof BoundError) return err.message;
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ENOENT': return 'no such file';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'EISDIR': return 'is a directory';
    case 'ENOTDIR': return 'a component of the path is not a directory';
    case 'ELOOP': return 'too many levels of symbolic links';
    case 'ENAMETOOLONG': return 'file name too long';
    default: return e.code ? `${e.code}` : String((err as Error).message ?? err);
  }
}
