// The Prometheus exposition (prom-client): node_exporter's ipvs collector metrics under their own
// names and labels, so dashboards built for it work unchanged, and lvsdeck_* for what no exporter
// has: the defenses, drops by cause, entries by state, memory against amemthresh, sync queues and
// the estimator's rates. Every metric is filled from one MetricsView taken at the start of a scrape.
import {Counter, Gauge, Registry} from 'prom-client';
import type {BackendView, MetricsView, ServiceView} from './source.js';

/** node_exporter's backend labels, in its order (collector/ipvs_linux.go). */
const BACKEND_LABELS = ['local_address', 'local_port', 'remote_address', 'remote_port', 'proto', 'local_mark'] as const;
type BackendLabel = (typeof BACKEND_LABELS)[number];

function backendLabels(s: ServiceView, b: BackendView): Record<BackendLabel, string> {
  return {
    local_address: s.address, local_port: String(s.port), remote_address: b.address, remote_port: String(b.port),
    proto: s.proto, local_mark: s.mark,
  };
}

const RATES = [
  ['connections', 'cps', 'connections per second'],
  ['incoming_packets', 'inpps', 'incoming packets per second'],
  ['outgoing_packets', 'outpps', 'outgoing packets per second'],
  ['incoming_bytes', 'inbps', 'incoming bytes per second'],
  ['outgoing_bytes', 'outbps', 'outgoing bytes per second'],
] as const;

export interface MetricsRegistry {
  registry: Registry;
  /** Render the exposition text for this view. */
  render(view: MetricsView): Promise<string>;
}

export function createMetricsRegistry(): MetricsRegistry {
  const registry = new Registry();
  let v: MetricsView | null = null;
  const view = () => v!;

  // A gauge or counter whose series are rebuilt from the view at each scrape.
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[], fill: (set: (labels: Record<L, string>, value: number) => void, v: MetricsView) => void) =>
    new Gauge({
      name, help, labelNames, registers: [registry],
      collect(this: Gauge<L>) {
        this.reset();
        fill((labels, value) => (labelNames.length ? this.set(labels, value) : this.set(value)), view());
      },
    });
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[], fill: (set: (labels: Record<L, string>, value: number) => void, v: MetricsView) => void) =>
    new Counter({
      name, help, labelNames, registers: [registry],
      collect(this: Counter<L>) {
        this.reset();
        fill((labels, value) => {
          if (value <= 0) return; // a counter starts at zero; reset() already says so
          if (labelNames.length) this.inc(labels, value);
          else this.inc(value);
        }, view());
      },
    });
  const none = {} as Record<never, string>;

  // node_exporter's ipvs collector: totals of /proc/net/ip_vs_stats, per-backend figures of
  // /proc/net/ip_vs summed over equal label sets.
  counter('node_ipvs_connections_total', 'The total number of connections made.', [], (set, v) => set(none, v.totals.conns));
  counter('node_ipvs_incoming_packets_total', 'The total number of incoming packets.', [], (set, v) => set(none, v.totals.inpkts));
  counter('node_ipvs_outgoing_packets_total', 'The total number of outgoing packets.', [], (set, v) => set(none, v.totals.outpkts));
  counter('node_ipvs_incoming_bytes_total', 'The total amount of incoming data.', [], (set, v) => set(none, v.totals.inbytes));
  counter('node_ipvs_outgoing_bytes_total', 'The total amount of outgoing data.', [], (set, v) => set(none, v.totals.outbytes));
  const perBackend = (name: string, help: string, pick: (b: BackendView) => number) =>
    gauge(name, help, BACKEND_LABELS, (set, v) => {
      const sums = new Map<string, {labels: Record<BackendLabel, string>; value: number}>();
      for (const s of v.services) {
        for (const b of s.backends) {
          const labels = backendLabels(s, b);
          const key = BACKEND_LABELS.map((l) => labels[l]).join('\0');
          const cur = sums.get(key);
          if (cur) cur.value += pick(b);
          else sums.set(key, {labels, value: pick(b)});
        }
      }
      for (const {labels, value} of sums.values()) set(labels, value);
    });
  perBackend('node_ipvs_backend_connections_active', 'The current active connections by local and remote address.', (b) => b.active);
  perBackend('node_ipvs_backend_connections_inactive', 'The current inactive connections by local and remote address.', (b) => b.inactive);
  perBackend('node_ipvs_backend_weight', 'The current backend weight by local and remote address.', (b) => b.weight);

  // The defenses (net.ipv4.vs.drop_entry, drop_packet, secure_tcp).
  const defenses = (v: MetricsView) => Object.entries(v.defense);
  gauge('lvsdeck_defense_mode', 'Value of the defense sysctl (0 off, 1 automatic and idle, 2 automatic and active, 3 always on).', ['defense'],
    (set, v) => defenses(v).forEach(([defense, d]) => set({defense}, d.mode)));
  gauge('lvsdeck_defense_active', 'Whether the defense is acting now (1) or not (0).', ['defense'],
    (set, v) => defenses(v).forEach(([defense, d]) => set({defense}, d.active ? 1 : 0)));
  gauge('lvsdeck_drop_packet_rate', 'drop_packet drops one packet in this many (0 = none).', [], (set, v) => set(none, v.defense.drop_packet.rate));

  // What happened to packets and entries.
  counter('lvsdeck_packets_total', 'Packets handled, by direction (in: from clients, out: replies from real servers).', ['direction'], (set, v) => {
    set({direction: 'in'}, v.packets.in);
    set({direction: 'out'}, v.packets.out);
  });
  counter('lvsdeck_packets_dropped_total', 'Packets dropped, by cause.', ['reason'],
    (set, v) => Object.entries(v.dropped).forEach(([reason, n]) => set({reason}, n)));
  counter('lvsdeck_packets_not_forwarded_total', 'Packets left to the local stack or ignored instead of forwarded, by cause.', ['reason'],
    (set, v) => Object.entries(v.accepted).forEach(([reason, n]) => set({reason}, n)));
  counter('lvsdeck_drop_entry_removed_total', 'Connection entries removed by the drop_entry defense, by their state.', ['state'],
    (set, v) => Object.entries(v.dropEntry).forEach(([state, n]) => set({state}, n)));
  counter('lvsdeck_connections_created_total', 'Connection entries created.', [], (set, v) => set(none, v.connsCreated));
  counter('lvsdeck_connections_expired_total', 'Connection entries expired.', [], (set, v) => set(none, v.connsExpired));
  gauge('lvsdeck_connection_entries', 'Live connection entries (templates included), by state.', ['state'],
    (set, v) => Object.entries(v.states).forEach(([state, n]) => set({state}, n)));
  gauge('lvsdeck_connection_templates', 'Live persistence templates.', [], (set, v) => set(none, v.templates));

  // Memory as the defenses see it.
  gauge('lvsdeck_memory_available_pages', 'Available memory (free + buffers) in 4 KiB pages.', [], (set, v) => set(none, v.memory.availablePages));
  gauge('lvsdeck_memory_amemthresh_pages', 'net.ipv4.vs.amemthresh: below this many available pages the automatic defenses act.', [], (set, v) => set(none, v.memory.amemthresh));
  gauge('lvsdeck_memory_total_pages', 'Host memory in 4 KiB pages.', [], (set, v) => set(none, v.memory.totalPages));

  // Connection synchronisation.
  gauge('lvsdeck_sync_queue_messages', 'Master: finished sync messages waiting to be sent.', ['role'],
    (set, v) => v.sync.forEach((s) => set({role: s.role}, s.queueMessages)));
  gauge('lvsdeck_sync_queue_max_messages', 'Master: the queue limit (sync_qlen_max).', ['role'],
    (set, v) => v.sync.forEach((s) => set({role: s.role}, s.queueMax)));
  gauge('lvsdeck_sync_pending_entries', 'Master: entries in sync messages not yet finished.', ['role'],
    (set, v) => v.sync.forEach((s) => set({role: s.role}, s.pendingEntries)));
  counter('lvsdeck_sync_queue_dropped_total', 'Master: sync messages discarded on a full queue.', ['role'],
    (set, v) => v.sync.forEach((s) => set({role: s.role}, s.queueDropped)));
  counter('lvsdeck_sync_messages_total', 'Sync messages sent (master) or received (backup).', ['role', 'direction'],
    (set, v) => v.sync.forEach((s) => {
      set({role: s.role, direction: 'sent'}, s.messagesSent);
      set({role: s.role, direction: 'received'}, s.messagesReceived);
    }));
  gauge('lvsdeck_sync_last_message_age_seconds', 'Virtual seconds since the daemon last sent (master) or received (backup) a message: its lag.', ['role'],
    (set, v) => v.sync.forEach((s) => {
      if (s.lastMessageAgeMs !== null) set({role: s.role}, s.lastMessageAgeMs / 1000);
    }));

  // The rate estimator (2-second EWMA), for the whole director and per backend.
  for (const [name, key, what] of RATES) {
    gauge(`lvsdeck_estimated_${name}_per_second`, `Estimator: ${what}, all services.`, [], (set, v) => set(none, v.rates[key]));
    gauge(`lvsdeck_backend_estimated_${name}_per_second`, `Estimator: ${what}, by backend.`, BACKEND_LABELS,
      (set, v) => v.services.forEach((s) => s.backends.forEach((b) => set(backendLabels(s, b), b.rates[key]))));
  }
  gauge('lvsdeck_virtual_time_seconds', 'The engine\'s virtual clock.', [], (set, v) => set(none, v.now / 1000));

  return {
    registry,
    async render(next: MetricsView) {
      v = next;
      try {
        return await registry.metrics();
      } finally {
        v = null;
      }
    },
  };
}
