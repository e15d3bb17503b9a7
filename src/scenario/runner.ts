// Running a scenario on virtual time: setup (sysctl, rules), then packets, sessions, actions and
// traffic drivers merged in time order (at equal times: actions, then packets, then session steps,
// then traffic), the engine ticked to each event first so its timers interleave exactly. The
// result holds the output blocks (trace lines and reports, in order), per-packet records and
// session outcomes; rendering is in output.ts.
import {type Addr, type Af, formatAddrPort} from '../engine/addr.js';
import {IPPROTO_ICMP, IPPROTO_ICMPV6} from '../engine/constants.js';
import {Engine} from '../engine/engine.js';
import {emptyPacket, packetFromSpec, parseSctpChunk, parseTcpFlags, PROTO_BY_NAME} from '../engine/packet.js';
import {seededRng} from '../engine/rng.js';
import type {FwdMethod} from '../engine/constants.js';
import type {Packet, Verdict} from '../engine/types.js';
import {runIpvsadm} from '../ipvsadm/exec.js';
import {PROC_FILES} from '../ipvsadm/proc.js';
import {runSysctl, tunableName} from '../ipvsadm/sysctl.js';
import {type Flight, planSession, retransmitDelay} from './sessions.js';
import {type PacketRecord, noteLine, sendPacket, traceLine} from './trace.js';
import {type TrafficContext, type TrafficDriver, loadTrafficHook} from './traffic-hook.js';
import {
  type ActionItem, type PacketItem, type Pos, type ReportItem, type RuleLine, type Scenario, ScenarioError,
  type SessionItem,
} from './types.js';
import {BOUNDS} from '../util/bounds.js';
import {fmtSeconds} from './units.js';

export interface RunOptions {
  /** End of the run in ms (overrides the scenario's `until`). */
  until?: number | null;
  /** Collect trace lines. */
  trace?: boolean;
  /** Collect per-packet records (JSON `packets`). */
  packets?: boolean;
  /** Packets the run may send before it stops with an error (default and maximum: BOUNDS.runPackets). */
  maxPackets?: number;
  /** With `packets`: hand each record over as it is made instead of keeping it (streamed output). */
  onPacket?: (record: PacketRecord) => void;
  /**
   * Every output block as it is made, in order (streamed output): trace lines are then handed over
   * instead of kept (no trace-line bound: the packet budget bounds them); reports are kept as well.
   */
  onBlock?: (block: OutputBlock) => void;
  /** Called with the engine once the setup (sysctl, rules) is applied, before any packet. */
  onEngine?: (engine: Engine) => void;
  /** More event sources (a capture being replayed), merged with the scenario's own in time order. */
  drivers?: (ctx: TrafficContext) => TrafficDriver[];
  /** Called before each event at virtual time t; a returned promise is awaited (wall-clock pacing). */
  pace?: (t: number) => Promise<void> | void;
}

export type OutputBlock =
  | {kind: 'trace'; line: string}
  | {kind: 'report'; atMs: number | null; command: string; text: string};

export interface SessionSummary {
  tag: string;
  proto: 'tcp' | 'udp' | 'sctp';
  client: string;
  to: string;
  started_ms: number;
  ended_ms: number | null;
  /** completed | open (close: hold, or still running at the end) | failed | pending (never started). */
  outcome: 'completed' | 'open' | 'failed' | 'pending';
  reason: string | null;
  server: string | null;
  fwd: string | null;
  packets: number;
  retransmissions: number;
}

export interface RunResult {
  scenario: Scenario;
  engine: Engine;
  endMs: number;
  blocks: OutputBlock[];
  packets: PacketRecord[];
  sessions: SessionSummary[];
  traffic: unknown[];
}

// ---------------------------------------------------------------------------------------------

interface QEvent {
  t: number;
  prio: number;
  seq: number;
  run: () => void;
}

class EventQueue {
  private h: QEvent[] = [];
  private seq = 0;

  push(t: number, prio: number, run: () => void): void {
    const ev = {t, prio, seq: this.seq++, run};
    const h = this.h;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  peekTime(): number {
    return this.h.length ? this.h[0]!.t : Infinity;
  }

  pop(): QEvent | undefined {
    const h = this.h;
    if (!h.length) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < h.length && less(h[l]!, h[m]!)) m = l;
        if (r < h.length && less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

function less(a: QEvent, b: QEvent): boolean {
  return a.t < b.t || (a.t === b.t && (a.prio < b.prio || (a.prio === b.prio && a.seq < b.seq)));
}

const PRIO = {action: 0, packet: 1, session: 2} as const;

interface Server {
  addr: Addr;
  port: number;
  fwd: FwdMethod;
}

class SessionRun {
  step = 0;
  retries = 0;
  server: Server | null = null;
  summary: SessionSummary;
  readonly plan: Flight[];
  readonly client: {af: Af; addr: Addr; port: number};

  constructor(readonly item: SessionItem, k: number, plan: Flight[]) {
    this.client = {af: item.client.af, addr: item.client.addr, port: item.client.port + k};
    this.plan = plan;
    const tag = item.repeat > 1 ? `s${item.index + 1}.${k + 1}` : `s${item.index + 1}`;
    this.summary = {
      tag, proto: item.proto, client: formatAddrPort(this.client.addr, this.client.port), to: item.to.text,
      started_ms: item.at + k * item.every, ended_ms: null, outcome: 'pending', reason: null, server: null, fwd: null,
      packets: 0, retransmissions: 0,
    };
  }
}

function fwdLabel(f: FwdMethod): string {
  return {masq: 'Masq', local: 'Local', tunnel: 'Tunnel', route: 'Route', bypass: 'Bypass'}[f];
}

// ---------------------------------------------------------------------------------------------

/** Apply one sysctl setting; throws ScenarioError with its position on a rejected value. */
function applySysctl(e: Engine, name: string, value: string, pos: Pos, file: string, what: string): void {
  const r = e.setTunable(name, value);
  if (!r.ok) throw new ScenarioError(`${what}: net.ipv4.vs.${name} = ${value}: ${r.error}`, pos, file);
}

function applyIpvsadm(e: Engine, cmd: RuleLine, file: string, what: string): string {
  const r = runIpvsadm(e, cmd.words);
  if (r.code !== 0) {
    throw new ScenarioError(`${what}: ipvsadm ${cmd.words.join(' ')}: ${r.stderr.trim() || `exit status ${r.code}`}`, cmd.pos, file);
  }
  return r.stdout;
}

/** Evaluate a report item against the engine now. */
export function evalReport(e: Engine, item: ReportItem): string {
  switch (item.kind) {
    case 'ipvsadm': {
      const r = runIpvsadm(e, item.args);
      return r.stdout + r.stderr;
    }
    case 'sysctl': {
      const r = runSysctl(e, item.args);
      return r.stdout + r.stderr;
    }
    case 'proc': {
      const f = PROC_FILES[item.path];
      if (f) return f(e);
      const name = tunableName(item.path.slice('/proc/sys/'.length).replace(/\//g, '.'));
      return name ? `${e.readTunable(name)}\n` : '';
    }
  }
}

function buildPacket(item: PacketItem): Packet {
  const p = packetFromSpec({
    proto: item.proto, src: item.src, dst: item.dst, flags: item.flags, chunk: item.chunk, nextChunk: item.nextChunk,
    len: item.len, fwmark: item.fwmark, df: item.df,
  });
  if (item.icmp) {
    const a = item.icmp.about;
    p.icmp = {
      type: item.icmp.type,
      code: item.icmp.code,
      inner: packetFromSpec({proto: a.proto, src: a.src, dst: a.dst, flags: a.flags}),
      checksumOk: item.icmp.checksumOk,
    };
    if (item.len === undefined) p.len = (p.af === 4 ? 56 : 96);
  }
  return p;
}

/** Direction of a `packets:` entry when not given: to a service (or an entry's client side) = in. */
export function packetDir(e: Engine, p: Packet): 'in' | 'out' {
  if (p.proto === IPPROTO_ICMP || p.proto === IPPROTO_ICMPV6) {
    const i = p.icmp?.inner;
    if (!i) return 'in';
    // An error about a packet the director sent to a client comes from the client side (in); one
    // about a packet sent towards a real server comes back from the real-server side (out).
    if (e.conns.lookupIn(i.af, i.proto, i.dst, i.dport, i.src, i.sport) >= 0) return 'in';
    if (e.conns.lookupOut(i.af, i.proto, i.dst, i.dport, i.src, i.sport) >= 0) return 'out';
    return e.serviceFind(i.af, p.fwmark, i.proto, i.src, i.sport) ? 'in' : 'out';
  }
  if (e.conns.lookupIn(p.af, p.proto, p.src, p.sport, p.dst, p.dport) >= 0) return 'in';
  if (e.conns.lookupOut(p.af, p.proto, p.src, p.sport, p.dst, p.dport) >= 0) return 'out';
  if (e.serviceFind(p.af, p.fwmark, p.proto, p.dst, p.dport)) return 'in';
  for (const svc of e.listServices()) {
    if (svc.dests.some((d) => d.addr === p.src && d.port === p.sport)) return 'out';
  }
  for (const d of e.trashList()) if (d.addr === p.src && d.port === p.sport) return 'out';
  return 'in';
}

/** Run a scenario. Throws ScenarioError (with position) when a step of it is rejected. */
export async function runScenario(sc: Scenario, opts: RunOptions = {}): Promise<RunResult> {
  const file = sc.file;
  const until = opts.until !== undefined && opts.until !== null ? opts.until : sc.until;
  const explain = Boolean(opts.trace || opts.packets);
  const e = new Engine({
    seed: sc.seed,
    ...(sc.memory ? {memory: {totalBytes: sc.memory.totalBytes, usedBytes: sc.memory.usedBytes}} : {}),
  });
  if (until !== null && until > BOUNDS.runMs) {
    throw new ScenarioError(`until: ${until} ms is over the limit of ${BOUNDS.runMs} ms (see docs/bounds.md)`, undefined, file);
  }
  const blocks: OutputBlock[] = [];
  const packets: PacketRecord[] = [];
  let traceLines = 0, kept = 0, sent = 0;
  const trace = (line: string) => {
    if (!opts.trace) return;
    if (opts.onBlock) {
      opts.onBlock({kind: 'trace', line});
      return;
    }
    if (++traceLines > BOUNDS.traceLines) {
      throw new ScenarioError(`--trace: more than ${BOUNDS.traceLines} trace lines; shorten the run (until:) or leave out --trace (see docs/bounds.md)`, undefined, file);
    }
    blocks.push({kind: 'trace', line});
  };
  const report = (b: OutputBlock) => {
    blocks.push(b);
    opts.onBlock?.(b);
  };
  const record = (r: PacketRecord | null) => {
    if (!r) return;
    if (opts.packets) {
      if (opts.onPacket) opts.onPacket(r);
      else if (++kept > BOUNDS.keptPacketRecords) {
        throw new ScenarioError(`more than ${BOUNDS.keptPacketRecords} packet records to keep (see docs/bounds.md)`, undefined, file);
      } else packets.push(r);
    }
    trace(traceLine(r));
  };
  /** Every packet of the run goes through here: the run stops past the packet budget. */
  const maxPackets = Math.min(opts.maxPackets ?? BOUNDS.runPackets, BOUNDS.runPackets);
  const send = (dir: 'in' | 'out', p: Packet, tag: string, retries?: number) => {
    if (++sent > maxPackets) {
      throw new ScenarioError(`the run stopped at virtual time ${fmtSeconds(e.now)} s: more than ${maxPackets} packets ` +
        '(lower the traffic rates, repeats or sizes, or shorten until:; see docs/bounds.md)', undefined, file);
    }
    return sendPacket(e, dir, p, tag, explain, retries);
  };

  // Setup at time 0.
  for (const s of sc.sysctl) applySysctl(e, s.name, s.value, s.pos, file, 'sysctl');
  for (const r of sc.rules) {
    const out = applyIpvsadm(e, r, file, 'rules');
    if (out) report({kind: 'report', atMs: 0, command: `ipvsadm ${r.words.join(' ')}`, text: out});
  }

  const q = new EventQueue();

  // Actions.
  for (const a of sc.actions) q.push(a.at, PRIO.action, () => runAction(a));
  function runAction(a: ActionItem): void {
    const what = `actions[${a.index}]`;
    if (a.kind === 'ipvsadm') {
      for (const c of a.commands) {
        const out = applyIpvsadm(e, c, file, `${what}.ipvsadm`);
        trace(noteLine(e.now, 'action', `ipvsadm ${c.words.join(' ')}`));
        if (out) report({kind: 'report', atMs: e.now, command: `ipvsadm ${c.words.join(' ')}`, text: out});
      }
    } else if (a.kind === 'sysctl') {
      for (const s of a.settings) {
        applySysctl(e, s.name, s.value, s.pos, file, `${what}.sysctl`);
        trace(noteLine(e.now, 'action', `sysctl -w net.ipv4.vs.${s.name}=${s.value}`));
      }
    } else {
      for (const item of a.items) report({kind: 'report', atMs: e.now, command: item.command, text: evalReport(e, item)});
    }
  }

  // Exact packets.
  for (const item of sc.packets) {
    q.push(item.at, PRIO.packet, () => {
      const p = buildPacket(item);
      const dir = item.dir ?? packetDir(e, p);
      record(send(dir, p, `p${item.index + 1}`).record);
    });
  }

  // Sessions.
  const runs: SessionRun[] = [];
  for (const item of sc.sessions) {
    const plan = planSession(item); // the same flights for every repeat: planned once
    for (let k = 0; k < item.repeat; k++) {
      const run = new SessionRun(item, k, plan);
      runs.push(run);
      q.push(run.summary.started_ms, PRIO.session, () => {
        run.summary.outcome = 'open';
        sessionStep(run);
      });
    }
  }

  function finish(run: SessionRun, outcome: 'completed' | 'open' | 'failed', reason: string | null): void {
    run.summary.outcome = outcome;
    run.summary.reason = reason;
    run.summary.ended_ms = outcome === 'open' ? null : e.now;
    if (outcome === 'failed') trace(noteLine(e.now, run.summary.tag, `session failed: ${reason}`));
  }

  function advance(run: SessionRun): void {
    run.step++;
    run.retries = 0;
    if (run.step >= run.plan.length) {
      finish(run, run.item.close === 'hold' && run.item.proto !== 'udp' ? 'open' : 'completed', null);
      return;
    }
    q.push(e.now + run.plan[run.step]!.delay, PRIO.session, () => sessionStep(run));
  }

  function sessionPacket(run: SessionRun, f: Flight, fromServer: Server | null): Packet {
    const p = emptyPacket();
    const it = run.item;
    p.af = run.client.af;
    p.proto = PROTO_BY_NAME[it.proto]!;
    if (fromServer) {
      p.src = fromServer.addr;
      p.sport = fromServer.port;
      p.dst = run.client.addr;
      p.dport = run.client.port;
    } else {
      p.src = run.client.addr;
      p.sport = run.client.port;
      p.dst = it.to.addr;
      p.dport = it.to.port;
      p.fwmark = it.fwmark;
    }
    p.tcpFlags = f.flags ? parseTcpFlags(f.flags) : 0;
    if (f.chunk) {
      p.sctpChunk = parseSctpChunk(f.chunk);
      p.sctpChunkLen = Math.max(4, f.len - (p.af === 4 ? 32 : 52));
    }
    p.len = f.len;
    return p;
  }

  function sessionStep(run: SessionRun): void {
    const f = run.plan[run.step]!;
    const tag = run.summary.tag;
    if (f.from === 'c') {
      const p = sessionPacket(run, f, null);
      const out = send('in', p, tag, run.retries);
      record(out.record);
      run.summary.packets++;
      if (run.retries > 0) run.summary.retransmissions++;
      const v = out.verdict;
      if (v.action === 'forward' || v.action === 'bypass') {
        const srv = serverFor(v, p);
        if (run.server && srv && run.step > 0 && (srv.addr !== run.server.addr || srv.port !== run.server.port)) {
          finish(run, 'failed', `packet reached ${formatAddrPort(srv.addr, srv.port)}, not ${formatAddrPort(run.server.addr, run.server.port)} which holds the connection: it is reset`);
          return;
        }
        if (srv) {
          run.server = srv;
          run.summary.server = formatAddrPort(srv.addr, srv.port);
          run.summary.fwd = fwdLabel(srv.fwd);
        }
        advance(run);
        return;
      }
      if (v.action === 'drop') {
        if (v.icmpSent) {
          finish(run, 'failed', `refused: ICMP ${v.icmpSent.type}/${v.icmpSent.code} from the director (${v.reason})`);
          return;
        }
        const d = retransmitDelay(run.item.proto, f.opening, run.retries + 1);
        if (d === null) {
          finish(run, 'failed', run.item.proto === 'udp' ? `datagram dropped (${v.reason})` : `gave up after ${run.retries} retransmissions (${v.reason})`);
          return;
        }
        run.retries++;
        q.push(e.now + d, PRIO.session, () => sessionStep(run));
        return;
      }
      finish(run, 'failed', `not handled by IPVS (${v.reason}): the connection fails`);
      return;
    }
    // A reply from the real server.
    const srv = run.server;
    if (!srv) {
      advance(run);
      return;
    }
    if (srv.fwd !== 'masq') {
      if (opts.trace) {
        const what = f.flags ?? f.chunk?.toUpperCase() ?? '';
        trace(noteLine(e.now, tag, `    reply ${formatAddrPort(srv.addr, srv.port)} -> ${formatAddrPort(run.client.addr, run.client.port)}` +
          `${what ? ` ${what}` : ''} ${f.len}B goes straight to the client (${fwdLabel(srv.fwd)}): not seen by the director`));
      }
      advance(run);
      return;
    }
    const p = sessionPacket(run, f, srv);
    const out = send('out', p, tag);
    record(out.record);
    run.summary.packets++;
    if (out.verdict.action === 'forward') {
      advance(run);
      return;
    }
    finish(run, 'failed', `reply not handled by IPVS (${out.verdict.reason}): the client never sees it`);
  }

  function serverFor(v: Verdict, p: Packet): Server | null {
    if (v.action === 'bypass') return {addr: p.dst, port: p.dport, fwd: 'bypass'};
    const c = v.conn >= 0 ? e.conn(v.conn) : null;
    if (c) return {addr: c.daddr, port: c.dport, fwd: c.fwd};
    if (v.dest) return {addr: v.dest.addr, port: v.dest.port || p.dport, fwd: v.dest.fwd};
    return null;
  }

  // Traffic generators and timed events (another module), and the caller's own drivers.
  const drivers: TrafficDriver[] = [];
  const trafficEntries = [...sc.traffic, ...sc.events];
  const ctx: TrafficContext = {
    engine: e,
    seed: sc.seed,
    rng: seededRng((sc.seed ^ 0x5f3759df) >>> 0),
    startMs: 0,
    endMs: until,
    send: (dir, packet, tag) => {
      const out = send(dir, packet, tag);
      record(out.record);
      return out.verdict;
    },
    note: (tag, text) => trace(noteLine(e.now, tag, text)),
    error: (message, pos) => new ScenarioError(message, pos, file),
  };
  if (trafficEntries.length > 0) {
    const hook = await loadTrafficHook();
    const first = trafficEntries[0]!;
    if (!hook) {
      throw new ScenarioError(`traffic generators not available: '${first.key}:' entries need the traffic module (src/traffic), which is not installed`, first.pos, file);
    }
    if (until === null) throw new ScenarioError(`a scenario with '${first.key}:' entries needs 'until:' (or --until)`, first.pos, file);
    drivers.push(...hook(trafficEntries, ctx));
  }
  if (opts.drivers) drivers.push(...opts.drivers(ctx));
  opts.onEngine?.(e);

  // The merged event loop.
  for (;;) {
    const ht = q.peekTime();
    let dt = Infinity, di = -1;
    for (let i = 0; i < drivers.length; i++) {
      const t = drivers[i]!.nextTime();
      if (t < dt) { dt = t; di = i; }
    }
    const t = Math.min(ht, dt);
    if (t === Infinity || (until !== null && t > until)) break;
    if (opts.pace) {
      const wait = opts.pace(t);
      if (wait) await wait;
    }
    if (t > e.now) e.tick(t);
    if (ht <= dt) q.pop()!.run();
    else drivers[di]!.fire(e, t);
  }
  const endMs = until ?? e.now;
  if (endMs > e.now) e.tick(endMs);

  for (const item of sc.report) report({kind: 'report', atMs: null, command: item.command, text: evalReport(e, item)});

  return {
    scenario: sc,
    engine: e,
    endMs,
    blocks,
    packets,
    sessions: runs.map((r) => r.summary),
    traffic: drivers.map((d) => (d.summary ? d.summary() : null)),
  };
}

/** Render the text output: one report alone is printed exactly as the tool would; several blocks
 * (or a trace) get a `==> COMMAND <==` header line before each report and a blank line between. */
export function renderText(r: RunResult): string {
  const reports = r.blocks.filter((b) => b.kind === 'report').length;
  const hasTrace = r.blocks.some((b) => b.kind === 'trace');
  if (!hasTrace && reports === 1) {
    const only = r.blocks.find((b) => b.kind === 'report') as {text: string};
    return only.text;
  }
  let out = '';
  let prev: OutputBlock['kind'] | null = null;
  for (const b of r.blocks) {
    out += blockText(b, prev, r.endMs);
    prev = b.kind;
  }
  return out;
}

/** One block of the text output with several blocks (or a trace), after a block of kind `prev`. */
export function blockText(b: OutputBlock, prev: OutputBlock['kind'] | null, endMs: number): string {
  const gap = prev !== null && (b.kind === 'report' || prev === 'report') ? '\n' : '';
  if (b.kind === 'trace') return `${gap}${b.line}\n`;
  const at = b.atMs === null ? `end, t=${fmtSeconds(endMs)}s` : `t=${fmtSeconds(b.atMs)}s`;
  return `${gap}==> ${b.command} (${at}) <==\n${b.text}`;
}
