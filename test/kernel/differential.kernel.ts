// Differential tests: the same scenario (rules from ipvsadm, sysctls, packets from namespaces) on
// the real kernel inside tools/kernel-vm and on our engine, with the connection listings compared
// row by row: state, real server chosen, expiry within 1 s. The engine replays the packets each
// kernel connection saw (the handshake of a TCP connection held open, SYN retransmissions to a
// server that never answers, one UDP datagram), at the wall times they happened.
import assert from 'node:assert/strict';
import {mkdirSync, writeFileSync} from 'node:fs';
import {after, before, describe, it} from 'node:test';
import {Engine} from '../../src/engine/engine.js';
import {formatAddrPort} from '../../src/engine/addr.js';
import {packetFromSpec} from '../../src/engine/packet.js';
import {runIpvsadm} from '../../src/ipvsadm/exec.js';
import {parseConnRows} from '../../src/kernel/proc.js';
import {BLACKHOLE, RS1, RS2, VIP, buildLab, inVm, ipvsadm, resetIpvs, sh, sleep} from './lab.js';
import {spawn, type ChildProcess} from 'node:child_process';

type Flow = {kind: 'tcp-open' | 'tcp-syn' | 'udp'; cport: number; vport: number; at: number};
interface Row {key: string; dest: string; state: string; expires: number}

const results: {scenario: string; rows: number; agree: number; diffs: string[]}[] = [];
let client: Client;

/**
 * The client: one Node process in the client namespace that opens flows from fixed source ports
 * on request ("tcp|syn|udp CPORT VPORT" on stdin) and answers "ok" once the flow's first exchange
 * is done (connected, or the SYN / datagram sent). It holds every socket until it is killed.
 */
class Client {
  private readonly p: ChildProcess;
  private buf = '';
  private waiters: (() => void)[] = [];
  constructor() {
    const script = `const net = require('net'), dgram = require('dgram'), rl = require('readline');
      const keep = [];
      rl.createInterface({input: process.stdin}).on('line', (l) => {
        const [kind, cport, vport] = l.split(' '); const ok = () => process.stdout.write('ok\\n');
        if (kind === 'udp') {
          const s = dgram.createSocket('udp4'); keep.push(s);
          s.bind(+cport, '198.18.0.2', () => s.send('x', +vport, '${VIP}', ok));
        } else {
          const s = net.connect({host: '${VIP}', port: +vport, localAddress: '198.18.0.2', localPort: +cport});
          s.on('error', () => {}); keep.push(s);
          if (kind === 'tcp') s.on('connect', ok); else setTimeout(ok, 50);
        }
      });`;
    this.p = spawn('ip', ['netns', 'exec', 'cl', process.execPath, '-e', script], {stdio: ['pipe', 'pipe', 'inherit']});
    this.p.stdout!.on('data', (d: Buffer) => {
      this.buf += d.toString();
      while (this.buf.includes('ok\n')) {
        this.buf = this.buf.replace('ok\n', '');
        this.waiters.shift()?.();
      }
    });
  }
  flow(f: Omit<Flow, 'at'>): Promise<void> {
    const kind = f.kind === 'tcp-open' ? 'tcp' : f.kind === 'tcp-syn' ? 'syn' : 'udp';
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`flow ${kind} ${f.cport} did not complete`)), 10_000);
      this.waiters.push(() => { clearTimeout(t); resolve(); });
      this.p.stdin!.write(`${kind} ${f.cport} ${f.vport}\n`);
    });
  }
  stop(): void {
    this.p.kill('SIGKILL');
  }
}

/** What the engine sees of a flow: the packets through the director, at the times the kernel saw them. */
function replay(e: Engine, f: Flow, rsOf: (cport: number) => string | null, t0: number): void {
  const c = `198.18.0.2:${f.cport}`, v = `${VIP}:${f.vport}`;
  const at = (ms: number) => e.tick(t0 + ms);
  const inb = (flags: string) => e.inbound(packetFromSpec({proto: f.kind === 'udp' ? 'udp' : 'tcp', src: c, dst: v, flags: flags || undefined}));
  at(f.at);
  if (f.kind === 'udp') { inb(''); return; }
  const v1 = inb('S');
  // No retransmission to replay: a real server the director cannot route to is answered with ICMP
  // host unreachable (dst_link_failure in ip_vs_xmit.c), so the client gives up after one SYN.
  if (f.kind === 'tcp-syn') return;
  const rs = rsOf(f.cport) ?? (v1.dest ? formatAddrPort(v1.dest.addr, v1.dest.port) : null);
  if (rs) e.outbound(packetFromSpec({proto: 'tcp', src: rs, dst: c, flags: 'SA'}));
  inb('A');
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

/**
 * Run a scenario: rules and sysctls on the kernel, flows one after the other `gapMs` apart, a look
 * at the table `settleMs` after the last; the same on a fresh engine; compare.
 */
async function scenario(name: string, rules: string[], sysctls: Record<string, string>, flows: Omit<Flow, 'at'>[],
  o: {gapMs?: number; settleMs?: number} = {}): Promise<{rows: number; agree: number; diffs: string[]}> {
  resetIpvs();
  for (const r of rules) ipvsadm(...r.split(' '));
  for (const [k, v] of Object.entries(sysctls)) sh(`echo ${v} > /proc/sys/net/ipv4/vs/${k}`);
  const t0 = Date.now();
  const done: Flow[] = [];
  for (const f of flows) {
    await client.flow(f);
    // the flow's last packet went through just now (the handshake's ACK, the SYN, the datagram)
    done.push({...f, at: Date.now() - t0});
    await sleep(o.gapMs ?? 300);
  }
  await sleep(o.settleMs ?? 1000);
  // only this scenario's flows: earlier entries linger in the kernel's table until they expire
  const kernel = kernelRows().filter((k) => flows.some((f) => k.key.endsWith(`:${f.vport}`) && (k.key.includes(`:${f.cport} `) || k.key.includes(':0 '))));
  const tRead = Date.now() - t0;   // after the read: the kernel's seconds are rounded down anyway

  const e = new Engine({seed: 1});
  // the same rule lines in the same order (the order real servers were added decides rr's first pick)
  for (const rule of rules) {
    const r = runIpvsadm(e, rule.split(' '));
    assert.equal(r.code, 0, r.stderr);
  }
  for (const [k, v] of Object.entries(sysctls)) assert.equal(e.setTunable(k, v).ok, true);
  // the real server the kernel chose for a TCP flow carries the SYN-ACK back (masquerading)
  const rsOf = (cport: number) => kernel.find((k) => k.key.includes(`:${cport} `))?.dest ?? null;
  const T0 = e.now;
  for (const f of done) replay(e, f, rsOf, T0);
  e.tick(T0 + tRead);
  const engine = engineRows(e);

  const diffs: string[] = [];
  let agree = 0;
  const keys = new Set([...kernel.map((k) => k.key), ...engine.map((k) => k.key)]);
  for (const key of keys) {
    const k = kernel.find((x) => x.key === key), g = engine.find((x) => x.key === key);
    const same = k && g && k.dest === g.dest && k.state === g.state && Math.abs(k.expires - Math.floor(g.expires)) <= 1;
    if (same) agree++;
    else diffs.push(`${key}: kernel ${k ? `${k.dest} ${k.state} ${k.expires}s` : 'none'} / engine ${g ? `${g.dest} ${g.state} ${g.expires.toFixed(1)}s` : 'none'}`);
  }
  const res = {scenario: name, rows: keys.size, agree, diffs};
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
});
