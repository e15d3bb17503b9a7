// UDP transport of the sync daemons (node:dgram): the sockets make_send_sock / make_receive_sock
// set up, plus a unicast mode for hosts without multicast.
//
// Multicast (default): thread i of the master binds to the interface's primary address, sets the
//   outgoing interface, TTL (mcast_ttl), multicast loop off, and connects to group:port+i; the
//   backup binds group:port+i with address reuse and joins the group on the interface.
// Unicast (`peer`): the master connects to peer.host:peer.port+i; the backup binds
//   peer.host:peer.port+i. Use 127.0.0.1 to run a master and a backup on one host.
import dgram from 'node:dgram';
import {readFileSync} from 'node:fs';
import {networkInterfaces} from 'node:os';
import type {SyncDaemonConfig} from '../engine/engine.js';
import type {BackupTransport, MasterTransport, SyncRole, SyncTransportFactory} from './manager.js';
import {isIPv6Group} from './master.js';

export interface UdpSyncOptions {
  /** Unicast: master sends to, backup listens on, host:port (+ thread id). */
  peer?: {host: string; port: number};
  /** Interface for multicast; default: the daemon's mcast_ifn. */
  mcastInterface?: string;
  /** SO_SNDBUF / SO_RCVBUF request (sync_sock_size); 0 keeps the system default. */
  sockSize?: () => number;
}

export class SyncSocketError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

/** Parse "HOST:PORT" or "[v6]:PORT". */
export function parsePeer(text: string): {host: string; port: number} {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 1 && port <= 65535)) throw new SyncSocketError('EINVAL', `bad peer '${text}' (want HOST:PORT)`);
  return {host: m[1]!, port};
}

function familyOf(addr: string): 4 | 6 {
  return addr.includes(':') ? 6 : 4;
}

/** The interface's first address of a family (inet_select_addr), or null. */
export function interfaceAddress(ifname: string, family: 4 | 6): string | null {
  const list = networkInterfaces()[ifname];
  if (!list) return null;
  const want = family === 4 ? 'IPv4' : 'IPv6';
  const a = list.find((x) => String(x.family) === want || (x.family as unknown) === family);
  return a ? a.address : null;
}

/** The interface that holds `addr`, if any. */
export function interfaceOf(addr: string): string | null {
  for (const [name, list] of Object.entries(networkInterfaces())) {
    if (list?.some((x) => x.address === addr)) return name;
  }
  return null;
}

/** The interface MTU from sysfs (Linux), or undefined. */
export function interfaceMtu(ifname: string | null): number | undefined {
  if (!ifname || !/^[\w.:-]{1,15}$/.test(ifname)) return undefined;
  try {
    const n = Number(readFileSync(`/sys/class/net/${ifname}/mtu`, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

function bindAsync(s: dgram.Socket, opts: dgram.BindOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const onErr = (err: Error) => reject(err);
    s.once('error', onErr);
    s.bind(opts, () => {
      s.off('error', onErr);
      resolve();
    });
  });
}

function connectAsync(s: dgram.Socket, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    s.connect(port, host, (err?: Error) => (err ? reject(err) : resolve()));
  });
}

export function udpTransport(opts: UdpSyncOptions = {}): SyncTransportFactory {
  const ifname = (cfg: SyncDaemonConfig) => opts.mcastInterface ?? cfg.mcastIfn;
  const target = (cfg: SyncDaemonConfig) => opts.peer ?? {host: cfg.mcastGroup, port: cfg.mcastPort};
  return {
    describe(_role: SyncRole, cfg: SyncDaemonConfig): string {
      const t = target(cfg);
      return opts.peer ? `udp unicast ${t.host}:${t.port}` : `udp multicast ${t.host}:${t.port} on ${ifname(cfg)}`;
    },

    master(cfg, threads, onError): MasterTransport {
      const t = target(cfg);
      const fam = familyOf(t.host);
      const socks: dgram.Socket[] = [];
      const pending: {thread: number; msg: Uint8Array; done: (err: Error | null) => void}[] = [];
      let ok = false, closed = false;
      const setup = async () => {
        let ifAddr: string | null = null;
        if (!opts.peer) {
          if (!isIPv6Group(cfg.mcastGroup) && !/^2(2[4-9]|3\d)\./.test(cfg.mcastGroup)) {
            throw new SyncSocketError('EINVAL', `${cfg.mcastGroup} is not a multicast group`);
          }
          ifAddr = interfaceAddress(ifname(cfg), fam);
          if (!ifAddr) throw new SyncSocketError('ENODEV', `no ${fam === 4 ? 'IPv4' : 'IPv6'} address on interface ${ifname(cfg)}`);
        }
        for (let k = 0; k < threads; k++) {
          const s = dgram.createSocket({type: fam === 6 ? 'udp6' : 'udp4'});
          socks.push(s);
          s.on('error', (err) => onError(err));
          await bindAsync(s, {port: 0, address: ifAddr ?? undefined});
          const size = opts.sockSize?.() ?? 0;
          if (size > 0) s.setSendBufferSize(size);
          if (!opts.peer) {
            s.setMulticastInterface(fam === 6 ? `::%${ifname(cfg)}` : ifAddr!);
            s.setMulticastTTL(cfg.mcastTtl);
            s.setMulticastLoopback(false);
          }
          await connectAsync(s, t.port + k, t.host);
        }
        ok = true;
        for (const p of pending.splice(0)) send(p.thread, p.msg, p.done);
      };
      const send = (thread: number, msg: Uint8Array, done: (err: Error | null) => void) => {
        if (closed) return done(new SyncSocketError('ESHUTDOWN', 'socket closed'));
        if (!ok) {
          if (pending.length < 256) pending.push({thread, msg, done});
          else done(new SyncSocketError('EAGAIN', 'socket not ready'));
          return;
        }
        const s = socks[thread];
        if (!s) return done(new SyncSocketError('EINVAL', `no socket for thread ${thread}`));
        s.send(msg, (err) => done(err ?? null));
      };
      const ready = setup();
      ready.catch(() => undefined);
      return {
        ready,
        send,
        close() {
          closed = true;
          for (const p of pending.splice(0)) p.done(new SyncSocketError('ESHUTDOWN', 'socket closed'));
          for (const s of socks) {
            try { s.close(); } catch { /* already closed */ }
          }
        },
      };
    },

    backup(cfg, threads, deliver, onError): BackupTransport {
      const t = target(cfg);
      const fam = familyOf(t.host);
      const socks: dgram.Socket[] = [];
      let ifAddr: string | null = null;
      const iface = opts.peer ? interfaceOf(t.host) ?? (t.host.startsWith('127.') || t.host === '::1' ? 'lo' : null) : ifname(cfg);
      const setup = async () => {
        if (!opts.peer) {
          ifAddr = interfaceAddress(ifname(cfg), fam);
          if (!ifAddr) throw new SyncSocketError('ENODEV', `no ${fam === 4 ? 'IPv4' : 'IPv6'} address on interface ${ifname(cfg)}`);
        }
        for (let k = 0; k < threads; k++) {
          const s = dgram.createSocket({type: fam === 6 ? 'udp6' : 'udp4', reuseAddr: true});
          socks.push(s);
          s.on('message', (msg, rinfo) => {
            deliver(new Uint8Array(msg.buffer, msg.byteOffset, msg.length), k, `${rinfo.address}:${rinfo.port}`);
          });
          await bindAsync(s, {port: t.port + k, address: t.host, exclusive: false});
          s.on('error', (err) => onError(err));
          const size = opts.sockSize?.() ?? 0;
          if (size > 0) s.setRecvBufferSize(size);
          if (!opts.peer) s.addMembership(t.host, fam === 6 ? `::%${ifname(cfg)}` : ifAddr!);
        }
      };
      const ready = setup();
      ready.catch(() => undefined);
      return {
        ready,
        ifMtu: interfaceMtu(iface),
        close() {
          for (const s of socks) {
            try { s.close(); } catch { /* already closed */ }
          }
        },
      };
    },
  };
}
