// `npm run bench:dataplane` (root): the real data plane against HAProxy and against no balancer,
// in one run, on the same lab, with the same client (bench/dataplane-client.ts) and real servers.
//   (a) lvsdeck --dataplane tun on the VIP      (b) HAProxy, mode tcp, on the same VIP
//   (c) the client straight to the real servers (the limit)
// Figures: new connections/s and requests/s (short HTTP), bulk throughput; then packets/s through
// the data plane against a TUN loop that does the same I/O and rewrite without the engine.
// Writes bench/dataplane-results.md (prose free of numbers, tables generated) and puts it into
// BENCHMARKS.md; `npm run bench` keeps it when it regenerates that file.
//   npm run bench:dataplane [-- --seconds N]     N seconds per figure (1..60, default 5)
import {execFile, spawn, spawnSync, type ChildProcess} from 'node:child_process';
import {once} from 'node:events';
import {readFileSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import {fileURLToPath} from 'node:url';
import {promisify} from 'node:util';
import {parseIPv4} from '../src/engine/addr.js';
import {Session} from 'node:inspector/promises';
import {type Frame, newFrame, parsePacket, rewriteDestination, rewriteSource} from '../src/dataplane/codec.js';
import {startDataplane} from '../src/dataplane/run.js';
import {SLOT, TunDevice} from '../src/dataplane/tun.js';
import {startAttack} from '../src/lab/attack.js';
import {acquireLabLock, labDown, labUp, requireRoot} from '../src/lab/lab.js';
import {CLIENT_NS, DIRECTOR_NS, TUN_DEV, tunRoutes, VIP4} from '../src/lab/topology.js';
import {loadConfig} from '../src/app/config.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS = fileURLToPath(new URL('./dataplane-results.md', import.meta.url));
const DEFAULT_SECONDS = 5;

/** Seconds per figure: `--seconds N` (or DATAPLANE_BENCH_SECONDS), a whole number from 1 to 60. */
function secondsOption(argv: string[], env: string | undefined): number | string {
  let text = env ?? String(DEFAULT_SECONDS);
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--seconds') text = argv[++i] ?? '';
    else if (argv[i]!.startsWith('--seconds=')) text = argv[i]!.slice('--seconds='.length);
    else return `unknown option '${argv[i]}' (usage: npm run bench:dataplane [-- --seconds N])`;
  }
  const n = Number(text);
  return /^\d+$/.test(text) && n >= 1 && n <= 60 ? n : `--seconds wants a whole number from 1 to 60, not '${text}'`;
}

const SECONDS_OR_ERROR = secondsOption(process.argv.slice(2), process.env.DATAPLANE_BENCH_SECONDS);
const SECONDS = typeof SECONDS_OR_ERROR === 'number' ? SECONDS_OR_ERROR : DEFAULT_SECONDS;
const CONC = 16;
const log = (s: string) => process.stderr.write(`${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface ClientResult {ops: number; bytes: number; seconds: number; errors: number}

async function client(mode: 'conns' | 'reqs' | 'bulk', urls: string[], conc = CONC): Promise<ClientResult> {
  const {stdout} = await run('ip', ['netns', 'exec', CLIENT_NS, process.execPath, '--import', 'tsx', 'bench/dataplane-client.ts',
    mode, urls.join(','), String(SECONDS), String(conc)], {cwd: ROOT, timeout: (SECONDS + 30) * 1000});
  return JSON.parse(stdout.trim().split('\n').pop()!) as ClientResult;
}

interface PathFigures {conns: number; reqs: number; mbps: number; errors: number}

async function measure(name: string, urls: string[]): Promise<PathFigures> {
  const c = await client('conns', urls);
  const r = await client('reqs', urls);
  const b = await client('bulk', urls, 3);
  const f = {conns: c.ops / c.seconds, reqs: r.ops / r.seconds, mbps: (b.bytes * 8) / b.seconds / 1e6, errors: c.errors + r.errors + b.errors};
  log(`${name}: ${f.conns.toFixed(0)} conn/s, ${f.reqs.toFixed(0)} req/s, ${f.mbps.toFixed(0)} Mbit/s, ${f.errors} errors`);
  return f;
}

function labSim() {
  return loadConfig(fileURLToPath(new URL('../examples/lab.yaml', import.meta.url)),
    {seed: 1, memory: {totalBytes: 4 * 2 ** 30, usedBytes: 2 ** 30}, seedGiven: false, memoryGiven: true}).sim;
}

async function withHaproxy<T>(fn: () => Promise<T>): Promise<T> {
  const cfg = '/tmp/lvsdeck-bench-haproxy.cfg';
  writeFileSync(cfg, [
    'global', '  maxconn 4000', '  nbthread 1',
    'defaults', '  mode tcp', '  timeout connect 2s', '  timeout client 30s', '  timeout server 30s',
    'frontend vip', `  bind ${VIP4}:80`, '  default_backend rs',
    'backend rs', '  balance roundrobin',
    '  server rs1 198.18.2.11:80', '  server rs2 198.18.2.12:80', '  server rs3 198.18.2.13:80', '',
  ].join('\n'));
  // HAProxy owns the VIP as a local address of the director namespace
  await run('ip', ['-n', DIRECTOR_NS, 'addr', 'add', `${VIP4}/32`, 'dev', 'lo']);
  const hap: ChildProcess = spawn('ip', ['netns', 'exec', DIRECTOR_NS, 'haproxy', '-db', '-f', cfg], {stdio: 'ignore'});
  try {
    await sleep(800);
    return await fn();
  } finally {
    hap.kill('SIGTERM');
    await once(hap, 'exit');
    await run('ip', ['-n', DIRECTOR_NS, 'addr', 'del', `${VIP4}/32`, 'dev', 'lo']);
  }
}

/** Packets/s read while a bounded UDP flood runs (the flood's own sender may be the limit). */
async function floodRate(read: () => number): Promise<number> {
  const before = read();
  const t0 = performance.now();
  const flood = startAttack({kind: 'udpflood', to: `${VIP4}:7`, rate: 50_000, count: 150_000, seconds: SECONDS + 2}, ROOT);
  await once(flood, 'exit');
  return (read() - before) / ((performance.now() - t0) / 1000);
}

/**
 * The same device, routes, batching and byte rewrite as the data plane, without the engine: every
 * packet to the VIP goes to one real server, every reply comes back from the VIP. (A pure echo would
 * send packets for the VIP straight back into the device.)
 */
async function bareLoopRate(): Promise<number> {
  const dev = TunDevice.open(TUN_DEV);
  let reads = 0;
  try {
    await run('ip', ['link', 'set', 'dev', dev.name, 'netns', DIRECTOR_NS]);
    await run('ip', ['-n', DIRECTOR_NS, 'link', 'set', 'dev', dev.name, 'up']);
    for (const r of tunRoutes(dev.name)) await run('ip', ['-n', DIRECTOR_NS, ...r]);
    const buf = new Uint8Array(64 * SLOT), lens = new Uint32Array(64), offs = new Uint32Array(64);
    const f: Frame = newFrame();
    const vip = parseIPv4(VIP4)!, rs = parseIPv4('198.18.2.11')!;
    dev.watch(() => {
      for (let b = 0; b < 16; b++) {
        const n = dev.readBatch(buf, lens);
        if (!n) break;
        let out = 0;
        for (let i = 0; i < n; i++) {
          if (parsePacket(buf.subarray(i * SLOT, i * SLOT + lens[i]!), lens[i]!, f)) continue;
          if (f.pkt.dst === vip) rewriteDestination(f, rs, f.pkt.dport);
          else rewriteSource(f, vip, f.pkt.sport);
          offs[out] = i * SLOT;
          lens[out++] = f.len;
        }
        dev.writeBatch(buf, offs, lens, out);
        reads += n;
      }
    });
    return await floodRate(() => reads);
  } finally {
    dev.close();
  }
}

/** Replace the '## Real data plane' section (up to the next '## ' heading) or append it. */
export function spliceSection(text: string, md: string): string {
  const at = text.indexOf('## Real data plane');
  if (at < 0) return `${text.trimEnd()}\n\n${md}`;
  const next = text.indexOf('\n## ', at + 1);
  // a blank line before the next section's heading, however the new section ends
  return text.slice(0, at) + (next >= 0 ? `${md.trimEnd()}\n\n${text.slice(next + 1)}` : md);
}

/** Self time per function while `fn` runs (the inspector's sampling profiler, this process). */
async function profiled<T>(fn: () => Promise<T>): Promise<{result: T; top: {name: string; share: number}[]}> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  const result = await fn();
  const {profile} = await session.post('Profiler.stop');
  session.disconnect();
  const self = new Map<string, number>();
  let total = 0;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  for (const id of profile.samples ?? []) {
    const n = byId.get(id)!;
    const where = n.callFrame.url.replace(/^.*\/(src|node_modules)\//, '$1/');
    const name = `${n.callFrame.functionName || '(anonymous)'} ${where ? `(${where})` : ''}`.trim();
    self.set(name, (self.get(name) ?? 0) + 1);
    total++;
  }
  const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([name, k]) => ({name, share: k / Math.max(1, total)}));
  return {result, top};
}

function ratio(a: number, b: number): string {
  return b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a';
}

async function main(): Promise<void> {
  if (typeof SECONDS_OR_ERROR === 'string') {
    log(`bench:dataplane: ${SECONDS_OR_ERROR}`);
    process.exitCode = 2;
    return;
  }
  requireRoot('the data-plane benchmark');
  if (spawnSync('haproxy', ['-v'], {stdio: 'ignore'}).status !== 0) {
    log('bench:dataplane: the comparison needs HAProxy (Debian: apt-get install haproxy); nothing was run');
    process.exitCode = 1;
    return;
  }
  const unlock = await acquireLabLock();
  if (!unlock) throw new Error('the lab is held by another run (/run/lvsdeck-lab.lock)');
  try {
    await benchInLab();
  } finally {
    unlock();
  }
}

async function benchInLab(): Promise<void> {
  await labUp(3);
  const urls = ['http://198.18.0.10/'];
  const direct = await measure('direct', ['http://198.18.2.11/', 'http://198.18.2.12/', 'http://198.18.2.13/']);
  const haproxy = await withHaproxy(() => measure('haproxy', urls));
  const sim = labSim();
  const dp = startDataplane(sim, {controlSocket: null});
  let lvs: PathFigures, dpRate: number, top: {name: string; share: number}[];
  const cpu0 = process.cpuUsage();
  try {
    await sleep(300);
      const p = await profiled(() => measure('lvsdeck', urls));
    lvs = p.result;
    top = p.top;
    dpRate = await floodRate(() => dp.director.counters.read);
  } finally {
    dp.stop();
  }
  const cpu = process.cpuUsage(cpu0);
  await sleep(300);
  const bareRate = await bareLoopRate();
  log(`packets/s: data plane ${dpRate.toFixed(0)}, bare loop ${bareRate.toFixed(0)}`);
  labDown();

  const date = new Date().toISOString().slice(0, 10);
  const machine = `${os.cpus().length}x ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}, load ${os.loadavg()[0]!.toFixed(1)}`;
  const row = (name: string, f: PathFigures) => `| ${name} | ${f.conns.toFixed(0)} | ${f.reqs.toFixed(0)} | ${f.mbps.toFixed(0)} | ${f.errors} |`;
  const md = [
    '## Real data plane (lvsdeck --dataplane tun vs HAProxy vs direct)',
    '',
    `Produced by \`npm run bench:dataplane\` (root) on ${date}; ${machine}. One run, the lab of`,
    '`lvsdeck lab up` (3 Node real servers), the same client for every path (bench/dataplane-client.ts in the',
    `client namespace, ${CONC} concurrent workers, ${SECONDS} s per figure; bulk: 3 workers fetching 8 MB each time)${
      SECONDS < DEFAULT_SECONDS ? `; a short run (\`--seconds ${SECONDS}\`): the default is ${DEFAULT_SECONDS} s per figure` : ''}.`,
    'HAProxy runs `mode tcp`, one thread, round robin, on the same VIP; "direct" spreads the same requests',
    'over the three servers from the client. Ratios divide by figures of this same run.',
    '',
    '| path | new conn/s | requests/s (keep-alive) | bulk Mbit/s | errors |',
    '|---|---|---|---|---|',
    row('(a) lvsdeck data plane', lvs),
    row('(b) HAProxy mode tcp', haproxy),
    row('(c) direct to the servers', direct),
    '',
    '| ratio | new conn/s | requests/s | bulk |',
    '|---|---|---|---|',
    `| (a)/(b) lvsdeck ÷ HAProxy | ${ratio(lvs.conns, haproxy.conns)} | ${ratio(lvs.reqs, haproxy.reqs)} | ${ratio(lvs.mbps, haproxy.mbps)} |`,
    `| (a)/(c) lvsdeck ÷ direct | ${ratio(lvs.conns, direct.conns)} | ${ratio(lvs.reqs, direct.reqs)} | ${ratio(lvs.mbps, direct.mbps)} |`,
    '',
    `Goal (a)/(b) ≥ 0.5 on new connections/s: ${lvs.conns / haproxy.conns >= 0.5 ? 'met' : 'missed'}; on requests/s: ${lvs.reqs / haproxy.reqs >= 0.5 ? 'met' : 'missed'}.`,
    '',
    '| packets through the device during a bounded UDP flood | packets/s |',
    '|---|---|',
    `| data plane (parse, engine, rewrite) | ${dpRate.toFixed(0)} |`,
    `| TUN loop without the engine (same batching and rewrite; baseline) | ${bareRate.toFixed(0)} |`,
    `| ratio data plane ÷ loop | ${ratio(dpRate, bareRate)} |`,
    '',
    ...(dpRate / bareRate > 0.9 ? ['Both loops kept up with the flood: these two figures measure the sender (one Node process in the',
      'client namespace), not the device; the engine then costs nothing visible per packet.', ''] : []),
    `The lvsdeck process used ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s of CPU over its part of the run. Where the data plane`,
    'falls short, the limit is its single JavaScript thread: every packet of both directions crosses the',
    'TUN device (two system calls per batch, two kernel routing passes per packet) and the engine on that',
    'thread, while HAProxy splices TCP streams inside the kernel and the kernel\'s own IPVS never leaves it.',
    'Profile of the lvsdeck process during its three figures (self time, sampling profiler; "(idle)" is the',
    'event loop waiting for packets):',
    '',
    '| function | share of samples |',
    '|---|---|',
    ...top.map((t) => `| \`${t.name.replace(/\|/g, '/')}\` | ${(t.share * 100).toFixed(1)}% |`),
    '',
  ].join('\n');
  writeFileSync(RESULTS, md);
  const report = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));
  writeFileSync(report, spliceSection(readFileSync(report, 'utf8'), md));
  log(`wrote ${RESULTS} and BENCHMARKS.md`);
}

await main();
