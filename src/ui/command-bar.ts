// The `:` command bar. A line is one of:
//   ipvsadm syntax (the leading "ipvsadm" is optional):
//     -A|-E -t|-u|--sctp-service VIP:PORT | -f MARK [-s SCHED] [-p [SECONDS]] [-M NETMASK]
//     -D -t|-u|-f SERVICE          -C          -Z [SERVICE]          --set TCP TCPFIN UDP
//     -a|-e SERVICE -r ADDR[:PORT] [-g|-m|-i] [-w WEIGHT] [-x UPPER] [-y LOWER]
//     -d SERVICE -r ADDR[:PORT]
//   sysctl [-w] [net.ipv4.vs.]NAME[=VALUE]        (without =VALUE: shows the value)
//   attack KIND [VIP:PORT] [RATE] | attack stop|start|rm ID|KIND | attack rate ID|KIND RATE
//   fail ADDR:PORT | recover ADDR:PORT            (a real server stops / resumes answering)
//   speed X | pause | resume | step [SECONDS] | view NAME|1..6 | help | q | quit
// ipvsadm lines go through src/ipvsadm's parser (ipvsadm 1.31's option rules, defaults and
// messages) and become Ops applied by the actions module, like every other change.
import {type Af, parseAddrPort} from '../engine/addr.js';
import {IpvsadmExit} from '../ipvsadm/errors.js';
import {acceptedSchedulers, destOptionsOf, serviceKeyOf, serviceOptionsOf} from '../ipvsadm/exec.js';
import {CMD, IpvsadmInfo, OPT, type ParsedCommand, parseIpvsadm as parseIpvsadmArgs, splitWords} from '../ipvsadm/parse.js';
import type {Op} from '../store/actions.js';
import type {GeneratorRow} from '../store/backend.js';
import {ATTACK_DEFAULT_RATE, type ViewId, VIEWS} from '../store/session.js';
import {GENERATOR_KINDS, type GeneratorKind} from '../traffic/generators.js';

export type UiCommand =
  | {ui: 'quit'}
  | {ui: 'help'}
  | {ui: 'view'; view: ViewId}
  | {ui: 'show'; text: string};

export type Parsed = {ops: Op[]} | UiCommand | {error: string};

/** What the parser may need to know about the running instance (attack targets, generator ids). */
export interface CommandContext {
  generators: GeneratorRow[];
  readTunable(name: string): string | null;
  /** A default target for an attack (VIP:PORT) when none is given. */
  defaultTarget(kind: string): string | null;
}

export function parseCommand(line: string, ctx: CommandContext): Parsed {
  const words = line.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return {error: 'empty command'};
  const w0 = words[0]!.toLowerCase();
  if (w0 === 'ipvsadm' || w0.startsWith('-')) {
    let argv: string[];
    try {
      argv = splitWords(line.trim());
    } catch (err) {
      return {error: `ipvsadm: ${(err as Error).message}`};
    }
    return parseIpvsadm(argv[0] === 'ipvsadm' ? argv.slice(1) : argv);
  }
  switch (w0) {
    case 'sysctl': return parseSysctl(words.slice(1), ctx);
    case 'attack': case 'traffic': return parseAttack(words.slice(1), ctx);
    case 'fail': case 'recover': {
      const rs = words[1];
      if (!rs || !parseAddrPort(rs)) return {error: `${w0}: want ADDR:PORT of a real server`};
      return {ops: [{op: 'server-failed', rs, failed: w0 === 'fail'}]};
    }
    case 'speed': {
      const x = Number(words[1]?.replace(/^x/, ''));
      if (!(x > 0) || x > 10000) return {error: 'speed: want a factor like 0.5, 1, 10, 100'};
      return {ops: [{op: 'speed', speed: x}]};
    }
    case 'pause': return {ops: [{op: 'pause', paused: true}]};
    case 'resume': case 'run': return {ops: [{op: 'pause', paused: false}]};
    case 'step': {
      const s = words[1] === undefined ? 1 : Number(words[1]);
      if (!(s > 0) || s > 3600) return {error: 'step: want SECONDS (0 < s <= 3600)'};
      return {ops: [{op: 'step', ms: Math.round(s * 1000)}]};
    }
    case 'q': case 'quit': case 'exit': return {ui: 'quit'};
    case 'help': case 'h': case '?': return {ui: 'help'};
    case 'view': case 'v': {
      const name = (words[1] ?? '').toLowerCase();
      const v = VIEWS.find((x) => x.key === name || x.id === name || x.title.toLowerCase().startsWith(name) || x.short.toLowerCase() === name);
      if (!name || !v) return {error: `view: one of ${VIEWS.map((x) => x.id).join(', ')}`};
      return {ui: 'view', view: v.id};
    }
    default: {
      if (words.length === 1 && /^[a-z_]+=/.test(w0)) return parseSysctl(['-w', words[0]!], ctx);
      return {error: `unknown command '${words[0]}' (ipvsadm options, sysctl -w, attack, speed, pause, view, help, quit)`};
    }
  }
}

function parseSysctl(args: string[], ctx: CommandContext): Parsed {
  const rest = args.filter((a) => a !== '-w' && a !== '-q');
  if (rest.length === 0) return {error: 'sysctl: want [-w] net.ipv4.vs.NAME=VALUE'};
  const ops: Op[] = [];
  const shown: string[] = [];
  // "name = value" with spaces is also accepted
  const joined = rest.join(' ').replace(/\s*=\s*/g, '=');
  for (const item of joined.split(/\s+/)) {
    const m = /^(?:net\.ipv4\.vs\.|net\/ipv4\/vs\/)?([a-z_]+)(?:=(.*))?$/.exec(item);
    if (!m) return {error: `sysctl: cannot parse '${item}'`};
    const name = m[1]!;
    if (m[2] === undefined) {
      const v = ctx.readTunable(name);
      if (v === null) return {error: `sysctl: cannot stat /proc/sys/net/ipv4/vs/${name}: No such file or directory`};
      shown.push(`net.ipv4.vs.${name} = ${v}`);
    } else ops.push({op: 'set-tunable', name, value: m[2]});
  }
  if (ops.length) return {ops};
  return {ui: 'show', text: shown.join('  ')};
}

function parseAttack(args: string[], ctx: CommandContext): Parsed {
  const sub = (args[0] ?? '').toLowerCase();
  const findGen = (ref: string | undefined): GeneratorRow | null => {
    if (!ref) return null;
    return ctx.generators.find((g) => g.id === ref) ??
      [...ctx.generators].reverse().find((g) => g.kind === ref.toLowerCase()) ?? null;
  };
  if (sub === 'stop' || sub === 'start' || sub === 'rm' || sub === 'remove') {
    const g = findGen(args[1]);
    if (!g) return {error: `attack ${sub}: no generator '${args[1] ?? ''}' (ids: ${ctx.generators.map((x) => x.id).join(', ') || 'none'})`};
    return {ops: [{op: sub === 'stop' ? 'traffic-stop' : sub === 'start' ? 'traffic-start' : 'traffic-remove', id: g.id}]};
  }
  if (sub === 'rate') {
    const g = findGen(args[1]);
    const rate = Number(args[2]);
    if (!g) return {error: `attack rate: no generator '${args[1] ?? ''}'`};
    if (!(rate >= 0) || !Number.isFinite(rate)) return {error: 'attack rate: want ID RATE (per second)'};
    return {ops: [{op: 'traffic-rate', id: g.id, rate}]};
  }
  if (!(GENERATOR_KINDS as readonly string[]).includes(sub)) {
    return {error: `attack: KIND is one of ${GENERATOR_KINDS.join(', ')}; or attack stop|start|rm|rate ID`};
  }
  const kind = sub as GeneratorKind;
  let to: string | null = null;
  let rate = ATTACK_DEFAULT_RATE[kind] ?? 100;
  for (const a of args.slice(1)) {
    if (parseAddrPort(a)) to = a;
    else if (/^\d+(\.\d+)?$/.test(a)) rate = Number(a);
    else return {error: `attack ${kind}: unexpected '${a}' (want [VIP:PORT] [RATE])`};
  }
  to ??= ctx.defaultTarget(kind);
  if (!to) return {error: `attack ${kind}: no target service (give VIP:PORT)`};
  return {ops: [{op: 'traffic-add', spec: {kind, to, rate}}]};
}

// ------------------------------------------------------------------------------------ ipvsadm

/** ipvsadm syntax through src/ipvsadm's parser (ipvsadm 1.31's rules and messages), as Ops. */
function parseIpvsadm(argv: string[]): Parsed {
  let pc: ParsedCommand;
  try {
    pc = parseIpvsadmArgs(argv, acceptedSchedulers().filter((n) => n !== 'none'));
  } catch (err) {
    if (err instanceof IpvsadmInfo) return {ui: 'show', text: err.stdout.split('\n')[0] ?? ''};
    if (err instanceof IpvsadmExit) {
      const msg = (err.stderr || err.stdout).split('\n').map((l) => l.trim()).filter(Boolean)
        .filter((l) => !l.startsWith('Try `ipvsadm -h')).join(' ');
      return {error: `ipvsadm: ${msg || `exit status ${err.code}`}`};
    }
    throw err;
  }
  const svc = pc.svc, dest = pc.dest;
  switch (pc.cmd) {
    case CMD.FLUSH: return {ops: [{op: 'flush'}]};
    case CMD.STARTDAEMON: {
      const dm = pc.daemon;
      if (dm.state === '') return {error: 'ipvsadm: --start-daemon needs master or backup'};
      return {ops: [{op: 'sync-start', role: dm.state, syncId: dm.syncId, mcastIfn: dm.mcastIfn || undefined}]};
    }
    case CMD.STOPDAEMON: {
      const dm = pc.daemon;
      if (dm.state === '') return {error: 'ipvsadm: --stop-daemon needs master or backup'};
      return {ops: [{op: 'sync-stop', role: dm.state}]};
    }
    case CMD.TIMEOUT: return {ops: [{op: 'timeouts', ...pc.timeout}]};
    case CMD.ZERO: return {ops: [pc.options[OPT.SERVICE] ? {op: 'zero', key: serviceKeyOf(svc)} : {op: 'zero'}]};
    case CMD.ADD:
    case CMD.EDIT: {
      const opts = serviceOptionsOf(svc);
      return {ops: [{op: pc.cmd === CMD.ADD ? 'add-service' : 'edit-service', key: serviceKeyOf(svc), opts}]};
    }
    case CMD.DEL: return {ops: [{op: 'del-service', key: serviceKeyOf(svc)}]};
    case CMD.ADDDEST:
    case CMD.EDITDEST: {
      const opts = destOptionsOf(dest);
      const key = serviceKeyOf(svc);
      if (pc.cmd === CMD.ADDDEST) {
        return {ops: [{op: 'add-dest', key, af: (dest.af === 6 ? 6 : 4) as Af, addr: dest.addr, port: dest.port, opts}]};
      }
      return {ops: [{op: 'edit-dest', key, addr: dest.addr, port: dest.port, opts}]};
    }
    case CMD.DELDEST: return {ops: [{op: 'del-dest', key: serviceKeyOf(svc), addr: dest.addr, port: dest.port}]};
    // the listings are views: -Lc is the Connections view (the same rows as ip_vs_conn_seq_show), -L the Services view
    case CMD.LIST: return {ui: 'view', view: pc.options[OPT.CONNECTION] ? 'conns' : 'services'};
    case CMD.SAVE:
      return {error: 'ipvsadm: the rules are the Services view (2); `lvsdeck ipvsadm -S` prints them'};
    default:
      return {error: 'ipvsadm: --restore is not available in the command bar (use lvsdeck ipvsadm -R)'};
  }
}

