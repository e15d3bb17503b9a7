// An in-process "network" for sync: masters and backups of several engines in one process (the UI,
// scenarios, tests) exchange the same datagrams the UDP daemons would, without sockets. Delivery is
// synchronous; a datagram to an address nobody listens on is lost, as on a real network.
import type {SyncDaemonConfig} from '../engine/engine.js';
import type {BackupTransport, MasterTransport, SyncRole, SyncTransportFactory} from './manager.js';

type Listener = (msg: Uint8Array, from: string) => void;

export interface MemoryEndpointOptions {
  /** Unicast instead of the configured group: send to / listen on this host:port (port + thread). */
  peer?: {host: string; port: number};
}

export class MemorySyncNetwork {
  private readonly listeners = new Map<string, Set<Listener>>();
  /** Datagrams sent, delivered (to at least one listener) and lost. */
  readonly counters = {sent: 0, delivered: 0, lost: 0};
  /** Optional tap: sees every datagram (what a packet capture would show). */
  tap: ((to: string, msg: Uint8Array) => void) | null = null;

  private listen(key: string, fn: Listener): () => void {
    let set = this.listeners.get(key);
    if (!set) this.listeners.set(key, (set = new Set()));
    set.add(fn);
    return () => {
      set!.delete(fn);
      if (!set!.size) this.listeners.delete(key);
    };
  }

  private deliver(key: string, msg: Uint8Array, from: string): void {
    this.counters.sent++;
    this.tap?.(key, msg);
    const set = this.listeners.get(key);
    if (!set || !set.size) {
      this.counters.lost++;
      return;
    }
    this.counters.delivered++;
    for (const fn of [...set]) fn(msg.slice(), from);
  }

  /** A transport factory whose sockets live on this network under the name `host`. */
  endpoint(host: string, opts: MemoryEndpointOptions = {}): SyncTransportFactory {
    const target = (cfg: SyncDaemonConfig, thread: number) =>
      opts.peer ? `${opts.peer.host}:${opts.peer.port + thread}` : `${cfg.mcastGroup}:${cfg.mcastPort + thread}`;
    return {
      describe: (role: SyncRole, cfg: SyncDaemonConfig) =>
        `in-memory ${opts.peer ? 'unicast' : 'multicast'} ${target(cfg, 0)} (${role} on ${host})`,
      master: (cfg, threads): MasterTransport => {
        let open = true;
        return {
          ready: Promise.resolve(),
          send: (thread, msg, done) => {
            if (!open || thread >= threads) return done(new Error('socket closed'));
            this.deliver(target(cfg, thread), msg, `${host}:${cfg.mcastPort + thread}`);
            done(null);
          },
          close: () => { open = false; },
        };
      },
      backup: (cfg, threads, deliver): BackupTransport => {
        const offs: (() => void)[] = [];
        for (let k = 0; k < threads; k++) offs.push(this.listen(target(cfg, k), (msg, from) => deliver(msg, k, from)));
        return {ready: Promise.resolve(), close: () => offs.forEach((f) => f())};
      },
    };
  }
}
