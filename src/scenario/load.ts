// Loading and validating a scenario file (YAML). Every problem is reported with its position
// (FILE:LINE:COL): YAML syntax, unknown keys, wrong types, bad addresses, bad times and sizes,
// unknown sysctls, ipvsadm syntax errors in rules/actions/reports (with ipvsadm's own text).
import {LineCounter, type Node as YNode, type Pair, type Scalar, type YAMLMap, isAlias, isMap, isScalar, isSeq, parseDocument} from 'yaml';
import {parseAddrPort} from '../engine/addr.js';
import {PROTO_BY_NAME, parseSctpChunk, parseTcpFlags} from '../engine/packet.js';
import {IpvsadmExit} from '../ipvsadm/errors.js';
import {CMD, IpvsadmInfo, parseIpvsadm, splitWords} from '../ipvsadm/parse.js';
import {PROC_FILES} from '../ipvsadm/proc.js';
import {tunableName} from '../ipvsadm/sysctl.js';
import {
  type ActionItem, type CloseMode, type Endpoint, type IcmpSpec, type PacketItem, type Pos, type ReportItem,
  type RuleLine, type Scenario, ScenarioError, type SessionItem, type SysctlSetting, type TrafficEntry,
} from './types.js';
import {BOUNDS} from '../util/bounds.js';
import {planSession} from './sessions.js';
import {UnitError, parseSize, parseTime} from './units.js';

type Field = {key: Scalar; value: YNode | null; pair: Pair};

class Src {
  constructor(readonly file: string, readonly text: string, readonly lc: LineCounter) {}

  posAt(offset: number): Pos {
    const lp = this.lc.linePos(offset);
    return {line: lp.line, col: lp.col};
  }

  pos(node: unknown): Pos {
    const r = (node as {range?: [number, number, number] | null} | null)?.range;
    return this.posAt(r ? r[0] : 0);
  }

  err(message: string, node: unknown): ScenarioError {
    return new ScenarioError(message, this.pos(node), this.file);
  }
}

const TOP_KEYS = ['name', 'description', 'seed', 'memory', 'until', 'sysctl', 'rules', 'packets', 'sessions', 'traffic', 'events', 'actions', 'report'];
const PACKET_KEYS = ['at', 'src', 'dst', 'proto', 'flags', 'len', 'dir', 'fwmark', 'chunk', 'next_chunk', 'df', 'icmp'];
const SESSION_KEYS = ['at', 'client', 'to', 'proto', 'request', 'response', 'close', 'rtt', 'pause', 'repeat', 'every', 'fwmark'];
const ACTION_KEYS = ['at', 'ipvsadm', 'sysctl', 'report'];
const ICMP_KEYS = ['type', 'code', 'about', 'checksum'];
const ABOUT_KEYS = ['proto', 'src', 'dst', 'flags'];
const MEMORY_KEYS = ['total', 'used'];

function describe(node: unknown): string {
  if (isMap(node)) return 'a map';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) return node.value === null ? 'nothing' : `${typeof node.value === 'string' ? 'text' : typeof node.value} ${JSON.stringify(node.value)}`;
  return 'nothing';
}

function fields(src: Src, node: YNode | null, allowed: readonly string[], what: string): Map<string, Field> {
  if (!isMap(node)) throw src.err(`${what} must be a map, got ${describe(node)}`, node);
  const out = new Map<string, Field>();
  for (const pair of (node as YAMLMap).items as Pair[]) {
    const key = pair.key;
    if (!isScalar(key) || typeof key.value !== 'string') throw src.err(`${what}: keys must be names`, key ?? node);
    if (!allowed.includes(key.value)) {
      throw src.err(`unknown key '${key.value}' in ${what} (allowed: ${allowed.join(', ')})`, key);
    }
    out.set(key.value, {key: key as Scalar, value: (pair.value as YNode | null) ?? null, pair});
  }
  return out;
}

function scalar(src: Src, node: YNode | null, what: string): unknown {
  if (isAlias(node)) throw src.err(`${what}: aliases are not supported`, node);
  if (node === null) return null;
  if (!isScalar(node)) throw src.err(`${what} must be a single value, got ${describe(node)}`, node);
  return node.value;
}

function requireField(src: Src, f: Map<string, Field>, name: string, what: string, at: unknown): Field {
  const v = f.get(name);
  if (!v) throw src.err(`${what}: '${name}' is required`, at);
  return v;
}

function str(src: Src, node: YNode | null, what: string): string {
  const v = scalar(src, node, what);
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  throw src.err(`${what} must be text, got ${describe(node)}`, node);
}

function time(src: Src, node: YNode | null, what: string): number {
  try {
    return parseTime(scalar(src, node, what));
  } catch (e) {
    if (e instanceof UnitError) throw src.err(`${what}: ${e.message}`, node);
    throw e;
  }
}

function size(src: Src, node: YNode | null, what: string): number {
  try {
    return parseSize(scalar(src, node, what));
  } catch (e) {
    if (e instanceof UnitError) throw src.err(`${what}: ${e.message}`, node);
    throw e;
  }
}

function int(src: Src, node: YNode | null, what: string, min: number, max: number): number {
  const v = scalar(src, node, what);
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw src.err(`${what} must be an integer in ${min}..${max}, got ${describe(node)}`, node);
  }
  return v;
}

function bool(src: Src, node: YNode | null, what: string): boolean {
  const v = scalar(src, node, what);
  if (typeof v !== 'boolean') throw src.err(`${what} must be true or false, got ${describe(node)}`, node);
  return v;
}

function oneOf<T extends string>(src: Src, node: YNode | null, what: string, options: readonly T[]): T {
  const v = str(src, node, what).toLowerCase();
  if (!(options as readonly string[]).includes(v)) {
    throw src.err(`${what} must be one of ${options.join(', ')}, got '${v}'`, node);
  }
  return v as T;
}

function list(src: Src, node: YNode | null, what: string): YNode[] {
  if (node === null) return [];
  if (!isSeq(node)) throw src.err(`${what} must be a list, got ${describe(node)}`, node);
  if (node.items.length > BOUNDS.scenarioListEntries) {
    throw src.err(`${what}: ${node.items.length} entries, over the limit of ${BOUNDS.scenarioListEntries} (see docs/bounds.md)`, node);
  }
  return node.items as YNode[];
}

function endpoint(src: Src, node: YNode | null, what: string): Endpoint {
  const text = str(src, node, what);
  const ap = parseAddrPort(text);
  if (!ap) throw src.err(`${what}: bad address '${text}' (want ADDR:PORT, IPv6 as [ADDR]:PORT in quotes)`, node);
  return {af: ap.af, addr: ap.addr, port: ap.port, text};
}

/** Lines of a string (block) or list-of-strings value, each with its position. */
function textLines(src: Src, node: YNode | null, what: string): {text: string; pos: Pos}[] {
  if (node === null) return [];
  if (isSeq(node)) {
    return (node.items as YNode[]).flatMap((item, i) => textLines(src, item, `${what}[${i}]`));
  }
  const value = str(src, node, what);
  const out: {text: string; pos: Pos}[] = [];
  const start = (node as {range?: [number, number, number]}).range?.[0] ?? 0;
  let cursor = start;
  for (const raw of value.split('\n')) {
    const t = raw.trim();
    if (!t) continue;
    const idx = src.text.indexOf(t, cursor);
    out.push({text: t, pos: src.posAt(idx >= 0 ? idx : start)});
    if (idx >= 0) cursor = idx + t.length;
  }
  return out;
}

/** An ipvsadm command line that configures (not -R, not -h/-v); syntax checked now. */
function ipvsadmCommand(src: Src, text: string, pos: Pos, what: string): RuleLine {
  let words: string[];
  try {
    words = splitWords(text);
  } catch (e) {
    throw new ScenarioError(`${what}: ${(e as Error).message}`, pos, src.file);
  }
  if (words[0] === 'ipvsadm') words = words.slice(1);
  if (words.length === 0) throw new ScenarioError(`${what}: empty ipvsadm command`, pos, src.file);
  try {
    const pc = parseIpvsadm(words);
    if (pc.cmd === CMD.RESTORE) throw new ScenarioError(`${what}: -R cannot be used here (write the rules themselves)`, pos, src.file);
  } catch (e) {
    if (e instanceof IpvsadmExit) throw new ScenarioError(`${what}: ipvsadm ${words.join(' ')}: ${e.stderr.trim()}`, pos, src.file);
    if (e instanceof IpvsadmInfo) throw new ScenarioError(`${what}: -h/-v is not a command`, pos, src.file);
    throw e;
  }
  return {words, text, pos};
}

/** A report item: an ipvsadm listing, a sysctl read, or a /proc file. */
export function parseReportItem(text: string, pos: Pos, file = ''): ReportItem {
  const t = text.trim();
  const bad = (msg: string) => new ScenarioError(`report '${t}': ${msg}`, pos, file || undefined);
  let words: string[];
  try {
    words = splitWords(t);
  } catch (e) {
    throw bad((e as Error).message);
  }
  if (words[0] === 'cat' && words.length === 2) words = [words[1]!];
  const first = words[0] ?? '';
  if (first.startsWith('/proc/')) {
    if (words.length !== 1) throw bad('a /proc item names one file');
    if (PROC_FILES[first]) return {kind: 'proc', path: first, command: `cat ${first}`, pos};
    if (first.startsWith('/proc/sys/net/ipv4/vs/') && tunableName(first.slice('/proc/sys/'.length).replace(/\//g, '.'))) {
      return {kind: 'proc', path: first, command: `cat ${first}`, pos};
    }
    throw bad(`unknown file (${Object.keys(PROC_FILES).join(', ')}, /proc/sys/net/ipv4/vs/NAME)`);
  }
  if (first === 'sysctl') {
    const args = words.slice(1);
    if (args.length === 0) throw bad('sysctl needs -a or a NAME');
    for (const a of args) {
      if (a.includes('=') || /^-[a-zA-Z]*[wpf]/.test(a) || a === '--write' || a.startsWith('--load')) {
        throw bad('a report only reads; set values with sysctl: or an action');
      }
      if (!a.startsWith('-') && !tunableName(a)) throw bad(`unknown sysctl '${a}' (use net.ipv4.vs.NAME)`);
    }
    return {kind: 'sysctl', args, command: `sysctl ${args.join(' ')}`, pos};
  }
  const args = first === 'ipvsadm' ? words.slice(1) : words;
  if (args.length > 0 && !args[0]!.startsWith('-')) {
    throw bad('expected an ipvsadm listing (-Ln, -Lnc, -Ln --stats, -S ...), sysctl ..., or a /proc file');
  }
  if (args.length > 0) {
    try {
      const pc = parseIpvsadm(args);
      if (pc.cmd !== CMD.LIST && pc.cmd !== CMD.SAVE) throw bad('a report lists; change the configuration with rules: or actions:');
    } catch (e) {
      if (e instanceof IpvsadmExit) throw bad(e.stderr.trim());
      if (e instanceof IpvsadmInfo) throw bad('-h/-v is not a listing');
      throw e;
    }
  }
  return {kind: 'ipvsadm', args, command: ['ipvsadm', ...args].join(' '), pos};
}

function sysctlMap(src: Src, node: YNode | null, what: string): SysctlSetting[] {
  if (node === null) return [];
  if (!isMap(node)) throw src.err(`${what} must be a map of NAME: VALUE, got ${describe(node)}`, node);
  const out: SysctlSetting[] = [];
  for (const pair of node.items as Pair[]) {
    const key = pair.key;
    if (!isScalar(key) || typeof key.value !== 'string') throw src.err(`${what}: keys must be sysctl names`, key ?? node);
    const name = tunableName(key.value, true);
    if (!name) throw src.err(`${what}: unknown sysctl '${key.value}' (net.ipv4.vs.NAME or NAME)`, key);
    const v = scalar(src, (pair.value as YNode | null) ?? null, `${what}.${key.value}`);
    let value: string;
    if (typeof v === 'boolean') value = v ? '1' : '0';
    else if (typeof v === 'number' || typeof v === 'string') value = String(v);
    else throw src.err(`${what}.${key.value}: a value is required`, pair.value ?? key);
    out.push({name, value, pos: src.pos(pair.value ?? key)});
  }
  return out;
}

function reportList(src: Src, node: YNode | null, what: string): ReportItem[] {
  return textLines(src, node, what).map((l) => parseReportItem(l.text, l.pos, src.file));
}

function toPlain(node: YNode | null): unknown {
  if (node === null) return null;
  return (node as {toJSON(): unknown}).toJSON();
}

function trafficEntries(src: Src, node: YNode | null, key: 'traffic' | 'events'): TrafficEntry[] {
  return list(src, node, key).map((item, index) => {
    const keyPos: Record<string, Pos> = {};
    if (isMap(item)) {
      for (const pair of item.items as Pair[]) {
        if (isScalar(pair.key)) keyPos[String(pair.key.value)] = src.pos(pair.key);
      }
    }
    return {key, index, spec: toPlain(item), pos: src.pos(item), keyPos};
  });
}

function packetItem(src: Src, node: YNode, index: number): PacketItem {
  const what = `packets[${index}]`;
  const f = fields(src, node, PACKET_KEYS, what);
  const item: PacketItem = {
    index,
    at: time(src, requireField(src, f, 'at', what, node).value, `${what}.at`),
    proto: 'tcp',
    src: '',
    dst: '',
    pos: src.pos(node),
  };
  if (f.has('proto')) {
    const p = str(src, f.get('proto')!.value, `${what}.proto`).toLowerCase();
    if (PROTO_BY_NAME[p] === undefined) throw src.err(`${what}.proto must be tcp, udp, sctp or icmp, got '${p}'`, f.get('proto')!.value);
    item.proto = p;
  }
  const icmp = item.proto === 'icmp' || item.proto === 'icmpv6';
  for (const k of ['src', 'dst'] as const) {
    const fld = requireField(src, f, k, what, node);
    const text = str(src, fld.value, `${what}.${k}`);
    if (!parseAddrPort(text, icmp)) throw src.err(`${what}.${k}: bad address '${text}' (want ADDR:PORT)`, fld.value);
    item[k] = text;
  }
  if (parseAddrPort(item.src, true)!.af !== parseAddrPort(item.dst, true)!.af) {
    throw src.err(`${what}: src and dst are of different address families`, node);
  }
  if (f.has('flags')) {
    const v = str(src, f.get('flags')!.value, `${what}.flags`);
    try {
      parseTcpFlags(v);
    } catch (e) {
      throw src.err(`${what}.flags: ${(e as Error).message}`, f.get('flags')!.value);
    }
    if (item.proto !== 'tcp') throw src.err(`${what}.flags: only TCP packets have flags`, f.get('flags')!.value);
    item.flags = v;
  }
  if (f.has('len')) item.len = int(src, f.get('len')!.value, `${what}.len`, 20, 65535);
  if (f.has('dir')) item.dir = oneOf(src, f.get('dir')!.value, `${what}.dir`, ['in', 'out'] as const);
  if (f.has('fwmark')) item.fwmark = int(src, f.get('fwmark')!.value, `${what}.fwmark`, 0, 0xffffffff);
  for (const [k, prop] of [['chunk', 'chunk'], ['next_chunk', 'nextChunk']] as const) {
    if (!f.has(k)) continue;
    const v = str(src, f.get(k)!.value, `${what}.${k}`);
    if (item.proto !== 'sctp') throw src.err(`${what}.${k}: only SCTP packets have chunks`, f.get(k)!.value);
    try {
      parseSctpChunk(v);
    } catch (e) {
      throw src.err(`${what}.${k}: ${(e as Error).message}`, f.get(k)!.value);
    }
    item[prop] = v;
  }
  if (f.has('df')) item.df = bool(src, f.get('df')!.value, `${what}.df`);
  if (f.has('icmp')) {
    if (!icmp) throw src.err(`${what}.icmp: only for proto icmp`, f.get('icmp')!.value);
    const iw = `${what}.icmp`;
    const fi = fields(src, f.get('icmp')!.value, ICMP_KEYS, iw);
    const about = requireField(src, fi, 'about', iw, f.get('icmp')!.value);
    const fa = fields(src, about.value, ABOUT_KEYS, `${iw}.about`);
    const aproto = fa.has('proto') ? str(src, fa.get('proto')!.value, `${iw}.about.proto`).toLowerCase() : 'tcp';
    if (!['tcp', 'udp', 'sctp'].includes(aproto)) throw src.err(`${iw}.about.proto must be tcp, udp or sctp`, fa.get('proto')!.value);
    const ab: IcmpSpec['about'] = {proto: aproto, src: '', dst: ''};
    for (const k of ['src', 'dst'] as const) {
      const fld = requireField(src, fa, k, `${iw}.about`, about.value);
      const text = str(src, fld.value, `${iw}.about.${k}`);
      if (!parseAddrPort(text)) throw src.err(`${iw}.about.${k}: bad address '${text}' (want ADDR:PORT)`, fld.value);
      ab[k] = text;
    }
    if (fa.has('flags')) ab.flags = str(src, fa.get('flags')!.value, `${iw}.about.flags`);
    item.icmp = {
      type: int(src, requireField(src, fi, 'type', iw, f.get('icmp')!.value).value, `${iw}.type`, 0, 255),
      code: fi.has('code') ? int(src, fi.get('code')!.value, `${iw}.code`, 0, 255) : 0,
      about: ab,
      checksumOk: fi.has('checksum') ? oneOf(src, fi.get('checksum')!.value, `${iw}.checksum`, ['ok', 'bad'] as const) === 'ok' : true,
    };
  } else if (icmp) {
    throw src.err(`${what}: an icmp packet needs icmp: {type, code, about: {proto, src, dst}}`, node);
  }
  return item;
}

function sessionItem(src: Src, node: YNode, index: number): SessionItem {
  const what = `sessions[${index}]`;
  const f = fields(src, node, SESSION_KEYS, what);
  const client = endpoint(src, requireField(src, f, 'client', what, node).value, `${what}.client`);
  const to = endpoint(src, requireField(src, f, 'to', what, node).value, `${what}.to`);
  if (client.af !== to.af) throw src.err(`${what}: client and to are of different address families`, node);
  const s: SessionItem = {
    index,
    at: time(src, requireField(src, f, 'at', what, node).value, `${what}.at`),
    proto: f.has('proto') ? oneOf(src, f.get('proto')!.value, `${what}.proto`, ['tcp', 'udp', 'sctp'] as const) : 'tcp',
    client,
    to,
    request: f.has('request') ? size(src, f.get('request')!.value, `${what}.request`) : 0,
    response: f.has('response') ? size(src, f.get('response')!.value, `${what}.response`) : 0,
    close: f.has('close') ? oneOf<CloseMode>(src, f.get('close')!.value, `${what}.close`, ['client', 'server', 'hold', 'reset']) : 'client',
    rtt: f.has('rtt') ? time(src, f.get('rtt')!.value, `${what}.rtt`) : 2,
    pause: f.has('pause') ? time(src, f.get('pause')!.value, `${what}.pause`) : 0,
    repeat: f.has('repeat') ? int(src, f.get('repeat')!.value, `${what}.repeat`, 1, BOUNDS.sessionRepeat) : 1,
    every: f.has('every') ? time(src, f.get('every')!.value, `${what}.every`) : 1000,
    fwmark: f.has('fwmark') ? int(src, f.get('fwmark')!.value, `${what}.fwmark`, 0, 0xffffffff) : 0,
    pos: src.pos(node),
  };
  for (const k of ['request', 'response'] as const) {
    if (s[k] > BOUNDS.sessionBytes) throw src.err(`${what}.${k}: ${s[k]} bytes, over the limit of ${BOUNDS.sessionBytes} (see docs/bounds.md)`, f.get(k)!.value);
  }
  if (client.port + s.repeat - 1 > 65535) throw src.err(`${what}: repeat ${s.repeat} runs the client port past 65535`, f.get('repeat')!.value);
  return s;
}

function actionItem(src: Src, node: YNode, index: number): ActionItem {
  const what = `actions[${index}]`;
  const f = fields(src, node, ACTION_KEYS, what);
  const at = time(src, requireField(src, f, 'at', what, node).value, `${what}.at`);
  const kinds = ['ipvsadm', 'sysctl', 'report'].filter((k) => f.has(k));
  if (kinds.length !== 1) throw src.err(`${what} needs exactly one of ipvsadm, sysctl, report (besides at)`, node);
  const pos = src.pos(node);
  const v = f.get(kinds[0]!)!.value;
  switch (kinds[0]) {
    case 'ipvsadm': {
      const lines = textLines(src, v, `${what}.ipvsadm`).filter((l) => !l.text.startsWith('#'));
      if (lines.length === 0) throw src.err(`${what}.ipvsadm: no command`, v ?? node);
      return {index, at, kind: 'ipvsadm', commands: lines.map((l) => ipvsadmCommand(src, l.text, l.pos, `${what}.ipvsadm`)), pos};
    }
    case 'sysctl': {
      const settings = sysctlMap(src, v, `${what}.sysctl`);
      if (settings.length === 0) throw src.err(`${what}.sysctl: no setting`, v ?? node);
      return {index, at, kind: 'sysctl', settings, pos};
    }
    default: {
      const items = reportList(src, v, `${what}.report`);
      if (items.length === 0) throw src.err(`${what}.report: nothing to report`, v ?? node);
      return {index, at, kind: 'report', items, pos};
    }
  }
}

/**
 * What the sessions: entries will cost, counted before anything runs: session instances (each
 * repeat is one) and the packets their flights plan. Past a bound the scenario is refused at the
 * entry that crosses it.
 */
function checkSessionCost(src: Src, sessions: readonly SessionItem[]): void {
  let instances = 0, planned = 0;
  for (const s of sessions) {
    instances += s.repeat;
    planned += planSession(s).length * s.repeat;
    if (instances > BOUNDS.scenarioSessions) {
      throw new ScenarioError(`sessions[${s.index}]: ${instances} sessions in all (counting repeats), over the limit of ${BOUNDS.scenarioSessions} (see docs/bounds.md)`, s.pos, src.file);
    }
    if (planned > BOUNDS.scenarioPlannedPackets) {
      throw new ScenarioError(`sessions[${s.index}]: the sessions plan ${planned} packets in all (sizes x repeats), over the limit of ${BOUNDS.scenarioPlannedPackets} (see docs/bounds.md)`, s.pos, src.file);
    }
  }
}

/** Parse and validate scenario text. Throws ScenarioError with the position of the problem. */
export function parseScenario(text: string, file = 'scenario.yaml'): Scenario {
  const lc = new LineCounter();
  const doc = parseDocument(text, {lineCounter: lc, uniqueKeys: true, prettyErrors: true});
  const src = new Src(file, text, lc);
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const lp = e.linePos?.[0];
    const msg = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new ScenarioError(`YAML: ${msg}`, lp ? {line: lp.line, col: lp.col} : undefined, file);
  }
  const root = doc.contents as YNode | null;
  if (root === null || (isScalar(root) && root.value === null)) throw new ScenarioError('empty scenario (expected a map of keys)', undefined, file);
  const f = fields(src, root, TOP_KEYS, 'the scenario');

  const sc: Scenario = {
    file, name: '', description: '', seed: 1, memory: null, until: null, sysctl: [], rules: [], packets: [],
    sessions: [], traffic: [], events: [], actions: [], report: [],
  };
  if (f.has('name')) sc.name = str(src, f.get('name')!.value, 'name');
  if (f.has('description')) sc.description = str(src, f.get('description')!.value, 'description');
  if (f.has('seed')) sc.seed = int(src, f.get('seed')!.value, 'seed', 0, 0xffffffff);
  if (f.has('until')) {
    sc.until = time(src, f.get('until')!.value, 'until');
    if (sc.until > BOUNDS.runMs) throw src.err(`until: ${sc.until} ms is over the limit of ${BOUNDS.runMs} ms (30 days; see docs/bounds.md)`, f.get('until')!.value);
  }
  if (f.has('memory')) {
    const v = f.get('memory')!.value;
    let total: number, used: number | null = null;
    if (isMap(v)) {
      const fm = fields(src, v, MEMORY_KEYS, 'memory');
      total = size(src, requireField(src, fm, 'total', 'memory', v).value, 'memory.total');
      if (fm.has('used')) used = size(src, fm.get('used')!.value, 'memory.used');
    } else {
      total = size(src, v, 'memory');
    }
    if (total < 4096) throw src.err('memory: the simulated host needs at least one 4 KiB page', v);
    if (used === null) used = Math.floor(total / 4);
    if (used > total) throw src.err('memory.used is larger than memory.total', v);
    sc.memory = {totalBytes: total, usedBytes: used};
  }
  if (f.has('sysctl')) sc.sysctl = sysctlMap(src, f.get('sysctl')!.value, 'sysctl');
  if (f.has('rules')) {
    sc.rules = textLines(src, f.get('rules')!.value, 'rules')
      .filter((l) => !l.text.startsWith('#'))
      .map((l) => ipvsadmCommand(src, l.text, l.pos, 'rules'));
  }
  if (f.has('packets')) sc.packets = list(src, f.get('packets')!.value, 'packets').map((n, i) => packetItem(src, n, i));
  if (f.has('sessions')) {
    sc.sessions = list(src, f.get('sessions')!.value, 'sessions').map((n, i) => sessionItem(src, n, i));
    checkSessionCost(src, sc.sessions);
  }
  if (f.has('traffic')) sc.traffic = trafficEntries(src, f.get('traffic')!.value, 'traffic');
  if (f.has('events')) sc.events = trafficEntries(src, f.get('events')!.value, 'events');
  if (f.has('actions')) sc.actions = list(src, f.get('actions')!.value, 'actions').map((n, i) => actionItem(src, n, i));
  if (f.has('report')) sc.report = reportList(src, f.get('report')!.value, 'report');
  return sc;
}
