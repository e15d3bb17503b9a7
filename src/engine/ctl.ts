// Control, as ip_vs_ctl.c: services and real servers (ip_vs_add_service ... ip_vs_del_dest, the
// dest trash, the real-server table of ip_vs_has_real_service), the service lookup
// (ip_vs_service_find), sysctl writes and the defense levels (update_defense_level), the host
// memory model, timeouts (--set) and the sync daemons' configuration (start/stop_sync_thread).
import {type Addr, type Af, formatAddr, formatAddrPort, parseIPv6Groups} from './addr.js';
import {
  CONN_F, DEST_F, DEST_TRASH_PERIOD, fwdValue, INT_MAX, HZ, IPPROTO_TCP, PAGE_SIZE, SECOND, SVC_F,
} from './constants.js';
import {DBG} from './debug-log.js';
import type {DefenseName} from './defense.js';
import {IpvsError} from './errors.js';
import {TCP_STATE} from './proto/tcp.js';
import {findScheduler} from './sched/index.js';
import {Stats} from './stats.js';
import type {Dest, DestOptions, SchedulerOps, Service, ServiceKey, ServiceOptions} from './types.js';
import {
  FTPDATA, FTPPORT, type HostMemory, PROTO_NUM, SYNC_STATE, type SyncDaemonConfig, UNPRIVILEGED_PORT_START,
} from './netns.js';
import {IpvsConn} from './conn.js';

export abstract class IpvsCtl extends IpvsConn {
  /** Write a tunable as `sysctl -w` would; throws nothing, returns the handler's verdict. */
  setTunable(name: string, text: string) {
    return this.tunables.write(name, text);
  }

  readTunable(name: string): string {
    return this.tunables.read(name);
  }

  protected onTunableChange(name: string): void {
    if (name === 'drop_entry' || name === 'drop_packet' || name === 'secure_tcp') {
      this.runDefenseUpdate();
    } else if (name === 'run_estimation' || name === 'est_cpulist') {
      this.updateEstimationState();
    }
    if (this.dbg(DBG.CONFIG)) this.log.put(this.now, DBG.CONFIG, `sysctl ${name} = ${this.tunables.read(name)}`);
  }

  protected updateEstimationState(): void {
    const run = this.tunables.v.run_estimation !== 0 && this.tunables.v.est_cpulist_count !== 0;
    this.estimationRunning = run;
  }

  /** Available memory in pages: free + buffers of the simulated host minus the entries' slab. */
  availablePages(): number {
    if (this.availOverride !== null) return this.availOverride;
    const m = this.memory;
    const bytes = m.totalBytes - m.usedBytes - this.table.count * m.entryBytes;
    return Math.max(0, Math.floor(bytes / PAGE_SIZE));
  }

  /** Pin available memory to a value (tests, what-if); null returns to the simulated host. */
  setAvailablePages(pages: number | null): void {
    this.availOverride = pages;
  }

  setMemory(m: Partial<HostMemory>): void {
    this.memory = {...this.memory, ...m};
  }

  protected runDefenseUpdate(): void {
    const before = {
      drop_entry: this.tunables.v.drop_entry, drop_packet: this.tunables.v.drop_packet,
      secure_tcp: this.tunables.v.secure_tcp,
    } as Record<DefenseName, number>;
    const switched = this.defense.update(this.availablePages());
    for (const name of ['drop_entry', 'drop_packet', 'secure_tcp'] as const) {
      if (before[name] !== this.tunables.v[name]) {
        if (this.dbg(DBG.ERROR)) this.log.put(this.now, DBG.ERROR, `defense: ${name} ${before[name]} -> ${this.tunables.v[name]}`);
      }
    }
    if (switched) {
      if (this.dbg(DBG.ERROR)) this.log.put(this.now, DBG.ERROR, `secure_tcp: TCP now uses the ${this.defense.secureTable ? 'secure (dos)' : 'normal'} state table`);
    }
  }

  /** One defense_work_handler run: update the levels, then the random drop pass if on. */
  protected defenseTimer(): void {
    this.runDefenseUpdate();
    if (this.defense.dropEntryOn) this.randomDropEntry();
  }

  protected svcAddrKey(af: Af, proto: number, port: number): number {
    return (af === 6 ? 1 << 24 : 0) | (proto << 16) | port;
  }

  protected markKey(af: Af, mark: number): number {
    return mark * 2 + (af === 6 ? 1 : 0);
  }

  /** Find a service by its exact identity (no fallbacks). */
  getService(key: ServiceKey): Service | undefined {
    if (key.kind === 'fwmark') return this.svcByMark.get(this.markKey(key.af, key.fwmark));
    return this.svcByAddr.get(this.svcAddrKey(key.af, PROTO_NUM[key.proto], key.port))?.get(key.addr);
  }

  listServices(): readonly Service[] {
    return this.services;
  }

  getDest(id: number): Dest | undefined {
    return this.dests[id];
  }

  trashList(): readonly Dest[] {
    return this.trash;
  }

  protected resolveScheduler(name: string): SchedulerOps | null {
    if (name === 'none') return null;
    if (name.length > 15) throw new IpvsError('EINVAL', `scheduler name too long: ${name}`);
    const ops = findScheduler(name);
    if (!ops) throw new IpvsError('ENOENT', `scheduler not found: ${name}`);
    return ops;
  }

  protected validateServiceOptions(key: ServiceKey, o: ServiceOptions): void {
    if (o.pe && o.pe !== 'sip') throw new IpvsError('ENOENT', `persistence engine not found: ${o.pe}`);
    if (key.af === 6 && (o.prefixLen < 1 || o.prefixLen > 128)) {
      throw new IpvsError('EINVAL', `IPv6 persistence prefix length must be 1..128, got ${o.prefixLen}`);
    }
    if (o.persistTimeout < 0 || o.persistTimeout / HZ > INT_MAX / HZ) {
      throw new IpvsError('EINVAL', `persistence timeout out of range: ${o.persistTimeout / SECOND}`);
    }
  }

  /** ip_vs_add_service. */
  addService(key: ServiceKey, opts: Partial<ServiceOptions> = {}): Service {
    const o = withServiceDefaults(key, opts);
    if (this.getService(key)) throw new IpvsError('EEXIST', `service already exists: ${describeKey(key)}`);
    this.validateServiceOptions(key, o);
    const sched = this.resolveScheduler(o.scheduler);
    const svc: Service = {
      id: this.nextSvcId++,
      key,
      scheduler: o.scheduler,
      flags: (o.flags & ~(SVC_F.HASHED | SVC_F.PERSISTENT)) | (o.persistTimeout > 0 ? SVC_F.PERSISTENT : 0),
      timeout: o.persistTimeout,
      netmask: o.netmask >>> 0,
      prefixLen: o.prefixLen,
      pe: o.pe,
      dests: [],
      stats: new Stats(),
      schedData: undefined,
    };
    sched?.initService?.(svc, this.schedCtx);
    this.services.push(svc);
    if (key.kind === 'fwmark') this.svcByMark.set(this.markKey(key.af, key.fwmark), svc);
    else {
      const k = this.svcAddrKey(key.af, PROTO_NUM[key.proto], key.port);
      let m = this.svcByAddr.get(k);
      if (!m) this.svcByAddr.set(k, (m = new Map()));
      m.set(key.addr, svc);
      if (key.port === FTPPORT) this.ftpServices++;
      if (key.port === 0) this.port0Services++;
    }
    this.enabled = true;
    if (this.dbg(DBG.CONFIG)) this.log.put(this.now, DBG.CONFIG, `add service ${this.serviceLabel(svc)} scheduler ${svc.scheduler}`);
    return svc;
  }

  /** ip_vs_edit_service: replaces scheduler, flags, timeout, netmask and PE as a whole. */
  editService(key: ServiceKey, opts: Partial<ServiceOptions> = {}): Service {
    const svc = this.requireService(key);
    const o = withServiceDefaults(key, opts);
    this.validateServiceOptions(key, o);
    const newSched = this.resolveScheduler(o.scheduler);
    if (o.scheduler !== svc.scheduler) {
      // Re-initialise scheduler state; existing connections keep their destinations.
      findScheduler(svc.scheduler)?.doneService?.(svc, this.schedCtx);
      svc.scheduler = o.scheduler;
      svc.schedData = undefined;
      newSched?.initService?.(svc, this.schedCtx);
    }
    svc.flags = (o.flags & ~(SVC_F.HASHED | SVC_F.PERSISTENT)) | (o.persistTimeout > 0 ? SVC_F.PERSISTENT : 0);
    svc.timeout = o.persistTimeout;
    svc.netmask = o.netmask >>> 0;
    svc.prefixLen = o.prefixLen;
    svc.pe = o.pe;
    if (this.dbg(DBG.CONFIG)) this.log.put(this.now, DBG.CONFIG, `edit service ${this.serviceLabel(svc)}`);
    return svc;
  }

  /** ip_vs_del_service: its dests go to the trash; connections keep them until they expire. */
  delService(key: ServiceKey): void {
    const svc = this.requireService(key);
    for (const d of [...svc.dests]) this.unlinkDest(svc, d, true);
    findScheduler(svc.scheduler)?.doneService?.(svc, this.schedCtx);
    this.services = this.services.filter((s) => s !== svc);
    if (key.kind === 'fwmark') this.svcByMark.delete(this.markKey(key.af, key.fwmark));
    else {
      this.svcByAddr.get(this.svcAddrKey(key.af, PROTO_NUM[key.proto], key.port))?.delete(key.addr);
      if (key.port === FTPPORT) this.ftpServices--;
      if (key.port === 0) this.port0Services--;
    }
    if (this.dbg(DBG.CONFIG)) this.log.put(this.now, DBG.CONFIG, `del service ${this.serviceLabel(svc)}`);
  }

  /** ipvsadm -C: delete every service. */
  flush(): void {
    for (const svc of [...this.services]) this.delService(svc.key);
  }

  /** ipvsadm -Z: zero one service (and its dests) or everything including the totals. */
  zero(key?: ServiceKey): void {
    if (key) {
      const svc = this.requireService(key);
      svc.stats.zero();
      for (const d of svc.dests) d.stats.zero();
      return;
    }
    for (const svc of this.services) {
      svc.stats.zero();
      for (const d of svc.dests) d.stats.zero();
    }
    this.totStats.zero();
  }

  protected requireService(key: ServiceKey): Service {
    const svc = this.getService(key);
    if (!svc) throw new IpvsError('ESRCH', `no such service: ${describeKey(key)}`);
    return svc;
  }

  findDest(svc: Service, addr: Addr, port: number): Dest | undefined {
    return svc.dests.find((d) => d.addr === addr && d.port === port);
  }

  protected validateDest(svc: Service, af: Af, o: DestOptions): void {
    if (o.weight < 0 || o.weight > INT_MAX) throw new IpvsError('ERANGE', `weight out of range: ${o.weight}`);
    if (o.uThreshold < 0 || o.lThreshold < 0) throw new IpvsError('ERANGE', 'connection thresholds must be >= 0');
    if (o.uThreshold > INT_MAX) throw new IpvsError('EINVAL', `upper threshold out of range: ${o.uThreshold}`);
    if (o.lThreshold > o.uThreshold) {
      throw new IpvsError('ERANGE', `lower threshold ${o.lThreshold} is above upper threshold ${o.uThreshold}`);
    }
    if (af !== svc.key.af) {
      if (o.fwd !== 'tunnel') {
        throw new IpvsError('EINVAL', 'a real server of another address family needs tunnel forwarding');
      }
      if (this.syncState) throw new IpvsError('EINVAL', 'mixed address families are not allowed while a sync daemon runs');
    }
  }

  /** ip_vs_add_dest (recovering the same dest from the trash when it is there). */
  addDest(key: ServiceKey, af: Af, addr: Addr, port: number, opts: Partial<DestOptions> = {}): Dest {
    const svc = this.requireService(key);
    const o = withDestDefaults(opts);
    this.validateDest(svc, af, o);
    if (this.findDest(svc, addr, port)) {
      throw new IpvsError('EEXIST', `destination already exists: ${formatAddrPort(addr, port)}`);
    }
    let dest = this.trash.find((d) => d.af === af && d.addr === addr && d.port === port && d.svc === svc);
    if (dest) {
      this.trash = this.trash.filter((d) => d !== dest);
      dest.inTrash = false;
      dest.idleStart = 0;
      if (this.dbg(DBG.DEST_TRASH)) this.log.put(this.now, DBG.DEST_TRASH, `move dest ${formatAddrPort(addr, port)} from trash`);
    } else {
      if (!usableDestAddr(addr, this.isLocalAddr(af, addr))) {
        throw new IpvsError('EINVAL', `${formatAddr(addr)} is not a unicast or local address`);
      }
      dest = {
        id: this.nextDestId++, af, addr, port, svc, weight: 0, lastWeight: 0, fwd: 'route', connFlags: 0,
        flags: 0, uThreshold: 0, lThreshold: 0, activeConns: 0, inactConns: 0, persistConns: 0,
        stats: new Stats(), refs: 0, idleStart: 0, inTrash: false,
      };
      this.dests[dest.id] = dest;
    }
    this.updateDest(svc, dest, o, true);
    if (this.dbg(DBG.CONFIG)) this.log.put(this.now, DBG.CONFIG, `add dest ${formatAddrPort(addr, port)} to ${this.serviceLabel(svc)}`);
    return dest;
  }

  /** ip_vs_edit_dest. */
  editDest(key: ServiceKey, addr: Addr, port: number, opts: Partial<DestOptions> = {}): Dest {
    const svc = this.requireService(key);
    const dest = this.findDest(svc, addr, port);
    if (!dest) throw new IpvsError('ENOENT', `no such destination: ${formatAddrPort(addr, port)}`);
    const o = withDestDefaults(opts);
    this.validateDest(svc, dest.af, o);
    this.updateDest(svc, dest, o, false);
    if (this.dbg(DBG.CONFIG)) this.log.put(this.now, DBG.CONFIG, `edit dest ${formatAddrPort(addr, port)} in ${this.serviceLabel(svc)}`);
    return dest;
  }

  /** __ip_vs_update_dest: flags, thresholds, weight, list insertion and scheduler hooks. */
  protected updateDest(svc: Service, dest: Dest, o: DestOptions, add: boolean): void {
    this.rsUnhash(dest);
    let connFlags = (fwdValue(o.fwd) & CONN_F.DEST_MASK) | CONN_F.INACTIVE;
    if (o.fwd !== 'masq') connFlags |= CONN_F.NOOUTPUT;
    dest.fwd = o.fwd;
    dest.connFlags = connFlags;
    if (o.fwd === 'masq') this.rsHash(dest);
    // Clear OVERLOAD when the upper threshold is removed or raised (not when lowered).
    if (o.uThreshold === 0 || o.uThreshold > dest.uThreshold) dest.flags &= ~DEST_F.OVERLOAD;
    dest.uThreshold = o.uThreshold;
    dest.lThreshold = o.lThreshold;
    dest.weight = o.weight;
    if (o.weight > 0) dest.lastWeight = o.weight;
    dest.flags |= DEST_F.AVAILABLE;
    const sched = findScheduler(svc.scheduler);
    if (add) {
      svc.dests.unshift(dest); // newest first: list_add_rcu at the head
      sched?.addDest?.(svc, dest, this.schedCtx);
    } else {
      sched?.updDest?.(svc, dest, this.schedCtx);
    }
  }

  /** ip_vs_del_dest. */
  delDest(key: ServiceKey, addr: Addr, port: number): void {
    const svc = this.requireService(key);
    const dest = this.findDest(svc, addr, port);
    if (!dest) throw new IpvsError('ENOENT', `no such destination: ${formatAddrPort(addr, port)}`);
    this.unlinkDest(svc, dest, false);
    if (this.dbg(DBG.CONFIG)) this.log.put(this.now, DBG.CONFIG, `del dest ${formatAddrPort(addr, port)} from ${this.serviceLabel(svc)}`);
  }

  protected unlinkDest(svc: Service, dest: Dest, svcGoing: boolean): void {
    dest.flags &= ~DEST_F.AVAILABLE;
    findScheduler(svc.scheduler)?.delDest?.(svc, dest, this.schedCtx);
    svc.dests = svc.dests.filter((d) => d !== dest);
    this.rsUnhash(dest);
    dest.inTrash = true;
    dest.idleStart = 0;
    if (this.trash.length === 0) this.nextTrash = this.now + DEST_TRASH_PERIOD / 2;
    this.trash.push(dest);
    if (this.dbg(DBG.DEST_TRASH)) this.log.put(this.now, DBG.DEST_TRASH, `move dest ${formatAddrPort(dest.addr, dest.port)} into trash`);
    if (!svcGoing && this.tunables.v.expire_nodest_conn) this.nodestFlushAt = Math.min(this.nodestFlushAt, this.now + 1);
    if (svcGoing && this.tunables.v.expire_nodest_conn) this.nodestFlushAt = Math.min(this.nodestFlushAt, this.now + 1);
  }

  /** ip_vs_dest_trash_expire: free unreferenced dests 120-180 s after their last reference. */
  protected trashTimer(): void {
    this.trash = this.trash.filter((d) => {
      if (d.refs > 0) return true;
      if (!d.idleStart) { d.idleStart = this.now; return true; }
      if (this.now < d.idleStart + DEST_TRASH_PERIOD) return true;
      if (this.dbg(DBG.DEST_TRASH)) this.log.put(this.now, DBG.DEST_TRASH, `removing dest ${formatAddrPort(d.addr, d.port)} from trash`);
      this.dests[d.id] = undefined;
      return false;
    });
    this.nextTrash = this.trash.length ? this.now + DEST_TRASH_PERIOD / 2 : Infinity;
  }

  protected rsKey(af: Af, addr: Addr, port: number): string {
    return `${af}|${addr}|${port}`;
  }

  protected rsHash(d: Dest): void {
    const k = this.rsKey(d.af, d.addr, d.port);
    const list = this.rsTable.get(k) ?? [];
    if (!list.includes(d)) list.push(d);
    this.rsTable.set(k, list);
  }

  protected rsUnhash(d: Dest): void {
    const k = this.rsKey(d.af, d.addr, d.port);
    const list = this.rsTable.get(k)?.filter((x) => x !== d);
    if (list && list.length) this.rsTable.set(k, list);
    else this.rsTable.delete(k);
  }

  /** ip_vs_has_real_service: a NAT real server with this address/port for the protocol. */
  protected hasRealService(af: Af, proto: number, addr: Addr, port: number): boolean {
    const list = this.rsTable.get(this.rsKey(af, addr, port));
    if (!list) return false;
    return list.some((d) => d.svc.key.kind === 'fwmark' || PROTO_NUM[d.svc.key.proto] === proto);
  }

  /** start_sync_thread: EEXIST if the role runs; mixed-family tunnel dests forbid it (EINVAL). */
  startDaemon(cfg: Partial<SyncDaemonConfig> & {role: 'master' | 'backup'}): SyncDaemonConfig {
    if (this.syncDaemons[cfg.role]) throw new IpvsError('EEXIST', `sync daemon ${cfg.role} is already running`);
    const syncId = cfg.syncId ?? 0;
    if (!Number.isInteger(syncId) || syncId < 0 || syncId > 255) {
      throw new IpvsError('EINVAL', `syncid must be 0..255, got ${syncId}`);
    }
    for (const svc of this.services) {
      if (svc.dests.some((d) => d.af !== svc.key.af)) {
        throw new IpvsError('EINVAL', 'cannot start a sync daemon while real servers of another address family exist');
      }
    }
    const full: SyncDaemonConfig = {
      role: cfg.role,
      mcastIfn: cfg.mcastIfn ?? 'eth0',
      syncId,
      syncMaxLen: cfg.syncMaxLen ?? 0,
      mcastGroup: cfg.mcastGroup ?? '224.0.0.81',
      mcastPort: cfg.mcastPort ?? 8848,
      mcastTtl: cfg.mcastTtl ?? 1,
    };
    this.syncDaemons[cfg.role] = full;
    this.syncState |= cfg.role === 'master' ? SYNC_STATE.MASTER : SYNC_STATE.BACKUP;
    if (this.dbg(DBG.CONFIG)) this.log.put(this.now, DBG.CONFIG, `sync daemon ${cfg.role} started (syncid ${syncId}, ${full.mcastIfn})`);
    return full;
  }

  /** stop_sync_thread: ESRCH if the role does not run. */
  stopDaemon(role: 'master' | 'backup'): void {
    if (!this.syncDaemons[role]) throw new IpvsError('ESRCH', `sync daemon ${role} is not running`);
    delete this.syncDaemons[role];
    this.syncState &= ~(role === 'master' ? SYNC_STATE.MASTER : SYNC_STATE.BACKUP);
    if (this.dbg(DBG.CONFIG)) this.log.put(this.now, DBG.CONFIG, `sync daemon ${role} stopped`);
  }

  /** ipvsadm --set tcp tcpfin udp (seconds; 0 keeps a value). All-or-nothing validation. */
  setTimeouts(tcp: number, tcpfin: number, udp: number): void {
    for (const [n, v] of [['tcp', tcp], ['tcpfin', tcpfin], ['udp', udp]] as const) {
      if (!Number.isInteger(v) || v < 0 || v > Math.floor(INT_MAX / HZ)) {
        throw new IpvsError('EINVAL', `${n} timeout out of range: ${v}`);
      }
    }
    if (tcp) this.timeouts.tcp[TCP_STATE.ESTABLISHED] = tcp * SECOND;
    if (tcpfin) this.timeouts.tcp[TCP_STATE.FIN_WAIT] = tcpfin * SECOND;
    if (udp) this.timeouts.udp[0] = udp * SECOND;
  }

  getTimeouts(): {tcp: number; tcpfin: number; udp: number} {
    return {
      tcp: Math.floor(this.timeouts.tcp[TCP_STATE.ESTABLISHED]! / SECOND),
      tcpfin: Math.floor(this.timeouts.tcp[TCP_STATE.FIN_WAIT]! / SECOND),
      udp: Math.floor(this.timeouts.udp[0]! / SECOND),
    };
  }

  serviceFind(af: Af, mark: number, proto: number, addr: Addr, port: number): Service | undefined {
    if (mark) {
      const s = this.svcByMark.get(this.markKey(af, mark));
      if (s) return s;
    }
    let s = this.svcByAddr.get(this.svcAddrKey(af, proto, port))?.get(addr);
    if (s) return s;
    if (proto === IPPROTO_TCP && this.ftpServices > 0 && (port === FTPDATA || port >= UNPRIVILEGED_PORT_START)) {
      s = this.svcByAddr.get(this.svcAddrKey(af, proto, FTPPORT))?.get(addr);
      if (s) return s;
    }
    if (this.port0Services > 0) s = this.svcByAddr.get(this.svcAddrKey(af, proto, 0))?.get(addr);
    return s;
  }

  protected schedulerTicks(): void {
    for (const svc of this.services) findScheduler(svc.scheduler)?.tick?.(svc, this.schedCtx);
  }

  protected estimate(): void {
    this.totStats.estimate();
    for (const svc of this.services) {
      svc.stats.estimate();
      for (const d of svc.dests) d.stats.estimate();
    }
  }
}

/**
 * ip_vs_new_dest's address check: IPv4 must be unicast or local (inet_addr_type: 0.0.0.0/8,
 * 255.255.255.255 and multicast are refused); IPv6 must be unicast and not link-local, unless local.
 */
function usableDestAddr(a: Addr, local: boolean): boolean {
  if (typeof a === 'number') {
    if (local) return true;
    return a >>> 24 !== 0 && a !== 0xffffffff && a >>> 28 !== 0xe;
  }
  if (local) return true;
  const g = parseIPv6Groups(a)!;
  const multicast = g[0]! >>> 8 === 0xff;
  const unspecified = g.every((x) => x === 0);
  const linkLocal = (g[0]! & 0xffc0) === 0xfe80;
  return !multicast && !unspecified && !linkLocal;
}

function withServiceDefaults(key: ServiceKey, o: Partial<ServiceOptions>): ServiceOptions {
  return {
    scheduler: o.scheduler ?? 'wlc',
    flags: o.flags ?? 0,
    persistTimeout: o.persistTimeout ?? 0,
    netmask: o.netmask ?? 0xffffffff,
    prefixLen: o.prefixLen ?? (key.af === 6 ? 128 : 32),
    pe: o.pe ?? '',
  };
}

function withDestDefaults(o: Partial<DestOptions>): DestOptions {
  return {fwd: o.fwd ?? 'route', weight: o.weight ?? 1, uThreshold: o.uThreshold ?? 0, lThreshold: o.lThreshold ?? 0};
}

export function describeKey(key: ServiceKey): string {
  if (key.kind === 'fwmark') return `FWM ${key.fwmark}${key.af === 6 ? ' IPv6' : ''}`;
  return `${key.proto.toUpperCase()} ${formatAddrPort(key.addr, key.port)}`;
}
