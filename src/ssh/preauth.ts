// Connections that have not authenticated yet, limited apart from the authenticated ones (sshd's
// MaxStartups and PerSourceMaxStartups): in total and per source address. When a new connection
// finds its limit reached, the oldest connection in the same scope that has not even asked to
// authenticate yet (an idle socket, or one stuck in the handshake) makes room for it; only when
// every one of them is already authenticating is the new one refused. Idle sockets therefore
// can never lock operators out, and an operator's own login, which reaches authentication within
// a round trip or two, is not the one dropped.

export interface PendingConn {
  /** The source address (IPv4-mapped IPv6 written as IPv4). */
  readonly source: string;
  /** When it was accepted (any monotonic ms). */
  readonly opened: number;
  /** Has it sent an authentication request yet? */
  reachedAuth: boolean;
}

export interface PreAuthLimits {
  /** Unauthenticated connections at once, all sources together. */
  total: number;
  /** Unauthenticated connections at once from one address. */
  perSource: number;
}

export type Admission<C> = {ok: true; evict: C | null} | {ok: false; reason: string};

/** "::ffff:10.0.0.1" -> "10.0.0.1"; other addresses as they are. */
export function sourceOf(ip: string): string {
  return ip.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
}

export class PreAuthGate<C extends PendingConn> {
  private readonly pending = new Set<C>();
  private readonly bySource = new Map<string, number>();

  constructor(readonly limits: PreAuthLimits) {
    if (!(limits.total >= 1) || !(limits.perSource >= 1)) throw new Error('pre-auth limits must be at least 1');
  }

  get size(): number {
    return this.pending.size;
  }

  count(source: string): number {
    return this.bySource.get(source) ?? 0;
  }

  /**
   * May `c` start? The caller closes `evict` (if any) and calls add(c). Nothing changes here:
   * the evicted connection leaves through remove() when it closes.
   */
  admit(c: C): Admission<C> {
    const mine = this.count(c.source);
    if (mine >= this.limits.perSource) {
      const v = this.oldestIdle((p) => p.source === c.source);
      return v ? {ok: true, evict: v} : {ok: false, reason: `${mine} unauthenticated connections from this address (limit ${this.limits.perSource})`};
    }
    if (this.pending.size >= this.limits.total) {
      const v = this.oldestIdle(() => true);
      return v ? {ok: true, evict: v} : {ok: false, reason: `${this.pending.size} unauthenticated connections (limit ${this.limits.total})`};
    }
    return {ok: true, evict: null};
  }

  add(c: C): void {
    if (this.pending.has(c)) return;
    this.pending.add(c);
    this.bySource.set(c.source, this.count(c.source) + 1);
  }

  /** Authenticated or closed: it no longer counts. Idempotent. */
  remove(c: C): void {
    if (!this.pending.delete(c)) return;
    const n = this.count(c.source) - 1;
    if (n > 0) this.bySource.set(c.source, n);
    else this.bySource.delete(c.source);
  }

  /** The oldest connection (matching `match`) that has not asked to authenticate yet. */
  oldestIdle(match: (p: C) => boolean = () => true): C | null {
    let best: C | null = null;
    for (const p of this.pending) {
      if (p.reachedAuth || !match(p)) continue;
      if (!best || p.opened < best.opened) best = p;
    }
    return best;
  }
}
