// What the metrics endpoint and the JSON API read: one plain-data view per scrape, from any
// backend that implements MetricsSource. simulationSource() is the in-process engine's; another
// data plane provides its own and hands it to startMetricsServer().
import {formatAddr, formatAddrPort} from '../engine/addr.js';
import {SVC_F} from '../engine/constants.js';
import type {ConnInfo, ConnQuery, Engine} from '../engine/engine.js';
import type {StatsCounters, StatsRates} from '../engine/stats.js';
import type {Service} from '../engine/types.js';
import type {Simulation} from '../sim/simulation.js';
import type {SyncDaemonStats} from '../sync/stats.js';

export interface BackendView {
  address: string;
  port: number;
  fwd: string;
  weight: number;
  active: number;
  inactive: number;
  persistent: number;
  stats: StatsCounters;
  rates: StatsRates;
}

export interface ServiceView {
  /** TCP, UDP, SCTP, or FWM for a firewall-mark service (as /proc/net/ip_vs prints them). */
  proto: 'TCP' | 'UDP' | 'SCTP' | 'FWM';
  /** Virtual address ('' for a firewall-mark service), port (0 for one) and mark ('' unless one). */
  address: string;
  port: number;
  mark: string;
  af: 4 | 6;
  scheduler: string;
  persistent: boolean;
  stats: StatsCounters;
  rates: StatsRates;
  backends: BackendView[];
}

export interface DefenseView {
  /** The sysctl's value (0..3; the automatic modes move between 1 and 2 as the kernel does). */
  mode: number;
  active: boolean;
}

export interface SyncRoleView {
  role: 'master' | 'backup';
  queueMessages: number;
  queueMax: number;
  pendingEntries: number;
  queueDropped: number;
  messagesSent: number;
  messagesReceived: number;
  entriesSent: number;
  entriesReceived: number;
  /** Virtual ms since the last message sent (master) or received (backup); null before the first. */
  lastMessageAgeMs: number | null;
}

export interface MetricsView {
  /** Virtual time of the engine, ms. */
  now: number;
  totals: StatsCounters;
  rates: StatsRates;
  services: ServiceView[];
  defense: {drop_entry: DefenseView; drop_packet: DefenseView & {rate: number}; secure_tcp: DefenseView};
  memory: {availablePages: number; amemthresh: number; totalPages: number};
  /** Connection entries (templates apart) and templates. */
  conns: number;
  templates: number;
  /** Live entries by state name (TCP and SCTP states of the same name add up). */
  states: Record<string, number>;
  packets: {in: number; out: number};
  connsCreated: number;
  connsExpired: number;
  /** Packets dropped / handed back to the stack, by reason; drop_entry removals by state. */
  dropped: Record<string, number>;
  accepted: Record<string, number>;
  dropEntry: Record<string, number>;
  sync: SyncRoleView[];
}

export interface ConnRow {
  proto: string;
  client: string;
  virtual: string;
  real: string;
  state: string;
  template: boolean;
  fwd: string;
  expires_ms: number;
  in_pkts: number;
  out_pkts: number;
}

export interface MetricsSource {
  view(): MetricsView;
  /** A bounded, filtered window of the connection table. */
  conns(q: {filter?: string; limit: number}): {total: number; rows: ConnRow[]};
}

function serviceView(svc: Service): ServiceView {
  const k = svc.key;
  const base = k.kind === 'fwmark'
    ? {proto: 'FWM' as const, address: '', port: 0, mark: String(k.fwmark), af: k.af}
    : {proto: k.proto.toUpperCase() as 'TCP' | 'UDP' | 'SCTP', address: formatAddr(k.addr), port: k.port, mark: '', af: k.af};
  return {
    ...base,
    scheduler: svc.scheduler,
    persistent: (svc.flags & SVC_F.PERSISTENT) !== 0,
    stats: svc.stats.read(),
    rates: svc.stats.rates(),
    backends: svc.dests.map((d) => ({
      address: formatAddr(d.addr), port: d.port, fwd: d.fwd, weight: d.weight, active: d.activeConns, inactive: d.inactConns,
      persistent: d.persistConns, stats: d.stats.read(), rates: d.stats.rates(),
    })),
  };
}

export function connRow(c: ConnInfo): ConnRow {
  return {
    proto: c.protoName, client: formatAddrPort(c.caddr, c.cport),
    virtual: c.fwmarkTemplate ? `FWM ${c.vaddr}` : formatAddrPort(c.vaddr, c.vport),
    real: formatAddrPort(c.daddr, c.dport), state: c.stateName, template: c.template, fwd: c.fwd,
    expires_ms: Math.round(c.expiresIn), in_pkts: c.inPkts, out_pkts: c.outPkts,
  };
}

type SyncStatsOf = () => Partial<Record<'master' | 'backup', SyncDaemonStats>>;

/** The view of an engine, with the stats of the sync daemons that run for it when there are some. */
export function engineSource(e: Engine, syncStats: SyncStatsOf = () => ({})): MetricsSource {
  return {
    view(): MetricsView {
      const s = e.snapshot();
      const sync: SyncRoleView[] = [];
      const daemons = syncStats();
      for (const role of ['master', 'backup'] as const) {
        const st = daemons[role];
        if (!st) continue;
        sync.push({
          role, queueMessages: st.queue.length, queueMax: st.queue.max, pendingEntries: st.queue.pendingEntries,
          queueDropped: st.queue.dropped, messagesSent: st.messages.sent, messagesReceived: st.messages.received,
          entriesSent: st.entries.sent, entriesReceived: st.entries.received,
          lastMessageAgeMs: st.lastMessageAt === null ? null : Math.max(0, e.now - st.lastMessageAt),
        });
      }
      return {
        now: s.now, totals: s.totals, rates: s.rates,
        services: e.listServices().map(serviceView),
        defense: {
          drop_entry: {mode: s.defense.drop_entry.mode, active: s.defense.drop_entry.active},
          drop_packet: {mode: s.defense.drop_packet.mode, active: s.defense.drop_packet.active, rate: s.defense.drop_packet.rate},
          secure_tcp: {mode: s.defense.secure_tcp.mode, active: s.defense.secure_tcp.active},
        },
        memory: s.memory, conns: s.conns, templates: s.templates, states: s.states,
        packets: {in: s.counters.packetsIn, out: s.counters.packetsOut},
        connsCreated: s.counters.connsCreated, connsExpired: s.counters.connsExpired,
        dropped: s.counters.dropped, accepted: Object.fromEntries(e.counters.accepted), dropEntry: s.counters.dropEntry,
        sync,
      };
    },
    conns({filter, limit}) {
      const q: ConnQuery = {limit};
      if (filter) q.text = filter;
      const r = e.queryConns(q);
      return {total: r.total, rows: r.rows.map(connRow)};
    },
  };
}

export function simulationSource(sim: Simulation): MetricsSource {
  return engineSource(sim.engine, () => sim.sync?.stats() ?? {});
}
