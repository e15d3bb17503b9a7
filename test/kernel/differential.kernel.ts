// Differential tests: the same scenario (rules from ipvsadm, sysctls, packets from namespaces) on
// the real kernel inside tools/kernel-vm and on our engine, with the connection listings compared
// row by row: state, real server chosen, expiry within 1 s (and the time the flow took). The engine
// replays the packets each kernel connection saw (the handshake of a TCP connection held open, one
// SYN to a server that never answers, an HTTP exchange the real server closes, data on a held
// connection, UDP datagrams), and the rule and sysctl changes between them, at the wall times they
// happened.
//
// Where the kernel's choice is random (ip_vs_random_dropentry's buckets) or depends on the phase of
// its one-second defense timer (drop_packet's counter), the entries of that class are compared by
// count within a stated tolerance: one row each, "agree" when the counts are within it.
import assert from 'node:assert/strict';
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {after, before, describe, it} from 'node:test';
import {Engine} from '../../src/engine/engine.js';
import {formatAddrPort} from '../../src/engine/addr.js';
import {packetFromSpec} from '../../src/engine/packet.js';
import {runIpvsadm} from '../../src/ipvsadm/exec.js';
import {defenseMemory, parseConnRows} from '../../src/kernel/proc.js';
import {BLACKHOLE, DR_PORTS, RS1, RS2, VIP, buildLab, inVm, ipvsadm, resetIpvs, sh, sleep, sysctl} from './lab.js';
import {spawn, type ChildProcess} from 'node:child_process';

/**
 * tcp-open: a connection held open; tcp-syn: one SYN to a server that never answers; tcp-try: a
 * connection that may or may not be answered (the client reports which); tcp-http: a request the
 * real server answers and closes (the entry ends in TIME_WAIT); tcp-close: a connection the client
 * closes at once (it holds the TIME_WAIT, the entry is left in FIN_WAIT); tcp-send: a byte on the connection
 * held open from that port; udp: one datagram. `n` flows from ports cport .. cport + n - 1.
 */
type FlowKind = 'tcp-open' | 'tcp-syn' | 'tcp-try' | 'tcp-http' | 'tcp-close' | 'tcp-send' | 'udp';
/**
 * `dr`: the service forwards by direct routing. The lab's real servers route their replies (from the
 * VIP) back through the director, which inspects them as it does NAT replies (ip_vs_conn.c,
 * ip_vs_conn_out_get matches a DR/TUN entry on its virtual address since 5.10).
 */
type FlowSpec = {kind: FlowKind; cport: number; vport: number; n?: number; dr?: boolean};
/** `start`..`at`: the wall-time window (ms from the scenario's start) in which the flow's last packet went through. */
type Flow = FlowSpec & {start: number; at: number; ok: boolean[]};
/** A change between flows: an ipvsadm rule line or a sysctl, made at the same time on both sides. */
type Change = {kind: 'rule'; line: string} | {kind: 'sysctl'; name: string; value: string} | {kind: 'sleep'; ms: number};
type Step = FlowSpec | Change;
type Done = Flow | (Change & {at: number});
interface Row {key: string; dest: string; state: string; expires: number}
/** Entries compared by count: those whose key `match`es; agree when the counts differ by at most `tolerance`. */
interface RandomClass {name: string; match: (r: Row) => boolean; tolerance: number}

const results: {scenario: string; rows: number; agree: number; diffs: string[]; counts: string[]}[] = [];
let client: Client;

/**
 * The client: one Node process in the client namespace that opens flows from fixed source ports
 * on request ("KIND CPORT VPORT N" on stdin) and answers one line per request once every flow's
 * first exchange is done: for each flow "1" (connected, request answered, SYN or datagram sent,
 * byte written) or "0" (the connection was refused or unreachable). It holds every open socket
 * until it is killed.
 */
class Client {
  private readonly p: ChildProcess;
  private buf = '';
  private waiters: ((line: string) => void)[] = [];
  constructor() {
    const script = `const net = require('net'), dgram = require('dgram'), rl = require('readline');
      const held = new Map(), keep = [];
      const one = (kind, cport, vport) => new Promise((done) => {
        if (kind === 'udp') {
          const s = dgram.createSocket('udp4'); keep.push(s);
          s.on('error', () => done(0));
          return s.bind(cport, '198.18.0.2', () => s.send('x', vport, '${VIP}', (err) => done(err ? 0 : 1)));
        }
        if (kind === 'send') {
          const s = held.get(cport);
          if (!s || s.destroyed) return done(0);
          return s.write('x', () => done(1));
        }
        const s = net.connect({host: '${VIP}', port: vport, localAddress: '198.18.0.2', localPort: cport});
        held.set(cport, s);
        // closed once sent: a SYN_SENT socket closes silently, so no retransmission recreates an entry
        if (kind === 'syn') { s.on('error', () => {}); return setTimeout(() => { s.destroy(); done(1); }, 50); }
        s.on('error', () => done(0));
        if (kind === 'http') {
          s.on('connect', () => s.write('GET / HTTP/1.0\\r\\n\\r\\n'));
          s.on('data', () => {}); s.on('close', (hadError) => done(hadError ? 0 : 1));
        } else if (kind === 'close') {
          s.on('connect', () => s.end()); s.on('data', () => {}); s.on('close', (hadError) => done(hadError ? 0 : 1));
        } else s.on('connect', () => { s.removeAllListeners('error'); s.on('error', () => {}); done(1); });
      });
      rl.createInterface({input: process.stdin}).on('line', async (l) => {
        const [kind, cport, vport, n] = l.split(' ').map((x, i) => i ? +x : x);
        const oks = await Promise.all(Array.from({length: n}, (_, i) => one(kind, cport + i, vport)));
        process.stdout.write(oks.join('') + '\\n');
      });`;
    this.p = spawn('ip', ['netns', 'exec', 'cl', process.execPath, '-e', script], {stdio: ['pipe', 'pipe', 'inherit']});
    this.p.stdout!.on('data', (d: Buffer) => {
      this.buf += d.toString();
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        this.waiters.shift()?.(line);
      }
    });
  }
  /** Run a flow (n of them from consecutive ports); resolves with each one's outcome. */
  flow(f: FlowSpec): Promise<boolean[]> {
    const kind = {'tcp-open': 'tcp', 'tcp-syn': 'syn', 'tcp-try': 'try', 'tcp-http': 'http', 'tcp-close': 'close', 'tcp-send': 'send', udp: 'udp'}[f.kind];
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`flow ${kind} ${f.cport} did not complete`)), 20_000);
      this.waiters.push((line) => { clearTimeout(t); resolve([...line].map((c) => c === '1')); });
      this.p.stdin!.write(`${kind} ${f.cport} ${f.vport} ${f.n ?? 1}\n`);
    });
  }
  stop(): void {
    this.p.kill('SIGKILL');
  }
}

/**
 * What the engine sees of a flow: the packets through the director, at the time the kernel saw the
 * flow's last one. Replies come from the real server the engine's entry is bound to (masquerading:
 * they pass the director), so a different choice shows as a different real server, not as noise.
 */
function replay(e: Engine, f: Flow, t0: number): void {
  e.tick(t0 + f.at);
  for (let i = 0; i < (f.n ?? 1); i++) {
    const c = `198.18.0.2:${f.cport + i}`, v = `${VIP}:${f.vport}`, ok = f.ok[i] ?? false;
    const proto = f.kind === 'udp' ? 'udp' : 'tcp';
    const inb = (flags: string) => e.inbound(packetFromSpec({proto, src: c, dst: v, flags: flags || undefined}));
    if (f.kind === 'udp') { inb(''); continue; }
    if (f.kind === 'tcp-send') { inb('PA'); continue; }
    const v1 = inb('S');
    // No retransmission to replay: a real server the director cannot route to is answered with ICMP
    // host unreachable (dst_link_failure in ip_vs_xmit.c), so the client gives up after one SYN.
    if (f.kind === 'tcp-syn' || !ok || !v1.dest) continue;
    const rs = f.dr ? v : formatAddrPort(v1.dest.addr, v1.dest.port);
    const out = (flags: string) => e.outbound(packetFromSpec({proto: 'tcp', src: rs, dst: c, flags}));
    out('SA');
    inb('A');
    // request; the answer with the server's FIN (busybox httpd closes first); the client's ACK and
    // FIN; the server's last ACK
    if (f.kind === 'tcp-http') { inb('PA'); out('FPA'); inb('A'); inb('FA'); out('A'); }
    // the client's FIN; the server's FIN; the client's last ACK
    if (f.kind === 'tcp-close') { inb('FA'); out('FA'); inb('A'); }
  }
}

function applyChange(e: Engine, c: Change): void {
  if (c.kind === 'rule') {
    const r = runIpvsadm(e, c.line.split(' '));
    assert.equal(r.code, 0, `${c.line}: ${r.stderr}`);
  } else if (c.kind === 'sysctl') assert.equal(e.setTunable(c.name, c.value).ok, true, `${c.name}=${c.value}`);
}

/** The memory update_defense_level compares with amemthresh, in pages (read as the kernel backend does). */
function kernelAvailablePages(): number {
  return defenseMemory(readFileSync('/proc/meminfo', 'utf8'), readFileSync('/proc/vmstat', 'utf8')).availablePages;
}

function kernelRows(): Row[] {
  return parseConnRows(sh('cat /proc/net/ip_vs_conn')).map((r) => ({
    key: `${r.protoName} ${formatAddrPort(r.caddr, r.cport)} ${formatAddrPort(r.vaddr, r.vport)}`,
    dest: formatAddrPort(r.daddr, r.dport), state: r.stateName, expires: r.expiresSec,
  }));
}

function engineRows(e: Engine): Row[] {
  return e.allConns().map((c) => ({
    key: `${c.protoName.toUpperCase()} ${formatAddrPort(c.caddr, c.cport)} ${formatAddrPort(c.vaddr, c.vport)}`,
    dest: formatAddrPort(c.daddr, c.dport), state: c.stateName, expires: c.expiresIn / 1000,
  }));
}

interface ScenarioOptions {
  gapMs?: number;
  settleMs?: number;
  /** Entries compared by count (random or timer-phase dependent choices), see RandomClass. */
  random?: RandomClass[];
  /** Tunables whose value as read back (the defense modes the kernel rewrites) is compared too, one row each. */
  readBack?: string[];
  /**
   * Pin the engine's available memory to what the kernel has when the scenario starts (the
   * engine's host is simulated; update_defense_level compares the kernel's real one).
   */
  kernelMemory?: boolean;
}

const isFlow = (s: Step): s is FlowSpec => s.kind !== 'rule' && s.kind !== 'sysctl' && s.kind !== 'sleep';
const flowPorts = (f: FlowSpec) => Array.from({length: f.n ?? 1}, (_, i) => f.cport + i);

/**
 * Run a scenario: rules and sysctls on the kernel, then the steps (flows `gapMs` apart, rule and
 * sysctl changes), a look at the table `settleMs` after the last; the same on a fresh engine at
 * the same times; compare. Every client port a flow used is a row, whether or not either side
 * has an entry for it (an entry both removed agrees).
 */
async function scenario(name: string, rules: string[], sysctls: Record<string, string>, steps: Step[],
  o: ScenarioOptions = {}): Promise<{rows: number; agree: number; diffs: string[]}> {
  resetIpvs();
  for (const r of rules) ipvsadm(...r.split(' '));
  for (const [k, v] of Object.entries(sysctls)) sh(`echo ${v} > /proc/sys/net/ipv4/vs/${k}`);
  const availablePages = kernelAvailablePages();
  const t0 = Date.now();
  const done: Done[] = [];
  for (const step of steps) {
    if (!isFlow(step)) {
      if (step.kind === 'rule') ipvsadm(...step.line.split(' '));
      else if (step.kind === 'sysctl') sh(`echo ${step.value} > /proc/sys/net/ipv4/vs/${step.name}`);
      else await sleep(step.ms);
      done.push({...step, at: Date.now() - t0});
      continue;
    }
    const start = Date.now() - t0;
    const ok = await client.flow(step);
    // the flow's last packet went through by now (the handshake's ACK, the SYN, the datagram)
    done.push({...step, start, at: Date.now() - t0, ok});
    await sleep(o.gapMs ?? 300);
  }
  await sleep(o.settleMs ?? 1000);
  const flows = steps.filter(isFlow);
  const ours = (key: string) => flows.some((f) => key.endsWith(`:${f.vport}`) &&
    (key.includes(':0 ') || flowPorts(f).some((p) => key.includes(`:${p} `))));
  // only this scenario's flows: earlier entries linger in the kernel's table until they expire
  const kernel = kernelRows().filter((k) => ours(k.key));
  const kernelReadBack = (o.readBack ?? []).map((n) => sysctl(n));
  const tRead = Date.now() - t0;   // after the read: the kernel's seconds are rounded down anyway

  const e = new Engine({seed: 1});
  if (o.kernelMemory) e.setAvailablePages(availablePages);
  // the same rule lines in the same order (the order real servers were added decides rr's first pick)
  for (const rule of rules) applyChange(e, {kind: 'rule', line: rule});
  for (const [k, v] of Object.entries(sysctls)) applyChange(e, {kind: 'sysctl', name: k, value: v});
  const T0 = e.now;
  for (const d of done) {
    if (isFlow(d)) replay(e, d as Flow, T0);
    else { e.tick(T0 + d.at); applyChange(e, d); }
  }
  e.tick(T0 + tRead);
  const engine = engineRows(e).filter((g) => ours(g.key));

  const diffs: string[] = [], counts: string[] = [];
  let agree = 0, rows = 0;
  const classOf = (r: Row) => o.random?.find((c) => c.match(r));
  for (const c of o.random ?? []) {
    const nk = kernel.filter((r) => classOf(r) === c).length, ng = engine.filter((r) => classOf(r) === c).length;
    rows++;
    counts.push(`${c.name}: kernel ${nk} / engine ${ng} (tolerance ${c.tolerance})`);
    if (Math.abs(nk - ng) <= c.tolerance) agree++;
    else diffs.push(`${c.name}: kernel ${nk} entries / engine ${ng} (tolerance ${c.tolerance})`);
  }
  (o.readBack ?? []).forEach((n, i) => {
    rows++;
    const g = e.readTunable(n);
    if (g === kernelReadBack[i]) agree++;
    else diffs.push(`${n}: kernel ${kernelReadBack[i]} / engine ${g}`);
  });
  const keys = new Set([...kernel.filter((r) => !classOf(r)).map((k) => k.key), ...engine.filter((r) => !classOf(r)).map((k) => k.key)]);
  for (const f of flows) {
    if (f.kind === 'tcp-send') continue;
    for (const p of flowPorts(f)) {
      const key = `${f.kind === 'udp' ? 'UDP' : 'TCP'} 198.18.0.2:${p} ${VIP}:${f.vport}`;
      if (!o.random?.some((c) => c.match({key, dest: '', state: '', expires: 0}))) keys.add(key);
    }
  }
  // The engine replays a flow at the end of its window; the kernel saw it somewhere inside, so its
  // expiry may be earlier by the window's length (a slow VM can take seconds to report a connect).
  const slack = (key: string) => Math.max(0, ...(done.filter((d): d is Flow => isFlow(d) && key.endsWith(`:${d.vport}`) &&
    flowPorts(d).some((p) => key.includes(`:${p} `))).map((d) => Math.ceil((d.at - d.start) / 1000))));
  for (const key of keys) {
    const k = kernel.find((x) => x.key === key), g = engine.find((x) => x.key === key);
    rows++;
    const expiryAgrees = (k: Row, g: Row) => k.expires >= Math.floor(g.expires) - 1 - slack(key) && k.expires <= Math.floor(g.expires) + 1;
    const same = (!k && !g) || (k && g && k.dest === g.dest && k.state === g.state && expiryAgrees(k, g));
    if (same) agree++;
    else diffs.push(`${key}: kernel ${k ? `${k.dest} ${k.state} ${k.expires}s` : 'none'} / engine ${g ? `${g.dest} ${g.state} ${g.expires.toFixed(1)}s` : 'none'}`);
  }
  const res = {scenario: name, rows, agree, diffs, counts};
  results.push(res);
  return res;
}

// Each scenario has a virtual port of its own (entries of earlier scenarios linger in the kernel).
const tcpOpen = (vport: number, ...ports: number[]) => ports.map((cport) => ({kind: 'tcp-open' as const, cport, vport}));
const web = (vport: number, sched: string, extra = '') => [
  `-A -t ${VIP}:${vport} -s ${sched}${extra}`, `-a -t ${VIP}:${vport} -r ${RS1}:80 -m -w 3`, `-a -t ${VIP}:${vport} -r ${RS2}:80 -m -w 1`];

describe('differential: the real kernel and the engine on the same scenario', {skip: !inVm && 'needs the kernel VM (tools/kernel-vm)'}, () => {
  before(async () => {
    buildLab();
    client = new Client();
    await sleep(1000);   // node starting in the namespace
  });
  after(() => {
    client?.stop();
    const total = results.reduce((n, r) => n + r.rows, 0), agree = results.reduce((n, r) => n + r.agree, 0);
    mkdirSync('.test-results', {recursive: true});
    writeFileSync('.test-results/kernel-differential.json', JSON.stringify({total, agree, results}, null, 1) + '\n');
    console.log(`differential: ${agree}/${total} rows agree between the 6.1 kernel and the engine`);
    for (const r of results) for (const d of r.diffs) console.log(`  ${r.scenario}: ${d}`);
    for (const r of results) for (const c of r.counts) console.log(`  ${r.scenario}, by count: ${c}`);
  });

  const scheds = ['rr', 'wrr', 'lc', 'wlc', 'sed', 'nq'];
  scheds.forEach((sched, n) => {
    it(`scheduler ${sched}: real server chosen for 5 connections held open, ESTABLISHED with the tcp timeout`, async () => {
      const vport = 1001 + n, base = 42000 + n * 10;
      const r = await scenario(sched, web(vport, sched), {}, tcpOpen(vport, base, base + 1, base + 2, base + 3, base + 4));
      assert.deepEqual(r.diffs, []);
    });
  });

  it('scheduler sh: one client address always gets the same real server', async () => {
    const r = await scenario('sh', web(1011, 'sh'), {}, tcpOpen(1011, 42101, 42102, 42103));
    assert.deepEqual(r.diffs, []);
  });

  it('persistence (-p 60): one template (client port 0, state NONE) and every connection on its real server', async () => {
    const r = await scenario('persistence', web(1012, 'rr', ' -p 60'), {}, tcpOpen(1012, 42111, 42112, 42113));
    assert.deepEqual(r.diffs, []);
  });

  it('an unanswered SYN (the real server is unroutable): SYN_RECV with its timeout', async () => {
    const rules = [`-A -t ${VIP}:1013 -s rr`, `-a -t ${VIP}:1013 -r ${BLACKHOLE}:80 -m`];
    const r = await scenario('syn', rules, {}, [{kind: 'tcp-syn', cport: 42121, vport: 1013}, {kind: 'tcp-syn', cport: 42122, vport: 1013}],
      {settleMs: 2500});
    assert.deepEqual(r.diffs, []);
  });

  it('secure_tcp=3 (always on): the defense\'s state table and timeouts for held and unanswered connections', async () => {
    const rules = [...web(1014, 'rr'), `-A -t ${VIP}:1015 -s rr`, `-a -t ${VIP}:1015 -r ${BLACKHOLE}:80 -m`];
    const r = await scenario('secure_tcp', rules, {secure_tcp: '3'},
      [...tcpOpen(1014, 42131, 42132), {kind: 'tcp-syn', cport: 42133, vport: 1015}], {settleMs: 2500});
    sh('echo 0 > /proc/sys/net/ipv4/vs/secure_tcp');
    assert.deepEqual(r.diffs, []);
  });

  it('UDP: one datagram makes a UDP entry with the udp timeout', async () => {
    const rules = [`-A -u ${VIP}:1016 -s rr`, `-a -u ${VIP}:1016 -r ${BLACKHOLE}:53 -m`, `-a -u ${VIP}:1016 -r ${RS2}:53 -m`];
    const r = await scenario('udp', rules, {}, [42141, 42142, 42143].map((cport) => ({kind: 'udp' as const, cport, vport: 1016})));
    assert.deepEqual(r.diffs, []);
  });

  // Port reuse (ip_vs_core.c, ip_vs_in: conn_reuse_mode, is_new_conn_expected). The first flow from
  // a port ends in TIME_WAIT (the real server closes); a SYN from the same port then either revives
  // that entry on its real server (mode 0) or expires it and is scheduled afresh, which rr sends to
  // the other real server (modes 1 and 2: bit 2 only adds FIN_WAIT entries that never saw a reply).
  [0, 1, 2].forEach((mode) => {
    it(`conn_reuse_mode=${mode}: a SYN from a client port whose entry is in TIME_WAIT ${mode ? 'is rescheduled' : 'reuses the entry and its real server'}`, async () => {
      const vport = 1021 + mode, p = 42300 + mode * 10;
      const r = await scenario(`conn_reuse_mode=${mode}`, web(vport, 'rr'), {conn_reuse_mode: String(mode)}, [
        {kind: 'tcp-http', cport: p, vport}, {kind: 'tcp-open', cport: p, vport}, {kind: 'tcp-http', cport: p + 1, vport}]);
      assert.deepEqual(r.diffs, []);
    });
  });

  // Direct routing with the replies through the director (the lab's real servers route back via
  // it): the first reply clears NOOUTPUT (tcp_states' input-only table is left, ip_vs_proto_tcp.c
  // set_tcp_state), so a connection the client closes first ends in TIME_WAIT as under NAT, and
  // both modes reschedule. Bit 2 (a FIN_WAIT entry that never saw a reply) would need replies that
  // bypass the director.
  [1, 2].forEach((mode, i) => {
    it(`conn_reuse_mode=${mode}, direct routing, replies through the director: the client's close ends in TIME_WAIT, the reused port is rescheduled`, async () => {
      const vport = DR_PORTS[i]!, p = 42500 + i * 5;
      const rules = [`-A -t ${VIP}:${vport} -s rr`, `-a -t ${VIP}:${vport} -r ${RS1}:${vport} -g`, `-a -t ${VIP}:${vport} -r ${RS2}:${vport} -g`];
      const r = await scenario(`conn_reuse_mode=${mode} DR`, rules, {conn_reuse_mode: String(mode)}, [
        {kind: 'tcp-close', cport: p, vport, dr: true}, {kind: 'sleep', ms: 1500}, {kind: 'tcp-open', cport: p, vport, dr: true},
        {kind: 'tcp-open', cport: p + 1, vport, dr: true}]);
      assert.deepEqual(r.diffs, []);
    });
  });

  // A quiesced real server (weight 0) and expire_nodest_conn (ip_vs_in): with it set, a SYN that
  // meets an entry on a weight-0 server is rescheduled whatever the entry's state and whatever
  // conn_reuse_mode says; without it, mode 0 keeps the TIME_WAIT entry on the quiesced server.
  [0, 1].forEach((nodest) => {
    it(`quiesced real server, conn_reuse_mode=0, expire_nodest_conn=${nodest}: the reused port ${nodest ? 'moves to the other real server' : 'stays on the quiesced one'}`, async () => {
      const vport = 1024 + nodest, p = 42330 + nodest * 10;
      const r = await scenario(`quiesced nodest=${nodest}`, [`-A -t ${VIP}:${vport} -s rr`, `-a -t ${VIP}:${vport} -r ${RS1}:80 -m`],
        {conn_reuse_mode: '0', expire_nodest_conn: String(nodest)}, [
          {kind: 'tcp-http', cport: p, vport},
          {kind: 'rule', line: `-a -t ${VIP}:${vport} -r ${RS2}:80 -m`}, {kind: 'rule', line: `-e -t ${VIP}:${vport} -r ${RS1}:80 -m -w 0`},
          {kind: 'tcp-open', cport: p, vport}, {kind: 'tcp-open', cport: p + 1, vport}]);
      assert.deepEqual(r.diffs, []);
    });
  });

  it('expire_nodest_conn=1, a SYN_RECV entry on a quiesced server: the retried SYN is rescheduled (any state)', async () => {
    const vport = 1026, p = 42351;
    const r = await scenario('quiesced SYN_RECV', [`-A -t ${VIP}:${vport} -s rr`, `-a -t ${VIP}:${vport} -r ${BLACKHOLE}:80 -m`],
      {expire_nodest_conn: '1'}, [
        {kind: 'tcp-syn', cport: p, vport},
        {kind: 'rule', line: `-a -t ${VIP}:${vport} -r ${RS1}:80 -m`}, {kind: 'rule', line: `-e -t ${VIP}:${vport} -r ${BLACKHOLE}:80 -m -w 0`},
        {kind: 'tcp-try', cport: p, vport}]);
    assert.deepEqual(r.diffs, []);
  });

  // A real server deleted while its connections live (ip_vs_ctl.c __ip_vs_del_dest queues
  // ip_vs_expire_nodest_conn_flush when expire_nodest_conn is set; ip_vs_in expires an entry whose
  // server is gone on its next packet when it is set, drops the packet and keeps the entry when not).
  const four = (vport: number, p: number) => [0, 1, 2, 3].map((i) => ({kind: 'tcp-open' as const, cport: p + i, vport}));
  const sendAll = (vport: number, p: number) => [0, 1, 2, 3].map((i) => ({kind: 'tcp-send' as const, cport: p + i, vport}));
  it('expire_nodest_conn=1 when a real server is deleted: its entries are flushed at once (6.1), the others stay', async () => {
    const vport = 1027, p = 42361;
    const r = await scenario('nodest flush', web(vport, 'rr'), {expire_nodest_conn: '1'},
      [...four(vport, p), {kind: 'rule', line: `-d -t ${VIP}:${vport} -r ${RS2}:80`}]);
    assert.deepEqual(r.diffs, []);
  });

  it('expire_nodest_conn set after the delete: no flush, and the next packet of an orphaned entry expires it', async () => {
    const vport = 1028, p = 42371;
    const r = await scenario('nodest next packet', web(vport, 'rr'), {}, [...four(vport, p),
      {kind: 'rule', line: `-d -t ${VIP}:${vport} -r ${RS2}:80`}, {kind: 'sleep', ms: 1500},
      {kind: 'sysctl', name: 'expire_nodest_conn', value: '1'}, ...sendAll(vport, p)]);
    assert.deepEqual(r.diffs, []);
  });

  it('expire_nodest_conn=0: packets of an orphaned entry are dropped, the entry keeps its timer; the others are refreshed', async () => {
    const vport = 1029, p = 42381;
    const r = await scenario('nodest=0 drop', web(vport, 'rr'), {}, [...four(vport, p),
      {kind: 'rule', line: `-d -t ${VIP}:${vport} -r ${RS2}:80`}, {kind: 'sleep', ms: 2500}, ...sendAll(vport, p)]);
    assert.deepEqual(r.diffs, []);
  });

  // drop_entry active (ip_vs_conn.c ip_vs_random_dropentry, once a second from defense_work_handler):
  // the kernel's memory is made short by raising amemthresh over what update_defense_level reads
  // (free + buffer pages), so drop_entry=1 turns 2 on the write; the engine's available memory is
  // pinned to the kernel's. Each run visits (table size >> 5) random buckets of 4096, so an
  // unanswered SYN's entry survives a run with probability 1 - 128/4096 and ~exp(-s/32) after s
  // runs: those entries are compared by count, 4 binomial standard deviations apart at most. Entries
  // todrop_entry refuses (younger than 60 s: ESTABLISHED, UDP) must all stay, row by row.
  it('drop_entry active: unanswered SYNs swept at the same rate, young ESTABLISHED and UDP entries untouched', async () => {
    const syns = 240, sweepMs = 20_000;
    const runs = sweepMs / 1000, keep = Math.exp(-runs / 32);
    const sd = Math.sqrt(2 * syns * keep * (1 - keep));
    const rules = [`-A -t ${VIP}:1031 -s rr`, `-a -t ${VIP}:1031 -r ${BLACKHOLE}:80 -m`, `-A -t ${VIP}:1032 -s rr`,
      `-a -t ${VIP}:1032 -r ${RS1}:80 -m`, `-A -u ${VIP}:1033 -s rr`, `-a -u ${VIP}:1033 -r ${RS2}:53 -m`];
    const amemthresh = String(kernelAvailablePages() * 2);
    const r = await scenario('drop_entry', rules, {}, [
      {kind: 'tcp-syn', cport: 43000, vport: 1031, n: syns}, ...tcpOpen(1032, 42401, 42402, 42403),
      {kind: 'udp', cport: 42411, vport: 1033, n: 3},
      {kind: 'sysctl', name: 'amemthresh', value: amemthresh}, {kind: 'sysctl', name: 'drop_entry', value: '1'},
      {kind: 'sleep', ms: sweepMs}], {kernelMemory: true, readBack: ['drop_entry'], settleMs: 0,
      random: [{name: `SYN_RECV entries of ${syns} after ${runs} sweeps`, match: (x) => x.key.endsWith(':1031'), tolerance: Math.ceil(4 * sd)}]});
    assert.deepEqual(r.diffs, []);
  });

  // drop_packet active (ip_vs_ctl.c update_defense_level; include/net/ip_vs.h ip_vs_todrop, called by
  // udp_conn_schedule for a datagram that would create an entry): rate = amemthresh /
  // (amemthresh - available), here amemthresh = available * 5/3 so the rate is 2 with room for
  // available memory to move 10% either way: every second new entry is dropped. The counter restarts
  // at each one-second timer run, whose phase differs between the kernel and the engine, so the
  // entries are compared by count: one per timer run the burst spans, plus 2% of the datagrams.
  it('drop_packet active at rate 2: every other new UDP flow is dropped, on both', async () => {
    const n = 300;
    const rules = [`-A -u ${VIP}:1041 -s rr`, `-a -u ${VIP}:1041 -r ${RS2}:53 -m`];
    const amemthresh = String(Math.round(kernelAvailablePages() * 5 / 3));
    const t = Date.now();
    const r = await scenario('drop_packet', rules, {}, [
      {kind: 'sysctl', name: 'amemthresh', value: amemthresh}, {kind: 'sysctl', name: 'drop_packet', value: '1'},
      {kind: 'udp', cport: 44000, vport: 1041, n}], {kernelMemory: true, readBack: ['drop_packet'],
      random: [{name: `UDP entries of ${n} datagrams`, match: (x) => x.key.endsWith(':1041'), tolerance: Math.ceil(n * 0.02) + 2}]});
    const created = kernelRows().filter((k) => k.key.endsWith(':1041')).length;
    console.log(`drop_packet: the kernel kept ${created} of ${n} datagrams' entries (${Date.now() - t} ms)`);
    assert.deepEqual(r.diffs, []);
  });
});
