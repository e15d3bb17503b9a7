// debug_level-gated engine messages (IP_VS_DBG): a message of level L is recorded only when
// debug_level >= L, built lazily so a disabled level costs one comparison. Bounded ring buffer.

/** The kernel's levels (IP_VS_DBG* call sites in net/netfilter/ipvs/), cumulative. */
export const DBG = {
  XMIT_ERR: 0,
  ERROR: 1,
  CONFIG: 2,
  DEST_TRASH: 3,
  DROP_ENTRY: 4,
  SVC_LOOKUP: 5,
  SCHED: 6,
  CONN: 7,
  STATE: 8,
  BIND: 9,
  XMIT: 10,
  PKT: 11,
  TRAVERSAL: 12,
} as const;

export const DBG_LEVEL_NAMES: readonly string[] = [
  'transmit errors', 'non-fatal errors', 'configuration', 'destination trash', 'drop entry',
  'service lookup', 'scheduling', 'connection new/expire/lookup/sync', 'state transitions',
  'dest binding, template checks', 'packet transmit', 'packet handling in/out', 'packet traversal',
];

export interface LogLine {
  /** Virtual time in ms. */
  t: number;
  level: number;
  msg: string;
  /** Monotonic sequence number (survives ring wrap-around, lets readers fetch only new lines). */
  seq: number;
}

export class DebugLog {
  private ring: (LogLine | undefined)[];
  private next = 0;
  seq = 0;

  constructor(readonly capacity = 2000, private level: () => number) {
    this.ring = new Array(capacity);
  }

  enabled(level: number): boolean {
    return level <= this.level();
  }

  /** Record a lazily built message (its builder runs only if the level is kept). */
  log(now: number, level: number, msg: () => string): void {
    if (level > this.level()) return;
    this.put(now, level, msg());
  }

  /**
   * Record a built message. Hot paths test the level first and call this, so they need no
   * closure (a closure would make V8 heap-allocate the caller's captured variables on every call).
   */
  put(now: number, level: number, msg: string): void {
    if (level > this.level()) return;
    this.ring[this.next] = {t: now, level, msg, seq: ++this.seq};
    this.next = (this.next + 1) % this.capacity;
  }

  /** Lines newer than `afterSeq`, oldest first. */
  since(afterSeq = 0): LogLine[] {
    const out: LogLine[] = [];
    for (let k = 0; k < this.capacity; k++) {
      const line = this.ring[(this.next + k) % this.capacity];
      if (line && line.seq > afterSeq) out.push(line);
    }
    return out;
  }

  clear(): void {
    this.ring = new Array(this.capacity);
    this.next = 0;
  }
}
