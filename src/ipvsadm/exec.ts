// Running a parsed ipvsadm command against an Engine, with ipvsadm's outputs, messages and exit
// statuses. -R runs each stdin line as its own command; here it stops at the first failing line
// (a real ipvsadm keeps going after kernel errors) so that a failed restore changes nothing for
// callers that discard the engine on error.
import type {Af} from '../engine/addr.js';
import {IPPROTO_SCTP, IPPROTO_TCP, SVC_F, type FwdMethod} from '../engine/constants.js';
import type {Engine} from '../engine/engine.js';
import {IpvsError} from '../engine/errors.js';
import {schedulerNames} from '../engine/sched/index.js';
import type {DestOptions, ProtoName, ServiceKey, ServiceOptions} from '../engine/types.js';
import {IpvsadmExit, type LibipvsOp, TRYHELP, ipvsStrerror} from './errors.js';
import {listAll, listConn, listDaemon, listService, listTimeout} from './listing.js';
import {
  CMD, FWD, IpvsadmInfo, OPT, type ParsedCommand, type ParsedDest, type ParsedService, emptyFormat, parseIpvsadm, splitWords,
} from './parse.js';
import {setTunInfo} from './tunnel.js';

export interface IpvsadmResult {
  stdout: string;
  stderr: string;
  /** Exit status as ipvsadm would return it. */
  code: number;
  /** Whether the configuration may have changed (a mutating command ran). */
  mutated: boolean;
}

export interface IpvsadmContext {
  /** Text ipvsadm -R reads from stdin. */
  stdin?: string;
}

/** Scheduler names accepted by -s: the registered ones plus 'none'. */
export function acceptedSchedulers(): string[] {
  return [...schedulerNames(), 'none'];
}

/** The engine's identity of the service named on the command line. */
export function serviceKeyOf(s: ParsedService): ServiceKey {
  const af: Af = s.af === 6 ? 6 : 4;
  if (s.fwmark) return {kind: 'fwmark', af, fwmark: s.fwmark};
  const proto: ProtoName = s.protocol === IPPROTO_TCP ? 'tcp' : s.protocol === IPPROTO_SCTP ? 'sctp' : 'udp';
  return {kind: 'addr', af, proto, addr: s.addr, port: s.port};
}

/** The engine's service options for -A/-E (an edit replaces them all, as the kernel does). */
export function serviceOptionsOf(svc: ParsedService): ServiceOptions {
  return {
    scheduler: svc.sched,
    flags: svc.flags & ~SVC_F.PERSISTENT,
    persistTimeout: svc.flags & SVC_F.PERSISTENT ? svc.timeout * 1000 : 0,
    netmask: svc.af === 6 ? 0xffffffff : svc.netmask >>> 0,
    prefixLen: svc.af === 6 ? svc.netmask : 32,
    pe: svc.pe,
  };
}

/** The engine's real-server options for -a/-e. */
export function destOptionsOf(dest: ParsedDest): DestOptions {
  return {fwd: fwdMethod(dest.fwd), weight: dest.weight, uThreshold: dest.uThreshold, lThreshold: dest.lThreshold};
}

function fwdMethod(fwd: number): FwdMethod {
  switch (fwd) {
    case FWD.MASQ: return 'masq';
    case FWD.TUNNEL: return 'tunnel';
    case FWD.LOCALNODE: return 'local';
    default: return 'route';
  }
}

const MUTATING = new Set<number>([
  CMD.ADD, CMD.EDIT, CMD.DEL, CMD.FLUSH, CMD.ADDDEST, CMD.EDITDEST, CMD.DELDEST, CMD.TIMEOUT, CMD.STARTDAEMON,
  CMD.STOPDAEMON, CMD.RESTORE, CMD.ZERO,
]);

/** Run one ipvsadm invocation (argv without the program name) on the engine. */
export function runIpvsadm(e: Engine, argv: readonly string[], ctx: IpvsadmContext = {}): IpvsadmResult {
  return runInner(e, argv, ctx, false);
}

function runInner(e: Engine, argv: readonly string[], ctx: IpvsadmContext, readingStdin: boolean): IpvsadmResult {
  if (argv.length === 0) return {stdout: listAll(e, emptyFormat()), stderr: '', code: 0, mutated: false};
  let pc: ParsedCommand;
  try {
    pc = parseIpvsadm(argv, acceptedSchedulers().filter((n) => n !== 'none'));
  } catch (err) {
    if (err instanceof IpvsadmInfo) return {stdout: err.stdout, stderr: '', code: 0, mutated: false};
    if (err instanceof IpvsadmExit) return {stdout: err.stdout, stderr: err.stderr, code: err.code, mutated: false};
    throw err;
  }
  try {
    return execute(e, pc, ctx, readingStdin);
  } catch (err) {
    if (err instanceof IpvsadmExit) {
      return {stdout: err.stdout, stderr: err.stderr, code: err.code, mutated: MUTATING.has(pc.cmd)};
    }
    throw err;
  }
}

/** Call the engine; an IpvsError becomes ipvsadm's message for that libipvs call, exit 255. */
function kernel<T>(op: LibipvsOp, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof IpvsError) throw new IpvsadmExit(255, `${ipvsStrerror(op, err.errno)}\n`);
    throw err;
  }
}

function execute(e: Engine, pc: ParsedCommand, ctx: IpvsadmContext, readingStdin: boolean): IpvsadmResult {
  const ok = (stdout = ''): IpvsadmResult => ({stdout, stderr: '', code: 0, mutated: MUTATING.has(pc.cmd)});
  const svc = pc.svc, dest = pc.dest;
  switch (pc.cmd) {
    case CMD.LIST: {
      const o = pc.options;
      if (o[OPT.CONNECTION]) return ok(listConn(e, pc.format));
      if (o[OPT.SERVICE]) {
        const found = e.getService(serviceKeyOf(svc));
        if (!found) throw new IpvsadmExit(1, `${ipvsStrerror('get_service', 'ESRCH')}\n`);
        return ok(listService(found, pc.format));
      }
      if (o[OPT.TIMEOUT]) return ok(listTimeout(e));
      if (o[OPT.DAEMON]) return ok(listDaemon(e));
      return ok(listAll(e, pc.format));
    }
    case CMD.SAVE:
      return ok(listAll(e, pc.format));
    case CMD.RESTORE:
      return restore(e, ctx, readingStdin);
    case CMD.FLUSH:
      kernel('flush', () => e.flush());
      return ok();
    case CMD.ADD:
    case CMD.EDIT: {
      const key = serviceKeyOf(svc);
      const opts = serviceOptionsOf(svc);
      if (pc.cmd === CMD.ADD) kernel('add_service', () => e.addService(key, opts));
      else kernel('update_service', () => e.editService(key, opts));
      return ok();
    }
    case CMD.DEL:
      kernel('del_service', () => e.delService(serviceKeyOf(svc)));
      return ok();
    case CMD.ZERO:
      if (pc.options[OPT.SERVICE]) kernel('zero_service', () => e.zero(serviceKeyOf(svc)));
      else kernel('zero_service', () => e.zero());
      return ok();
    case CMD.ADDDEST:
    case CMD.EDITDEST: {
      const key = serviceKeyOf(svc);
      const opts = destOptionsOf(dest);
      const tun = {type: dest.tunType, port: dest.tunPort, flags: dest.tunFlags};
      const d = pc.cmd === CMD.ADDDEST
        ? kernel('add_dest', () => e.addDest(key, dest.af === 6 ? 6 : 4, dest.addr, dest.port, opts))
        : kernel('update_dest', () => e.editDest(key, dest.addr, dest.port, opts));
      setTunInfo(d, tun);
      return ok();
    }
    case CMD.DELDEST:
      kernel('del_dest', () => e.delDest(serviceKeyOf(svc), dest.addr, dest.port));
      return ok();
    case CMD.TIMEOUT:
      kernel('set_timeout', () => e.setTimeouts(pc.timeout.tcp, pc.timeout.tcpfin, pc.timeout.udp));
      return ok();
    case CMD.STARTDAEMON: {
      const d = pc.daemon;
      kernel('start_daemon', () => e.startDaemon({
        role: d.state as 'master' | 'backup',
        mcastIfn: d.mcastIfn,
        syncId: d.syncId,
        syncMaxLen: d.syncMaxLen,
        ...(d.mcastGroup ? {mcastGroup: d.mcastGroup} : {}),
        ...(d.mcastPort ? {mcastPort: d.mcastPort} : {}),
        ...(d.mcastTtl ? {mcastTtl: d.mcastTtl} : {}),
      }));
      return ok();
    }
    case CMD.STOPDAEMON:
      kernel('stop_daemon', () => e.stopDaemon(pc.daemon.state as 'master' | 'backup'));
      return ok();
  }
  return ok();
}

export interface RestoreLine {
  /** 1-based line number in the input. */
  line: number;
  words: string[];
}

/** The commands of an ipvsadm -R stream: blank lines and '#' comments skipped, "ipvsadm" tolerated. */
export function restoreLines(text: string): RestoreLine[] {
  const out: RestoreLine[] = [];
  text.split('\n').forEach((raw, i) => {
    const trimmed = raw.trim();
    if (!trimmed || trimmed.startsWith('#')) return;
    let words: string[];
    try {
      words = splitWords(trimmed);
    } catch (err) {
      throw new IpvsadmExit(2, `line ${i + 1}: ${(err as Error).message}\n`);
    }
    if (words[0] === 'ipvsadm') words = words.slice(1);
    if (words.length === 0) return;
    out.push({line: i + 1, words});
  });
  return out;
}

function restore(e: Engine, ctx: IpvsadmContext, readingStdin: boolean): IpvsadmResult {
  if (readingStdin) throw new IpvsadmExit(255, TRYHELP);
  let stdout = '';
  for (const l of restoreLines(ctx.stdin ?? '')) {
    const r = runInner(e, l.words, ctx, true);
    stdout += r.stdout;
    if (r.code !== 0) {
      return {stdout, stderr: `${r.stderr}ipvsadm: restore stopped at line ${l.line}: ${l.words.join(' ')}\n`, code: r.code, mutated: true};
    }
  }
  return {stdout, stderr: '', code: 0, mutated: true};
}
