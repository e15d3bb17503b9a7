// The sysctls under /proc/sys/net/ipv4/vs (ip_vs_ctl.c, vs_vars[]): catalogue, help texts and a store that
// validates writes exactly like the Linux handlers do (kernel/sysctl.c, lib/bitmap.c and the
// IPVS handlers in ip_vs_ctl.c). Pure: no I/O, no clock, no randomness.
//
// Model of a write: write(name, TEXT) is `echo TEXT > /proc/sys/net/ipv4/vs/NAME`, so the handler
// sees the UTF-8 bytes of TEXT followed by one '\n'. Integer parsing follows proc_get_long(): the
// radix is auto-detected like strtoul(..., 0) (so '0x10' is 16 and '010' is 8), only a leading '-'
// is accepted as a sign, the character after the number must be a space, tab or newline, and a
// number token of 21 characters or more is refused.

import {HZ, INT_MAX, SYNC} from './constants.js';

export type TunableKind =
  | 'int'
  | 'bool'
  | 'defense'
  | 'minmax'
  | 'jiffies'
  | 'ulong'
  | 'sync_threshold'
  | 'sync_ports'
  | 'est_nice'
  | 'run_estimation'
  | 'cpulist';

export interface TunableDef {
  /** Name under /proc/sys/net/ipv4/vs, e.g. 'drop_entry'. */
  name: string;
  /** Which kernel handler validates writes. */
  kind: TunableKind;
  /** Kernel handler name, e.g. 'proc_do_defense_mode'. */
  handler: string;
  /** Default as the kernel reads it back, e.g. '0', '3\t50', '86400', or the cpulist. */
  defaultText: string;
  /** Enforced bounds where the handler has them. */
  min?: number;
  max?: number;
  /** Short human description of accepted values. */
  allowed: string;
  /** The handler's validation rule in one sentence. */
  rule: string;
  /** One line (<= 70 chars). */
  summary: string;
  /** A paragraph: what it does in the engine, units, when it matters, interactions. */
  help: string;
  category: 'defense' | 'connections' | 'scheduling' | 'sync' | 'estimator' | 'forwarding' | 'debug';
}

export type WriteResult =
  | {ok: true; changed: boolean}
  | {ok: false; error: string; errno: 'EINVAL' | 'ERANGE' | 'ENOENT'};

export interface TunableOptions {
  /** CPUs of the simulated host, default 2. */
  cpuCount?: number;
  /** Default for sync_qlen_max (kernel: nr_free_buffer_pages()/32), default 4096. */
  syncQlenMaxDefault?: number;
  /** Called after a write that changed the stored value. */
  onChange?: (name: string) => void;
}

// ---------------------------------------------------------------------------------------------
// Kernel numbers

/** proc_dointvec_jiffies refuses magnitudes above INT_MAX / HZ seconds. */
const JIFFIES_MAX_SECONDS = Math.floor(INT_MAX / HZ); // 2147483
/** MIN_NICE / MAX_NICE. */
const MIN_NICE = -20;
const MAX_NICE = 19;
/** proc_get_long() copies at most TMPBUFLEN - 1 characters and refuses a token of that length. */
const TMPBUFLEN = 22;
/** __do_proc_dointvec() / __do_proc_doulongvec_minmax() look at no more than PAGE_SIZE - 1 bytes. */
const WRITE_LIMIT = 4095;
const U64_MAX = (1n << 64n) - 1n;
const DEFAULT_CPU_COUNT = 2;
const DEFAULT_SYNC_QLEN_MAX = 4096;
/** Largest simulated host (NR_CPUS of a MAXSMP x86_64 build). */
const MAX_CPU_COUNT = 8192;
/** lblc/lblcr DEFAULT_EXPIRATION: 24 hours. */
const LBLC_DEFAULT_EXPIRATION_S = 24 * 60 * 60;

// ---------------------------------------------------------------------------------------------
// Catalogue

const ANY_INT = 'any C int (-2147483648..2147483647)';
const BOOL_ALLOWED = 'any C int: 0 is off, every other value is on';
const RULE_DOINTVEC =
  'One integer (decimal, 0x hexadecimal or 0-prefixed octal, optional leading minus) that fits a C int; there is no range check.';
const RULE_DEFENSE =
  'The new value is checked only when it differs from the current one: it must be 0..3, and a valid change re-runs the defense evaluation at once.';
const RULE_JIFFIES =
  'One integer number of seconds whose magnitude is at most INT_MAX/HZ (2147483); negative values pass and are stored as negative milliseconds.';

function dointvec(
  name: string,
  dflt: number,
  category: TunableDef['category'],
  kind: 'int' | 'bool',
  summary: string,
  help: string,
): TunableDef {
  return {
    name,
    kind,
    handler: 'proc_dointvec',
    defaultText: String(dflt),
    allowed: kind === 'bool' ? BOOL_ALLOWED : ANY_INT,
    rule: RULE_DOINTVEC,
    summary,
    help,
    category,
  };
}

function defense(name: string, summary: string, help: string): TunableDef {
  return {
    name,
    kind: 'defense',
    handler: 'proc_do_defense_mode',
    defaultText: '0',
    min: 0,
    max: 3,
    allowed: '0..3 (checked only when the value changes)',
    rule: RULE_DEFENSE,
    summary,
    help,
    category: 'defense',
  };
}

function jiffies(name: string, dfltSeconds: number, category: TunableDef['category'], summary: string, help: string): TunableDef {
  return {
    name,
    kind: 'jiffies',
    handler: 'proc_dointvec_jiffies',
    defaultText: String(dfltSeconds),
    min: -JIFFIES_MAX_SECONDS,
    max: JIFFIES_MAX_SECONDS,
    allowed: 'whole seconds, -2147483..2147483',
    rule: RULE_JIFFIES,
    summary,
    help,
    category,
  };
}

const DEFS: TunableDef[] = [
  dointvec(
    'am_droprate', 10, 'defense', 'int',
    'Drop rate of drop_packet mode 3: discard 1 of every N new conns',
    'Used only while drop_packet is 3: each defense tick (once a second) copies it into the packet ' +
      'drop rate, so one of every am_droprate connection-creating packets is thrown away, while ' +
      'packets of existing connections are never touched. A value of 0 means nothing is dropped even ' +
      'in mode 3, and any other value of 1 or below drops every such packet. A new value takes effect ' +
      'at the next defense tick or at the next valid change of a defense-mode tunable, not when written.',
  ),
  dointvec(
    'amemthresh', 1024, 'defense', 'int',
    'Low-memory threshold in 4 KiB pages for automatic defense modes',
    'Each defense tick counts the available memory as free pages plus buffer pages of 4 KiB (swap is ' +
      'ignored; in the engine this is the injected host memory) and calls memory short when that count ' +
      'is below amemthresh. A shortage raises every defense tunable that is 1 to 2, and recovery lowers ' +
      '2 back to 1. For drop_packet in the automatic modes it is also the numerator of the drop rate: ' +
      'amemthresh / (amemthresh - available pages), rounded down. It has no effect unless at least one ' +
      'of drop_entry, drop_packet and secure_tcp is 1 or 2.',
  ),
  dointvec(
    'backup_only', 0, 'sync', 'bool',
    'Turn off the director while the backup sync daemon is running',
    'Takes effect only while the backup role of the sync daemon runs: then every incoming packet ' +
      'bypasses IPVS completely, with no connection lookup, no scheduling and no forwarding, and ICMP ' +
      'seen in the FORWARD hook is left alone as well. The reply direction is still processed. This ' +
      'keeps a DR or TUN backup that also receives VIP traffic from bouncing packets back into the ' +
      'cluster. Stopping the backup role, or writing 0, restores normal director behaviour.',
  ),
  dointvec(
    'cache_bypass', 0, 'forwarding', 'bool',
    'Send packets on to their original target when no server is left',
    'Looked at only when scheduling found no real server for a new connection of a firewall-mark ' +
      'service. If it is set, the packet is not an ICMP-embedded lookup and its destination is a ' +
      'non-local unicast address, the engine creates a BYPASS connection (no real server) and forwards ' +
      'the packet unchanged to the address it was sent to. Otherwise the usual no-destination path runs: ' +
      'ICMP port unreachable and drop. It exists for transparent web cache clusters.',
  ),
  dointvec(
    'conn_reuse_mode', 1, 'connections', 'int',
    'What a SYN/INIT does when its ports match an existing entry',
    'Consulted when a TCP SYN or SCTP INIT hits an existing entry. With 0 the old entry is reused and ' +
      'the new connection goes to the same real server. Any non-zero value (bit 0x1 by default) makes a ' +
      'SYN that meets an entry in TIME_WAIT or CLOSE, or an INIT that meets SCTP CLOSED, expire that ' +
      'entry and get scheduled afresh; bit 0x2 also counts FIN_WAIT as reusable, but only for entries ' +
      'that never see replies (NOOUTPUT, that is DR or TUN). Entries controlled by a persistence ' +
      'template or an FTP control connection are never rescheduled this way, and the weight-0 ' +
      'rescheduling of expire_nodest_conn works whatever this value is.',
  ),
  dointvec(
    'conntrack', 0, 'connections', 'bool',
    'Keep netfilter conntrack entries for IPVS connections',
    'When set at the moment a connection is created, the entry carries the NFCT flag (0x10000) and ' +
      'its packets stay visible to netfilter connection tracking instead of being marked untracked; ' +
      'entries created earlier keep whatever they had. It changes port reuse: a SYN that meets an old ' +
      'entry pinned by a confirmed conntrack is dropped, and only the client retransmission about a ' +
      'second later gets a new real server. Enable it only when stateful firewall rules must see IPVS ' +
      'traffic; the kernel offers it only when built with CONFIG_IP_VS_NFCT.',
  ),
  dointvec(
    'debug_level', 0, 'debug', 'int',
    'IPVS debug log verbosity; never changes packet handling',
    'Chooses how much IPVS logs, each level including the ones below it: 0 transmit errors, 1 ' +
      'non-fatal errors, 2 configuration, 3 destination trash, 4 entry dropping, 5 service lookup, 6 ' +
      'scheduling, 7 connection creation, expiry, lookup and sync, 8 state changes, 9 destination ' +
      'binding, template checks and helpers, 10 packet transmit, 11 packet in/out handling, 12 and ' +
      'above packet traversal. The engine behaves identically at every level. In the kernel it is a ' +
      'single global value (read-only outside the initial namespace) that exists only with ' +
      'CONFIG_IP_VS_DEBUG.',
  ),
  defense(
    'drop_entry',
    'Defense: randomly purge connection entries (0 off .. 3 always)',
    'Mode 0 is off, 1 is automatic and waiting, 2 is automatic and active, 3 is always active; in the ' +
      'automatic modes the defense tick itself rewrites 1 to 2 when available memory falls below ' +
      'amemthresh and 2 back to 1 when it recovers. While active, a pass runs once a second over 1/32 ' +
      'of the connection hash buckets chosen at random and removes entries still in TCP SYN_RECV or ' +
      'SYNACK or SCTP INIT1 or INIT, persistence templates that are not assured, and a thinned-out share ' +
      'of entries idle for at least 60 s with 1 to 8 incoming packets (TCP and SCTP only when ' +
      'ESTABLISHED); entries that control others are skipped. A valid new value re-evaluates the ' +
      'defense immediately, while writing the current value again does nothing.',
  ),
  defense(
    'drop_packet',
    'Defense: drop 1 in N connection-creating packets (0 off .. 3 always)',
    'Uses the same four modes as drop_entry, including the automatic 1 to 2 and 2 to 1 rewrites. ' +
      'While active, only packets about to create a connection are candidates, and one in every N of ' +
      'them is discarded without any ICMP, counted with a single counter shared by TCP, UDP and SCTP. ' +
      'In the automatic modes N is amemthresh / (amemthresh - available pages) rounded down, recomputed ' +
      'with the counter reset on every tick while memory is short, so N = 1 drops every attempt. In ' +
      'mode 3 N is am_droprate and the counter is not reset, so the first candidate after start-up is ' +
      'dropped.',
  ),
  {
    name: 'est_cpulist',
    kind: 'cpulist',
    handler: 'ipvs_proc_est_cpulist',
    defaultText: '0-1', // all CPUs of the default two-CPU host; an instance uses its own cpuCount
    allowed: "CPU list: N, N-M, N-M:used/group, 'all', 'N' = last CPU; empty stops estimation",
    rule:
      'Parsed like cpulist_parse(): comma or space separated items, each start not above its end, and a CPU beyond the host gives ERANGE.',
    summary: "CPUs for the rate estimator threads; '' stops estimation",
    help:
      'A list of CPUs such as 0-3,8 or all, read back in the collapsed form the kernel prints (for ' +
      'example 0,2-3). Until it is written it shows the housekeeping CPUs, which on the simulated host ' +
      'are all of them (0-1 with the default two CPUs). An empty list halts rate estimation just like ' +
      'run_estimation=0, and a CPU number beyond the host is refused with ERANGE. The engine only cares ' +
      'whether the list is empty; which CPUs are named has no effect in-process.',
    category: 'estimator',
  },
  {
    name: 'est_nice',
    kind: 'est_nice',
    handler: 'ipvs_proc_est_nice',
    defaultText: '0',
    min: MIN_NICE,
    max: MAX_NICE,
    allowed: '-20..19',
    rule:
      'One integer that must lie in -20..19 (MIN_NICE..MAX_NICE), checked on every write; a valid different value reloads the estimator.',
    summary: 'Nice level of the rate estimator threads (-20..19)',
    help:
      'Sets the scheduling priority of the kernel threads that compute the 2-second rate estimates. ' +
      'It is range-checked on every write, even when the value would not change. In the engine ' +
      'estimation runs in-process, so the value is stored and shown but changes nothing else.',
    category: 'estimator',
  },
  dointvec(
    'expire_nodest_conn', 0, 'connections', 'bool',
    'Expire entries whose real server was removed, do not just drop',
    'With 0, a packet for an entry whose destination has been deleted is dropped silently and does ' +
      'not extend the entry, which stays until its ordinary timeout. A non-zero value has three ' +
      'effects: such a packet expires the entry at once and is handled as new (a SYN is scheduled to a ' +
      'live server, unless a confirmed conntrack forces a drop); each destination deletion queues a ' +
      'background sweep that removes every entry tied to an unavailable destination, older leftovers ' +
      'and orphaned templates included; and a SYN or SCTP INIT that meets an entry whose server has ' +
      'weight 0 is rescheduled in any state, whatever conn_reuse_mode says. Writing 1 sweeps nothing by ' +
      'itself.',
  ),
  dointvec(
    'expire_quiescent_template', 0, 'scheduling', 'bool',
    'Stop persistence templates pinning clients to weight-0 servers',
    'When non-zero, a persistence template whose real server has weight 0 is treated as invalid at ' +
      'the moment it would place a new connection, so a new server is scheduled and a new template ' +
      'created. Connections that already exist keep their server. With the default 0, persistent ' +
      'clients keep reaching a quiesced server until their template expires.',
  ),
  dointvec(
    'ignore_tunneled', 0, 'forwarding', 'bool',
    'Tag non-IPVS protocols (IPIP, GRE) so IPVS skips them later',
    'A packet whose transport protocol IPVS does not handle, such as IPIP or GRE, is tagged as ' +
      'already seen by IPVS when this is set, so the packet inside is not processed again after ' +
      'decapsulation. That prevents loops on a director that is also a real server. With 0 such ' +
      'packets are simply accepted untouched.',
  ),
  dointvec(
    'nat_icmp_send', 0, 'forwarding', 'bool',
    'Reply ICMP unreachable to NAT server packets matching no entry',
    'Affects the reply direction: a TCP, UDP or SCTP packet coming from a known NAT real server ' +
      'address and port that matches no connection entry is answered with ICMP port unreachable toward ' +
      'the real server and dropped. TCP RST and SCTP ABORT packets are let through without that reply. ' +
      'With 0 all such packets are accepted and pass on without IPVS involvement.',
  ),
  dointvec(
    'pmtu_disc', 1, 'forwarding', 'bool',
    "Refuse oversized DF packets with 'fragmentation needed'",
    'With the default 1, a packet with DF set that is larger than the path MTU toward the real server ' +
      'is refused with an ICMP fragmentation-needed error, for every forwarding method. With 0, tunnel ' +
      'forwarding may fragment such packets instead. It only matters where encapsulation or the route ' +
      'to the real server lowers the MTU.',
  ),
  {
    name: 'run_estimation',
    kind: 'run_estimation',
    handler: 'ipvs_proc_run_estimation',
    defaultText: '1',
    allowed: 'any C int: 0 stops estimation, every other value runs it',
    rule: 'One integer that fits a C int with no range check; the estimator is reloaded only when the value changes.',
    summary: 'Run the 2-second rate estimator (0 freezes the shown rates)',
    help:
      'Any non-zero value keeps the rate estimator running every 2 seconds; 0 stops it, so the ' +
      'connection, packet and byte rates in the listings keep their last values while the counters ' +
      'go on counting. Turning it back on resumes estimation, but the first estimate afterwards is ' +
      'off because its delta covers the whole pause. Estimation is also halted while est_cpulist is empty.',
    category: 'estimator',
  },
  dointvec(
    'schedule_icmp', 0, 'scheduling', 'bool',
    'Schedule a new connection for ICMP errors that match no entry',
    'When an incoming ICMP error carries an embedded packet that belongs to no connection and is not ' +
      'inside an IPVS tunnel, a non-zero value makes IPVS try to create a connection for the embedded ' +
      'packet as if it were a first packet. With 0 such errors are accepted and handed to the local ' +
      'stack. The upstream documentation does not list it, but the code has it.',
  ),
  defense(
    'secure_tcp',
    'Defense: stricter TCP state table (0 off .. 3 always)',
    'Uses the same four modes as drop_entry, including the automatic 1 to 2 and 2 to 1 rewrites. ' +
      'While the effective level is 2 or more, every TCP connection is driven by the stricter ' +
      'alternative transition table from its next packet on; timeouts stay exactly the same. The switch ' +
      'happens when a valid different value is written or when the tick flips 1 and 2, and entries keep ' +
      'the state they reached when the normal table returns.',
  ),
  dointvec(
    'sloppy_sctp', 0, 'connections', 'bool',
    'Let any SCTP first chunk except ABORT create a connection',
    'With 0 only an SCTP packet whose first chunk is INIT may create a connection. A non-zero value ' +
      'accepts any first chunk other than ABORT, so a director taking over in the middle of an ' +
      'association, such as a sync backup after failover, can adopt it. It is usually paired with ' +
      'sync_persist_mode, where the backup learns only the templates.',
  ),
  dointvec(
    'sloppy_tcp', 0, 'connections', 'bool',
    'Let any non-RST TCP packet create a connection, not only SYN',
    'With 0 only a TCP segment with SYN set and RST clear may create a connection. A non-zero value ' +
      'accepts any segment without RST, so a director taking over mid-flow, such as a sync backup after ' +
      'failover, can adopt running connections. It is usually paired with sync_persist_mode, where the ' +
      'backup learns only the templates.',
  ),
  dointvec(
    'snat_reroute', 1, 'forwarding', 'bool',
    'Route NAT replies as if the director itself sent them',
    'For replies from NAT real servers that IPVS rewrites in the FORWARD or LOCAL_OUT hook (not ' +
      'LOCAL_IN), the route is looked up again as if the packet had been generated on the director. ' +
      'The outcome can only differ from the original route under policy routing, so 0 saves a route ' +
      'lookup on hosts that do not use it.',
  ),
  dointvec(
    'sync_persist_mode', 0, 'sync', 'int',
    'Sync only the persistence templates of persistent services',
    'When non-zero, the sync master never sends a connection that is controlled, directly or through a ' +
      'chain, by a persistence template; the templates themselves are still sent. Services without ' +
      'persistence are synced as usual. The backup then knows which server each client belongs to but ' +
      'not the connections, so it needs sloppy_tcp and sloppy_sctp to pick up flows after a failover.',
  ),
  {
    name: 'sync_ports',
    kind: 'sync_ports',
    handler: 'proc_do_sync_ports',
    defaultText: '1',
    min: 1,
    allowed: 'a power of two >= 1 (checked only when the value changes)',
    rule: 'The new value is checked only when it differs from the current one: it must be at least 1 and a power of two.',
    summary: 'Number of sync threads and UDP ports, read when a daemon starts',
    help:
      'Read when the first sync daemon role, master or backup, is started: the thread count is this ' +
      'value clamped to 1..64 and thread i uses UDP port mcast_port + i. A role started while the other ' +
      'one runs reuses the existing count, and running daemons never notice a change. The master ' +
      'spreads connections over its threads with a stable per-entry hash masked by count - 1.',
    category: 'sync',
  },
  {
    name: 'sync_qlen_max',
    kind: 'ulong',
    handler: 'proc_doulongvec_minmax',
    defaultText: String(DEFAULT_SYNC_QLEN_MAX),
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    allowed: '0..2^53-1 (the kernel takes any unsigned long)',
    rule:
      'One non-negative integer (a leading minus is refused even for -0); the engine also refuses values above 2^53-1, which it cannot hold exactly.',
    summary: 'Max finished sync messages queued per master thread',
    help:
      'Limits how many completed sync messages may wait in the send queue of each master thread; a ' +
      'message finished while the queue is full is thrown away, and the backup never hears about its ' +
      'entries. The kernel derives the default from the free buffer pages at namespace creation (1/32 ' +
      'of them); the engine takes it from its options, 4096 unless set. It matters only while the ' +
      'master role runs and the sender falls behind.',
    category: 'sync',
  },
  jiffies(
    'sync_refresh_period', 0, 'sync',
    'Expiry drift in seconds needed before a synced entry is resent',
    'In seconds, kept in milliseconds by the engine. When above 0, an entry that was already synced is ' +
      'not sent again while its expected expiry has moved by less than min(this period, max(timeout/2, ' +
      '10 s)), apart from up to sync_retries extra copies sent at least period/8 apart. With the period of ' +
      'sync_threshold at 0 it becomes the only resend control, with no packet-count filter. The ' +
      'handler lets negative values through; what the sync code then does with them is unverified.',
  ),
  {
    name: 'sync_retries',
    kind: 'minmax',
    handler: 'proc_dointvec_minmax',
    defaultText: '0',
    min: 0,
    max: 3,
    allowed: '0..3',
    rule: 'One integer that must lie in 0..3.',
    summary: 'Extra copies sent inside the refresh window (0..3)',
    help:
      'Matters only when sync_refresh_period is above 0. While an entry has not drifted enough to be ' +
      'refreshed, up to this many additional copies may still be sent, each at least ' +
      'sync_refresh_period/8 after the previous send, counted in the two low bits of the entry sync ' +
      'deadline. With 0 there are no such retries.',
    category: 'sync',
  },
  dointvec(
    'sync_sock_size', 0, 'sync', 'int',
    'Socket buffer size of the sync sockets in bytes (0 = default)',
    'When positive, becomes SO_SNDBUF of the master sockets or SO_RCVBUF of the backup sockets when a ' +
      'daemon starts; the kernel clamps it to the range the socket layer allows (up to wmem_max or ' +
      'rmem_max) and doubles it as it does for every socket. Zero or a negative value keeps the system ' +
      'defaults, and a running daemon is not affected by changes.',
  ),
  {
    name: 'sync_threshold',
    kind: 'sync_threshold',
    handler: 'proc_do_sync_threshold',
    defaultText: `${SYNC.DEFAULT_THRESHOLD}\t${SYNC.DEFAULT_PERIOD}`,
    min: 0,
    allowed: "two ints 'threshold period': 0 <= threshold < period, or period = 0",
    rule:
      'Both numbers must be non-negative and the threshold must be below the period unless the period is 0; a lone number replaces only the threshold and the pair is checked as a whole.',
    summary: 'Sync an entry when in_pkts % period == threshold (default 3 50)',
    help:
      'Two numbers, threshold then period. With a period above 0 an entry is sent to the backup each ' +
      'time its incoming packet count modulo the period equals the threshold (packets 3, 53, 103 and so ' +
      'on by default), besides selected state changes, and templates skip this count test. With period ' +
      '0 and sync_refresh_period 0 every entry goes out once, when its count equals the threshold; with ' +
      'period 0 and a refresh period there is no count filter at all. The engine exposes the two halves ' +
      'as sync_threshold and sync_period.',
    category: 'sync',
  },
  {
    name: 'sync_version',
    kind: 'minmax',
    handler: 'proc_dointvec_minmax',
    defaultText: '1',
    min: 0,
    max: 1,
    allowed: '0..1',
    rule: 'One integer that must lie in 0..1.',
    summary: 'Sync protocol version the master sends (0 legacy, 1 current)',
    help:
      'With the default 1 the master sends protocol version 1 messages, which can describe IPv6 ' +
      'entries and carry options; 0 selects the legacy version 0 format, which covers IPv4 only, so ' +
      'IPv6 entries are left out. Receivers take both versions whatever this says. A change also ' +
      'pushes the message being filled to the send queue, because the two headers differ.',
    category: 'sync',
  },
  jiffies(
    'lblc_expiration', LBLC_DEFAULT_EXPIRATION_S, 'scheduling',
    'Idle time in seconds before an lblc cache entry is purged',
    'In seconds, kept in milliseconds by the engine; the default is one day. The lblc scheduler keeps ' +
      'a per-service cache from destination address to real server, and every 30th run of its ' +
      '60-second collector (about every half hour) deletes entries unused for this long. Emergency ' +
      'sweeps of an oversized cache use a fixed 6 minute idle limit instead. The kernel shows it only ' +
      'while the lblc module is loaded.',
  ),
  jiffies(
    'lblcr_expiration', LBLC_DEFAULT_EXPIRATION_S, 'scheduling',
    'Age in seconds after which lblcr sets shed their busiest member',
    'In seconds, kept in milliseconds by the engine; the default is one day. For the lblcr scheduler ' +
      'it has two uses: the periodic full sweep (about every half hour) deletes cache entries idle for ' +
      'this long, and a cache hit on a server set of two or more members whose last change is older ' +
      'than this removes the most loaded member. The kernel shows it only while the lblcr module is ' +
      'loaded.',
  ),
];

/** Every sysctl of ip_vs_ctl.c's vs_vars[] (ip_vs_control_net_init_sysctl) except the nf-next conn_lfactor/svc_lfactor, by name. */
export const TUNABLES: readonly TunableDef[] = Object.freeze(
  DEFS.slice()
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((d) => Object.freeze(d)),
);

const BY_NAME: ReadonlyMap<string, TunableDef> = new Map(TUNABLES.map((d) => [d.name, d]));

/** Accepts 'drop_entry', 'net.ipv4.vs.drop_entry', 'net/ipv4/vs/drop_entry' or '/proc/sys/net/ipv4/vs/drop_entry'. */
export function findTunable(name: string): TunableDef | undefined {
  let n = name.trim();
  if (n.startsWith('/proc/sys/')) n = n.slice('/proc/sys/'.length);
  if (n.startsWith('net.ipv4.vs.') || n.startsWith('net/ipv4/vs/')) n = n.slice('net.ipv4.vs.'.length);
  return BY_NAME.get(n);
}

// ---------------------------------------------------------------------------------------------
// Kernel text parsing, on the bytes the handler would see

type Errno = 'EINVAL' | 'ERANGE';
interface Failure {
  errno: Errno;
  reason: string;
}

const NOT_AN_INTEGER = 'not an integer (decimal, 0x hex or 0-prefixed octal, then a space, tab or newline)';
const NO_NUMBER = 'no number given';

const encoder = new TextEncoder();

/** What `echo TEXT >` hands to the handler. */
function echoBytes(text: string): Uint8Array {
  return encoder.encode(`${text}\n`);
}

/** The kernel's isspace() (lib/ctype.c, Latin-1 table: 0xA0 counts). */
function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0;
}
function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
function isXDigit(c: number): boolean {
  const lc = c | 0x20;
  return isDigit(c) || (lc >= 0x61 && lc <= 0x66);
}
/** proc_wspace_sep: the only characters allowed right after a number. */
function isWspaceSep(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a;
}

/** A position in the write buffer plus the count of bytes the handler still considers. */
interface Cursor {
  buf: Uint8Array;
  p: number;
  left: number;
}

function byteAt(c: Cursor, i: number): number {
  const j = c.p + i;
  return j < c.buf.length ? (c.buf[j] ?? 0) : 0;
}

function skipSpaces(c: Cursor): void {
  while (c.left > 0 && isSpace(byteAt(c, 0))) {
    c.p++;
    c.left--;
  }
}

/**
 * _parse_integer(): digits valid in `base`, accumulated in 64 bits.
 * Returns the digit count and the value, or null on 64-bit overflow.
 */
function parseInteger(get: (i: number) => number, start: number, base: number): {count: number; value: bigint | null} {
  let value = 0n;
  let i = start;
  for (;;) {
    const ch = get(i);
    let d: number;
    if (isDigit(ch)) d = ch - 0x30;
    else {
      const lc = ch | 0x20;
      if (lc >= 0x61 && lc <= 0x66) d = lc - 0x61 + 10;
      else break;
    }
    if (d >= base) break;
    value = value * BigInt(base) + BigInt(d);
    i++;
  }
  return {count: i - start, value: value > U64_MAX ? null : value};
}

/** proc_get_long(): one number at the cursor. Null means -EINVAL. */
function procGetLong(c: Cursor): {neg: boolean; val: bigint} | null {
  if (c.left <= 0) return null;
  const copied = Math.min(c.left, TMPBUFLEN - 1);
  const tmp = (i: number): number => (i < copied ? byteAt(c, i) : 0);
  let q = 0;
  let neg = false;
  if (tmp(0) === 0x2d /* '-' */ && c.left > 1) {
    neg = true;
    q = 1;
  }
  if (!isDigit(tmp(q))) return null;
  // strtoul_lenient(p, &p, 0, val): radix from the prefix, like _parse_integer_fixup_radix().
  let base = 10;
  if (tmp(q) === 0x30 /* '0' */) {
    if ((tmp(q + 1) | 0x20) === 0x78 /* 'x' */ && isXDigit(tmp(q + 2))) {
      base = 16;
      q += 2;
    } else base = 8;
  }
  const {count, value} = parseInteger(tmp, q, base);
  if (value === null) return null; // -ERANGE from strtoul_lenient, reported as -EINVAL
  const len = q + count;
  if (len === TMPBUFLEN - 1) return null;
  if (len < c.left && !isWspaceSep(byteAt(c, len))) return null;
  c.p += len;
  c.left -= len;
  return {neg, val: value};
}

/** A conv callback: the value to store, or the reason for -EINVAL. */
type Conv = (neg: boolean, val: bigint) => number | string;

/** do_proc_dointvec_conv(): C int range. */
const convInt: Conv = (neg, val) => {
  if (neg) return val > BigInt(INT_MAX) + 1n ? 'outside the C int range' : Number(-val);
  return val > BigInt(INT_MAX) ? 'outside the C int range' : Number(val);
};

function convMinMax(min: number, max: number): Conv {
  return (neg, val) => {
    const v = convInt(neg, val);
    if (typeof v === 'string') return v;
    return v < min || v > max ? `must be ${min}..${max}` : v;
  };
}

/** do_proc_dointvec_jiffies_conv(): the bound applies to the magnitude; stored in ms (HZ=1000). */
const convJiffies: Conv = (neg, val) => {
  if (val > BigInt(JIFFIES_MAX_SECONDS)) return `seconds must be within -${JIFFIES_MAX_SECONDS}..${JIFFIES_MAX_SECONDS} (INT_MAX/HZ)`;
  return Number(neg ? -val : val) * HZ;
};

/**
 * __do_proc_dointvec(): fills `vec` from the start, element by element, stopping at the first
 * error. Elements stored before an error stay stored (the IPVS handlers pass a scratch copy).
 * Text after the last element the vector can hold is ignored. Returns null on success.
 */
function doIntVec(text: string, vec: number[], conv: Conv): string | null {
  const buf = echoBytes(text);
  const c: Cursor = {buf, p: 0, left: Math.min(buf.length, WRITE_LIMIT)};
  let first = true;
  let err: string | null = null;
  for (let i = 0; c.left > 0 && i < vec.length; i++) {
    skipSpaces(c);
    if (c.left === 0) break;
    const r = procGetLong(c);
    if (!r) {
      err = NOT_AN_INTEGER;
      break;
    }
    const v = conv(r.neg, r.val);
    if (typeof v === 'string') {
      err = v;
      break;
    }
    vec[i] = v;
    first = false;
  }
  if (first) return err ?? NO_NUMBER;
  return err;
}

/**
 * __do_proc_doulongvec_minmax() for a single unsigned long with no bounds. Returns the value or a
 * failure reason. The kernel stores any value up to 2^64-1; a JS number cannot represent values
 * above Number.MAX_SAFE_INTEGER exactly, so those are refused with EINVAL as well.
 */
function doULong(text: string): number | string {
  const buf = echoBytes(text);
  const c: Cursor = {buf, p: 0, left: Math.min(buf.length, WRITE_LIMIT)};
  skipSpaces(c);
  if (c.left === 0) return NO_NUMBER;
  const r = procGetLong(c);
  if (!r) return NOT_AN_INTEGER;
  if (r.neg) return 'must not be negative';
  if (r.val > BigInt(Number.MAX_SAFE_INTEGER)) return 'above 2^53-1, which the engine cannot store exactly';
  return Number(r.val);
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

// ---- cpulist (lib/bitmap.c: bitmap_parselist and friends) ----

/** cpulist_parse() on the bytes of `echo TEXT`; the buffer ends in a NUL. Returns the CPU set. */
function parseCpulist(text: string, nbits: number): Set<number> | Failure {
  const buf = echoBytes(text);
  const at = (i: number): number => (i < buf.length ? (buf[i] ?? 0) : 0);
  const endOfStr = (ch: number): boolean => ch === 0 || ch === 0x0a;
  const endOfRegionSep = (ch: number): boolean => isSpace(ch) || ch === 0x2c; /* ',' */
  const endOfRegion = (ch: number): boolean => endOfRegionSep(ch) || endOfStr(ch);
  const lastbit = nbits - 1;
  const malformed = (): Failure => ({errno: 'EINVAL', reason: 'malformed CPU list'});

  /** bitmap_getnum(): decimal or 'N' (the last CPU). */
  const getnum = (pos: number): {num: number; pos: number} | Failure => {
    if (at(pos) === 0x4e /* 'N' */) return {num: lastbit, pos: pos + 1};
    const {count, value} = parseInteger(at, pos, 10);
    if (count === 0) return malformed();
    // -EOVERFLOW in the kernel; WriteResult has no such errno, so it is reported as ERANGE.
    if (value === null || value > 0xffffffffn) return {errno: 'ERANGE', reason: 'CPU number overflows'};
    return {num: Number(value), pos: pos + count};
  };
  const isFailure = (x: object): x is Failure => 'errno' in x;

  const mask = new Set<number>();
  let pos = 0;
  for (;;) {
    // bitmap_find_region()
    while (endOfRegionSep(at(pos))) pos++;
    if (endOfStr(at(pos))) return mask;

    // bitmap_parse_region()
    let start: number;
    let end: number;
    let off: number;
    let groupLen: number;
    let next: number | null; // null: the string ends after this region
    let hasPattern = false;
    let afterRange: number;
    const a0 = at(pos) | 0x20;
    const a1 = at(pos + 1) | 0x20;
    const a2 = at(pos + 2) | 0x20;
    if (a0 === 0x61 && a1 === 0x6c && a2 === 0x6c /* strncasecmp(str, "all", 3) */) {
      start = 0;
      end = lastbit;
      afterRange = pos + 3;
    } else {
      const s = getnum(pos);
      if (isFailure(s)) return s;
      start = s.num;
      if (endOfRegion(at(s.pos))) {
        end = start;
        afterRange = s.pos;
      } else {
        if (at(s.pos) !== 0x2d /* '-' */) return malformed();
        const e = getnum(s.pos + 1);
        if (isFailure(e)) return e;
        end = e.num;
        afterRange = e.pos;
      }
    }
    if (endOfRegion(at(afterRange))) {
      off = end + 1;
      groupLen = end + 1;
      next = endOfStr(at(afterRange)) ? null : afterRange;
    } else {
      if (at(afterRange) !== 0x3a /* ':' */) return malformed();
      const o = getnum(afterRange + 1);
      if (isFailure(o)) return o;
      if (at(o.pos) !== 0x2f /* '/' */) return malformed();
      const g = getnum(o.pos + 1);
      if (isFailure(g)) return g;
      off = o.num;
      groupLen = g.num;
      next = g.pos;
      hasPattern = true;
    }

    // bitmap_check_region()
    if (start > end || groupLen === 0 || off > groupLen) {
      return {errno: 'EINVAL', reason: hasPattern ? 'bad used/group pattern or start above end' : 'range start above its end'};
    }
    if (end >= nbits) return {errno: 'ERANGE', reason: `CPU ${end} is beyond the host's CPUs (0-${lastbit})`};

    // bitmap_set_region()
    for (let s = start; s <= end; s += groupLen) {
      const n = Math.min(end - s + 1, off);
      for (let b = s; b < s + n; b++) mask.add(b);
    }
    if (next === null) return mask;
    pos = next;
  }
}

/** The kernel's '%*pbl' format: ascending, consecutive runs collapsed to 'a-b'. */
function formatCpulist(cpus: ReadonlySet<number>): string {
  const sorted = [...cpus].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    const a = sorted[i] ?? 0;
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === (sorted[j] ?? 0) + 1) j++;
    const b = sorted[j] ?? a;
    parts.push(a === b ? String(a) : `${a}-${b}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** proc_dointvec_jiffies read side: magnitude / HZ with the sign printed separately (so -0 is possible). */
function jiffiesText(ms: number): string {
  const q = Math.floor(Math.abs(ms) / HZ);
  return ms < 0 ? `-${q}` : String(q);
}

// ---------------------------------------------------------------------------------------------
// The store

type Outcome = {ok: true; changed: boolean} | {ok: false; errno: Errno; reason: string; changed: boolean};

export class Tunables {
  /**
   * Fast numeric view used by the engine's packet path. Keys are the tunable names;
   * sync_threshold's two numbers are 'sync_threshold' and 'sync_period'; jiffies-backed values
   * (sync_refresh_period, lblc_expiration, lblcr_expiration) are in MILLISECONDS; est_cpulist is not
   * in here but 'est_cpulist_count' holds the number of CPUs in its mask (0 = estimation stopped).
   */
  readonly v: Record<string, number>;
  private readonly cpuCount: number;
  private readonly qlenDefault: number;
  private cpus: Set<number>;
  private readonly onChange: ((name: string) => void) | undefined;

  constructor(opts: TunableOptions = {}) {
    const cpuCount = opts.cpuCount ?? DEFAULT_CPU_COUNT;
    if (!Number.isInteger(cpuCount) || cpuCount < 1 || cpuCount > MAX_CPU_COUNT) {
      throw new RangeError(`cpuCount must be an integer in 1..${MAX_CPU_COUNT}, got ${cpuCount}`);
    }
    const qlen = opts.syncQlenMaxDefault ?? DEFAULT_SYNC_QLEN_MAX;
    if (!Number.isSafeInteger(qlen) || qlen < 0) {
      throw new RangeError(`syncQlenMaxDefault must be a non-negative safe integer, got ${qlen}`);
    }
    this.cpuCount = cpuCount;
    this.qlenDefault = qlen;
    this.onChange = opts.onChange;
    this.cpus = new Set(Array.from({length: cpuCount}, (_, i) => i));

    const v: Record<string, number> = {};
    for (const d of TUNABLES) {
      switch (d.kind) {
        case 'cpulist':
          v.est_cpulist_count = cpuCount;
          break;
        case 'sync_threshold':
          v.sync_threshold = SYNC.DEFAULT_THRESHOLD;
          v.sync_period = SYNC.DEFAULT_PERIOD;
          break;
        case 'jiffies':
          v[d.name] = Number(d.defaultText) * HZ;
          break;
        case 'ulong':
          v[d.name] = qlen;
          break;
        default:
          v[d.name] = Number(d.defaultText);
      }
    }
    this.v = v;
  }

  /** Read back exactly as `cat /proc/sys/net/ipv4/vs/NAME` prints it, without the trailing newline. */
  read(name: string): string {
    const d = findTunable(name);
    if (!d) throw new Error(`${name}: no such tunable under /proc/sys/net/ipv4/vs`);
    switch (d.kind) {
      case 'cpulist':
        return this.cpulist();
      case 'sync_threshold':
        return `${this.num('sync_threshold')}\t${this.num('sync_period')}`;
      case 'jiffies':
        return jiffiesText(this.num(d.name));
      default:
        return String(this.num(d.name));
    }
  }

  /** Write text as `echo TEXT > /proc/sys/net/ipv4/vs/NAME` would. */
  write(name: string, text: string): WriteResult {
    const d = findTunable(name);
    if (!d) {
      return {ok: false, errno: 'ENOENT', error: `${name}: no such tunable under /proc/sys/net/ipv4/vs (ENOENT)`};
    }
    const out = this.apply(d, text);
    if (out.changed) this.onChange?.(d.name);
    if (out.ok) return {ok: true, changed: out.changed};
    const shown = text.replace(/\n+$/, '');
    return {ok: false, errno: out.errno, error: `${d.name}: invalid value '${shown}': ${out.reason} (${out.errno})`};
  }

  /**
   * Engine-internal set that bypasses validation (the kernel rewriting its own value, e.g. the
   * defense tick flipping drop_entry 1<->2). Keys are those of `v` (jiffies values in ms). Does not
   * call onChange.
   */
  setInternal(name: string, value: number): void {
    const d = findTunable(name);
    const key = d ? d.name : name;
    if (key === 'est_cpulist' || key === 'est_cpulist_count' || !Object.hasOwn(this.v, key)) {
      throw new Error(`setInternal: '${name}' is not a numeric tunable`);
    }
    if (!Number.isSafeInteger(value)) throw new RangeError(`setInternal: ${key} needs an integer, got ${value}`);
    this.v[key] = value;
  }

  /** The configured CPU list as text ('' = estimation stopped). */
  cpulist(): string {
    return formatCpulist(this.cpus);
  }

  /**
   * The default as this instance reads it back: like TUNABLES' defaultText, except for the two
   * defaults the kernel derives from the host (sync_qlen_max from its memory, est_cpulist from
   * its CPUs).
   */
  defaultText(name: string): string {
    const d = findTunable(name);
    if (!d) throw new Error(`${name}: no such tunable under /proc/sys/net/ipv4/vs`);
    if (d.kind === 'ulong') return String(this.qlenDefault);
    if (d.kind === 'cpulist') return formatCpulist(new Set(Array.from({length: this.cpuCount}, (_, i) => i)));
    return d.defaultText;
  }

  /** All names, sorted. */
  names(): string[] {
    return TUNABLES.map((d) => d.name);
  }

  private num(key: string): number {
    return this.v[key] ?? 0;
  }

  /** Store a scalar; reports whether it changed. */
  private store(key: string, value: number): boolean {
    if (this.num(key) === value) return false;
    this.v[key] = value;
    return true;
  }

  private apply(d: TunableDef, text: string): Outcome {
    const einval = (reason: string, changed = false): Outcome => ({ok: false, errno: 'EINVAL', reason, changed});
    switch (d.kind) {
      case 'int':
      case 'bool':
      case 'run_estimation': {
        // proc_dointvec; ipvs_proc_run_estimation parses the same way and reloads only on change.
        const tmp = [this.num(d.name)];
        const err = doIntVec(text, tmp, convInt);
        if (err !== null) return einval(err);
        return {ok: true, changed: this.store(d.name, tmp[0] ?? 0)};
      }
      case 'minmax': {
        const tmp = [this.num(d.name)];
        const err = doIntVec(text, tmp, convMinMax(d.min ?? -INT_MAX - 1, d.max ?? INT_MAX));
        if (err !== null) return einval(err);
        return {ok: true, changed: this.store(d.name, tmp[0] ?? 0)};
      }
      case 'defense': {
        // proc_do_defense_mode: parse into a scratch int; validate and store only if it differs.
        const cur = this.num(d.name);
        const tmp = [cur];
        const err = doIntVec(text, tmp, convInt);
        if (err !== null) return einval(err);
        const val = tmp[0] ?? cur;
        if (val === cur) return {ok: true, changed: false};
        if (val < 0 || val > 3) return einval('must be 0..3');
        return {ok: true, changed: this.store(d.name, val)};
      }
      case 'sync_ports': {
        const cur = this.num(d.name);
        const tmp = [cur];
        const err = doIntVec(text, tmp, convInt);
        if (err !== null) return einval(err);
        const val = tmp[0] ?? cur;
        if (val === cur) return {ok: true, changed: false};
        if (!isPowerOfTwo(val)) return einval('must be a power of two >= 1');
        return {ok: true, changed: this.store(d.name, val)};
      }
      case 'est_nice': {
        // ipvs_proc_est_nice: range-checked on every successful parse, stored only if different.
        const tmp = [this.num(d.name)];
        const err = doIntVec(text, tmp, convInt);
        if (err !== null) return einval(err);
        const val = tmp[0] ?? 0;
        if (val < MIN_NICE || val > MAX_NICE) return einval(`must be ${MIN_NICE}..${MAX_NICE}`);
        return {ok: true, changed: this.store(d.name, val)};
      }
      case 'jiffies': {
        const tmp = [this.num(d.name)];
        const err = doIntVec(text, tmp, convJiffies);
        if (err !== null) return einval(err);
        return {ok: true, changed: this.store(d.name, tmp[0] ?? 0)};
      }
      case 'ulong': {
        const r = doULong(text);
        if (typeof r === 'string') return einval(r);
        return {ok: true, changed: this.store(d.name, r)};
      }
      case 'sync_threshold': {
        // proc_do_sync_threshold: proc_dointvec fills a scratch copy of the pair, then the pair is
        // validated and copied back EVEN IF the parse failed part-way. So '5 abc' stores threshold 5
        // and still returns -EINVAL (the kernel does exactly this); garbage alone changes nothing.
        const val = [this.num('sync_threshold'), this.num('sync_period')];
        const err = doIntVec(text, val, convInt);
        const t = val[0] ?? 0;
        const p = val[1] ?? 0;
        if (t < 0 || p < 0 || (t >= p && p !== 0)) {
          return einval(err ?? `need 0 <= threshold < period unless period is 0 (got ${t} ${p})`);
        }
        const changedT = this.store('sync_threshold', t);
        const changedP = this.store('sync_period', p);
        const changed = changedT || changedP;
        if (err !== null) {
          return einval(changed ? `${err}; the numbers before the error were still applied, as in the kernel` : err, changed);
        }
        return {ok: true, changed};
      }
      case 'cpulist': {
        const r = parseCpulist(text, this.cpuCount);
        if (!(r instanceof Set)) return {ok: false, errno: r.errno, reason: r.reason, changed: false};
        const before = formatCpulist(this.cpus);
        this.cpus = r;
        this.v.est_cpulist_count = r.size;
        return {ok: true, changed: formatCpulist(r) !== before};
      }
    }
  }
}
