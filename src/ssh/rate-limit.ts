// Failed-authentication limiter per source address: a token bucket. Each failed login (a
// connection that reached authentication and never got in) takes a token; tokens come back at
// `refillPerSec`. When the bucket is empty the address is blocked for `cooldownMs`: its new
// connections are closed at once, before any ssh handshake, and that is logged once per block.
export interface LimiterOptions {
  /** Failed logins allowed in a burst. */
  burst: number;
  /** Tokens regained per second. */
  refillPerSec: number;
  /** How long an address stays blocked once its bucket is empty. */
  cooldownMs: number;
  /** Addresses tracked at most (the oldest idle ones are forgotten first). */
  maxTracked?: number;
  now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
  blockedUntil: number;
  /** Connections refused during the current block. */
  refused: number;
}

export class AuthLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly now: () => number;
  private readonly maxTracked: number;

  constructor(readonly o: LimiterOptions) {
    if (!(o.burst >= 1)) throw new Error('burst must be at least 1');
    this.now = o.now ?? (() => Date.now());
    this.maxTracked = o.maxTracked ?? 10_000;
  }

  private bucket(ip: string, create: boolean): Bucket | undefined {
    let b = this.buckets.get(ip);
    const t = this.now();
    if (b) {
      b.tokens = Math.min(this.o.burst, b.tokens + ((t - b.at) / 1000) * this.o.refillPerSec);
      b.at = t;
      // re-insert: Map order is then least-recently-used first
      this.buckets.delete(ip);
      this.buckets.set(ip, b);
    } else if (create) {
      b = {tokens: this.o.burst, at: t, blockedUntil: 0, refused: 0};
      this.buckets.set(ip, b);
      this.evict();
    }
    return b;
  }

  private evict(): void {
    if (this.buckets.size <= this.maxTracked) return;
    const t = this.now();
    for (const [ip, b] of this.buckets) {
      if (this.buckets.size <= this.maxTracked) break;
      if (b.blockedUntil <= t) this.buckets.delete(ip);
    }
    // all blocked: forget the oldest anyway (memory stays bounded)
    for (const ip of this.buckets.keys()) {
      if (this.buckets.size <= this.maxTracked) break;
      this.buckets.delete(ip);
    }
  }

  /** Is `ip` blocked now? (counts the refusal) */
  check(ip: string): {blocked: boolean; retryMs: number; refused: number} {
    const b = this.bucket(ip, false);
    const t = this.now();
    if (!b || b.blockedUntil <= t) return {blocked: false, retryMs: 0, refused: 0};
    b.refused++;
    return {blocked: true, retryMs: b.blockedUntil - t, refused: b.refused};
  }

  /** Record a failed login; returns whether this failure started a block. */
  failure(ip: string): {blocked: boolean; tokens: number} {
    const b = this.bucket(ip, true)!;
    const t = this.now();
    b.tokens -= 1;
    if (b.tokens < 1 && b.blockedUntil <= t) {
      b.blockedUntil = t + this.o.cooldownMs;
      b.refused = 0;
      // after the cooldown the address starts over with a full bucket
      b.tokens = this.o.burst - (this.o.cooldownMs / 1000) * this.o.refillPerSec;
      return {blocked: true, tokens: 0};
    }
    return {blocked: false, tokens: Math.max(0, b.tokens)};
  }

  /** Addresses currently blocked. */
  blocked(): string[] {
    const t = this.now();
    return [...this.buckets].filter(([, b]) => b.blockedUntil > t).map(([ip]) => ip);
  }

  get tracked(): number {
    return this.buckets.size;
  }
}
