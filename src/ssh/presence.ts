// Who is connected: one entry per UI session (ssh channels and the console), read by every
// session's refresh (the header count and the Who/Audit view) and by the server's limits.
import type {Peer, PresenceSource} from '../store/session.js';

export interface PeerEntry extends Peer {
  /** Key fingerprint (ssh sessions), for the per-key session limit. */
  key?: string;
}

export class Presence implements PresenceSource {
  private readonly peers = new Map<number, PeerEntry>();
  private nextId = 1;
  private v = 0;
  private readonly listeners = new Set<() => void>();

  get version(): number {
    return this.v;
  }

  /** Reserve an id (the session is created with it before it joins). */
  allocate(): number {
    return this.nextId++;
  }

  join(p: PeerEntry): void {
    this.peers.set(p.id, p);
    this.bump();
  }

  update(id: number, patch: Partial<Omit<PeerEntry, 'id'>>): void {
    const p = this.peers.get(id);
    if (!p) return;
    const changed = Object.entries(patch).some(([k, v]) => (p as unknown as Record<string, unknown>)[k] !== v);
    if (!changed) return;
    Object.assign(p, patch);
    this.bump();
  }

  leave(id: number): boolean {
    const had = this.peers.delete(id);
    if (had) this.bump();
    return had;
  }

  list(): Peer[] {
    return [...this.peers.values()].map(({key: _key, ...p}) => ({...p}));
  }

  get size(): number {
    return this.peers.size;
  }

  countKey(key: string): number {
    let n = 0;
    for (const p of this.peers.values()) if (p.key === key) n++;
    return n;
  }

  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private bump(): void {
    this.v++;
    for (const l of this.listeners) l();
  }
}
