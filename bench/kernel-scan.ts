// The kernel backend at scale, on a real kernel: run inside tools/kernel-vm (it needs IPVS):
//   tools/kernel-vm/run.sh --mem 4096 --timeout 3000 -- node --import tsx bench/kernel-scan.ts [ENTRIES...]
// Fills the kernel's connection table through its own sync backup daemon (our sync codec sends
// version 1 messages from a client namespace, so no sockets per entry are needed), then measures,
// at each size, in the same run:
//  * the baselines: a plain read of /proc/net/ip_vs_conn (readFileSync) and a read with the scan's
//    own 256 KiB chunks (the kernel's cost of producing the text: seq_file restarts its walk of the
//    hash table at every read(), ip_vs_conn_seq_start in ip_vs_conn.c, so the chunk size matters);
//  * the backend's full background scan (read + parse + counts), with the event loop's delay while
//    it runs (perf_hooks.monitorEventLoopDelay): what a UI frame waits at most;
//  * the bounded head read behind the Connections view's first page, and the 256 KiB head the
//    backend read before it was bounded by the rows a page needs;
//  * the cheap per-refresh sources (poll), and the share of wall time the UI's 10 Hz refresh spends
//    in them with the backend's throttle (re-read no more often than ten times their last cost).
// Figures are ratios to the baselines measured in the same run: under qemu TCG every absolute
// time is many times a native kernel's.
import {execFileSync, spawnSync} from 'node:child_process';
import {closeSync, mkdirSync, openSync, readFileSync, readSync, writeFileSync} from 'node:fs';
import {monitorEventLoopDelay} from 'node:perf_hooks';
import {KernelBackend} from '../src/kernel/backend.js';
import {KernelHost} from '../src/kernel/host.js';
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

const countEntries = () => Number(execFileSync('sh', ['-c', 'wc -l < /proc/net/ip_vs_conn'], {encoding: 'utf8'})) - 1;
const FILE = '/proc/net/ip_vs_conn';
const timed = async (f: () => unknown) => { const t0 = performance.now(); await f(); return performance.now() - t0; };
/** Read the whole file with `chunk`-byte read() calls, synchronously (nothing kept). */
function readChunked(chunk: number): number {
  const fd = openSync(FILE, 'r'), buf = Buffer.allocUnsafe(chunk);
  let total = 0, n: number;
  try { while ((n = readSync(fd, buf, 0, chunk, null)) > 0) total += n; } finally { closeSync(fd); }
  return total;
}
const repeats = Number(process.env.REPEATS ?? 1);
const best = async (f: () => unknown, n = repeats) => { let m = Infinity; for (let i = 0; i < n; i++) m = Math.min(m, await timed(f)); return m; };
const r1 = (x: number) => Math.round(x * 10) / 10, r2 = (x: number) => Math.round(x * 100) / 100;

const results: Record<string, number>[] = [];
let sent = 0;
const host = new KernelHost();
const b = new KernelBackend({host, pollMs: 1000, scanMs: Infinity, kmsg: false});
for (const target of targets) {
  sendEntries(sent, target);
  sent = target;
  let n = 0;
  for (let i = 0; i < 120 && (n = countEntries()) < target * 0.98; i++) execFileSync('sleep', ['1']);
  const per100k = (ms: number) => Math.round((ms / n) * 100_000);
  const plainMs = await best(() => readFileSync(FILE));
  const chunkedMs = await best(() => readChunked(256 << 10));
  // the scan, with the event loop's delay while it runs
  const lag = monitorEventLoopDelay({resolution: 10});
  lag.enable();
  const scanMs = await best(async () => (await b.scanConns()).tookMs);
  lag.disable();
  const firstPageMs = await best(() => b.queryConns({limit: 40}), 5);
  const oldHeadMs = await best(() => host.readHead('net/ip_vs_conn', 256 << 10), 3);
  const pollMs = await best(() => b.poll(true), 3);
  // the UI's refresh as lvsdeck --kernel runs it: the backend's defaults (cheap sources at most once a
  // second and ten times their cost apart, a background scan every 10 s), 10 Hz for 20 s, each frame
  // asking for the snapshot and the first page; the event loop's delay is what a key press waits
  const ui = new KernelBackend({host, kmsg: false});
  const uiLag = monitorEventLoopDelay({resolution: 10});
  uiLag.enable();
  let inFrames = 0, frames = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 20_000) {
    inFrames += await timed(() => { ui.snapshot(); ui.queryConns({limit: 40}); });
    frames++;
    await new Promise((r) => setTimeout(r, 100));
  }
  const uiWall = performance.now() - t0;
  uiLag.disable();
  const uiScans = ui.connScan() ? 1 : 0;
  ui.close();
  const row = {entries: n, plainReadMs: Math.round(plainMs), chunkedReadMs: Math.round(chunkedMs), scanMs: Math.round(scanMs),
    plainPer100kMs: per100k(plainMs), chunkedPer100kMs: per100k(chunkedMs), scanPer100kMs: per100k(scanMs),
    scanVsChunked: r2(scanMs / chunkedMs), scanVsPlain: r2(scanMs / plainMs),
    scanLoopDelayMaxMs: Math.round(lag.max / 1e6), scanLoopDelayP99Ms: Math.round(lag.percentile(99) / 1e6),
    firstPageMs: r1(firstPageMs), oldHead256kMs: r1(oldHeadMs), firstPageVsOldHead: r2(firstPageMs / oldHeadMs),
    pollMs: r1(pollMs), uiFrames: frames, uiShareInFrames: r2(inFrames / uiWall), uiLoopDelayMaxMs: Math.round(uiLag.max / 1e6),
    uiLoopDelayP99Ms: Math.round(uiLag.percentile(99) / 1e6), uiScanDone: uiScans};
  results.push(row);
  console.log(JSON.stringify(row));
}
b.close();
mkdirSync('.test-results', {recursive: true});
writeFileSync('.test-results/kernel-scan.json', JSON.stringify(results, null, 1) + '\n');
