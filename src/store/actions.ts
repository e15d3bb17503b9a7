// Every change an operator makes goes through apply(): keys, forms and the command bar all build
// an Op and hand it here. This is the one place that checks --read-only, calls the backend,
// records the audit trail and reports the outcome; roles and a persistent audit log hook in here.
import type {Addr, Af} from '../engine/addr.js';
import {formatAddrPort} from '../engine/addr.js';
import type {DestOptions, ServiceKey, ServiceOptions} from '../engine/types.js';
import type {GeneratorSpec} from '../traffic/generators.js';
import type {DeckBackend} from './backend.js';

export type Op =
  | {op: 'set-tunable'; name: string; value: string}
  | {op: 'add-service'; key: ServiceKey; opts: Partial<ServiceOptions>}
  | {op: 'edit-service'; key: ServiceKey; opts: Partial<ServiceOptions>}
  | {op: 'del-service'; key: ServiceKey}
  | {op: 'add-dest'; key: ServiceKey; af: Af; addr: Addr; port: number; opts: Partial<DestOptions>}
  | {op: 'edit-dest'; key: ServiceKey; addr: Addr; port: number; opts: Partial<DestOptions>}
  | {op: 'del-dest'; key: ServiceKey; addr: Addr; port: number}
  | {op: 'timeouts'; tcp: number; tcpfin: number; udp: number}
  | {op: 'zero'; key?: ServiceKey}
  | {op: 'flush'}
  | {op: 'traffic-add'; spec: GeneratorSpec}
  | {op: 'traffic-start'; id: string}
  | {op: 'traffic-stop'; id: string}
  | {op: 'traffic-rate'; id: string; rate: number}
  | {op: 'traffic-remove'; id: string}
  | {op: 'server-failed'; rs: string; failed: boolean}
  | {op: 'speed'; speed: number}
  | {op: 'pause'; paused: boolean}
  | {op: 'step'; ms: number};

export interface AuditEntry {
  seq: number;
  /** Wall-clock time (ms since epoch). */
  wall: number;
  /** Virtual time (ms). */
  virtual: number;
  user: string;
  /** What was asked, as an operator would type it. */
  what: string;
  ok: boolean;
  /** Result or error message. */
  result: string;
}

/** The audit trail of operator changes, shared by every session of one instance. */
export class AuditLog {
  private entries: AuditEntry[] = [];
  private seq = 0;
  private listeners = new Set<() => void>();
  constructor(readonly capacity = 500) {}

  record(e: Omit<AuditEntry, 'seq'>): AuditEntry {
    const full = {...e, seq: ++this.seq};
    this.entries.push(full);
    if (this.entries.length > this.capacity) this.entries.shift();
    for (const l of this.listeners) l();
    return full;
  }

  list(): readonly AuditEntry[] {
    return this.entries;
  }

  get lastSeq(): number {
    return this.seq;
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
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
  }
}

export interface ActionsOptions {
  backend: DeckBackend;
  audit: AuditLog;
  user: string;
  readOnly: boolean;
}

export class Actions {
  constructor(private readonly o: ActionsOptions) {}

  get readOnly(): boolean {
    return this.o.readOnly;
  }

  /** Apply one operator change. Never throws: the outcome comes back as a message. */
  apply(op: Op): ActionResult & {id?: string} {
    const what = describeOp(op);
    const b = this.o.backend;
    if (this.o.readOnly) {
      return {ok: false, message: `read-only session: "${what}" is disabled`};
    }
    let ok = true;
    let message = what;
    let id: string | undefined;
    try {
      switch (op.op) {
        case 'set-tunable': {
          const r = b.setTunable(op.name, op.value);
          if (!r.ok) { ok = false; message = r.error; }
          else message = `${op.name} = ${op.value}${r.changed ? '' : ' (unchanged)'}`;
          break;
        }
        case 'add-service': b.addService(op.key, op.opts); break;
        case 'edit-service': b.editService(op.key, op.opts); break;
        case 'del-service': b.delService(op.key); break;
        case 'add-dest': b.addDest(op.key, op.af, op.addr, op.port, op.opts); break;
        case 'edit-dest': b.editDest(op.key, op.addr, op.port, op.opts); break;
        case 'del-dest': b.delDest(op.key, op.addr, op.port); break;
        case 'timeouts': b.setTimeouts(op.tcp, op.tcpfin, op.udp); break;
        case 'zero': b.zero(op.key); break;
        case 'flush': b.flush(); break;
        case 'traffic-add': id = b.addGenerator(op.spec); message = `${what}: started ${id}`; break;
        case 'traffic-start': b.startGenerator(op.id); break;
        case 'traffic-stop': b.stopGenerator(op.id); break;
        case 'traffic-rate': b.setGeneratorRate(op.id, op.rate); break;
        case 'traffic-remove': b.removeGenerator(op.id); break;
        case 'server-failed': b.setServerFailed(op.rs, op.failed); break;
        case 'speed': b.setSpeed(op.speed); break;
        case 'pause': b.setPaused(op.paused); break;
        case 'step': b.step(op.ms); break;
      }
    } catch (err) {
      ok = false;
      message = `${what}: ${(err as Error).message}`;
    }
    // Clock controls are not configuration changes: keep them out of the audit trail.
    if (op.op !== 'speed' && op.op !== 'pause' && op.op !== 'step') {
      this.o.audit.record({wall: Date.now(), virtual: b.snapshot().now, user: this.o.user, what, ok, result: ok ? 'ok' : message});
    }
    return {ok, message, id};
  }
}
