// KernelBackend: the UI's backend over the running kernel's IPVS. Reads /proc and ipvsadm's
// listings, writes through ipvsadm and /proc/sys. The cheap sources (service table, counters,
// tunables, memory) are re-read at most once per `pollMs`; the connection table is read in two
// ways so that a million entries never stall a frame: a bounded read of its head for the
// Connections view's first pages, and a full scan in the background, at a lower rate, whose age
// the view shows (docs/kernel.md).
import {createReadStream} from 'node:fs';
import {join} from 'node:path';
import {formatAddrPort, type Addr, type Af} from '../engine/addr.js';
import {IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, type FwdMethod} from '../engine/constants.js';
import type {LogLine} from '../engine/debug-log.js';
import type {StatsCounters, StatsRates} from '../engine/stats.js';
import {describeKey} from '../engine/engine.js';
import {TUNABLES, findTunable} from '../engine/tunables.js';
import type {DestOptions, ServiceKey, ServiceOptions} from '../engine/types.js';
import {CMD, parseIpvsadm} from '../ipvsadm/parse.js';
import {strerror} from '../ipvsadm/errors.js';
import {destOptionsOf, restoreLines, serviceKeyOf, serviceOptionsOf} from '../ipvsadm/exec.js';
import {
  type Backend, type BackendCapabilities, type BackendKind, type ClockInfo, type Command, type CommandResult, type ConnDetail,
  type ConnInfo, type ConnPage, type ConnQuery, type EngineSnapshot, type GeneratorRow, type TunableRow, type WriteResult, checkCapability,
} from '../store/backend.js';
import type {SyncStatus} from '../store/sync-status.js';
import {KernelHost, KernelUnavailable, KmsgReader} from './host.js';
import {destArgs, serviceArgs, serviceOptionArgs} from './ipvsadm-args.js';
import {
  type ProcConn, defenseMemory, isIpvsMessage, parseConnRows, parseDaemons, parseIpvsadmNumbers,
  parseIpvsStats, parseKmsg, parsePersistConns,
} from './proc.js';

export interface KernelBackendOptions {
  /** Changes are refused unless this is set (read-only by default on a real director). */
  allowWrites?: boolean;
  host?: KernelHost;
  /** Minimum interval between re-reads of the cheap sources (ms). */
  pollMs?: number;
  /** Bytes of /proc/net/ip_vs_conn read synchronously for the first pages of the Connections view. */
  headBytes?: number;
  /** Minimum interval between full scans of /proc/net/ip_vs_conn (ms). */
  scanMs?: number;
  /** Rows kept from a full scan for filtering/sorting (counts always cover every row). */
  keepRows?: number;
  /** Read /dev/kmsg for the Log view (default true). */
  kmsg?: boolean;
}

/** What a full scan of /proc/net/ip_vs_conn found. */
export interface ConnScan {
  /** Wall time the scan finished (ms since the epoch). */
  at: number;
  /** How long it took (ms). */
  tookMs: number;
  total: number;
  templates: number;
  states: Record<string, number>;
  /** The first `keepRows` rows. */
  rows: ProcConn[];
}

const NOT_AVAILABLE = 'not available on this kernel';
/** Tuples whose ids are kept (a few pages for each of many sessions, and then some). */
const CONN_IDS_KEPT = 20_000;
/** A connection no query returned for this long is gone for connDetail (the Connections view re-queries several times a second). */
const CONN_GONE_MS = 5000;
const SYNC_TUNABLES = ['sync_version', 'sync_threshold', 'sync_refresh_period', 'sync_retries', 'sync_persist_mode',
  'sync_qlen_max', 'sync_ports', 'sync_sock_size', 'backup_only'];
const PROTO_NUM: Record<string, number> = {TCP: IPPROTO_TCP, UDP: IPPROTO_UDP, SCTP: IPPROTO_SCTP, IP: 0};
const ZERO_STATS: StatsCounters = {conns: 0, inpkts: 0, outpkts: 0, inbytes: 0, outbytes: 0};
const ZERO_RATES: StatsRates = {cps: 0, inpps: 0, outpps: 0, inbps: 0, outbps: 0};

interface ServiceEntry {
  key: ServiceKey;
  opts: ServiceOptions;
  label: string;
  dests: {af: Af; addr: Addr; port: number; opts: DestOptions; label: string}[];
}

/** Refused because the backend is read-only. */
export class ReadOnlyKernel extends Error {}

export class KernelBackend implements Backend {
  readonly kind: BackendKind = 'kernel';
  /** A real kernel has no virtual time and no traffic generators; its sync daemons are ipvsadm's. */
  readonly capabilities: BackendCapabilities = {virtualTime: false, traffic: false, sync: true};
  readonly host: KernelHost;
  readonly allowWrites: boolean;
  private readonly pollMs: number;
  private readonly headBytes: number;
  private readonly scanMs: number;
  private readonly keepRows: number;
  private lastPoll = -Infinity;
  /** What the last re-read of the cheap sources cost (wall ms). */
  private lastPollCost = 0;
  private snap!: EngineSnapshot;
  private config: ServiceEntry[] = [];
  private readonly svcIds = new Map<string, number>();
  private readonly destIds = new Map<string, number>();
  private nextId = 1;
  private sync: SyncStatus = {hosted: true, roles: [], tunables: {}};
  private scan: ConnScan | null = null;
  private scanning: Promise<ConnScan> | null = null;
  private lastScanStart = -Infinity;
  /**
   * Connection ids: /proc has no identity but the tuple, so each tuple seen gets an id of its own
   * (never reused for another tuple), and connDetail looks the rows shown lately up by it. Several
   * sessions (lvsdeck serve) query different pages of one backend: a positional id would name
   * another session's row.
   */
  private readonly connIds = new Map<string, number>();
  private nextConnId = 1;
  /** Rows by id, with the wall time a query last returned them. */
  private readonly shown = new Map<number, {row: ProcConn; seen: number}>();
  private readonly kmsg: KmsgReader | null;
  private readonly log: LogLine[] = [];
  private logSeq = 0;
  private readonly bootMs = Date.now();

  constructor(o: KernelBackendOptions = {}) {
    this.host = o.host ?? new KernelHost();
    this.host.checkIpvs();
    this.host.ipvsadmPath();
    this.allowWrites = o.allowWrites ?? false;
    this.pollMs = o.pollMs ?? 1000;
    this.headBytes = o.headBytes ?? 256 << 10;
    this.scanMs = o.scanMs ?? 10_000;
    this.keepRows = o.keepRows ?? 200_000;
    this.kmsg = o.kmsg === false ? null : new KmsgReader(join(this.host.proc, '..', 'dev', 'kmsg'));
    if (this.kmsg?.error) this.pushLog(4, this.kmsg.error);
    this.poll(true);
  }

  // ------------------------------------------------------------------ reading

  /** Re-read the cheap sources if `pollMs` passed (or `force`). */
  poll(force = false): void {
    const now = Date.now();
    // on a busy director the re-read itself may cost a lot: keep it under a tenth of the wall time
    const interval = this.pollMs > 0 ? Math.max(this.pollMs, 10 * this.lastPollCost) : 0;
    if (!force && now - this.lastPoll < interval) return;
    this.lastPoll = now;
    const t0 = performance.now();
    try {
      this.readCheapSources(now);
    } finally {
      this.lastPollCost = performance.now() - t0;
    }
  }

  private readCheapSources(now: number): void {
    const h = this.host;
    this.config = parseSave(h.ipvsadmOk(['-S', '-n']));
    const stats = parseIpvsadmNumbers(h.ipvsadmOk(['-L', '-n', '--stats', '--exact']));
    const rates = parseIpvsadmNumbers(h.ipvsadmOk(['-L', '-n', '--rate', '--exact']));
    const persist = parsePersistConns(h.ipvsadmOk(['-L', '-n', '--persistent-conn']));
    const counts = parseActiveInact(h.read('net/ip_vs'));
    const global = parseIpvsStats(h.read('net/ip_vs_stats'));
    const mem = defenseMemory(h.read('meminfo'), h.read('vmstat'));
    const sysctl = (n: string) => Number((h.readSysctl(n) ?? '0').split(/\s/)[0]);
    const byKey = (rows: typeof stats) => new Map(rows.map((r) => [`${r.service}|${r.dest ?? ''}`, r.values]));
    const st = byKey(stats), rt = byKey(rates);
    const asStats = (v?: number[]): StatsCounters => v ? {conns: v[0]!, inpkts: v[1]!, outpkts: v[2]!, inbytes: v[3]!, outbytes: v[4]!} : ZERO_STATS;
    const asRates = (v?: number[]): StatsRates => v ? {cps: v[0]!, inpps: v[1]!, outpps: v[2]!, inbps: v[3]!, outbps: v[4]!} : ZERO_RATES;
    let bound = 0;
    for (const c of counts.values()) bound += c.active + c.inactive;
    const scan = this.scan;
    const mode = (n: string) => sysctl(n);
    this.snap = {
      now: now - this.bootMs,
      // the cheap count: every entry bound to a real server (ActiveConn + InActConn); templates
      // and the state mix come from the last full scan
      conns: bound,
      templates: scan?.templates ?? 0,
      totals: global.totals,
      rates: global.rates,
      synRecvShare: scan && scan.total ? (scan.states.SYN_RECV ?? 0) / scan.total : 0,
      states: scan?.states ?? {},
      memory: {availablePages: mem.availablePages, amemthresh: sysctl('amemthresh'), totalPages: mem.totalPages},
      defense: {
        // update_defense_level writes the mode back: 2 = armed and active, 1 = armed, 3 = always on
        drop_entry: {mode: mode('drop_entry'), active: mode('drop_entry') >= 2},
        drop_packet: {mode: mode('drop_packet'), active: mode('drop_packet') >= 2, rate: 0},
        secure_tcp: {mode: mode('secure_tcp'), active: mode('secure_tcp') >= 2},
      },
      counters: {
        packetsIn: global.totals.inpkts, packetsOut: global.totals.outpkts, connsCreated: global.totals.conns,
        connsExpired: 0, dropped: {}, dropEntry: {},
      },
      services: this.config.map((s) => ({
        id: this.idOf(this.svcIds, s.label),
        label: s.label,
        scheduler: s.opts.scheduler,
        persistent: s.opts.persistTimeout > 0,
        stats: asStats(st.get(`${s.label}|`)),
        rates: asRates(rt.get(`${s.label}|`)),
        dests: s.dests.map((d) => {
          const k = `${s.label}|${d.label}`;
          const c = counts.get(k) ?? {active: 0, inactive: 0};
          const total = c.active + c.inactive;
          return {
            id: this.idOf(this.destIds, k), label: d.label, fwd: d.opts.fwd, weight: d.opts.weight,
            activeConns: c.active, inactConns: c.inactive, persistConns: persist.get(k) ?? 0,
            // the kernel keeps IP_VS_DEST_F_OVERLOAD to itself: inferred from the upper threshold
            overloaded: d.opts.uThreshold > 0 && total >= d.opts.uThreshold,
            stats: asStats(st.get(k)), rates: asRates(rt.get(k)),
          };
        }),
      })),
    };
    const daemons = parseDaemons(h.ipvsadmOk(['-L', '--daemon']));
    this.sync = {
      hosted: true,
      roles: (['master', 'backup'] as const).map((role) => {
        const d = daemons.find((x) => x.role === role);
        return {
          role, config: d ? {mcastIfn: d.mcastIfn, syncId: d.syncId, group: d.group, port: d.port, ttl: d.ttl} : null,
          transport: d ? `kernel sync thread, udp ${d.group}:${d.port} on ${d.mcastIfn}` : null, stats: null, error: null,
        };
      }),
      tunables: Object.fromEntries(SYNC_TUNABLES.map((n) => [n, h.readSysctl(n) ?? NOT_AVAILABLE])),
    };
    this.readKmsg();
    if (now - this.lastScanStart >= this.scanMs) void this.scanConns().catch((err) => this.pushLog(3, `connection scan: ${(err as Error).message}`));
  }

  private idOf(map: Map<string, number>, key: string): number {
    let id = map.get(key);
    if (id === undefined) map.set(key, (id = this.nextId++));
    return id;
  }

  snapshot(): EngineSnapshot {
    this.poll();
    return this.snap;
  }

  /** The last full scan of the connection table (null before the first one finished). */
  connScan(): ConnScan | null {
    return this.scan;
  }

  /**
   * A full scan of /proc/net/ip_vs_conn, streamed (the event loop keeps running between chunks).
   * At most one at a time; the next starts `scanMs` after this one started.
   */
  scanConns(): Promise<ConnScan> {
    if (this.scanning) return this.scanning;
    this.lastScanStart = Date.now();
    const t0 = performance.now();
    const keep = this.keepRows;
    this.scanning = new Promise<ConnScan>((resolve, reject) => {
      const rows: ProcConn[] = [];
      const states: Record<string, number> = {};
      let total = 0, templates = 0, rest = '';
      const count = (text: string) => {
        const parsed = parseConnRows(text);
        for (const r of parsed) {
          total++;
          // templates: a persistence template has client port 0 (or protocol IP for fwmark ones)
          if (r.stateName === 'NONE' && (r.cport === 0 || r.protoName === 'IP')) templates++;
          else states[r.stateName] = (states[r.stateName] ?? 0) + 1;
          if (rows.length < keep) rows.push(r);
        }
      };
      const s = createReadStream(join(this.host.proc, 'net/ip_vs_conn'), {encoding: 'utf8', highWaterMark: 256 << 10});
      s.on('data', (chunk) => {
        const text = rest + (chunk as string);
        const cut = text.lastIndexOf('\n');
        rest = text.slice(cut + 1);
        count(text.slice(0, cut + 1));
      });
      s.on('error', reject);
      s.on('end', () => {
        count(rest);
        resolve({at: Date.now(), tookMs: performance.now() - t0, total, templates, states, rows});
      });
    }).then((r) => {
      this.scan = r;
      this.scanning = null;
      return r;
    }, (err) => {
      this.scanning = null;
      throw err;
    });
    return this.scanning;
  }

  clock(): ClockInfo {
    return {speed: 1, paused: false, effective: 1, lagging: false};
  }

  queryConns(q: ConnQuery): ConnPage {
    this.poll();
    const offset = Math.max(0, q.offset ?? 0), limit = Math.max(0, q.limit ?? 50);
    const plain = !q.text && !q.state && q.destId === undefined && !q.sort && q.templates !== 'only';
    let rows: ProcConn[];
    let total: number;
    let ageMs: number | undefined;
    if (plain && offset + limit <= 5000) {
      // the head of the table, read now: what the first pages show is current
      // the header line, the rows wanted, as many again for the templates `exclude` may skip, and one
      // more to know whether the page is the last
      const want = offset + limit * 2;
      const head = this.host.readHead('net/ip_vs_conn', this.headBytes, want + 2);
      rows = parseConnRows(head.text, [], want);
      if (q.templates === 'exclude') rows = rows.filter((r) => !isTemplate(r));
      total = head.complete ? rows.length : Math.max(rows.length, this.scan?.total ?? 0, this.snap.conns);
      rows = rows.slice(offset, offset + limit);
    } else {
      const scan = this.scan;
      if (!scan) return {total: 0, rows: [], ageMs: 0};
      ageMs = Date.now() - scan.at;
      let all = scan.rows.filter(matcher(q, this.snap));
      if (q.sort) all = sortRows(all, q.sort, q.desc ?? false);
      total = all.length;
      rows = all.slice(offset, offset + limit);
    }
    const out = rows.map((r) => {
      const id = this.connIdOf(r);
      return toConnInfo(r, id, ageMs ?? 0, this.destIdOf(r));
    });
    return ageMs === undefined ? {total, rows: out} : {total, rows: out, ageMs};
  }

  /** The id of this row's tuple (kept, most recent last, within bounds: the oldest are forgotten and then answer null). */
  private connIdOf(r: ProcConn): number {
    const tuple = `${r.protoName}|${formatAddrPort(r.caddr, r.cport)}|${formatAddrPort(r.vaddr, r.vport)}|${formatAddrPort(r.daddr, r.dport)}`;
    let id = this.connIds.get(tuple);
    if (id === undefined) id = this.nextConnId++;
    this.connIds.delete(tuple);
    this.connIds.set(tuple, id);
    this.shown.delete(id);
    this.shown.set(id, {row: r, seen: Date.now()});
    for (const [k, v] of this.connIds) {
      if (this.connIds.size <= CONN_IDS_KEPT) break;
      this.connIds.delete(k);
      this.shown.delete(v);
    }
    return id;
  }

  private destIdOf(r: ProcConn): number {
    for (const s of this.config) {
      if (s.key.kind === 'addr' && (s.key.addr !== r.vaddr || s.key.port !== r.vport)) continue;
      const d = s.dests.find((x) => x.addr === r.daddr && x.port === r.dport);
      if (d) return this.destIds.get(`${s.label}|${d.label}`) ?? -1;
    }
    return -1;
  }

  /** A row some session's query returned lately; null once queries stopped returning it (expired, or out of every page shown). */
  connDetail(id: number): ConnDetail | null {
    const shown = this.shown.get(id);
    if (!shown || Date.now() - shown.seen > CONN_GONE_MS) return null;
    const r = shown.row;
    const info = toConnInfo(r, id, 0, this.destIdOf(r));
    const label = `${r.protoName} ${formatAddrPort(r.caddr, r.cport)} -> ${formatAddrPort(r.vaddr, r.vport)} -> ${formatAddrPort(r.daddr, r.dport)}`;
    const needle = formatAddrPort(r.caddr, r.cport);
    return {
      info, label, flagNames: isTemplate(r) ? ['TEMPLATE'] : [], controller: null,
      destLabel: formatAddrPort(r.daddr, r.dport), trace: this.log.filter((l) => l.msg.includes(needle)).slice(-12),
    };
  }

  tunables(): TunableRow[] {
    const present = new Set(this.host.sysctlNames());
    const rows: TunableRow[] = TUNABLES.map((d) => {
      const value = present.has(d.name) ? (this.host.readSysctl(d.name) ?? NOT_AVAILABLE) : NOT_AVAILABLE;
      return {
        name: d.name, value, defaultText: d.defaultText, allowed: d.allowed, rule: d.rule, summary: d.summary, help: d.help,
        handler: d.handler, category: d.category, differs: value !== NOT_AVAILABLE && value !== d.defaultText,
      };
    });
    // tunables of a newer kernel that the engine does not model: shown as they read back
    for (const name of present) {
      if (findTunable(name)) continue;
      const value = this.host.readSysctl(name) ?? '';
      rows.push({name, value, defaultText: '', allowed: 'as the kernel accepts', rule: 'validated by this kernel',
        summary: 'a tunable of this kernel', help: '', handler: '', category: 'connections', differs: false});
    }
    return rows.sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  logSince(seq: number): LogLine[] {
    this.readKmsg();
    return this.log.filter((l) => l.seq > seq);
  }

  private readKmsg(): void {
    if (!this.kmsg) return;
    for (const rec of this.kmsg.drain(2000)) {
      const k = parseKmsg(rec);
      if (k && isIpvsMessage(k.msg)) this.pushLog(k.level, k.msg, Math.round(k.usec / 1000));
    }
  }

  private pushLog(level: number, msg: string, t = Date.now() - this.bootMs): void {
    this.log.push({t, level, msg, seq: ++this.logSeq});
    if (this.log.length > 2000) this.log.splice(0, this.log.length - 2000);
  }

  generators(): GeneratorRow[] {
    return [];
  }

  failedServers(): string[] {
    return [];
  }

  syncStatus(): SyncStatus {
    this.poll();
    return this.sync;
  }

  serviceConfig(id: number): {key: ServiceKey; opts: ServiceOptions} | null {
    const s = this.config.find((x) => this.svcIds.get(x.label) === id);
    return s ? {key: s.key, opts: s.opts} : null;
  }

  destConfig(id: number) {
    for (const s of this.config) {
      for (const d of s.dests) {
        if (this.destIds.get(`${s.label}|${d.label}`) === id) {
          return {key: s.key, af: d.af, addr: d.addr, port: d.port, opts: d.opts, lastWeight: d.opts.weight};
        }
      }
    }
    return null;
  }

  // ------------------------------------------------------------------ writing

  private checkWrite(what: string): void {
    if (!this.allowWrites) {
      throw new ReadOnlyKernel(`read-only: ${what} would change the running kernel; start with --allow-writes to allow changes`);
    }
    this.host.checkRoot(what);
  }

  /** Run a changing ipvsadm command; the kernel's own message if it refuses. */
  private change(what: string, args: string[]): void {
    this.checkWrite(what);
    this.host.ipvsadmOk(args);
    this.poll(true);
  }

  setTunable(name: string, text: string): WriteResult {
    const def = findTunable(name);
    const short = def?.name ?? name.replace(/^net\.ipv4\.vs\./, '');
    if (!/^[a-z_0-9]+$/.test(short) || !this.host.sysctlNames().includes(short)) {
      return {ok: false, error: `${short}: ${NOT_AVAILABLE}`, errno: 'ENOENT'};
    }
    this.checkWrite(`setting ${short}`);
    const before = this.host.readSysctl(short);
    try {
      this.host.writeSysctl(short, text.trim());
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const errno = e.code === 'ERANGE' ? 'ERANGE' : 'EINVAL';
      return {ok: false, error: `the kernel refused ${short}=${text.trim()}: ${strerror(e.code ?? 'EINVAL')} (${e.code})`, errno};
    }
    this.poll(true);
    return {ok: true, changed: this.host.readSysctl(short) !== before};
  }

  addService(key: ServiceKey, opts: Partial<ServiceOptions>): void {
    this.change('adding a service', ['-A', ...serviceArgs(key), ...serviceOptionArgs(key, opts)]);
  }

  editService(key: ServiceKey, opts: Partial<ServiceOptions>): void {
    // ipvsadm -E replaces every option: start from what the kernel has
    const cur = this.config.find((s) => s.label === describeKey(key))?.opts;
    this.change('editing a service', ['-E', ...serviceArgs(key), ...serviceOptionArgs(key, {...cur, ...opts})]);
  }

  delService(key: ServiceKey): void {
    this.change('deleting a service', ['-D', ...serviceArgs(key)]);
  }

  addDest(key: ServiceKey, _af: Af, addr: Addr, port: number, opts: Partial<DestOptions>): void {
    this.change('adding a real server', ['-a', ...serviceArgs(key), ...destArgs(addr, port, opts)]);
  }

  editDest(key: ServiceKey, addr: Addr, port: number, opts: Partial<DestOptions>): void {
    const cur = this.config.find((s) => s.label === describeKey(key))?.dests.find((d) => d.addr === addr && d.port === port)?.opts;
    this.change('editing a real server', ['-e', ...serviceArgs(key), ...destArgs(addr, port, {...cur, ...opts})]);
  }

  delDest(key: ServiceKey, addr: Addr, port: number): void {
    this.change('deleting a real server', ['-d', ...serviceArgs(key), '-r', formatAddrPort(addr, port)]);
  }

  setTimeouts(tcp: number, tcpfin: number, udp: number): void {
    this.change('setting timeouts', ['--set', String(tcp), String(tcpfin), String(udp)]);
  }

  zero(key?: ServiceKey): void {
    this.change('zeroing counters', ['-Z', ...(key ? serviceArgs(key) : [])]);
  }

  flush(): void {
    this.change('flushing the table', ['-C']);
  }

  startSync(role: 'master' | 'backup', syncId: number, mcastIfn?: string): void {
    this.change(`starting the ${role} sync daemon`,
      ['--start-daemon', role, '--syncid', String(syncId), ...(mcastIfn ? ['--mcast-interface', mcastIfn] : [])]);
  }

  stopSync(role: 'master' | 'backup'): void {
    this.change(`stopping the ${role} sync daemon`, ['--stop-daemon', role]);
  }

  apply(cmd: Command): CommandResult {
    checkCapability(this, cmd);
    switch (cmd.op) {
      case 'set-tunable': {
        const r = this.setTunable(cmd.name, cmd.value);
        return r.ok ? {changed: r.changed} : {error: r.error};
      }
      case 'add-service': this.addService(cmd.key, cmd.opts); break;
      case 'edit-service': this.editService(cmd.key, cmd.opts); break;
      case 'del-service': this.delService(cmd.key); break;
      case 'add-dest': this.addDest(cmd.key, cmd.af, cmd.addr, cmd.port, cmd.opts); break;
      case 'edit-dest': this.editDest(cmd.key, cmd.addr, cmd.port, cmd.opts); break;
      case 'del-dest': this.delDest(cmd.key, cmd.addr, cmd.port); break;
      case 'timeouts': this.setTimeouts(cmd.tcp, cmd.tcpfin, cmd.udp); break;
      case 'zero': this.zero(cmd.key); break;
      case 'flush': this.flush(); break;
      case 'sync-start': this.startSync(cmd.role, cmd.syncId, cmd.mcastIfn); break;
      case 'sync-stop': this.stopSync(cmd.role); break;
      default: break;   // the rest need capabilities this backend lacks (checked above)
    }
    return {};
  }

  close(): void {
    this.kmsg?.close();
  }
}

function isTemplate(r: ProcConn): boolean {
  return r.stateName === 'NONE' && (r.cport === 0 || r.protoName === 'IP');
}

/** The services and real servers of `ipvsadm -S -n`, parsed with our own ipvsadm parser. */
export function parseSave(text: string): ServiceEntry[] {
  const out: ServiceEntry[] = [];
  for (const l of restoreLines(text)) {
    const pc = parseIpvsadm(l.words);
    const key = serviceKeyOf(pc.svc);
    const label = describeKey(key);
    if (pc.cmd === CMD.ADD) out.push({key, opts: serviceOptionsOf(pc.svc), label, dests: []});
    else if (pc.cmd === CMD.ADDDEST) {
      const svc = out.find((s) => s.label === label);
      const af: Af = typeof pc.dest.addr === 'number' ? 4 : 6;
      svc?.dests.push({af, addr: pc.dest.addr, port: pc.dest.port, opts: destOptionsOf(pc.dest), label: formatAddrPort(pc.dest.addr, pc.dest.port)});
    }
  }
  return out;
}

/** ActiveConn/InActConn per "service label|dest label" from /proc/net/ip_vs. */
function parseActiveInact(text: string): Map<string, {active: number; inactive: number}> {
  const out = new Map<string, {active: number; inactive: number}>();
  let svc = '';
  for (const line of text.split('\n')) {
    const s = /^(TCP|UDP|SCTP|FWM)\s+(\S+)/.exec(line);
    const d = /^\s+->\s+(\S+)\s+\S+\s+\d+\s+(\d+)\s+(\d+)/.exec(line);
    if (s) svc = s[1] === 'FWM' ? `FWM ${parseInt(s[2]!, 16)}` : `${s[1]} ${procEndpoint(s[2]!)}`;
    else if (d && svc) out.set(`${svc}|${procEndpoint(d[1]!)}`, {active: Number(d[2]), inactive: Number(d[3])});
  }
  return out;
}

/** "C6120064:0050" or "[fd00:0000:...]:01BB" (ip_vs_info_seq_show) as "198.18.0.100:80". */
function procEndpoint(text: string): string {
  const m = /^\[?([^\]]+?)\]?:([0-9A-Fa-f]{4})$/.exec(text);
  if (!m) return text;
  const port = parseInt(m[2]!, 16);
  const addr = parseConnRows(`TCP ${m[1]} 0000 ${m[1]} 0000 ${m[1]} 0000 NONE 0\n`)[0]?.caddr;
  return addr === undefined ? text : formatAddrPort(addr, port);
}

function toConnInfo(r: ProcConn, id: number, ageMs: number, destId: number): ConnInfo {
  const template = isTemplate(r);
  return {
    id, af: typeof r.caddr === 'number' ? 4 : 6, proto: PROTO_NUM[r.protoName] ?? 0, protoName: r.protoName,
    caddr: r.caddr, cport: r.cport, vaddr: r.vaddr, vport: r.vport, daddr: r.daddr, dport: r.dport,
    fwmarkTemplate: r.protoName === 'IP', fwd: 'masq' as FwdMethod, flags: 0, state: 0, stateName: r.stateName,
    template, timeout: 0, expiresIn: Math.max(0, r.expiresSec * 1000 - ageMs), inPkts: 0, outPkts: 0, destId,
    control: -1, nControl: 0, fwmark: 0,
  };
}

function matcher(q: ConnQuery, snap: EngineSnapshot): (r: ProcConn) => boolean {
  const text = q.text?.trim().toLowerCase() ?? '';
  let dest: string | null = null;
  if (q.destId !== undefined) {
    for (const s of snap.services) for (const d of s.dests) if (d.id === q.destId) dest = d.label;
  }
  return (r) => {
    if (q.templates === 'exclude' && isTemplate(r)) return false;
    if (q.templates === 'only' && !isTemplate(r)) return false;
    if (q.state && r.stateName.toLowerCase() !== q.state.toLowerCase()) return false;
    if (dest !== null && formatAddrPort(r.daddr, r.dport) !== dest) return false;
    if (text) {
      const line = `${r.protoName} ${formatAddrPort(r.caddr, r.cport)} ${formatAddrPort(r.vaddr, r.vport)} ${formatAddrPort(r.daddr, r.dport)} ${r.stateName}`.toLowerCase();
      if (!line.includes(text)) return false;
    }
    return true;
  };
}

function sortRows(rows: ProcConn[], key: NonNullable<ConnQuery['sort']>, desc: boolean): ProcConn[] {
  const val = (r: ProcConn): string | number => {
    switch (key) {
      case 'proto': return r.protoName;
      case 'client': return formatAddrPort(r.caddr, r.cport);
      case 'virtual': return formatAddrPort(r.vaddr, r.vport);
      case 'real': return formatAddrPort(r.daddr, r.dport);
      case 'state': return r.stateName;
      case 'expires': return r.expiresSec;
      default: return 0;   // packet counts are not in /proc/net/ip_vs_conn
    }
  };
  const sign = desc ? -1 : 1;
  return rows.slice().sort((a, b) => {
    const x = val(a), y = val(b);
    return x < y ? -sign : x > y ? sign : 0;
  });
}

export {KernelUnavailable};
