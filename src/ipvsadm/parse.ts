// ipvsadm's command line (ipvsadm 1.31 built with popt): the option table, popt's tokenising rules,
// parse_options/process_options with their defaults and checks, the commands_v_options legality
// table and ipvsadm's own error texts. Pure: produces a ParsedCommand or throws IpvsadmExit.
import {type Addr, canonicalIPv6, parseIPv4} from '../engine/addr.js';
import {INT_MAX, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, SVC_F} from '../engine/constants.js';
import {IpvsadmExit, PROGRAM, fail, tryhelpExit} from './errors.js';
import {inetAton, serviceToPort} from './netdb.js';

// ---------------------------------------------------------------------------------------------
// Commands and options (names and order exactly as in ipvsadm.c)

export const CMD = {
  ADD: 1, EDIT: 2, DEL: 3, FLUSH: 4, LIST: 5, ADDDEST: 6, DELDEST: 7, EDITDEST: 8, TIMEOUT: 9,
  STARTDAEMON: 10, STOPDAEMON: 11, RESTORE: 12, SAVE: 13, ZERO: 14,
} as const;
export type CmdCode = (typeof CMD)[keyof typeof CMD];

export const CMD_NAMES = [
  'add-service', 'edit-service', 'delete-service', 'flush', 'list', 'add-server', 'delete-server',
  'edit-server', 'set', 'start-daemon', 'stop-daemon', 'restore', 'save', 'zero',
] as const;

export const OPT = {
  NUMERIC: 0, CONNECTION: 1, SERVICE: 2, SCHEDULER: 3, PERSISTENT: 4, NETMASK: 5, SERVER: 6, FORWARD: 7,
  WEIGHT: 8, UTHRESHOLD: 9, LTHRESHOLD: 10, MCAST: 11, TIMEOUT: 12, DAEMON: 13, STATS: 14, RATE: 15,
  THRESHOLDS: 16, PERSISTENTCONN: 17, NOSORT: 18, SYNCID: 19, EXACT: 20, ONEPACKET: 21,
  PERSISTENCE_ENGINE: 22, SCHED_FLAGS: 23, MCAST_GROUP: 24, MCAST_PORT: 25, MCAST_TTL: 26, SYNC_MAXLEN: 27,
  TUN_INFO: 28, TUN_TYPE: 29, TUN_PORT: 30, TUN_NOCSUM: 31, TUN_CSUM: 32, TUN_REMCSUM: 33,
} as const;

export const OPT_NAMES = [
  'numeric', 'connection', 'service-address', 'scheduler', 'persistent', 'netmask', 'real-server',
  'forwarding-method', 'weight', 'u-threshold', 'l-threshold', 'mcast-interface', 'timeout', 'daemon',
  'stats', 'rate', 'thresholds', 'persistent-conn', 'nosort', 'syncid', 'exact', 'ops', 'pe',
  'sched-flags', 'mcast-group', 'mcast-port', 'mcast-ttl', 'sync-maxlen', 'tun-info', 'tun-type',
  'tun-port', 'tun-nocsum', 'tun-csum', 'tun-remcsum',
] as const;

/**
 * commands_v_options: one row per command (ADD..ZERO), one column per option (OPT order).
 * '+' compulsory, 'x' illegal, '1' exclusive (only one '1' option may be given), ' ' optional.
 */
export const COMMANDS_V_OPTIONS: readonly string[] = [
  //-n -c svc -s -p -M -r fwd -w -x -y -mc tot dmn -st -rt thr -pc srt sid -ex ops -pe -b grp port ttl size tinf type tprt nocs csum remc
  'xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx', // ADD
  'xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx', // EDIT
  'xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', // DEL
  'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', // FLUSH
  ' 11xxxxxxxxx11       xxxxxxx xxxxx', // LIST
  'xx+xxx+    xxxxxxxxxxxxxxxxxx     ', // ADDDEST
  'xx+xxx+xxxxxxxxxxxxxxxxxxxxxxxxxxx', // DELDEST
  'xx+xxx+    xxxxxxxxxxxxxxxxxx     ', // EDITDEST
  'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', // TIMEOUT
  'xxxxxxxxxxx xxxxxxx xxxx    xxxxxx', // STARTDAEMON
  'xxxxxxxxxxxxxxxxxxx xxxxxxxxxxxxxx', // STOPDAEMON
  'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', // RESTORE
  ' xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', // SAVE
  'xx xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', // ZERO
];

/** Tunnel types (IP_VS_CONN_F_TUNNEL_TYPE_*) and tunnel_types_v_options (tprt nocs csum remc). */
export const TUN_NAMES = ['ipip', 'gue', 'gre'] as const;
export type TunType = 0 | 1 | 2;
const TUNNEL_TYPES_V_OPTIONS = ['xxxx', '+111', 'x111'];
const TUN_OPTS = [OPT.TUN_PORT, OPT.TUN_NOCSUM, OPT.TUN_CSUM, OPT.TUN_REMCSUM];
/** IP_VS_TUNNEL_ENCAP_FLAG_*: 0 = no checksum. */
export const TUN_FLAG = {NOCSUM: 0, CSUM: 1, REMCSUM: 2} as const;

export const MAX_TIMEOUT = 86400 * 31;
export const DEF_SCHED = 'wlc';
export const DEF_MCAST_IFN = 'eth0';
export const IPVS_SVC_PERSISTENT_TIMEOUT = 360;
const IP_VS_SCHEDNAME_MAXLEN = 16;
const IP_VS_PENAME_MAXLEN = 16;
const IP_VS_IFNAME_MAXLEN = 16;

/** Forwarding methods as ipvsadm sets conn_flags (IP_VS_CONN_F_*). */
export const FWD = {MASQ: 0, LOCALNODE: 1, TUNNEL: 2, DROUTE: 3} as const;

// ---------------------------------------------------------------------------------------------
// Parsed command

export interface ParsedService {
  /** 0 = not given yet (AF_UNSPEC). */
  af: 0 | 4 | 6;
  protocol: number;
  addr: Addr;
  port: number;
  fwmark: number;
  sched: string;
  /** IP_VS_SVC_F_* as ipvsadm sends them (PERSISTENT, ONEPACKET, SCHED1..3). */
  flags: number;
  /** Persistence timeout in seconds. */
  timeout: number;
  /** IPv4: host-order netmask; IPv6: prefix length. */
  netmask: number;
  pe: string;
}

export interface ParsedDest {
  af: 0 | 4 | 6;
  addr: Addr;
  port: number;
  /** FWD.* value. */
  fwd: number;
  weight: number;
  uThreshold: number;
  lThreshold: number;
  tunType: TunType;
  tunPort: number;
  tunFlags: number;
}

export interface ParsedDaemon {
  state: 'master' | 'backup' | '';
  mcastIfn: string;
  syncId: number;
  syncMaxLen: number;
  mcastGroup: string;
  mcastAf: 0 | 4 | 6;
  mcastPort: number;
  mcastTtl: number;
}

export interface ListFormat {
  numeric: boolean;
  stats: boolean;
  rate: boolean;
  thresholds: boolean;
  persistentConn: boolean;
  nosort: boolean;
  exact: boolean;
  tunInfo: boolean;
  /** -S: rule format. */
  rule: boolean;
}

export interface ParsedCommand {
  cmd: CmdCode;
  /** Set options, by OPT index. */
  options: boolean[];
  format: ListFormat;
  svc: ParsedService;
  dest: ParsedDest;
  timeout: {tcp: number; tcpfin: number; udp: number};
  daemon: ParsedDaemon;
}

/** -h / -v: printed to stdout, exit 0. */
export class IpvsadmInfo {
  constructor(readonly stdout: string) {}
}

export function emptyFormat(): ListFormat {
  return {
    numeric: false, stats: false, rate: false, thresholds: false, persistentConn: false, nosort: false,
    exact: false, tunInfo: false, rule: false,
  };
}

// ---------------------------------------------------------------------------------------------
// popt option table and tokenizer

type ArgKind = 'none' | 'required' | 'optional';
interface OptDef {
  long: string;
  short?: string;
  arg: ArgKind;
  tag: string;
}

const OPTION_TABLE: OptDef[] = [
  {long: 'add-service', short: 'A', arg: 'none', tag: 'A'},
  {long: 'edit-service', short: 'E', arg: 'none', tag: 'E'},
  {long: 'delete-service', short: 'D', arg: 'none', tag: 'D'},
  {long: 'clear', short: 'C', arg: 'none', tag: 'C'},
  {long: 'list', short: 'L', arg: 'none', tag: 'L'},
  {long: 'list', short: 'l', arg: 'none', tag: 'l'},
  {long: 'zero', short: 'Z', arg: 'none', tag: 'Z'},
  {long: 'add-server', short: 'a', arg: 'none', tag: 'a'},
  {long: 'edit-server', short: 'e', arg: 'none', tag: 'e'},
  {long: 'delete-server', short: 'd', arg: 'none', tag: 'd'},
  {long: 'set', arg: 'none', tag: 'set'},
  {long: 'help', short: 'h', arg: 'none', tag: 'h'},
  {long: 'version', short: 'v', arg: 'none', tag: 'v'},
  {long: 'restore', short: 'R', arg: 'none', tag: 'R'},
  {long: 'save', short: 'S', arg: 'none', tag: 'S'},
  {long: 'start-daemon', arg: 'required', tag: 'start-daemon'},
  {long: 'stop-daemon', arg: 'required', tag: 'stop-daemon'},
  {long: 'tcp-service', short: 't', arg: 'required', tag: 't'},
  {long: 'udp-service', short: 'u', arg: 'required', tag: 'u'},
  {long: 'sctp-service', arg: 'required', tag: 'sctp-service'},
  {long: 'fwmark-service', short: 'f', arg: 'required', tag: 'f'},
  {long: 'scheduler', short: 's', arg: 'required', tag: 's'},
  {long: 'persistent', short: 'p', arg: 'optional', tag: 'p'},
  {long: 'netmask', short: 'M', arg: 'required', tag: 'M'},
  {long: 'real-server', short: 'r', arg: 'required', tag: 'r'},
  {long: 'masquerading', short: 'm', arg: 'none', tag: 'm'},
  {long: 'ipip', short: 'i', arg: 'none', tag: 'i'},
  {long: 'gatewaying', short: 'g', arg: 'none', tag: 'g'},
  {long: 'weight', short: 'w', arg: 'required', tag: 'w'},
  {long: 'u-threshold', short: 'x', arg: 'required', tag: 'x'},
  {long: 'l-threshold', short: 'y', arg: 'required', tag: 'y'},
  {long: 'numeric', short: 'n', arg: 'none', tag: 'n'},
  {long: 'connection', short: 'c', arg: 'none', tag: 'c'},
  {long: 'mcast-interface', arg: 'required', tag: 'mcast-interface'},
  {long: 'syncid', arg: 'required', tag: 'syncid'},
  {long: 'timeout', arg: 'none', tag: 'timeout'},
  {long: 'daemon', arg: 'none', tag: 'daemon'},
  {long: 'stats', arg: 'none', tag: 'stats'},
  {long: 'rate', arg: 'none', tag: 'rate'},
  {long: 'thresholds', arg: 'none', tag: 'thresholds'},
  {long: 'persistent-conn', arg: 'none', tag: 'persistent-conn'},
  {long: 'nosort', arg: 'none', tag: 'nosort'},
  {long: 'sort', arg: 'none', tag: 'sort'},
  {long: 'exact', short: 'X', arg: 'none', tag: 'X'},
  {long: 'ipv6', short: '6', arg: 'none', tag: '6'},
  {long: 'ops', short: 'o', arg: 'none', tag: 'o'},
  {long: 'pe', arg: 'required', tag: 'pe'},
  {long: 'sched-flags', short: 'b', arg: 'required', tag: 'b'},
  {long: 'mcast-group', arg: 'required', tag: 'mcast-group'},
  {long: 'mcast-port', arg: 'required', tag: 'mcast-port'},
  {long: 'mcast-ttl', arg: 'required', tag: 'mcast-ttl'},
  {long: 'sync-maxlen', arg: 'required', tag: 'sync-maxlen'},
  {long: 'tun-info', arg: 'none', tag: 'tun-info'},
  {long: 'tun-type', arg: 'required', tag: 'tun-type'},
  {long: 'tun-port', arg: 'required', tag: 'tun-port'},
  {long: 'tun-nocsum', arg: 'none', tag: 'tun-nocsum'},
  {long: 'tun-csum', arg: 'none', tag: 'tun-csum'},
  {long: 'tun-remcsum', arg: 'none', tag: 'tun-remcsum'},
];

const BY_LONG = new Map<string, OptDef>();
for (const o of OPTION_TABLE) if (!BY_LONG.has(o.long)) BY_LONG.set(o.long, o);
const BY_SHORT = new Map<string, OptDef>(OPTION_TABLE.filter((o) => o.short).map((o) => [o.short!, o]));

interface Token {
  tag: string;
  arg: string | null;
  /** The argv element, for poptBadOption. */
  text: string;
}

class PoptError extends Error {
  constructor(readonly text: string, readonly reason: string) {
    super(`${text}: ${reason}`);
  }
}

/** popt's poptGetNextOpt loop: options in order, non-options collected as leftovers. */
class Popt {
  private i = 0;
  private cluster: {text: string; rest: string} | null = null;
  private dashdash = false;
  readonly leftovers: string[] = [];

  constructor(private readonly argv: readonly string[]) {}

  next(): Token | null {
    if (this.cluster && this.cluster.rest.length > 0) return this.shortOpt();
    this.cluster = null;
    while (this.i < this.argv.length) {
      const a = this.argv[this.i++]!;
      if (this.dashdash || a === '-' || !a.startsWith('-')) {
        this.leftovers.push(a);
        continue;
      }
      if (a === '--') {
        this.dashdash = true;
        continue;
      }
      if (a.startsWith('--')) return this.longOpt(a);
      this.cluster = {text: a, rest: a.slice(1)};
      return this.shortOpt();
    }
    return null;
  }

  private takeArg(def: OptDef, inline: string | null, text: string): string | null {
    if (def.arg === 'none') {
      if (inline !== null) throw new PoptError(text, 'option does not take an argument');
      return null;
    }
    if (inline !== null) return inline;
    if (this.i >= this.argv.length) {
      if (def.arg === 'optional') return null;
      throw new PoptError(text, 'missing argument');
    }
    const nxt = this.argv[this.i]!;
    if (def.arg === 'optional' && nxt.startsWith('-')) return null;
    this.i++;
    return nxt;
  }

  private longOpt(a: string): Token {
    const eq = a.indexOf('=');
    const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    const inline = eq >= 0 ? a.slice(eq + 1) : null;
    const def = BY_LONG.get(name);
    if (!def) throw new PoptError(a, 'unknown option');
    return {tag: def.tag, arg: this.takeArg(def, inline, a), text: a};
  }

  private shortOpt(): Token {
    const c = this.cluster!;
    const ch = c.rest[0]!;
    c.rest = c.rest.slice(1);
    const def = BY_SHORT.get(ch);
    if (!def) throw new PoptError(c.text, 'unknown option');
    let inline: string | null = null;
    if (def.arg !== 'none' && c.rest.length > 0) {
      inline = c.rest.startsWith('=') ? c.rest.slice(1) : c.rest;
      c.rest = '';
    }
    return {tag: def.tag, arg: this.takeArg(def, inline, c.text), text: c.text};
  }
}

// ---------------------------------------------------------------------------------------------
// Little parsers with the C library's rules

/** string_to_number: strtol base 10 consuming the whole string, within [min, max], else -1. */
export function stringToNumber(s: string, min: number, max: number): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)$/.exec(s);
  if (!m) return -1;
  const n = Number(m[1]);
  if (!Number.isSafeInteger(n) || n < min || n > max) return -1;
  return n;
}

function strIsDigit(s: string): boolean {
  return /^\d*$/.test(s);
}

/** atoi: optional blanks and sign, then digits up to the first non-digit (0 if none). */
function atoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
  if (!m) return 0;
  const n = Number(m[1]);
  return Number.isFinite(n) ? n : 0;
}

const SERVICE_NONE = 0, SERVICE_ADDR = 1, SERVICE_PORT = 2;

/** parse_service: host[:port] / [v6addr]:port into an address holder; returns SERVICE_* bits. */
function parseService(input: string, svc: {af: 0 | 4 | 6; addr: Addr; port: number; protocol: number; netmask?: number}): number {
  let buf = input;
  if (strIsDigit(buf)) return SERVICE_NONE;
  let portText: string | null = null;
  if (buf.startsWith('[')) {
    buf = buf.slice(1);
    const close = buf.indexOf(']');
    if (close < 0) return SERVICE_NONE;
    const after = buf.slice(close + 1);
    buf = buf.slice(0, close);
    if (!after.startsWith(':')) return SERVICE_NONE;
    portText = after.slice(1);
  }
  const v6 = canonicalIPv6(buf);
  if (v6 !== null) {
    svc.addr = v6;
    svc.af = 6;
    if (svc.netmask !== undefined) svc.netmask = 128;
  } else {
    const colon = buf.lastIndexOf(':');
    if (colon >= 0) {
      portText = buf.slice(colon + 1);
      buf = buf.slice(0, colon);
    }
    const v4 = inetAton(buf);
    if (v4 === null) return SERVICE_NONE; // host names are not resolved (no DNS in the simulator)
    svc.addr = v4;
    svc.af = 4;
  }
  let result = SERVICE_ADDR;
  if (portText !== null) {
    result |= SERVICE_PORT;
    let port = stringToNumber(portText, 0, 65535);
    if (port === -1) port = serviceToPort(portText, svc.protocol);
    if (port === -1) return SERVICE_NONE;
    svc.port = port;
  }
  return result;
}

function parseTimeoutArg(buf: string | null, min: number, max: number): number {
  if (buf === null) return IPVS_SVC_PERSISTENT_TIMEOUT;
  const n = stringToNumber(buf, min, max);
  if (n === -1) fail(`invalid timeout value \`${buf}' specified`);
  return n;
}

function parseFwmark(buf: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)$/.exec(buf);
  const n = m ? Number(m[1]) : NaN;
  if (!m || !Number.isSafeInteger(n) || n <= 0 || n > 0xffffffff) fail(`invalid fwmark value \`${buf}' specified`);
  return n;
}

const SCHED_FLAG_BITS: Record<string, [number, string | null]> = {
  'flag-1': [SVC_F.SCHED1, null],
  'flag-2': [SVC_F.SCHED2, null],
  'flag-3': [SVC_F.SCHED3, null],
  'sh-fallback': [SVC_F.SCHED1, 'sh'],
  'sh-port': [SVC_F.SCHED2, 'sh'],
  'mh-fallback': [SVC_F.SCHED1, 'mh'],
  'mh-port': [SVC_F.SCHED2, 'mh'],
};

/** parse_sched_flags: comma-separated names checked against the scheduler (or wlc). */
export function parseSchedFlags(sched: string, arg: string): number {
  const s = sched || DEF_SCHED;
  let flags = 0;
  const names = arg.split(',').filter((x) => x.length > 0);
  for (const name of names) {
    const def = SCHED_FLAG_BITS[name];
    if (!def) fail(`invalid scheduler flag \`${name}'`);
    flags |= def[0];
    if (def[1] !== null && def[1] !== s) fail(`incompatible scheduler flag \`${name}'`);
  }
  return flags;
}

function isMulticast6(addr: string): boolean {
  return addr.toLowerCase().startsWith('ff');
}

// ---------------------------------------------------------------------------------------------
// parse_options + the checks of process_options

function setCommand(pc: ParsedCommand, cmd: CmdCode): void {
  if (pc.cmd !== 0 as CmdCode) fail('multiple commands specified');
  pc.cmd = cmd;
}

function setOption(pc: ParsedCommand, optc: number): void {
  if (pc.options[optc]) fail(`multiple '${OPT_NAMES[optc]}' options specified`);
  pc.options[optc] = true;
}

function newCommand(): ParsedCommand {
  return {
    cmd: 0 as CmdCode,
    options: new Array<boolean>(OPT_NAMES.length).fill(false),
    format: emptyFormat(),
    svc: {af: 0, protocol: 0, addr: 0, port: 0, fwmark: 0, sched: '', flags: 0, timeout: 0, netmask: 0xffffffff, pe: ''},
    dest: {af: 0, addr: 0, port: 0, fwd: FWD.DROUTE, weight: 1, uThreshold: 0, lThreshold: 0, tunType: 0, tunPort: 0, tunFlags: 0},
    timeout: {tcp: 0, tcpfin: 0, udp: 0},
    daemon: {state: '', mcastIfn: '', syncId: 0, syncMaxLen: 0, mcastGroup: '', mcastAf: 0, mcastPort: 0, mcastTtl: 0},
  };
}

export function usageText(schedulers: readonly string[]): string {
  const p = PROGRAM;
  return `${versionText()}Usage:
  ${p} -A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [--pe persistence_engine] [-b sched-flags]
  ${p} -D virtual-service
  ${p} -C
  ${p} -R
  ${p} -S [-n]
  ${p} -a|e virtual-service -r server-address [options]
  ${p} -d virtual-service -r server-address
  ${p} -L|l [virtual-service] [options]
  ${p} -Z [virtual-service]
  ${p} --set tcp tcpfin udp
  ${p} --start-daemon {master|backup} [daemon-options]
  ${p} --stop-daemon {master|backup}
  ${p} -h

Commands:
Either long or short options are allowed.
  --add-service     -A        add virtual service with options
  --edit-service    -E        edit virtual service with options
  --delete-service  -D        delete virtual service
  --clear           -C        clear the whole table
  --restore         -R        restore rules from stdin
  --save            -S        save rules to stdout
  --add-server      -a        add real server with options
  --edit-server     -e        edit real server with options
  --delete-server   -d        delete real server
  --list            -L|-l     list the table
  --zero            -Z        zero counters in a service or all services
  --set tcp tcpfin udp        set connection timeout values
  --start-daemon              start connection sync daemon
  --stop-daemon               stop connection sync daemon
  --help            -h        display this help message

virtual-service:
  --tcp-service|-t  service-address   service-address is host[:port]
  --udp-service|-u  service-address   service-address is host[:port]
  --sctp-service    service-address   service-address is host[:port]
  --fwmark-service|-f fwmark          fwmark is an integer greater than zero

Options:
  --ipv6         -6                   fwmark entry uses IPv6
  --scheduler    -s scheduler         one of ${schedulers.join('|')},
                                      the default scheduler is ${DEF_SCHED}.
  --pe            engine              alternate persistence engine may be sip,
                                      not set by default.
  --persistent   -p [timeout]         persistent service
  --netmask      -M netmask           persistent granularity mask
  --real-server  -r server-address    server-address is host (and port)
  --gatewaying   -g                   gatewaying (direct routing) (default)
  --ipip         -i                   ipip encapsulation (tunneling)
  --masquerading -m                   masquerading (NAT)
  --tun-type      type                one of ipip|gue|gre,
                                      the default tunnel type is ipip.
  --tun-port      port                tunnel destination port
  --tun-nocsum                        tunnel encapsulation without checksum
  --tun-csum                          tunnel encapsulation with checksum
  --tun-remcsum                       tunnel encapsulation with remote checksum
  --weight       -w weight            capacity of real server
  --u-threshold  -x uthreshold        upper threshold of connections
  --l-threshold  -y lthreshold        lower threshold of connections
  --connection   -c                   output of current IPVS connections
  --timeout                           output of timeout (tcp tcpfin udp)
  --daemon                            output of daemon information
  --stats                             output of statistics information
  --rate                              output of rate information
  --exact                             expand numbers (display exact values)
  --thresholds                        output of thresholds information
  --persistent-conn                   output of persistent connection info
  --tun-info                          output of tunnel information
  --nosort                            disable sorting output of service/server entries
  --sort                              does nothing, for backwards compatibility
  --ops          -o                   one-packet scheduling
  --numeric      -n                   numeric output of addresses and ports
  --sched-flags  -b flags             scheduler flags (comma-separated)
Daemon Options:
  --syncid sid                        syncid for connection sync (default=255)
  --sync-maxlen length                Max sync message length (default=1472)
  --mcast-interface interface         multicast interface for connection sync
  --mcast-group address               IPv4/IPv6 group (default=224.0.0.81)
  --mcast-port port                   UDP port (default=8848)
  --mcast-ttl ttl                     Multicast TTL (default=1)
`;
}

export function versionText(): string {
  return `${PROGRAM} v1.31 2019/07/02 (compiled with popt and IPVS v1.2.1)\n`;
}

/**
 * Parse one ipvsadm invocation (argv without the program name). Throws IpvsadmExit on any error
 * (with ipvsadm's text and exit status) or IpvsadmInfo for -h / -v. An empty argv is not handled
 * here: ipvsadm lists the table for it (see exec.ts).
 */
export function parseIpvsadm(argv: readonly string[], schedulers: readonly string[] = []): ParsedCommand {
  const pc = newCommand();
  const popt = new Popt(argv);
  const svc = pc.svc, dest = pc.dest, dm = pc.daemon, fmt = pc.format;
  let schedFlagsArg = '';

  let first: Token | null;
  try {
    first = popt.next();
  } catch (e) {
    if (e instanceof PoptError) tryhelpExit();
    throw e;
  }
  if (!first) tryhelpExit();
  switch (first.tag) {
    case 'A': setCommand(pc, CMD.ADD); break;
    case 'E': setCommand(pc, CMD.EDIT); break;
    case 'D': setCommand(pc, CMD.DEL); break;
    case 'a': setCommand(pc, CMD.ADDDEST); break;
    case 'e': setCommand(pc, CMD.EDITDEST); break;
    case 'd': setCommand(pc, CMD.DELDEST); break;
    case 'C': setCommand(pc, CMD.FLUSH); break;
    case 'L': case 'l': setCommand(pc, CMD.LIST); break;
    case 'Z': setCommand(pc, CMD.ZERO); break;
    case 'set': setCommand(pc, CMD.TIMEOUT); break;
    case 'R': setCommand(pc, CMD.RESTORE); break;
    case 'S': setCommand(pc, CMD.SAVE); break;
    case 'start-daemon':
      setCommand(pc, CMD.STARTDAEMON);
      if (first.arg === 'master' || first.arg === 'backup') dm.state = first.arg;
      else fail('illegal start-daemon parameter specified');
      break;
    case 'stop-daemon':
      setCommand(pc, CMD.STOPDAEMON);
      if (first.arg === 'master' || first.arg === 'backup') dm.state = first.arg;
      else fail('illegal start_daemon specified');
      break;
    case 'h':
      throw new IpvsadmInfo(usageText(schedulers));
    case 'v':
      throw new IpvsadmInfo(versionText());
    default:
      tryhelpExit();
  }

  for (;;) {
    let t: Token | null;
    try {
      t = popt.next();
    } catch (e) {
      if (e instanceof PoptError) throw new IpvsadmExit(255, `${e.text}: ${e.reason}\n`);
      throw e;
    }
    if (!t) break;
    const arg = t.arg ?? '';
    switch (t.tag) {
      case 't': case 'u': case 'sctp-service': {
        setOption(pc, OPT.SERVICE);
        svc.protocol = t.tag === 't' ? IPPROTO_TCP : t.tag === 'u' ? IPPROTO_UDP : IPPROTO_SCTP;
        const parse = parseService(arg, svc);
        if (!(parse & SERVICE_ADDR)) fail('illegal virtual server address[:port] specified');
        break;
      }
      case 'f':
        setOption(pc, OPT.SERVICE);
        svc.af = 4;
        svc.protocol = IPPROTO_TCP;
        svc.fwmark = parseFwmark(arg);
        break;
      case 's':
        setOption(pc, OPT.SCHEDULER);
        svc.sched = arg.slice(0, IP_VS_SCHEDNAME_MAXLEN - 1);
        break;
      case 'p':
        setOption(pc, OPT.PERSISTENT);
        svc.flags |= SVC_F.PERSISTENT;
        svc.timeout = parseTimeoutArg(t.arg, 1, MAX_TIMEOUT);
        break;
      case 'M':
        setOption(pc, OPT.NETMASK);
        if (svc.af !== 6) {
          const m = inetAton(arg);
          if (m === null) fail('illegal virtual server persistent mask specified');
          svc.netmask = m;
        } else {
          svc.netmask = atoi(arg);
          if (svc.netmask < 1 || svc.netmask > 128) fail('illegal ipv6 netmask specified');
        }
        break;
      case 'r': {
        setOption(pc, OPT.SERVER);
        const t_dest = {af: svc.af, addr: svc.addr, port: svc.port, protocol: svc.protocol};
        const parse = parseService(arg, t_dest);
        dest.af = t_dest.af;
        dest.addr = t_dest.addr;
        dest.port = t_dest.port;
        if (!(parse & SERVICE_ADDR)) fail('illegal real server address[:port] specified');
        if (parse === SERVICE_ADDR) dest.port = svc.port;
        break;
      }
      case 'i': setOption(pc, OPT.FORWARD); dest.fwd = FWD.TUNNEL; break;
      case 'g': setOption(pc, OPT.FORWARD); dest.fwd = FWD.DROUTE; break;
      case 'm': setOption(pc, OPT.FORWARD); dest.fwd = FWD.MASQ; break;
      case 'w':
        setOption(pc, OPT.WEIGHT);
        if ((dest.weight = stringToNumber(arg, 0, 65535)) === -1) fail('illegal weight specified');
        break;
      case 'x':
        setOption(pc, OPT.UTHRESHOLD);
        if ((dest.uThreshold = stringToNumber(arg, 0, INT_MAX)) === -1) fail('illegal u_threshold specified');
        break;
      case 'y':
        setOption(pc, OPT.LTHRESHOLD);
        if ((dest.lThreshold = stringToNumber(arg, 0, INT_MAX)) === -1) fail('illegal l_threshold specified');
        break;
      case 'c': setOption(pc, OPT.CONNECTION); break;
      case 'n': setOption(pc, OPT.NUMERIC); fmt.numeric = true; break;
      case 'mcast-interface':
        setOption(pc, OPT.MCAST);
        dm.mcastIfn = arg.slice(0, IP_VS_IFNAME_MAXLEN - 1);
        break;
      case 'syncid':
        setOption(pc, OPT.SYNCID);
        if ((dm.syncId = stringToNumber(arg, 0, 255)) === -1) fail('illegal syncid specified');
        break;
      case 'timeout': setOption(pc, OPT.TIMEOUT); break;
      case 'daemon': setOption(pc, OPT.DAEMON); break;
      case 'stats': setOption(pc, OPT.STATS); fmt.stats = true; break;
      case 'rate': setOption(pc, OPT.RATE); fmt.rate = true; break;
      case 'thresholds': setOption(pc, OPT.THRESHOLDS); fmt.thresholds = true; break;
      case 'persistent-conn': setOption(pc, OPT.PERSISTENTCONN); fmt.persistentConn = true; break;
      case 'nosort': setOption(pc, OPT.NOSORT); fmt.nosort = true; break;
      case 'sort': break; // the default; a no-op kept for compatibility
      case 'X': setOption(pc, OPT.EXACT); fmt.exact = true; break;
      case '6':
        if (svc.fwmark) {
          svc.af = 6;
          svc.netmask = 128;
        } else {
          fail('-6 used before -f\n');
        }
        break;
      case 'o': setOption(pc, OPT.ONEPACKET); svc.flags |= SVC_F.ONEPACKET; break;
      case 'pe':
        setOption(pc, OPT.PERSISTENCE_ENGINE);
        svc.pe = arg.slice(0, IP_VS_PENAME_MAXLEN);
        break;
      case 'b':
        setOption(pc, OPT.SCHED_FLAGS);
        schedFlagsArg = arg.slice(0, 127);
        break;
      case 'mcast-group':
        setOption(pc, OPT.MCAST_GROUP);
        if (arg.includes(':')) {
          const v6 = canonicalIPv6(arg);
          if (v6 === null || arg.startsWith('[') || !isMulticast6(v6)) fail(`invalid IPv6 mcast-group \`${arg}'`);
          dm.mcastGroup = v6;
          dm.mcastAf = 6;
        } else {
          const v4 = parseIPv4(arg);
          if (v4 === null || v4 >>> 28 !== 0xe) fail(`invalid IPv4 mcast-group \`${arg}'`);
          dm.mcastGroup = arg;
          dm.mcastAf = 4;
        }
        break;
      case 'mcast-port': {
        setOption(pc, OPT.MCAST_PORT);
        const n = stringToNumber(arg, 1, 65535);
        if (n === -1) fail('illegal mcast-port specified');
        dm.mcastPort = n;
        break;
      }
      case 'mcast-ttl': {
        setOption(pc, OPT.MCAST_TTL);
        const n = stringToNumber(arg, 1, 255);
        if (n === -1) fail('illegal mcast-ttl specified');
        dm.mcastTtl = n;
        break;
      }
      case 'sync-maxlen': {
        setOption(pc, OPT.SYNC_MAXLEN);
        const n = stringToNumber(arg, 1, 65535 - 20 - 8);
        if (n === -1) fail('illegal sync-maxlen specified');
        dm.syncMaxLen = n;
        break;
      }
      case 'tun-info': setOption(pc, OPT.TUN_INFO); fmt.tunInfo = true; break;
      case 'tun-type': {
        setOption(pc, OPT.TUN_TYPE);
        const i = (TUN_NAMES as readonly string[]).indexOf(arg);
        if (i < 0) fail('illegal tunnel type specified');
        dest.tunType = i as TunType;
        break;
      }
      case 'tun-port': {
        setOption(pc, OPT.TUN_PORT);
        const n = stringToNumber(arg, 1, 65535);
        if (n === -1) fail('illegal tunnel port specified');
        dest.tunPort = n;
        break;
      }
      case 'tun-nocsum': setOption(pc, OPT.TUN_NOCSUM); dest.tunFlags |= TUN_FLAG.NOCSUM; break;
      case 'tun-csum': setOption(pc, OPT.TUN_CSUM); dest.tunFlags |= TUN_FLAG.CSUM; break;
      case 'tun-remcsum': setOption(pc, OPT.TUN_REMCSUM); dest.tunFlags |= TUN_FLAG.REMCSUM; break;
      default:
        // A second command (or -h/-v after the command) is not an option of the loop.
        fail(`invalid option \`${t.text}'`);
    }
  }

  const left = popt.leftovers;
  if (pc.cmd === CMD.TIMEOUT) {
    if (left.length < 3) fail('--set option requires 3 timeout values');
    const [a, b, c] = left.splice(0, 3) as [string, string, string];
    pc.timeout.tcp = parseTimeoutArg(a, 0, MAX_TIMEOUT);
    pc.timeout.tcpfin = parseTimeoutArg(b, 0, MAX_TIMEOUT);
    pc.timeout.udp = parseTimeoutArg(c, 0, MAX_TIMEOUT);
  }
  if (left.length > 0) fail(`unexpected argument ${left[0]}`);

  if (schedFlagsArg) {
    svc.flags &= ~(SVC_F.SCHED1 | SVC_F.SCHED2 | SVC_F.SCHED3);
    svc.flags |= parseSchedFlags(svc.sched, schedFlagsArg);
  }

  // process_options
  genericOptCheck(pc.cmd, pc.options);

  if (pc.cmd === CMD.ADD || pc.cmd === CMD.EDIT) {
    if (!svc.fwmark && !svc.port && !(svc.flags & SVC_F.PERSISTENT)) fail('Zero port specified for non-persistent service');
    if (svc.flags & SVC_F.ONEPACKET && !svc.fwmark && svc.protocol !== IPPROTO_UDP) {
      fail('One-Packet Scheduling is only for UDP virtual services');
    }
    if (svc.sched.length === 0) svc.sched = DEF_SCHED;
  }

  if (pc.cmd === CMD.STARTDAEMON && dm.mcastIfn.length === 0) dm.mcastIfn = DEF_MCAST_IFN;

  if (pc.cmd === CMD.ADDDEST || pc.cmd === CMD.EDITDEST) {
    if (!svc.fwmark && (dest.fwd === FWD.TUNNEL || dest.fwd === FWD.DROUTE)) dest.port = svc.port;
    if (dest.af !== svc.af && dest.fwd !== FWD.TUNNEL) fail('Different address family is allowed only for tunneling servers');
    const tunOpts = pc.options[OPT.TUN_TYPE] || pc.options[OPT.TUN_PORT] || pc.options[OPT.TUN_NOCSUM] ||
      pc.options[OPT.TUN_CSUM] || pc.options[OPT.TUN_REMCSUM];
    if (tunOpts && dest.fwd !== FWD.TUNNEL) fail('Tunnel options conflict with forward method');
    tunnelOptCheck(dest.tunType, pc.options);
  }

  if (pc.cmd === CMD.LIST) {
    const o = pc.options;
    if (((o[OPT.CONNECTION] || o[OPT.TIMEOUT] || o[OPT.DAEMON]) && (o[OPT.STATS] || o[OPT.RATE] || o[OPT.THRESHOLDS])) ||
        ((o[OPT.TIMEOUT] || o[OPT.DAEMON]) && o[OPT.PERSISTENTCONN])) {
      fail('options conflicts in the list command');
    }
  }
  if (pc.cmd === CMD.SAVE) fmt.rule = true;
  return pc;
}

/** generic_opt_check: walk the options in table order against the command's row. */
export function genericOptCheck(cmd: CmdCode, options: readonly boolean[]): void {
  const row = COMMANDS_V_OPTIONS[cmd - 1]!;
  const cmdName = CMD_NAMES[cmd - 1]!;
  let last = 0, count = 0;
  for (let j = 0; j < OPT_NAMES.length; j++) {
    const rule = row[j];
    if (!options[j]) {
      if (rule === '+') fail(`You need to supply the '${OPT_NAMES[j]}' option for the '${cmdName}' command`);
    } else {
      if (rule === 'x') fail(`Illegal '${OPT_NAMES[j]}' option with the '${cmdName}' command`);
      if (rule === '1') {
        count++;
        if (count === 1) {
          last = j;
          continue;
        }
        fail(`The option '${OPT_NAMES[j]}' conflicts with the '${OPT_NAMES[last]}' option in the '${cmdName}' command`);
      }
    }
  }
}

function tunnelOptCheck(tunType: TunType, options: readonly boolean[]): void {
  const row = TUNNEL_TYPES_V_OPTIONS[tunType]!;
  let last = 0, count = 0;
  for (let j = 0; j < TUN_OPTS.length; j++) {
    const k = TUN_OPTS[j]!;
    const rule = row[j];
    if (!options[k]) {
      if (rule === '+') fail(`You need to supply the '${OPT_NAMES[k]}' option for the '${TUN_NAMES[tunType]}' tunnel type`);
    } else {
      if (rule === 'x') fail(`Illegal '${OPT_NAMES[k]}' option with the '${TUN_NAMES[tunType]}' tunnel type`);
      if (rule === '1') {
        count++;
        if (count === 1) {
          last = k;
          continue;
        }
        fail(`The option '${OPT_NAMES[k]}' conflicts with the '${OPT_NAMES[last]}' option in the '${TUN_NAMES[tunType]}' tunnel type`);
      }
    }
  }
}

/**
 * Split a command line the way a shell would for ipvsadm arguments: blanks separate words, single
 * and double quotes group, a backslash escapes the next character. A leading "ipvsadm" is dropped.
 */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote) {
      if (ch === quote) quote = null;
      else if (ch === '\\' && quote === '"' && i + 1 < line.length) cur += line[++i];
      else cur += ch;
      continue;
    }
    if (ch === '"' || ch === "'") { quote = ch; inWord = true; continue; }
    if (ch === '\\' && i + 1 < line.length) { cur += line[++i]; inWord = true; continue; }
    if (/\s/.test(ch)) {
      if (inWord) { words.push(cur); cur = ''; inWord = false; }
      continue;
    }
    cur += ch;
    inWord = true;
  }
  if (quote) throw new Error(`unterminated ${quote === '"' ? 'double' : 'single'} quote`);
  if (inWord) words.push(cur);
  return words;
}
