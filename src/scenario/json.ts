// The JSON document of `lvsdeck run --json` (schema "lvsdeck.run/1", documented in
// docs/scenario-format.md). Key order is fixed and every list has a defined order, so the same
// scenario and seed give byte-identical output.
import {formatAddr, formatAddrPort} from '../engine/addr.js';
import {CONN_F, DEST_F, SVC_F} from '../engine/constants.js';
import type {Engine} from '../engine/engine.js';
import type {StatsCounters, StatsRates} from '../engine/stats.js';
import {TUNABLES} from '../engine/tunables.js';
import {mmss} from '../ipvsadm/format.js';
import {effectiveSyncMaxLen, listedServices, schedFlagNames, sortedDests} from '../ipvsadm/listing.js';
import {connVirtualAddr, expiresSeconds, fwdName, procConnEntries} from '../ipvsadm/proc.js';
import type {RunResult} from './runner.js';

export const RUN_SCHEMA = 'lvsdeck.run/1';

function stats(s: StatsCounters) {
  return {conns: s.conns, inpkts: s.inpkts, outpkts: s.outpkts, inbytes: s.inbytes, outbytes: s.outbytes};
}

function rates(r: StatsRates) {
  return {cps: r.cps, inpps: r.inpps, outpps: r.outpps, inbps: r.inbps, outbps: r.outbps};
}

/** Tunable values: integers as numbers, sync_threshold as [threshold, period], est_cpulist as text. */
export function tunablesJson(e: Engine): Record<string, number | string | number[]> {
  const out: Record<string, number | string | number[]> = {};
  for (const d of TUNABLES) {
    const text = e.readTunable(d.name);
    if (/^-?\d+$/.test(text)) out[d.name] = Number(text);
    else if (/^-?\d+\t-?\d+$/.test(text)) out[d.name] = text.split('\t').map(Number);
    else out[d.name] = text;
  }
  return out;
}

function servicesJson(e: Engine) {
  return listedServices(e, false).map((svc) => {
    const k = svc.key;
    const persistent = (svc.flags & SVC_F.PERSISTENT) !== 0;
    const dests = sortedDests(svc);
    return {
      name: k.kind === 'fwmark' ? `FWM ${k.fwmark}${k.af === 6 ? ' IPv6' : ''}` : `${k.proto.toUpperCase()} ${formatAddrPort(k.addr, k.port)}`,
      protocol: k.kind === 'fwmark' ? null : k.proto,
      af: k.af,
      address: k.kind === 'fwmark' ? null : formatAddr(k.addr),
      port: k.kind === 'fwmark' ? null : k.port,
      fwmark: k.kind === 'fwmark' ? k.fwmark : null,
      scheduler: svc.scheduler,
      sched_flags: schedFlagNames(svc.scheduler, svc.flags).split(',').filter(Boolean),
      ops: (svc.flags & SVC_F.ONEPACKET) !== 0,
      persistent: persistent
        ? {timeout: Math.floor(svc.timeout / 1000), netmask: k.af === 6 ? svc.prefixLen : formatAddr(svc.netmask >>> 0)}
        : null,
      pe: svc.pe || null,
      stats: stats(svc.stats.read()),
      rates: rates(svc.stats.rates()),
      dests: dests.map((d) => ({
        address: formatAddr(d.addr),
        port: d.port,
        fwd: fwdName(d),
        weight: d.weight,
        u_threshold: d.uThreshold,
        l_threshold: d.lThreshold,
        active_conns: d.activeConns,
        inactive_conns: d.inactConns,
        persistent_conns: d.persistConns,
        overloaded: (d.flags & DEST_F.OVERLOAD) !== 0,
        stats: stats(d.stats.read()),
        rates: rates(d.stats.rates()),
      })),
    };
  });
}

function connectionsJson(e: Engine, max: number) {
  const all = procConnEntries(e);
  return all.slice(0, max).map((c) => ({
    protocol: c.protoName,
    state: c.stateName,
    template: c.template,
    expires_ms: Math.max(0, Math.round(c.expiresIn)),
    expire: mmss(expiresSeconds(c)),
    client: formatAddrPort(c.caddr, c.cport),
    virtual: c.fwmarkTemplate ? `FWM ${c.vaddr}` : formatAddrPort(connVirtualAddr(c), c.vport),
    destination: formatAddrPort(c.daddr, c.dport),
    fwd: {masq: 'Masq', local: 'Local', tunnel: 'Tunnel', route: 'Route', bypass: 'Bypass'}[c.fwd],
    in_pkts: c.inPkts,
    out_pkts: c.outPkts,
    controlled: c.control >= 0,
    controls: c.nControl,
    sync: (c.flags & CONN_F.SYNC) !== 0,
  }));
}

/** Build the JSON document of a run (with the trace and packet records when they were collected). */
export function runJson(r: RunResult, opts: {trace?: boolean; packets?: boolean; maxConns?: number} = {}) {
  const e = r.engine;
  const snap = e.snapshot();
  const doc: Record<string, unknown> = {
    schema: RUN_SCHEMA,
    scenario: {file: r.scenario.file, name: r.scenario.name || null, seed: r.scenario.seed},
    end_ms: r.endMs,
    tunables: tunablesJson(e),
    timeouts: e.getTimeouts(),
    daemons: (['master', 'backup'] as const).flatMap((role) => {
      const d = e.syncDaemons[role];
      return d ? [{role, mcast_ifn: d.mcastIfn, syncid: d.syncId, maxlen: effectiveSyncMaxLen(d), group: d.mcastGroup, port: d.mcastPort, ttl: d.mcastTtl}] : [];
    }),
    totals: {stats: stats(e.totStats.read()), rates: rates(e.totStats.rates())},
    services: servicesJson(e),
    connections: connectionsJson(e, opts.maxConns ?? Infinity),
    connections_total: snap.conns + snap.templates,
    defense: {
      memory: {
        available_pages: snap.memory.availablePages,
        amemthresh: snap.memory.amemthresh,
        total_pages: snap.memory.totalPages,
      },
      drop_entry: {mode: snap.defense.drop_entry.mode, active: snap.defense.drop_entry.active},
      drop_packet: {mode: snap.defense.drop_packet.mode, active: snap.defense.drop_packet.active, rate: snap.defense.drop_packet.rate},
      secure_tcp: {mode: snap.defense.secure_tcp.mode, active: snap.defense.secure_tcp.active},
      entries_dropped: Object.fromEntries(e.counters.dropEntry),
    },
    counters: {
      packets_in: e.counters.packetsIn,
      packets_out: e.counters.packetsOut,
      conns_created: e.counters.connsCreated,
      conns_expired: e.counters.connsExpired,
      entries: snap.conns,
      templates: snap.templates,
      dropped: Object.fromEntries(e.counters.dropped),
      not_handled: Object.fromEntries(e.counters.accepted),
      icmp_sent: e.counters.icmpSent,
    },
    sessions: r.sessions,
    reports: r.blocks.flatMap((b) => (b.kind === 'report' ? [{at_ms: b.atMs, command: b.command, output: b.text}] : [])),
  };
  if (r.traffic.length) doc.traffic = r.traffic;
  if (opts.packets) doc.packets = r.packets;
  if (opts.trace) doc.trace = r.blocks.flatMap((b) => (b.kind === 'trace' ? [b.line] : []));
  return doc;
}
