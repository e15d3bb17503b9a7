// The kernel backend at scale, on a real kernel: run inside tools/kernel-vm (it needs IPVS):
//   tools/kernel-vm/run.sh --mem 2048 -- node --import tsx bench/kernel-scan.ts [ENTRIES...]
// Fills the kernel's connection table through its own sync backup daemon (our sync codec sends
// version 1 messages from a client namespace, so no sockets per entry are needed), then times,
// at each size: a raw read of /proc/net/ip_vs_conn (the baseline: the kernel's own cost), the
// backend's full background scan (read + parse + counts), the bounded head read behind the
// Connections view's first page, and the cheap per-refresh sources (snapshot()).
import {execFileSync, spawnSync} from 'node:child_process';
import {readFileSync, writeFileSync} from 'node:fs';
import {KernelBackend} from '../src/kernel/backend.js';
import {parseAddr} from '../src/engine/addr.js';

const VIP = '198.18.0.100', RS = '198.19.1.2';
const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
const targets = sizes.length ? sizes : [100_000, 300_000];
const sh = (c: string) => execFileSync('sh', ['-c', c], {encoding: 'utf8'});

sh(`ip netns add cl; ip -n cl link set lo up
  ip link add cl0 netns cl type veth peer name d-cl
  ip -n cl addr add 198.18.0.2/24 dev cl0; ip addr add 198.18.0.1/24 dev d-cl
  ip -n cl link set cl0 up; ip link set d-cl up; ip -n cl route add 224.0.0.0/4 dev cl0
  ipvsadm -A -t ${VIP}:80 -s rr; ipvsadm -a -t ${VIP}:80 -r ${RS}:80 -m
  ipvsadm --start-daemon backup --mcast-interface d-cl --syncid 1`);

/** Send entries [from, to) as version 1 sync messages (40 per datagram) from the client namespace. */
function sendEntries(from: number, to: number): void {
  const script = `
    import {encodeV1Message} from './src/sync/codec.ts';
    import dgram from 'node:dgram';
    const vip = ${parseAddr(VIP)!.addr as number}, rs = ${parseAddr(RS)!.addr as number};
    const s = dgram.createSocket('udp4');
    s.bind(0, '198.18.0.2', async () => {
      s.setMulticastInterface('198.18.0.2'); s.setMulticastTTL(1);
      for (let i = ${from}; i < ${to}; i += 40) {
        const batch = [];
        for (let j = i; j < Math.min(i + 40, ${to}); j++) {
          batch.push({af: 4, proto: 6, flags: 0, state: 1, cport: 1024 + (j % 60000), vport: 80, dport: 80, fwmark: 0,
            timeout: 900, caddr: (0xC6120000 + 0x10000 + Math.floor(j / 60000)) >>> 0, vaddr: vip, daddr: rs});
        }
        await new Promise((r) => s.send(encodeV1Message(1, batch), 8848, '224.0.0.81', r));
        if ((i / 40) % 50 === 49) await new Promise((r) => setTimeout(r, 20));   // let the backup thread drain
      }
      s.close();
    });`;
  writeFileSync('/tmp/sync-send.mts', script.replace("'./src/", `'${process.cwd()}/src/`));
  const r = spawnSync('ip', ['netns', 'exec', 'cl', process.execPath, '--import', 'tsx', '/tmp/sync-send.mts'], {encoding: 'utf8'});
  if (r.status !== 0) throw new Error(r.stderr);
}

const countEntries = () => readFileSync('/proc/net/ip_vs_conn', 'utf8').split('\n').length - 2;
const time = (f: () => void, n = 3) => {
  const t = [];
  for (let i = 0; i < n; i++) { const t0 = performance.now(); f(); t.push(performance.now() - t0); }
  return Math.min(...t);
};

const results: Record<string, number>[] = [];
let sent = 0;
const b = new KernelBackend({pollMs: 0, scanMs: Infinity, kmsg: false});
for (const target of targets) {
  sendEntries(sent, target);
  sent = target;
  let n = 0;
  for (let i = 0; i < 40 && (n = countEntries()) < target * 0.98; i++) execFileSync('sleep', ['0.5']);
  const rawMs = time(() => readFileSync('/proc/net/ip_vs_conn', 'utf8'));
  let scanMs = Infinity;
  for (let i = 0; i < 3; i++) scanMs = Math.min(scanMs, (await b.scanConns()).tookMs);
  const headMs = time(() => b.queryConns({limit: 40}), 5);
  const snapshotMs = time(() => b.poll(true), 5);
  const per100k = (ms: number) => Math.round((ms / n) * 100_000);
  const row = {entries: n, rawReadMs: Math.round(rawMs), scanMs: Math.round(scanMs), rawPer100kMs: per100k(rawMs),
    scanPer100kMs: per100k(scanMs), scanVsRaw: Math.round((scanMs / rawMs) * 100) / 100, firstPageMs: Math.round(headMs * 10) / 10,
    snapshotMs: Math.round(snapshotMs * 10) / 10};
  results.push(row);
  console.log(JSON.stringify(row));
}
b.close();
writeFileSync('.test-results/kernel-scan.json', JSON.stringify(results, null, 1) + '\n');
