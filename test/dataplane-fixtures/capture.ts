// Captures the packets of test/dataplane-fixtures/lab-packets.json from the real kernel: brings up
// the lab, runs a director in this process, records lvs-tun0 with tcpdump while the client sends
// HTTP and UDP (IPv4 and IPv6) and provokes ICMP errors from the kernels (port unreachable quoting
// UDP from a real server and from the client; fragmentation needed / packet too big quoting TCP from
// the director's own forwarding, with a 1280-byte route to the client), and stores each packet with
// Wireshark's reading of it (tshark) for the codec tests to compare against.
//   sudo node --import tsx test/dataplane-fixtures/capture.ts
import {execFileSync, spawn} from 'node:child_process';
import {readFileSync, writeFileSync, rmSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {labDown} from '../../src/lab/lab.js';
import {acquireLabLock, curl, inNs, startLabDirector} from '../dataplane-lab.js';
import {withClientRouteMtu} from '../dataplane-lab.js';

const OUT = fileURLToPath(new URL('./lab-packets.json', import.meta.url));
const PCAP = '/tmp/lvsdeck-capture.pcap';

const FIELDS = ['ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst', 'ip.proto', 'ipv6.nxt', 'ip.len', 'ipv6.plen', 'ip.flags.df',
  'tcp.srcport', 'tcp.dstport', 'tcp.flags', 'udp.srcport', 'udp.dstport', 'icmp.type', 'icmp.code', 'icmpv6.type',
  'icmpv6.code', 'icmp.mtu', 'icmpv6.mtu', 'ip.checksum.status', 'tcp.checksum.status', 'udp.checksum.status', 'icmp.checksum.status', 'icmpv6.checksum.status'];

async function main(): Promise<void> {
  const unlock = await acquireLabLock();
  if (!unlock) throw new Error('the lab is held by another run (/run/lvsdeck-lab.lock)');
  try {
    await captureInLab();
  } finally {
    labDown();
    unlock();
  }
}

async function captureInLab(): Promise<void> {
  const lab = await startLabDirector();
  rmSync(PCAP, {force: true});
  const dump = spawn('ip', ['netns', 'exec', 'lvs-director', 'tcpdump', '-i', 'lvs-tun0', '-U', '-s', '2048', '-w', PCAP], {stdio: 'ignore'});
  await new Promise((r) => setTimeout(r, 1000));
  await curl('http://198.18.0.10/');
  await curl('http://[fd00:18::10]/');
  await inNs('lvs-client', ['bash', '-c', 'echo hello4 > /dev/udp/198.18.0.10/7; echo hello6 > /dev/udp/fd00:18::10/7']);
  // UDP 9: the real server's kernel answers port unreachable (ICMP errors carrying our packet)
  await inNs('lvs-client', ['bash', '-c', 'echo x > /dev/udp/198.18.0.10/9; echo x > /dev/udp/fd00:18::10/9']);
  // a 1280-byte path to the client: the director's kernel answers the real server's full-size
  // segments (after NAT, from the VIP) with ICMP errors to the VIP, which the data plane NATs on
  await withClientRouteMtu(1280, async () => {
    for (const url of ['http://198.18.0.10/bytes/3000', 'http://[fd00:18::10]/bytes/3000']) {
      const got = await inNs('lvs-client', ['curl', '-s', '-m', '5', '-o', '/dev/null', '-w', '%{size_download}', url]);
      if (got !== '3000') throw new Error(`${url}: ${got} bytes (path MTU discovery through the director failed)`);
    }
  });
  await new Promise((r) => setTimeout(r, 1000));
  dump.kill('SIGINT');
  await new Promise((r) => dump.once('exit', r));
  lab.stop();
  labDown();
  const fields = execFileSync('tshark', ['-r', PCAP, '-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE',
    '-o', 'udp.check_checksum:TRUE', '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=/', ...FIELDS.flatMap((f) => ['-e', f])],
  {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']}).trimEnd().split('\n');
  const packets = readPcap(readFileSync(PCAP)).map((bytes, i) => {
    const row = fields[i]!.split('\t');
    return {hex: Buffer.from(bytes).toString('hex'), tshark: Object.fromEntries(FIELDS.map((f, j) => [f, row[j] ?? '']).filter(([, v]) => v !== ''))};
  });
  writeFileSync(OUT, JSON.stringify({captured: 'lvs-tun0 in the lab director namespace, Linux ' + execFileSync('uname', ['-r'], {encoding: 'utf8'}).trim(), packets}, null, 1) + '\n');
  console.log(`${packets.length} packets -> ${OUT}`);
}

/** Packets of a pcap file (raw IP link type: what tcpdump writes for a TUN device). */
function readPcap(b: Buffer): Uint8Array[] {
  const le = b.readUInt32LE(0) === 0xa1b2c3d4;
  const u32 = (o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const link = u32(20);
  if (link !== 101 && link !== 12) throw new Error(`unexpected link type ${link}`);
  const out: Uint8Array[] = [];
  for (let o = 24; o + 16 <= b.length;) {
    const caplen = u32(o + 8);
    out.push(new Uint8Array(b.subarray(o + 16, o + 16 + caplen)));
    o += 16 + caplen;
  }
  return out;
}

await main();
