// Replaying real captures end to end: loopback traffic captured by tcpdump (pcap, Ethernet) and
// tshark (pcapng; pcap in Linux cooked v1 and v2 from the "any" device), IPv4 and IPv6, replayed through `lvsdeck replay` to the
// listing the kernel's state table predicts, and to the same listing as the packets Wireshark's own
// dissector reads from the file fed in as a scenario; `lvsdeck run --capture-out` captures replay
// to the run's listing (round trip), tshark reads them with their verdict comments; damaged files
// give one error line and exit status 1.
import {type ChildProcess, spawn} from 'node:child_process';
import {execFileSync} from 'node:child_process';
import dgram from 'node:dgram';
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs';
import net from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {beforeAll, describe, expect, it, vi} from 'vitest';
import {run as runReplay} from '../src/cli/replay-cmd.js';
import {lvsdeck} from './helpers/lvsdeck-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'lvsdeck-replay-'));

/** Start a capture tool and wait until it says it is listening. */
function startCapture(cmd: string, args: string[]): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {stdio: ['ignore', 'ignore', 'pipe']});
    let err = '';
    const timer = setTimeout(() => reject(new Error(`${cmd} did not start: ${err}`)), 15_000);
    child.stderr!.on('data', (d) => {
      err += d;
      if (/listening on|Capturing on/.test(err)) {
        clearTimeout(timer);
        setTimeout(() => resolve(child), 1000);
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`${cmd} exited ${code}: ${err}`)));
  });
}

function stopCapture(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.on('exit', () => resolve());
    // let the last packets reach the file before stopping
    setTimeout(() => child.kill('SIGINT'), 700);
  });
}

/** Three TCP request/response connections (the server closes first) and two UDP datagrams. */
async function traffic(host: string, port: number): Promise<{tcp: number[]; udp: number}> {
  const srv = net.createServer((s) => s.on('data', (d) => s.end(`pong ${d}`)));
  await new Promise<void>((r) => srv.listen(port, host, r));
  const tcp: number[] = [];
  for (let i = 0; i < 3; i++) {
    await new Promise<void>((resolve, reject) => {
      const c = net.connect(port, host, () => {
        tcp.push(c.localPort!);
        c.write('ping');
      });
      c.on('data', () => {});
      c.on('error', reject);
      c.on('close', () => resolve());
    });
  }
  const u = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((r) => u.bind(0, host, r));
  for (let i = 0; i < 2; i++) await new Promise<void>((r) => u.send('q', port, host, () => r()));
  const udp = u.address().port;
  u.close();
  await new Promise((r) => srv.close(r));
  return {tcp, udp};
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return p;
}

interface Captured {
  file: string;
  host: string;
  port: number;
  clients: {tcp: number[]; udp: number};
}

const FRAMES = 3 * 10 + 2; // per TCP connection: handshake, request, ack, response, ack, FIN, FIN, ack

async function capture(tool: 'tcpdump' | 'tshark', name: string, host: string, extra: string[] = []): Promise<Captured> {
  // A capture tool attaches its filter a moment after saying so: on a busy machine it can miss the
  // first or last packets. Such a capture is retaken (the count is checked with tshark).
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const file = join(dir, name);
    const args = tool === 'tcpdump'
      ? ['-i', 'lo', '--immediate-mode', '-U', '-n', '-w', file, `port ${port}`]
      : ['-i', extra.includes('any') ? 'any' : 'lo', ...extra.filter((a) => a !== 'any'), '-n', '-w', file, '-f', `port ${port}`];
    const child = await startCapture(tool, args);
    const clients = await traffic(host, port);
    await stopCapture(child);
    const frames = execFileSync('tshark', ['-r', file, '-n', '-Y', 'not sll.pkttype == 4'], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']}).trim().split('\n').length;
    if (frames === FRAMES || attempt === 3) return {file, host, port, clients};
  }
}

function configFor(c: Captured): string {
  const vip = c.host.includes(':') ? `[${c.host}]:${c.port}` : `${c.host}:${c.port}`;
  const f = join(dir, `cfg-${c.port}.yaml`);
  // NAT to the address the server really listened on, so its replies are the "out" direction.
  writeFileSync(f, `rules: |\n  -A -t ${vip} -s rr\n  -a -t ${vip} -r ${vip} -m\n  -A -u ${vip} -s rr\n  -a -t ${vip} -r ${vip} -m\n`.replace(/-a -t (\S+) -r (\S+) -m\n$/, '-a -u $1 -r $2 -m\n') +
    'report:\n  - -Lnc\n');
  return f;
}

/** The listing's rows without the expire column, sorted (entry order follows the hash table). */
function rows(listing: string): string[] {
  return listing.split('\n').slice(2).filter(Boolean).map((l) => l.split(/\s+/).filter((_, i) => i !== 1).join(' ')).sort();
}

function expectedRows(c: Captured): string[] {
  const a = (p: number) => (c.host.includes(':') ? `[${c.host}]:${p}` : `${c.host}:${p}`);
  // The server closes first: its FIN (output) takes ESTABLISHED to FIN_WAIT, the client's FIN
  // (input) FIN_WAIT to TIME_WAIT (ip_vs_proto_tcp.c, tcp_states); UDP entries are just "UDP".
  return [
    ...c.clients.tcp.map((p) => `TCP TIME_WAIT ${a(p)} ${a(c.port)} ${a(c.port)}`),
    `UDP UDP ${a(c.clients.udp)} ${a(c.port)} ${a(c.port)}`,
  ].sort();
}

/** The packets as Wireshark's dissector reads them from the file: addresses, flags, IP length. */
function tsharkPackets(c: Captured): string[] {
  const out = execFileSync('tshark', ['-r', c.file, '-n', '-T', 'fields', '-E', 'separator=;',
    '-e', 'ip.src', '-e', 'ipv6.src', '-e', 'ip.dst', '-e', 'ipv6.dst', '-e', 'tcp.srcport', '-e', 'udp.srcport',
    '-e', 'tcp.dstport', '-e', 'udp.dstport', '-e', 'tcp.flags', '-e', 'ip.len', '-e', 'ipv6.plen',
    '-Y', 'not sll.pkttype == 4'], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']});
  const letters = (hex: string) => [['F', 1], ['S', 2], ['R', 4], ['P', 8], ['A', 16], ['U', 32]]
    .filter(([, b]) => Number(hex) & (b as number)).map(([l]) => l).join('') || '-';
  return out.trim().split('\n').map((l) => {
    const [s4, s6, d4, d6, ts, us, td, ud, flags, len4, plen6] = l.split(';');
    const addr = (a4: string, a6: string, p: string) => (a4 ? `${a4}:${p}` : `[${a6}]:${p}`);
    const tcp = ts !== '';
    return `${tcp ? 'TCP' : 'UDP'} ${addr(s4!, s6!, tcp ? ts! : us!)} -> ${addr(d4!, d6!, tcp ? td! : ud!)} ${tcp ? letters(flags!) : ''} ${len4 ? Number(len4) : 40 + Number(plen6)}`;
  });
}

describe('replaying real loopback captures', () => {
  const cases: [string, () => Promise<Captured>][] = [
    ['tcpdump, pcap, Ethernet, IPv4', () => capture('tcpdump', 'lo4.pcap', '127.0.0.1')],
    ['tcpdump, pcap, Ethernet, IPv6', () => capture('tcpdump', 'lo6.pcap', '::1')],
    ['tshark -i any, pcap, Linux cooked v2', () => capture('tshark', 'any.pcap', '127.0.0.1', ['any', '-y', 'LINUX_SLL2', '-F', 'pcap'])],
    ['tshark -i any, pcap, Linux cooked v1', () => capture('tshark', 'any1.pcap', '::1', ['any', '-y', 'LINUX_SLL', '-F', 'pcap'])],
    ['tshark, pcapng, Ethernet', () => capture('tshark', 'lo.pcapng', '127.0.0.1')],
  ];
  for (const [name, make] of cases) {
    it(`${name}: the packets Wireshark reads, and the listing the state table predicts`, async () => {
      const c = await make();
      const config = configFor(c);
      const r = await lvsdeck(['replay', c.file, '--config', config, '--json', '--packets']);
      expect(r.stderr).toMatch(/lvsdeck replay: .*: \d+ packets replayed of \d+ frames/);
      expect(r.code).toBe(0);
      const doc = JSON.parse(r.stdout) as {packets: {proto: string; src: string; dst: string; flags: string; len: number}[]; reports: {output: string}[]};
      expect(rows(doc.reports[0]!.output), r.stderr).toEqual(expectedRows(c));
      const seen = doc.packets.map((p) => `${p.proto} ${p.src} -> ${p.dst} ${p.flags} ${p.len}`);
      expect(seen).toEqual(tsharkPackets(c));
      expect(seen.length).toBe(FRAMES);
    });
  }
});

describe('round trip: lvsdeck run --capture-out, then lvsdeck replay', () => {
  const setup = (example: string) => {
    const text = readFileSync(join(import.meta.dirname, '..', 'examples', `${example}.yaml`), 'utf8');
    // the director setup alone: sysctl, rules, report (no traffic of its own)
    const keep = text.replace(/^(sessions|traffic|packets|actions|events):[\s\S]*?(?=^\S)/gm, '').replace(/^until:.*$/m, '');
    const f = join(dir, `setup-${example}.yaml`);
    writeFileSync(f, keep);
    return {f, until: /^until: (\S+)/m.exec(text)![1]!};
  };

  for (const ext of ['pcap', 'pcapng']) {
    it(`port-reuse-mode-1 (${ext}): the same listing, and tshark reads the file`, async () => {
      const out = join(dir, `rt.${ext}`);
      const run = await lvsdeck(['run', 'examples/port-reuse-mode-1.yaml', '--capture-out', out]);
      expect(run.code).toBe(0);
      const {f, until} = setup('port-reuse-mode-1');
      const rep = await lvsdeck(['replay', out, '--config', f, '--until', until]);
      expect(rep.code).toBe(0);
      expect(rep.stdout).toBe(run.stdout.replace(/==> ipvsadm -Lnc \(t=7\.000s\) <==\n[\s\S]*?\n\n/, ''));
      const fields = execFileSync('tshark', ['-r', out, '-T', 'fields', '-e', 'tcp.flags.str', '-e', 'frame.comment'], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']});
      const lines = fields.trim().split('\n');
      expect(lines.length).toBe(17);
      if (ext === 'pcapng') expect(lines[0]).toMatch(/S.*\tlvsdeck: in forward \S+:80 masq/);
    });
  }

  it('a SYN flood under drop_packet: drops are marked (pcapng comments, the pcap .drops file) and the capture replays to the same result', async () => {
    const setupText = [
      'seed: 3', 'sysctl:', '  drop_packet: 3', '  am_droprate: 4', 'rules: |', '  -A -t 10.0.0.1:80 -s wlc',
      '  -a -t 10.0.0.1:80 -r 10.1.0.11:8080 -m', '  -a -t 10.0.0.1:80 -r 10.1.0.12:8080 -m', 'report:', '  - -Ln --stats', '  - -Lnc', '',
    ].join('\n');
    const setupFile = join(dir, 'flood-setup.yaml'), runFile = join(dir, 'flood-run.yaml');
    writeFileSync(setupFile, setupText);
    writeFileSync(runFile, `${setupText}until: 3s\ntraffic:\n  - {at: 0s, kind: clients, to: 10.0.0.1:80, rate: 20, from: 192.0.2.0/24}\n` +
      '  - {at: 1s, for: 1s, kind: synflood, to: 10.0.0.1:80, rate: 400, from: 198.18.0.0/15}\n');
    const ng = join(dir, 'flood.pcapng'), pc = join(dir, 'flood.pcap');
    const [a, b] = await Promise.all([
      lvsdeck(['run', runFile, '--capture-out', ng]),
      lvsdeck(['run', runFile, '--capture-out', pc]),
    ]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(a.stdout).toBe(b.stdout);
    const drops = readFileSync(`${pc}.drops`, 'utf8').trim().split('\n').slice(1);
    expect(drops.length).toBeGreaterThan(50);
    expect(drops[0]).toMatch(/^\d+\t\d+\.\d{6}\tin\tdrop-packet-defense$/);
    const commented = execFileSync('tshark', ['-r', ng, '-Y', 'frame.comment contains "drop drop-packet-defense"', '-T', 'fields', '-e', 'frame.number'],
      {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']}).trim().split('\n');
    expect(commented.map(Number)).toEqual(drops.map((l) => Number(l.split('\t')[0])));
    for (const file of [ng, pc]) {
      const rep = await lvsdeck(['replay', file, '--config', setupFile, '--until', '3s']);
      expect(rep.code).toBe(0);
      expect(rep.stdout).toBe(a.stdout);
    }
  });
});

/** `lvsdeck replay ARGS` in this process: exit status and what it wrote. */
async function replayHere(args: string[]): Promise<{code: number; stdout: string; stderr: string}> {
  let stdout = '', stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((t) => ((stdout += String(t)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((t) => ((stderr += String(t)), true));
  try {
    return {code: await runReplay(args), stdout, stderr};
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('damaged and unsupported captures', () => {
  let good: Buffer;
  beforeAll(async () => {
    const f = join(dir, 'small.pcap');
    expect((await lvsdeck(['run', 'examples/port-reuse-mode-1.yaml', '--capture-out', f])).code).toBe(0);
    good = readFileSync(f);
  });

  const cases: [string, () => Buffer, RegExp][] = [
    ['truncated in a packet', () => good.subarray(0, good.length - 10), /truncated capture: packet data at byte \d+ needs \d+ bytes, the file ends after \d+/],
    ['truncated in the file header', () => good.subarray(0, 10), /truncated capture: pcap file header/],
    ['corrupt record length', () => {
      const b = Buffer.from(good);
      b.writeUInt32LE(0x7fffffff, 24 + 8);
      return b;
    }, /corrupt capture: packet record at byte 24 claims 2147483647 captured bytes/],
    ['not a capture', () => Buffer.from('this is a text file\n'), /not a pcap or pcapng capture/],
    ['an unsupported link type (802.11)', () => {
      const b = Buffer.from(good);
      b.writeUInt32LE(105, 20);
      return b;
    }, /no packet the engine can take/],
  ];
  for (const [name, bytes, msg] of cases) {
    it(`${name}: one clear error line, exit status 1`, async () => {
      const f = join(dir, `bad-${name.replace(/\W+/g, '-')}.pcap`);
      writeFileSync(f, bytes());
      const r = await replayHere([f, '--no-progress']);
      expect(r.code).toBe(1);
      const errors = r.stderr.split('\n').filter((l) => l && !/packets replayed of/.test(l));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(msg);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(r.stdout).toBe('');
    });
  }

  it('a missing file and bad options are refused before anything runs', async () => {
    expect(await replayHere([join(dir, 'nope.pcap')])).toMatchObject({code: 1, stderr: expect.stringMatching(/cannot open .*nope\.pcap: ENOENT/)});
    expect(await replayHere(['x.pcap', '--speed', '0'])).toMatchObject({code: 2, stderr: expect.stringMatching(/--speed wants a number > 0/)});
    expect(await replayHere(['x.pcap', '--speed', '2', '--as-fast-as-possible'])).toMatchObject({code: 2, stderr: expect.stringMatching(/exclude each other/)});
    expect(await replayHere(['x.pcap', '--metrics', '192.0.2.1:9100'])).toMatchObject({code: 2, stderr: expect.stringMatching(/not a loopback address/)});
    expect(await replayHere(['x.pcap', '--bogus'])).toMatchObject({code: 2, stderr: expect.stringMatching(/unknown option --bogus/)});
  });
});
