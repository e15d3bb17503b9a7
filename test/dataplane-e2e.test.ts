// The real data plane end to end, as root: the lab's namespaces, a director on lvs-tun0 in this
// process, curl and bash sockets in the client namespace, the lab's Node servers behind. Skipped
// (with the reason in the suite's name) without root, /dev/net/tun or the built addon.
import {execFile, spawnSync} from 'node:child_process';
import {once} from 'node:events';
import {existsSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {promisify} from 'node:util';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {formatAddr, parseAddr} from '../src/engine/addr.js';
import {Engine} from '../src/engine/engine.js';
import {packetFromSpec} from '../src/engine/packet.js';
import {runIpvsadm} from '../src/ipvsadm/exec.js';
import {CONTROL_SOCKET} from '../src/dataplane/control.js';
import {startAttack} from '../src/lab/attack.js';
import {existingNamespaces, labDown, labStatus, LAB_RUN_DIR} from '../src/lab/lab.js';
import {acquireLabLock, curl, inNs, labSkipReason, type LabDirector, startLabDirector, withClientRouteMtu} from './dataplane-lab.js';
import {svcKey} from './helpers/engine-fixture.js';
import {keys, tmux, waitFor} from './helpers/tmux.js';

const skip = labSkipReason() ?? (spawnSync('tmux', ['-V']).status === 0 ? null : 'tmux is not installed');
const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../bin/lvsdeck.js', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RS = ['198.18.2.11', '198.18.2.12', '198.18.2.13'];
const nameOf = (answer: string) => answer.split(' ')[0]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CLIENT_NS = 'lvs-client';
/** The processes running in a lab namespace. */
const labPids = async (ns: string) => (await run('ip', ['netns', 'pids', ns])).stdout.split('\n').filter(Boolean);

/** The order a fresh engine with the same service schedules `clients` in (the kernel's, as modelled). */
function modelOrder(scheduler: string, weights: number[], clients: {src: string; sport: number}[]): string[] {
  const e = new Engine({seed: 1});
  const key = svcKey('tcp', '198.18.0.20:80');
  e.addService(key, {scheduler});
  RS.forEach((rs, i) => e.addDest(key, 4, parseAddr(rs)!.addr, 80, {fwd: 'masq', weight: weights[i]!}));
  return clients.map((c) => {
    const v = e.inbound(packetFromSpec({proto: 'tcp', src: `${c.src}:${c.sport}`, dst: '198.18.0.20:80', flags: 'S'}));
    return `rs${RS.indexOf(formatAddr(v.dest!.addr)) + 1}`;
  });
}

function lnc(lab: LabDirector): string {
  return runIpvsadm(lab.sim.engine, ['-Lnc']).stdout;
}

/** The -Lnc line of the connection from client port `cport`. */
function entryOf(lab: LabDirector, cport: number): string | undefined {
  return lnc(lab).split('\n').find((l) => l.includes(`:${cport} `));
}

describe.skipIf(skip !== null)(`real data plane in the lab${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let lab: LabDirector;
  let unlock: (() => void) | null = null;
  beforeAll(async () => {
    // another checkout's run may hold the lab: wait for it (bounded), then fail loudly rather than collide
    unlock = await acquireLabLock();
    if (!unlock) throw new Error('the lab is held by another run for over 3 minutes (/run/lvsdeck-lab.lock)');
    lab = await startLabDirector({
      edit: (sim) => {
        for (const cmd of [
          '-A -t 198.18.0.11:80 -s wrr', '-a -t 198.18.0.11:80 -r 198.18.2.11:80 -m -w 3',
          '-a -t 198.18.0.11:80 -r 198.18.2.12:80 -m -w 2', '-a -t 198.18.0.11:80 -r 198.18.2.13:80 -m -w 1',
          '-A -t 198.18.0.12:80 -s sh', '-a -t 198.18.0.12:80 -r 198.18.2.11:80 -m',
          '-a -t 198.18.0.12:80 -r 198.18.2.12:80 -m', '-a -t 198.18.0.12:80 -r 198.18.2.13:80 -m',
        ]) expect(runIpvsadm(sim.engine, cmd.split(' ')).code).toBe(0);
      },
    });
  }, 60_000);
  afterAll(() => {
    lab?.stop();
    // also when a test failed before 'lab down': no namespace outlives the suite
    try { labDown(); } finally { unlock?.(); }
  });

  it('rr: HTTP through the VIP answers from every real server in turn, IPv4 and IPv6', async () => {
    const names: string[] = [];
    for (let i = 0; i < 6; i++) names.push(nameOf(await curl('http://198.18.0.10/')));
    expect(new Set(names.slice(0, 3)).size).toBe(3);
    expect(names.slice(3)).toEqual(names.slice(0, 3));
    const v6: string[] = [];
    for (let i = 0; i < 3; i++) v6.push(await curl('http://[fd00:18::10]/'));
    expect(new Set(v6.map(nameOf)).size).toBe(3);
    // the real server saw the client's own address: NAT changes only the destination
    expect(v6[0]).toMatch(/ fd00:18:0:1::2:\d+$/);
  }, 30_000);

  it('wrr 3:2:1: twelve requests land in the order ip_vs_wrr_schedule gives', async () => {
    const got: string[] = [];
    for (let i = 0; i < 12; i++) got.push(nameOf(await curl('http://198.18.0.11/')));
    const want = modelOrder('wrr', [3, 2, 1], got.map((_, i) => ({src: '198.18.1.2', sport: 30000 + i})));
    expect(got).toEqual(want);
    expect(got.filter((n) => n === 'rs1')).toHaveLength(6);
  }, 30_000);

  it('sh: each client address sticks to the server the source hash picks', async () => {
    const sources = ['198.18.1.2', '198.18.1.3', '198.18.1.4', '198.18.1.5'];
    const got: string[] = [];
    for (const s of sources) {
      const a = nameOf(await curl('http://198.18.0.12/', s));
      const b = nameOf(await curl('http://198.18.0.12/', s));
      expect(b).toBe(a);
      got.push(a);
    }
    expect(got).toEqual(modelOrder('sh', [1, 1, 1], sources.map((src) => ({src, sport: 40000}))));
  }, 30_000);

  it('ipvsadm -Lnc lists the real connection ESTABLISHED while it runs and FIN_WAIT/TIME_WAIT once closed; also through `lvsdeck ipvsadm --director`', async () => {
    const cport = 41001;
    const slow = inNs('lvs-client', ['curl', '-s', '-o', '/dev/null', '-w', '%{size_download}', '--local-port', String(cport),
      '--limit-rate', '250k', 'http://198.18.0.10/bytes/1000000'], 20_000);
    await sleep(700);
    expect(entryOf(lab, cport)).toMatch(/^TCP\s+\S+\s+ESTABLISHED\s+198\.18\.1\.2:41001\s+198\.18\.0\.10:80\s+198\.18\.2\.1[1-3]:80/);
    const cli = await run(process.execPath, [BIN, 'ipvsadm', '--director', '-Lnc'], {timeout: 20_000});
    // the CLI process may start slowly on a busy machine: the entry is there, in whatever state it reached
    expect(cli.stdout, cli.stdout + cli.stderr).toMatch(/^TCP\s+\S+\s+[A-Z_]+\s+198\.18\.1\.2:41001\s+198\.18\.0\.10:80\s/m);
    expect(await slow).toBe('1000000');
    await sleep(300);
    expect(entryOf(lab, cport)).toMatch(/^TCP\s+\S+\s+(FIN_WAIT|TIME_WAIT|CLOSE_WAIT|LAST_ACK|CLOSE)\s/);
    await sleep(1500);
    expect(entryOf(lab, cport)).toMatch(/TIME_WAIT|CLOSE/);
  }, 40_000);

  it('UDP: the echo answers through the VIP and the entry is listed as UDP, IPv4 and IPv6', async () => {
    const echo = (vip: string) => inNs('lvs-client', ['bash', '-c',
      `exec 3<>/dev/udp/${vip}/7; echo ping-e2e >&3; timeout 3 dd bs=2048 count=1 <&3 2>/dev/null`]);
    expect((await echo('198.18.0.10')).trim()).toMatch(/^rs[1-3] ping-e2e$/);
    expect((await echo('fd00:18::10')).trim()).toMatch(/^rs[1-3] ping-e2e$/);
    expect(lnc(lab)).toMatch(/^UDP\s+\S+\s+UDP\s+198\.18\.1\.2:\d+\s+198\.18\.0\.10:7\s/m);
    expect(lnc(lab)).toMatch(/^UDP\s+\S+\s+UDP\s+\[fd00:18:0:1::2\]:\d+\s+\[fd00:18::10\]:7\s+\[fd00:18:0:2::1[1-3]\]:7/m);
    // an address of the routed VIP network with no service: host unreachable, read once (not once per hop of its TTL)
    const c = lab.dp.director.counters, read = c.read, unroutable = c.unroutable;
    await inNs('lvs-client', ['bash', '-c', 'echo x > /dev/udp/198.18.0.50/7; sleep 0.5']);
    expect(c.unroutable - unroutable).toBe(1);
    expect(c.read - read).toBeLessThan(5);
  }, 20_000);

  it('path MTU discovery through the director, both families: the kernel\'s fragmentation needed / packet too big (quoting a TCP segment from the VIP) reaches the real server NATed (ip_vs_in_icmp), which lowers its path MTU, and the transfer completes', async () => {
    const before = lab.dp.director.counters.forwardedIn;
    await withClientRouteMtu(1280, async () => {
      for (const url of ['http://198.18.0.10/bytes/200000', 'http://[fd00:18::10]/bytes/200000']) {
        const got = await inNs('lvs-client', ['curl', '-s', '-m', '8', '-o', '/dev/null', '-w', '%{size_download}', url]);
        expect(got, url).toBe('200000');
      }
      // the real servers learnt the smaller path to the client from the NATed errors
      const learnt = async (af: string, client: string) => (await Promise.all(RS.map((_, i) =>
        run('ip', ['-n', `lvs-rs${i + 1}`, af, 'route', 'get', client]).then((r) => r.stdout)))).join('');
      expect(await learnt('-4', '198.18.1.2')).toMatch(/mtu 1280/);
      expect(await learnt('-6', 'fd00:18:0:1::2')).toMatch(/mtu 1280/);
    });
    expect(lab.dp.director.counters.forwardedIn).toBeGreaterThan(before);
  }, 40_000);

  it('quiescing a server (weight 0) sends new connections elsewhere while its open one finishes', async () => {
    const cport = 41002;
    const slow = inNs('lvs-client', ['curl', '-s', '-o', '/dev/null', '-w', '%{size_download}', '--local-port', String(cport),
      '--limit-rate', '200k', 'http://198.18.0.10/bytes/300000'], 20_000);
    await sleep(500);
    const rs = /198\.18\.2\.1[1-3]/.exec(entryOf(lab, cport) ?? '')?.[0];
    expect(rs).toBeDefined();
    expect(runIpvsadm(lab.sim.engine, ['-e', '-t', '198.18.0.10:80', '-r', `${rs}:80`, '-m', '-w', '0']).code).toBe(0);
    const names: string[] = [];
    for (let i = 0; i < 6; i++) names.push(nameOf(await curl('http://198.18.0.10/')));
    expect(names).not.toContain(`rs${RS.indexOf(rs!) + 1}`);
    expect(await slow).toBe('300000');
    expect(runIpvsadm(lab.sim.engine, ['-e', '-t', '198.18.0.10:80', '-r', `${rs}:80`, '-m', '-w', '1']).code).toBe(0);
  }, 40_000);

  it.each([
    ['IPv4', '198.18.0.10:80', /^TCP\s+\S+\s+SYN_RECV\s+198\.18\.(1[2-9]\d|2[0-5]\d)\.\d+:\d+\s+198\.18\.0\.10:80\s/m],
    ['IPv6', '[fd00:18::10]:80', /^TCP\s+\S+\s+SYN_RECV\s+\[fd00:18:0:80::[0-9a-f]+\]:\d+\s+\[fd00:18::10\]:80\s/m],
  ] as const)('a real %s SYN flood from spoofed sources: drop_entry goes active, the table stays bounded, and it returns to normal when the flood stops', async (_af, to, spoofedEntry) => {
    const e = lab.sim.engine;
    // a modelled host with 5 MiB free: amemthresh (4 MiB) is crossed after a few thousand entries
    e.setMemory({totalBytes: 256 * 2 ** 20, usedBytes: 251 * 2 ** 20});
    expect(e.setTunable('drop_entry', '1').ok).toBe(true);
    expect(e.readTunable('drop_entry')).toBe('1');
    const before = e.conns.count, sent = 9000;
    const flood = startAttack({kind: 'synflood', to, rate: 4000, count: sent, seconds: 10}, ROOT);
    let peak = 0, active = false, listed = '';
    const sample = setInterval(() => {
      peak = Math.max(peak, e.conns.count);
      if (e.readTunable('drop_entry') === '2') active = true;
      if (!listed) listed = lnc(lab).split('\n').find((l) => spoofedEntry.test(l)) ?? '';
    }, 100);
    let err = '';
    flood.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    const [code] = await once(flood, 'exit') as [number];
    expect(code, err).toBe(0);
    await sleep(1500);
    clearInterval(sample);
    // the spoofed SYNs reached the director as SYNs of that family and made SYN_RECV entries
    expect(listed).not.toBe('');
    expect(active, `peak ${peak} entries, ${e.availablePages()} pages available`).toBe(true);
    expect(peak - before).toBeGreaterThan(2000);
    // bounded: ip_vs_random_dropentry removed entries while the flood ran, so the table never held them all
    expect(peak, `peak ${peak} of ${before} + ${sent}`).toBeLessThan(before + sent);
    // with the flood gone the sweeps shrink the table until memory is back
    const deadline = Date.now() + 40_000;
    while (e.readTunable('drop_entry') !== '1' && Date.now() < deadline) await sleep(250);
    expect(e.readTunable('drop_entry')).toBe('1');
    expect(e.conns.count).toBeLessThan(peak);
    expect(await curl('http://198.18.0.10/')).toMatch(/^rs[1-3] /);
    expect(await curl('http://[fd00:18::10]/')).toMatch(/^rs[1-3] /);
  }, 70_000);

  it('connflood and udpflood over IPv6: real sockets from the client make ESTABLISHED and UDP entries on the IPv6 services', async () => {
    const ran = async (kind: 'connflood' | 'udpflood', to: string, count: number) => {
      const child = startAttack({kind, to, rate: 200, count, seconds: 2}, ROOT);
      let out = '';
      child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
      const [code] = await once(child, 'exit') as [number];
      expect(code).toBe(0);
      return out.trim();
    };
    let done = false;
    const conns = ran('connflood', '[fd00:18::10]:80', 30).finally(() => { done = true; });
    // while the flood holds its connections idle (2 s after the last one opened)
    const established = () => lnc(lab).split('\n')
      .filter((l) => /^TCP\s+\S+\s+ESTABLISHED\s+\[fd00:18:0:1::2\]:\d+\s+\[fd00:18::10\]:80\s/.test(l)).length;
    let most = 0;
    while (!done && most < 30) {
      most = Math.max(most, established());
      await sleep(100);
    }
    expect(most).toBe(30);
    expect(await conns).toBe('connflood: 30 sent');
    expect(await ran('udpflood', '[fd00:18::10]:7', 256)).toBe('udpflood: 256 sent');
    // a new source port every 64 datagrams: four UDP entries at least
    const udp = lnc(lab).split('\n').filter((l) => /^UDP\s+\S+\s+UDP\s+\[fd00:18:0:1::2\]:\d+\s+\[fd00:18::10\]:7\s/.test(l));
    expect(udp.length).toBeGreaterThanOrEqual(4);
  }, 40_000);

  it('a real server whose process dies: IPVS keeps scheduling it, its kernel resets, the entry closes', async () => {
    const victim = labStatus().servers[2]!;
    process.kill(victim.pid!, 'SIGKILL');
    await sleep(200);
    const results: {name: string; cport: number}[] = [];
    for (let i = 0; i < 6; i++) {
      const cport = 41100 + i;
      const out = await inNs('lvs-client', ['curl', '-s', '-m', '3', '--local-port', String(cport), 'http://198.18.0.10/']).catch(() => '');
      results.push({name: nameOf(out.trim() || '-'), cport});
    }
    const refused = results.filter((r) => r.name === '-');
    // rr has no health check: one request in three still goes to the dead server and is refused
    expect(refused).toHaveLength(2);
    for (const r of refused) expect(entryOf(lab, r.cport)).toMatch(new RegExp(`^TCP\\s+\\S+\\s+CLOSE\\s+\\S+\\s+\\S+\\s+${victim.addr4.replace(/\./g, '\\.')}:80`));
    expect(results.filter((r) => r.name !== '-').map((r) => r.name)).not.toContain(victim.name);
  }, 40_000);

  it('the live UI on real traffic (tmux): connections appear with their real states; time controls say why they are off', async () => {
    lab.stop();
    const session = `lvsdeck-dataplane-${process.pid}`;
    const root = fileURLToPath(new URL('..', import.meta.url));
    tmux('new-session', '-d', '-s', session, '-x', '140', '-y', '45', 'sh', '-c',
      `cd ${root} && env -u CI -u NODE_ENV node bin/lvsdeck.js --dataplane tun --config examples/lab.yaml; echo APP-EXIT=$?; sleep 30`);
    try {
      await waitFor(session, /real data plane on lvs-tun0 in namespace lvs-director/, 20_000);
      // rs3 was killed above: its share is refused, the other two answer
      const answers: string[] = [];
      for (let i = 0; i < 3; i++) answers.push(await curl('http://198.18.0.10/').catch(() => 'refused'));
      expect(answers.filter((a) => /^rs[12] /.test(a))).toHaveLength(2);
      // the command bar's `ipvsadm -Lnc` opens its listing, the Connections view
      keys(session, ':');
      keys(session, '-l', 'ipvsadm -Lnc');
      keys(session, 'Enter');
      const screen = await waitFor(session, /TCP 198\.18\.1\.2:\d+\s+198\.18\.0\.10:80\s+198\.18\.2\.1[1-3]:80\s+(TIME_WAIT|FIN_WAIT)/, 10_000);
      expect(screen).toMatch(/Connections \d+/);
      expect(screen.match(/198\.18\.0\.10:80/g)!.length).toBeGreaterThanOrEqual(3);
      keys(session, 'Space');
      await waitFor(session, /time controls are off on the real data plane/, 5000);
      keys(session, 'q');
      await waitFor(session, /APP-EXIT=0/, 10_000);
      // the device went with the process, and with it the routes into it
      expect(await run('ip', ['-n', 'lvs-director', 'link', 'show', 'lvs-tun0']).then(() => 'present', () => 'gone')).toBe('gone');
      expect(existsSync(CONTROL_SOCKET)).toBe(false);
    } finally {
      spawnSync('tmux', ['kill-session', '-t', session]);
    }
  }, 60_000);

  it('the attack menu in real mode (tmux): a keypress starts a real, bounded SYN flood, drop_entry goes ACTIVE on screen, a keypress stops it and the defense returns to armed', async () => {
    const session = `lvsdeck-dataplane-attack-${process.pid}`;
    // a 48 MiB modelled host (5.25 MiB free): a few thousand real entries cross amemthresh
    tmux('new-session', '-d', '-s', session, '-x', '140', '-y', '45', 'sh', '-c',
      `cd ${ROOT} && env -u CI -u NODE_ENV node bin/lvsdeck.js --dataplane tun --config examples/lab.yaml --memory 48MiB; echo APP-EXIT=$?; sleep 30`);
    try {
      await waitFor(session, /real data plane on lvs-tun0 in namespace lvs-director/, 20_000);
      keys(session, 'e');
      await waitFor(session, /drop_entry:armed/, 5000);
      keys(session, 'a');
      await waitFor(session, /▸ synflood\s+198\.18\.0\.10:80\s+5,000\s+not started/, 5000);
      keys(session, 'Enter');
      await waitFor(session, /synflood\s+198\.18\.0\.10:80\s+5,000\s+RUNNING/, 5000);
      // the generator is a real process in the client namespace
      expect(await labPids(CLIENT_NS)).not.toEqual([]);
      keys(session, 'Escape');
      await waitFor(session, /drop_entry:ACTIVE/, 30_000);
      keys(session, 'a');
      await waitFor(session, /▸ synflood\s+198\.18\.0\.10:80\s+5,000\s+RUNNING/, 5000);
      keys(session, 'Enter');
      await waitFor(session, /synflood\s+198\.18\.0\.10:80\s+5,000\s+stopped/, 5000);
      keys(session, 'Escape');
      // the flood's process is gone, and with the entries swept the defense waits again
      const deadline = Date.now() + 5000;
      while ((await labPids(CLIENT_NS)).length && Date.now() < deadline) await sleep(100);
      expect(await labPids(CLIENT_NS)).toEqual([]);
      await waitFor(session, /drop_entry:armed/, 50_000);
      keys(session, 'q');
      await waitFor(session, /APP-EXIT=0/, 10_000);
    } finally {
      spawnSync('tmux', ['kill-session', '-t', session]);
    }
  }, 120_000);

  it('lab down leaves no namespace, no link, no process and no control socket behind', async () => {
    const removed = labDown();
    expect(removed).toContain('lvs-director');
    expect([...existingNamespaces()].filter((n) => n.startsWith('lvs-'))).toEqual([]);
    const links = (await run('ip', ['-o', 'link'])).stdout;
    expect(links).not.toMatch(/lvs-/);
    expect(existsSync(CONTROL_SOCKET)).toBe(false);
    expect(existsSync(LAB_RUN_DIR)).toBe(false);
    // the host's own namespace was never changed: no lab route or rule in any table
    for (const af of ['-4', '-6']) {
      expect((await run('ip', [af, 'route', 'show', 'table', 'all'])).stdout).not.toMatch(/198\.1[89]\.|fd00:18:|lvs-/);
      expect((await run('ip', [af, 'rule'])).stdout).not.toMatch(/lookup 198\b|lvs-/);
    }
  }, 30_000);
});
