// Every change an operator makes goes through apply(): keys, forms and the command bar all build
// an Op and hand it here. This is the one place that checks --read-only and the session's role
// (reader < operator < admin, table OP_MIN_ROLE / minRole), calls the backend, records the audit
// trail (who, role, when in wall and virtual time, what, old value, new value, ok/refused/failed)
// and reports the outcome. The audit log fans entries out to sinks (the --audit-file of serve).
import type {Addr} from '../engine/addr.js';
import {formatAddrPort} from '../engine/addr.js';
import type {DestOptions, ServiceKey} from '../engine/types.js';
import type {Backend, Command} from './backend.js';
import {escapeControls} from '../util/untrusted-text.js';

/** An operator change: exactly a backend Command (plain data, recorded in the audit log). */
export type Op = Command;

/** Who may do what: reader < operator < admin (HAProxy's user / operator / admin levels). */
export type Role = 'reader' | 'operator' | 'admin';
export const ROLES: readonly Role[] = ['reader', 'operator', 'admin'];
const ROLE_RANK: Record<Role, number> = {reader: 0, operator: 1, admin: 2};

export function roleAtLeast(have: Role, need: Role): boolean {
  return ROLE_RANK[have] >= ROLE_RANK[need];
}

/** Tunables an operator may write: the three DoS defenses (on/off/always). Every other one is admin. */
export const OPERATOR_TUNABLES: readonly string[] = ['drop_entry', 'drop_packet', 'secure_tcp'];

/**
 * The minimum role of every Op kind. `edit-dest` and `set-tunable` depend on the arguments (see
 * minRole): a weight change is operator, any other real-server edit admin; the defenses are
 * operator, every other tunable admin. docs/ssh.md shows this table.
 */
export const OP_MIN_ROLE: Record<Op['op'], Role> = {
  'set-tunable': 'admin',
  'add-service': 'admin',
  'edit-service': 'admin',
  'del-service': 'admin',
  'add-dest': 'admin',
  'edit-dest': 'admin',
  'del-dest': 'admin',
  timeouts: 'admin',
  flush: 'admin',
  zero: 'operator',
  'traffic-add': 'operator',
  'traffic-start': 'operator',
  'traffic-stop': 'operator',
  'traffic-rate': 'operator',
  'traffic-remove': 'operator',
  'server-failed': 'operator',
  'sync-start': 'admin',
  'sync-stop': 'admin',
  speed: 'operator',
  pause: 'operator',
  step: 'operator',
};

/** The role `op` needs, given the current configuration (a weight-only edit is an operator's). */
export function minRole(op: Op, backend?: Backend): Role {
  if (op.op === 'set-tunable') return OPERATOR_TUNABLES.includes(op.name) ? 'operator' : 'admin';
  if (op.op === 'edit-dest') {
    const cur = backend ? findDest(backend, op.key, op.addr, op.port) : null;
    if (!cur) return 'admin';
    const o = op.opts;
    const same = (k: keyof DestOptions) => o[k] === undefined || o[k] === cur.opts[k];
    return same('fwd') && same('uThreshold') && same('lThreshold') ? 'operator' : 'admin';
  }
  return OP_MIN_ROLE[op.op];
}

/** Values recorded for the audit: what the change touched, before and after. */
export type AuditValue = Record<string, string | number | boolean | null>;

export interface AuditEntry {
  seq: number;
  /** Wall-clock time (ms since epoch). */
  wall: number;
  /** Virtual time (ms). */
  virtual: number;
  user: string;
  /** The role the change was made (or refused) with. */
  role: Role;
  /** The Op kind (set-tunable, edit-dest, ...). */
  op: Op['op'];
  /** What was asked, as an operator would type it. */
  what: string;
  /** The object changed (a tunable, a service, a real server, a generator, the clock). */
  target: string;
  /** The value before (null: did not exist / nothing to record). */
  old: AuditValue | null;
  /** The value asked for; in effect when `ok` (null: removed / nothing to record). */
  new: AuditValue | null;
  /** old -> new in words, e.g. "weight 3 → 0". */
  change: string;
  ok: boolean;
  /** ok, refused (role too low: nothing was tried) or failed (the engine said no). */
  outcome: 'ok' | 'refused' | 'failed';
  /** Result or error message ('ok' when ok). */
  result: string;
  /** The UI session that made the change (ssh sessions and the console have one each). */
  session?: number;
  /** Where the operator is: "console", "ssh 127.0.0.1:50123". */
  from?: string;
  /** The SHA256 fingerprint of the ssh key used. */
  key?: string;
}

export interface AuditLogOptions {
  /** Refused attempts kept for the view, apart from the changes (default 100). */
  refusalCapacity?: number;
  /** Refused attempts one session may record in a burst (default 10)... */
  refusalBurst?: number;
  /** ...and per wall second after it (default 0.5). Beyond that they are counted, not listed. */
  refusalsPerSec?: number;
  /** A session's count of unlisted refusals is written out this long after its last one (default 10 s). */
  refusalQuietMs?: number;
}

interface RefusalBucket {
  tokens: number;
  at: number;
  /** Refusals counted but not listed since the last summary. */
  suppressed: number;
  last: Omit<AuditEntry, 'seq'> | null;
}

/**
 * The audit trail of operator changes, shared by every session of one instance. Changes (ok or
 * failed) and refusals are kept apart, each with its own bound, so a flood of refused key presses
 * can never push a real change out of view. Each session may record a burst of refusals, then a
 * few per second; the ones beyond are counted and written as one summary entry once the session
 * goes quiet (or ends: flushRefusals). Every client-supplied string is escaped when recorded.
 */
export class AuditLog {
  private changes: AuditEntry[] = [];
  private refusals: AuditEntry[] = [];
  private merged: AuditEntry[] | null = [];
  private seq = 0;
  private listeners = new Set<() => void>();
  private sinks = new Set<(e: AuditEntry) => void>();
  private readonly buckets = new Map<string, RefusalBucket>();
  private readonly refusalCapacity: number;
  private readonly burst: number;
  private readonly perSec: number;
  private readonly quietMs: number;
  /** Refused attempts counted but not listed (rate limit), in total. */
  unlistedRefusals = 0;

  constructor(readonly capacity = 500, o: AuditLogOptions = {}) {
    this.refusalCapacity = o.refusalCapacity ?? 100;
    this.burst = o.refusalBurst ?? 10;
    this.perSec = o.refusalsPerSec ?? 0.5;
    this.quietMs = o.refusalQuietMs ?? 10_000;
  }

  /** Record an entry; a refusal over its session's rate is only counted (returns null). */
  record(e: Omit<AuditEntry, 'seq'>): AuditEntry | null {
    const clean = escapeEntry(e);
    if (clean.outcome === 'refused' && !this.admitRefusal(clean)) return null;
    return this.store(clean);
  }

  private store(e: Omit<AuditEntry, 'seq'>): AuditEntry {
    const full = {...e, seq: ++this.seq};
    const buf = full.outcome === 'refused' ? this.refusals : this.changes;
    buf.push(full);
    if (buf.length > (buf === this.refusals ? this.refusalCapacity : this.capacity)) buf.shift();
    this.merged = null;
    for (const s of this.sinks) {
      try { s(full); } catch { /* a failing sink (disk full) must not stop the change */ }
    }
    for (const l of this.listeners) l();
    return full;
  }

  private admitRefusal(e: Omit<AuditEntry, 'seq'>): boolean {
    const id = `${e.session ?? '-'}/${e.user}`;
    let b = this.buckets.get(id);
    if (!b) {
      b = {tokens: this.burst, at: e.wall, suppressed: 0, last: null};
      this.buckets.set(id, b);
    }
    b.tokens = Math.min(this.burst, b.tokens + (Math.max(0, e.wall - b.at) / 1000) * this.perSec);
    b.at = e.wall;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      if (b.suppressed > 0) this.summarize(b);
      return true;
    }
    b.suppressed++;
    b.last = e;
    this.unlistedRefusals++;
    return false;
  }

  private summarize(b: RefusalBucket): void {
    const last = b.last!;
    const n = b.suppressed;
    b.suppressed = 0;
    b.last = null;
    this.store({...last, what: `${n} more refused attempt${n === 1 ? '' : 's'} not listed (rate limit), the last: ${last.what}`,
      result: `${last.result}; ${n} not listed`});
  }

  /**
   * Write the summary of unlisted refusals for sessions quiet since `quietMs` before `now` (wall
   * ms), or for every session with `force` (server stopping); forget quiet buckets.
   */
  flushRefusals(now: number, force = false): void {
    for (const [id, b] of this.buckets) {
      const quiet = now - b.at >= this.quietMs;
      if (b.suppressed > 0 && (quiet || force)) this.summarize(b);
      if (b.suppressed === 0 && (quiet || force)) this.buckets.delete(id);
    }
  }

  /** Changes and the kept refusals, oldest first. */
  list(): readonly AuditEntry[] {
    if (!this.merged) this.merged = mergeBySeq(this.changes, this.refusals);
    return this.merged;
  }

  get lastSeq(): number {
    return this.seq;
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Also hand every entry to `fn` (an append-only file). */
  addSink(fn: (e: AuditEntry) => void): () => void {
    this.sinks.add(fn);
    return () => this.sinks.delete(fn);
  }
}

function mergeBySeq(a: AuditEntry[], b: AuditEntry[]): AuditEntry[] {
  const out: AuditEntry[] = [];
  let i = 0, j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i]!.seq < b[j]!.seq)) out.push(a[i++]!);
    else out.push(b[j++]!);
  }
  return out;
}

function escapeValue(v: AuditValue | null): AuditValue | null {
  if (!v) return v;
  const out: AuditValue = {};
  for (const [k, x] of Object.entries(v)) out[escapeControls(k)] = typeof x === 'string' ? escapeControls(x) : x;
  return out;
}

/** Every string of an entry with control and bidi characters escaped (they reach other terminals). */
function escapeEntry(e: Omit<AuditEntry, 'seq'>): Omit<AuditEntry, 'seq'> {
  return {
    ...e, user: escapeControls(e.user), what: escapeControls(e.what), target: escapeControls(e.target),
    change: escapeControls(e.change), result: escapeControls(e.result), old: escapeValue(e.old), new: escapeValue(e.new),
    ...(e.from !== undefined ? {from: escapeControls(e.from)} : {}), ...(e.key !== undefined ? {key: escapeControls(e.key)} : {}),
  };
}

export interface ActionResult {
  ok: boolean;
  message: string;
}

export function describeKey(key: ServiceKey): string {
  if (key.kind === 'fwmark') return `-f ${key.fwmark}`;
  const flag = key.proto === 'tcp' ? '-t' : key.proto === 'udp' ? '-u' : '--sctp-service';
  return `${flag} ${formatAddrPort(key.addr, key.port)}`;
}

const FWD_FLAG: Record<string, string> = {masq: '-m', route: '-g', tunnel: '-i', local: '-g', bypass: '-g'};

/** The operation as an operator would have typed it (ipvsadm / sysctl syntax where one exists). */
export function describeOp(op: Op): string {
  switch (op.op) {
    case 'set-tunable': return `sysctl -w net.ipv4.vs.${op.name}=${op.value}`;
    case 'add-service':
    case 'edit-service': {
      const o = op.opts;
      let s = `ipvsadm ${op.op === 'add-service' ? '-A' : '-E'} ${describeKey(op.key)}`;
      if (o.scheduler) s += ` -s ${o.scheduler}`;
      if (o.persistTimeout) s += ` -p ${Math.round(o.persistTimeout / 1000)}`;
      return s;
    }
    case 'del-service': return `ipvsadm -D ${describeKey(op.key)}`;
    case 'add-dest':
    case 'edit-dest': {
      const o = op.opts;
      let s = `ipvsadm ${op.op === 'add-dest' ? '-a' : '-e'} ${describeKey(op.key)} -r ${formatAddrPort(op.addr, op.port)}`;
      if (o.fwd) s += ` ${FWD_FLAG[o.fwd] ?? ''}`;
      if (o.weight !== undefined) s += ` -w ${o.weight}`;
      if (o.uThreshold) s += ` -x ${o.uThreshold}`;
      if (o.lThreshold) s += ` -y ${o.lThreshold}`;
      return s;
    }
    case 'del-dest': return `ipvsadm -d ${describeKey(op.key)} -r ${formatAddrPort(op.addr, op.port)}`;
    case 'timeouts': return `ipvsadm --set ${op.tcp} ${op.tcpfin} ${op.udp}`;
    case 'zero': return `ipvsadm -Z${op.key ? ` ${describeKey(op.key)}` : ''}`;
    case 'flush': return 'ipvsadm -C';
    case 'traffic-add': return `attack ${op.spec.kind} ${op.spec.to} ${op.spec.rate}`;
    case 'traffic-start': return `attack start ${op.id}`;
    case 'traffic-stop': return `attack stop ${op.id}`;
    case 'traffic-rate': return `attack rate ${op.id} ${op.rate}`;
    case 'traffic-remove': return `attack remove ${op.id}`;
    case 'server-failed': return `server ${op.failed ? 'fail' : 'recover'} ${op.rs}`;
    case 'speed': return `speed ${op.speed}`;
    case 'pause': return op.paused ? 'pause' : 'resume';
    case 'step': return `step ${op.ms}ms`;
    case 'sync-start': return `ipvsadm --start-daemon ${op.role} --syncid ${op.syncId}${op.mcastIfn ? ` --mcast-interface ${op.mcastIfn}` : ''}`;
    case 'sync-stop': return `ipvsadm --stop-daemon ${op.role}`;
  }
}

/** Who is acting: the user shown, the role, and where from (recorded in the audit). */
export interface Actor {
  user: string;
  role: Role;
  session?: number;
  from?: string;
  key?: string;
}

export interface ActionsOptions {
  backend: Backend;
  audit: AuditLog;
  user: string;
  /** --read-only: a watch-only session chosen by its user; changes are disabled (and not audited). */
  readOnly: boolean;
  /** The role (default admin: the local terminal owns the instance). */
  role?: Role;
  session?: number;
  from?: string;
  key?: string;
}

export class Actions {
  constructor(private readonly o: ActionsOptions) {}

  get readOnly(): boolean {
    return this.o.readOnly;
  }

  get role(): Role {
    return this.o.role ?? 'admin';
  }

  get actor(): Actor {
    return {user: this.o.user, role: this.role, session: this.o.session, from: this.o.from, key: this.o.key};
  }

  /** Apply one operator change. Never throws: the outcome comes back as a message. */
  apply(op: Op): ActionResult & {id?: string; refused?: boolean} {
    const what = describeOp(op);
    const b = this.o.backend;
    if (this.o.readOnly) {
      return {ok: false, message: `read-only session: "${what}" is disabled`};
    }
    const target = describeTarget(op);
    const old = observe(op, b);
    const need = minRole(op, b);
    if (!roleAtLeast(this.role, need)) {
      const message = `refused: needs the ${need} role (${this.o.user} is ${article(this.role)} ${this.role}): ${what}`;
      this.record(op, {what, target, old, new: requested(op, old), ok: false, outcome: 'refused', result: `needs ${need}`});
      return {ok: false, refused: true, message};
    }
    let ok = true;
    let message = what;
    let id: string | undefined;
    try {
      const r = b.apply(op);
      if (r.error !== undefined) {
        ok = false;
        message = r.error;
      } else if (op.op === 'set-tunable') {
        message = `${op.name} = ${op.value}${r.changed ? '' : ' (unchanged)'}`;
      } else if (op.op === 'traffic-add') {
        id = r.id;
        message = `${what}: started ${id}`;
      }
    } catch (err) {
      ok = false;
      message = `${what}: ${(err as Error).message}`;
    }
    const after = ok ? observe(op, b, id) : requested(op, old);
    this.record(op, {what, target: id ? `generator ${id}` : target, old, new: after, ok, outcome: ok ? 'ok' : 'failed',
      result: ok ? 'ok' : message});
    return {ok, message, id};
  }

  private record(op: Op, e: {what: string; target: string; old: AuditValue | null; new: AuditValue | null; ok: boolean;
    outcome: AuditEntry['outcome']; result: string}): void {
    const a = this.actor;
    this.o.audit.record({
      wall: Date.now(), virtual: this.o.backend.snapshot().now, user: a.user, role: a.role, op: op.op, ...e,
      change: describeChange(e.old, e.new),
      ...(a.session !== undefined ? {session: a.session} : {}), ...(a.from ? {from: a.from} : {}), ...(a.key ? {key: a.key} : {}),
    });
  }
}

const article = (r: Role) => (r === 'reader' ? 'a' : 'an');

function findService(b: Backend, key: ServiceKey) {
  const want = describeKey(key);
  for (const svc of b.snapshot().services) {
    const c = b.serviceConfig(svc.id);
    if (c && describeKey(c.key) === want) return {svc, config: c};
  }
  return null;
}

function findDest(b: Backend, key: ServiceKey, addr: Addr, port: number) {
  const s = findService(b, key);
  if (!s) return null;
  const label = formatAddrPort(addr, port);
  const d = s.svc.dests.find((x) => x.label === label);
  return d ? b.destConfig(d.id) : null;
}

/** The object an Op changes, in words. */
export function describeTarget(op: Op): string {
  switch (op.op) {
    case 'set-tunable': return `net.ipv4.vs.${op.name}`;
    case 'add-service': case 'edit-service': case 'del-service': return `service ${describeKey(op.key)}`;
    case 'add-dest': case 'edit-dest': case 'del-dest': return `real server ${formatAddrPort(op.addr, op.port)} of ${describeKey(op.key)}`;
    case 'timeouts': return 'timeouts';
    case 'zero': return op.key ? `counters of ${describeKey(op.key)}` : 'all counters';
    case 'flush': return 'all services';
    case 'traffic-add': return `generator ${op.spec.kind} -> ${op.spec.to}`;
    case 'traffic-start': case 'traffic-stop': case 'traffic-rate': case 'traffic-remove': return `generator ${op.id}`;
    case 'server-failed': return `real server ${op.rs} (answering)`;
    case 'speed': case 'pause': case 'step': return 'virtual clock';
    case 'sync-start': case 'sync-stop': return `sync daemon ${op.role}`;
  }
}

/** The current value of what `op` changes (null when it does not exist). */
function observe(op: Op, b: Backend, newId?: string): AuditValue | null {
  try {
    switch (op.op) {
      case 'set-tunable': {
        const row = b.tunables().find((t) => t.name === op.name);
        return row ? {[op.name]: row.value} : null;
      }
      case 'add-service': case 'edit-service': case 'del-service': {
        const s = findService(b, op.key);
        if (!s) return null;
        return {scheduler: s.config.opts.scheduler, persistent: Math.round(s.config.opts.persistTimeout / 1000), dests: s.svc.dests.length};
      }
      case 'add-dest': case 'edit-dest': case 'del-dest': {
        const d = findDest(b, op.key, op.addr, op.port);
        if (!d) return null;
        return {fwd: d.opts.fwd, weight: d.opts.weight, uThreshold: d.opts.uThreshold, lThreshold: d.opts.lThreshold};
      }
      case 'timeouts': {
        // LocalBackend exposes its simulation; other backends simply record nothing here
        const eng = (b as {sim?: {engine?: {getTimeouts?(): {tcp: number; tcpfin: number; udp: number}}}}).sim?.engine;
        return eng?.getTimeouts ? {...eng.getTimeouts()} : null;
      }
      case 'zero': return null;
      case 'flush': {
        const snap = b.snapshot();
        return {services: snap.services.length, dests: snap.services.reduce((n, s) => n + s.dests.length, 0)};
      }
      case 'traffic-add': case 'traffic-start': case 'traffic-stop': case 'traffic-rate': case 'traffic-remove': {
        const id = op.op === 'traffic-add' ? newId : op.id;
        const g = id ? b.generators().find((x) => x.id === id) : undefined;
        return g ? {kind: g.kind, to: g.to, rate: g.rate, running: g.running} : null;
      }
      case 'server-failed': return {failed: b.failedServers().includes(op.rs)};
      case 'speed': return {speed: b.clock().speed};
      case 'pause': return {paused: b.clock().paused};
      case 'step': return {virtual: b.snapshot().now};
      case 'sync-start': case 'sync-stop': {
        const r = b.syncStatus().roles.find((x) => x.role === op.role);
        return {running: r?.config != null, syncid: r?.config?.syncId ?? null};
      }
    }
  } catch {
    return null;
  }
}

/** What `op` asks for, from the current value (for refused and failed changes). */
function requested(op: Op, old: AuditValue | null): AuditValue | null {
  switch (op.op) {
    case 'set-tunable': return {[op.name]: op.value};
    case 'edit-dest': return old ? {...old, ...defined(op.opts)} : defined(op.opts);
    case 'add-dest': return {fwd: op.opts.fwd ?? 'route', weight: op.opts.weight ?? 1};
    case 'add-service': case 'edit-service': {
      const r: AuditValue = old ? {...old} : {};
      if (op.opts.scheduler) r.scheduler = op.opts.scheduler;
      if (op.opts.persistTimeout !== undefined) r.persistent = Math.round(op.opts.persistTimeout / 1000);
      return r;
    }
    case 'del-service': case 'del-dest': case 'traffic-remove': return null;
    case 'timeouts': return {tcp: op.tcp, tcpfin: op.tcpfin, udp: op.udp};
    case 'flush': return {services: 0, dests: 0};
    case 'traffic-add': return {kind: op.spec.kind, to: op.spec.to, rate: op.spec.rate, running: true};
    case 'traffic-start': case 'traffic-stop': return old ? {...old, running: op.op === 'traffic-start'} : {running: op.op === 'traffic-start'};
    case 'traffic-rate': return old ? {...old, rate: op.rate} : {rate: op.rate};
    case 'server-failed': return {failed: op.failed};
    case 'speed': return {speed: op.speed};
    case 'pause': return {paused: op.paused};
    case 'step': return old && typeof old.virtual === 'number' ? {virtual: old.virtual + op.ms} : null;
    case 'zero': return null;
    case 'sync-start': return {running: true, syncid: op.syncId};
    case 'sync-stop': return {running: false, syncid: old?.syncid ?? null};
  }
}

function defined(o: object): AuditValue {
  const r: AuditValue = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined && (typeof v !== 'object' || v === null)) r[k] = v as string | number | boolean | null;
  return r;
}

const fmtV = (v: unknown) => (typeof v === 'string' && v.includes(' ') ? JSON.stringify(v) : String(v));

/** old -> new in words: "weight 3 → 0", "drop_entry 0 → 1", "new: fwd masq, weight 1", "removed: ...". */
export function describeChange(old: AuditValue | null, now: AuditValue | null): string {
  const list = (v: AuditValue) => Object.entries(v).map(([k, x]) => `${k} ${fmtV(x)}`).join(', ');
  if (old && now) {
    const keys = [...new Set([...Object.keys(old), ...Object.keys(now)])];
    const diff = keys.filter((k) => k in now && String(old[k]) !== String(now[k]));
    if (diff.length === 0) return `unchanged (${list(old)})`;
    return diff.map((k) => `${k} ${fmtV(old[k] ?? '-')} → ${fmtV(now[k])}`).join(', ');
  }
  if (now) return `new: ${list(now)}`;
  if (old) return `removed: ${list(old)}`;
  return '';
}
