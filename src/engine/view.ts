// Read-only views for callers outside the engine, by connection id: one entry (ConnInfo), the
// UI's filtered and sorted windows, the states mix and the per-frame snapshot (the kernel's
// /proc/net/ip_vs_conn and ip_vs_stats views, ip_vs_conn.c and ip_vs_ctl.c).
import {type Addr, type Af, formatAddrPort} from './addr.js';
import {CONN_F, DEST_F, FWD_BY_VALUE, IPPROTO_IP, PAGE_SIZE, SVC_F} from './constants.js';
import {type ConnQuery, queryConnIds} from './conn-query.js';
import type {ConnId} from './conn-view.js';
import {TCP_STATE} from './proto/tcp.js';
import type {ProtoName} from './types.js';
import {type ConnInfo, type EngineSnapshot, PROTO_NAME, PROTO_NUM, TALLY_NAMES, TALLY_TCP} from './netns.js';
import {IpvsCore} from './core.js';

export abstract class IpvsView extends IpvsCore {
  /** "TCP client -> virtual -> real" of an entry by id ("" when the entry is gone). */
  connLabel(id: ConnId): string {
    const i = this.table.slotOf(id);
    return i >= 0 ? this.labelOf(i) : '';
  }

  /** The state name of an entry by id ("" when the entry is gone). */
  stateName(id: ConnId): string {
    const i = this.table.slotOf(id);
    return i >= 0 ? this.stateNameOf(i) : '';
  }

  /**
   * An entry by id, or null when it is gone: expired, deleted, or its slot reused by another entry
   * (ids carry the slot's generation, so a stale id never shows a different connection).
   */
  conn(id: ConnId): ConnInfo | null {
    const i = this.table.slotOf(id);
    return i >= 0 ? this.infoOf(i) : null;
  }

  protected infoOf(i: number): ConnInfo {
    const t = this.table;
    const proto = t.protoOf(i);
    const ctl = t.controlOf(i);
    return {
      id: t.idOf(i),
      af: t.af(i),
      proto,
      protoName: proto === IPPROTO_IP ? 'IP' : (PROTO_NAME[proto] ?? String(proto)).toUpperCase(),
      caddr: t.clientAddr(i), cport: t.clientPortOf(i),
      vaddr: t.virtualAddr(i), vport: t.virtualPortOf(i),
      daddr: t.destAddr(i), dport: t.destPortOf(i),
      fwmarkTemplate: t.isFwmarkTemplate(i),
      fwd: FWD_BY_VALUE[t.flagsOf(i) & CONN_F.FWD_MASK] ?? 'masq',
      flags: t.flagsOf(i),
      state: t.stateOf(i),
      stateName: this.stateNameOf(i),
      template: (t.flagsOf(i) & CONN_F.TEMPLATE) !== 0,
      timeout: t.timeoutOf(i),
      expiresIn: Math.max(0, t.expiresOf(i) - this.now),
      inPkts: t.inPktsOf(i),
      outPkts: t.outPktsOf(i),
      destId: t.destIdOf(i),
      control: ctl >= 0 ? t.idOf(ctl) : -1,
      nControl: t.nControlOf(i),
      fwmark: t.fwmarkOf(i),
    };
  }

  /** Find the connection entry of a tuple as the input lookup would (tests, UI "goto"). */
  findConn(af: Af, proto: ProtoName, caddr: Addr, cport: number, vaddr: Addr, vport: number): ConnInfo | null {
    const i = this.table.inLookup(af, PROTO_NUM[proto], caddr, cport, vaddr, vport);
    return i >= 0 ? this.infoOf(i) : null;
  }

  /** Every live entry (connections and templates), in slot order. */
  allConns(): ConnInfo[] {
    const out: ConnInfo[] = [];
    this.table.forEachLive((i) => out.push(this.infoOf(i)));
    return out;
  }

  /** A window of connections, filtered and sorted: what a UI table shows (see conn-query.ts). */
  queryConns(q: ConnQuery = {}): {total: number; rows: ConnInfo[]} {
    const {total, ids} = queryConnIds(this.queryHost, q);
    return {total, rows: ids.map((i) => this.infoOf(i))};
  }

  /**
   * Live entries per state name, for the states mix ("SYN_RECV", "UDP", "TEMPLATE ASSURED"...).
   * TCP and SCTP share names like ESTABLISHED: their counts add up. Zero counts are left out.
   */
  stateCounts(): Map<string, number> {
    const m = new Map<string, number>();
    this.tally.forEach((n, k) => {
      if (n) m.set(TALLY_NAMES[k]!, (m.get(TALLY_NAMES[k]!) ?? 0) + n);
    });
    return m;
  }

  /** Share of the table in SYN_RECV (0..1): how much of it a SYN flood occupies. */
  synRecvShare(): number {
    const n = this.table.count;
    return n ? this.tally[TALLY_TCP + TCP_STATE.SYN_RECV]! / n : 0;
  }

  /** Aggregates for a UI frame: cheap (no walk over the connection table). */
  snapshot(): EngineSnapshot {
    const v = this.tunables.v;
    return {
      now: this.now,
      conns: this.table.count - this.table.templates,
      templates: this.table.templates,
      totals: this.totStats.read(),
      rates: this.totStats.rates(),
      synRecvShare: this.synRecvShare(),
      states: Object.fromEntries(this.stateCounts()),
      memory: {
        availablePages: this.availablePages(),
        amemthresh: v.amemthresh!,
        totalPages: Math.floor(this.memory.totalBytes / PAGE_SIZE),
      },
      defense: {
        drop_entry: {mode: v.drop_entry!, active: this.defense.dropEntryOn},
        drop_packet: {mode: v.drop_packet!, active: this.defense.dropRate > 0, rate: this.defense.dropRate},
        secure_tcp: {mode: v.secure_tcp!, active: this.defense.secureTable},
      },
      counters: {
        packetsIn: this.counters.packetsIn,
        packetsOut: this.counters.packetsOut,
        connsCreated: this.counters.connsCreated,
        connsExpired: this.counters.connsExpired,
        dropped: Object.fromEntries(this.counters.dropped),
        dropEntry: Object.fromEntries(this.counters.dropEntry),
      },
      services: this.services.map((svc) => ({
        id: svc.id,
        label: this.serviceLabel(svc),
        scheduler: svc.scheduler,
        persistent: (svc.flags & SVC_F.PERSISTENT) !== 0,
        stats: svc.stats.read(),
        rates: svc.stats.rates(),
        dests: svc.dests.map((d) => ({
          id: d.id,
          label: formatAddrPort(d.addr, d.port),
          fwd: d.fwd,
          weight: d.weight,
          activeConns: d.activeConns,
          inactConns: d.inactConns,
          persistConns: d.persistConns,
          overloaded: (d.flags & DEST_F.OVERLOAD) !== 0,
          stats: d.stats.read(),
          rates: d.stats.rates(),
        })),
      })),
    };
  }
}
