// Engine benchmarks: the packet path against a bare open-addressing hash loop over the same key
// stream, memory per entry at a million connections, expiry cost, and the UI's window queries (bench/query.ts).
import {SECOND, TCP_FLAG} from '../src/engine/constants.js';
import {Engine} from '../src/engine/engine.js';
import {emptyPacket, setTcp} from '../src/engine/packet.js';
import {seededRng} from '../src/engine/rng.js';
import {queryFigures} from './query.js';
import {type BenchFigure, memoryInUse, opsPerSecond, spreadFigure, timeMs} from './common.js';

const VIP = 0x0a000001;
const N = 200_000;
const REPEATS = 5;

/** The same key stream for the baseline and the engine: distinct client address:port pairs. */
export function keyStream(n: number, seed: number) {
  const rng = seededRng(seed);
  const addrs = new Uint32Array(n), ports = new Uint16Array(n);
  const seen = new Set<number>();
  for (let i = 0; i < n; i++) {
    let a: number, p: number;
    do {
      a = (0xc6120000 | (rng.u32() & 0x1ffff)) >>> 0; // 198.18.0.0/15
      p = 1024 + (rng.u32() % 64512);
    } while (seen.has(a * 65536 + p));
    seen.add(a * 65536 + p);
    addrs[i] = a; ports[i] = p;
  }
  return {addrs, ports};
}

/** The simplest table the machine can run: open addressing, linear probing, typed arrays. */
class BareTable {
  readonly keysA: Uint32Array;
  readonly keysP: Int32Array;
  readonly vals: Int32Array;
  readonly mask: number;
  constructor(capacity: number) {
    const size = 1 << Math.ceil(Math.log2(capacity * 2));
    this.keysA = new Uint32Array(size);
    this.keysP = new Int32Array(size).fill(-1);
    this.vals = new Int32Array(size);
    this.mask = size - 1;
  }
  private slot(a: number, p: number): number {
    let h = Math.imul(a ^ (p << 16), 0x9e3779b1);
    h ^= h >>> 15;
    let i = h & this.mask;
    while (this.keysP[i] !== -1 && !(this.keysA[i] === a && this.keysP[i] === p)) i = (i + 1) & this.mask;
    return i;
  }
  upsert(a: number, p: number, v: number): number {
    const i = this.slot(a, p);
    if (this.keysP[i] === -1) { this.keysA[i] = a; this.keysP[i] = p; this.vals[i] = v; }
    return this.vals[i]!;
  }
  get(a: number, p: number): number {
    const i = this.slot(a, p);
    return this.keysP[i] === -1 ? -1 : this.vals[i]!;
  }
}

export function newEngine(extra: (e: Engine) => void = () => {}): Engine {
  const e = new Engine({seed: 1, memory: {totalBytes: 64 * 2 ** 30, usedBytes: 0}});
  const key = {kind: 'addr', af: 4, proto: 'tcp', addr: VIP, port: 80} as const;
  e.addService(key, {scheduler: 'wlc'});
  for (let i = 1; i <= 8; i++) e.addDest(key, 4, 0x0a010000 + i, 80, {fwd: 'masq', weight: 1 + (i % 3)});
  extra(e);
  return e;
}

/**
 * The engine cases, each selectable alone (`npm run bench -- --only engine --engine-cases syn,established`):
 * the baselines always run, since every ratio needs its own from the same run.
 */
export const ENGINE_CASES = ['syn', 'established', 'mixed', 'defense', 'memory', 'query', 'expiry', 'memory10m'] as const;
export type EngineCase = typeof ENGINE_CASES[number];

export async function runEngineBench(log: (s: string) => void = () => {},
  cases: readonly EngineCase[] = ENGINE_CASES): Promise<BenchFigure[]> {
  const want = (c: EngineCase) => cases.includes(c);
  const {addrs, ports} = keyStream(N, 11);
  const out: BenchFigure[] = [];

  // --- baselines over the same keys ---
  const baseInsert = opsPerSecond(REPEATS, () => new BareTable(N), (t) => {
    for (let i = 0; i < N; i++) t.upsert(addrs[i]!, ports[i]!, i);
    return N;
  });
  const filled = new BareTable(N);
  for (let i = 0; i < N; i++) filled.upsert(addrs[i]!, ports[i]!, i);
  let sink = 0;
  const baseLookup = opsPerSecond(REPEATS, () => filled, (t) => {
    for (let i = 0; i < N; i++) sink += t.get(addrs[i]!, ports[i]!);
    return N;
  });
  const half = N >> 1;
  const baseMixed = opsPerSecond(REPEATS, () => {
    const t = new BareTable(N);
    for (let i = 0; i < half; i++) t.upsert(addrs[i]!, ports[i]!, i);
    return t;
  }, (t) => {
    for (let i = 0; i < half; i++) {
      sink += t.get(addrs[i]!, ports[i]!);
      t.upsert(addrs[half + i]!, ports[half + i]!, i);
    }
    return N;
  });
  log(`baseline insert ${baseInsert.median.toFixed(0)}/s, lookup ${baseLookup.median.toFixed(0)}/s, mixed ${baseMixed.median.toFixed(0)}/s`);
  out.push(spreadFigure('bare hash insert (baseline)', baseInsert, 'ops/s', {id: 'bare-insert'}));
  out.push(spreadFigure('bare hash lookup (baseline)', baseLookup, 'ops/s', {id: 'bare-lookup'}));
  out.push(spreadFigure('bare hash, 50% lookup + 50% insert (baseline)', baseMixed, 'ops/s', {id: 'bare-mixed'}));

  const pkt = emptyPacket();
  const synPath = (e: Engine) => {
    for (let i = 0; i < N; i++) {
      if ((i & 1023) === 0) e.tick(i);
      e.inbound(setTcp(pkt, 4, addrs[i]!, ports[i]!, VIP, 80, TCP_FLAG.SYN, 40));
    }
    return N;
  };
  // the defense rows are ratios to the plain SYN row: they bring it along
  if (want('syn') || want('defense')) {
    const syn = opsPerSecond(REPEATS, () => newEngine(), synPath);
    out.push(spreadFigure('engine: new connection (SYN, schedule, create)', syn, 'pkts/s',
      {id: 'engine-syn', baseline: 'bare-insert', target: {of: 'ratio', op: '>=', limit: 0.25}}));
  }

  if (want('established')) {
    const established = opsPerSecond(REPEATS, () => {
      const e = newEngine();
      for (let i = 0; i < N; i++) {
        e.inbound(setTcp(pkt, 4, addrs[i]!, ports[i]!, VIP, 80, TCP_FLAG.SYN, 40));
        e.inbound(setTcp(pkt, 4, addrs[i]!, ports[i]!, VIP, 80, TCP_FLAG.ACK, 40));
      }
      return e;
    }, (e) => {
      for (let i = 0; i < N; i++) e.inbound(setTcp(pkt, 4, addrs[i]!, ports[i]!, VIP, 80, TCP_FLAG.ACK | TCP_FLAG.PSH, 1000));
      return N;
    });
    out.push(spreadFigure('engine: established-connection packet', established, 'pkts/s',
      {baseline: 'bare-lookup', target: {of: 'ratio', op: '>=', limit: 0.5}}));
  }

  if (want('mixed')) {
    const mixed = opsPerSecond(REPEATS, () => {
      const e = newEngine();
      for (let i = 0; i < half; i++) {
        e.inbound(setTcp(pkt, 4, addrs[i]!, ports[i]!, VIP, 80, TCP_FLAG.SYN, 40));
        e.inbound(setTcp(pkt, 4, addrs[i]!, ports[i]!, VIP, 80, TCP_FLAG.ACK, 40));
      }
      return e;
    }, (e) => {
      for (let i = 0; i < half; i++) {
        e.inbound(setTcp(pkt, 4, addrs[i]!, ports[i]!, VIP, 80, TCP_FLAG.ACK | TCP_FLAG.PSH, 600));
        e.inbound(setTcp(pkt, 4, addrs[half + i]!, ports[half + i]!, VIP, 80, TCP_FLAG.SYN, 40));
      }
      return N;
    });
    out.push(spreadFigure('engine: mixed flood (50% new SYN, 50% established)', mixed, 'pkts/s',
      {baseline: 'bare-mixed', target: {of: 'ratio', op: '>=', limit: 0.3}}));
  }

  if (want('defense')) for (const [name, setup] of [
    ['drop_packet=3 am_droprate=2', (e: Engine) => { e.setTunable('am_droprate', '2'); e.setTunable('drop_packet', '3'); }],
    ['secure_tcp=3', (e: Engine) => e.setTunable('secure_tcp', '3')],
    ['drop_entry=3', (e: Engine) => e.setTunable('drop_entry', '3')],
  ] as const) {
    const s = opsPerSecond(REPEATS, () => newEngine(setup), (e) => {
      for (let i = 0; i < N; i++) {
        if ((i & 1023) === 0) e.tick(i * 5); // 200k SYN/s of virtual time: the defense timer runs
        e.inbound(setTcp(pkt, 4, addrs[i]!, ports[i]!, VIP, 80, TCP_FLAG.SYN, 40));
      }
      return N;
    });
    out.push(spreadFigure(`engine: SYN flood with ${name}`, s, 'pkts/s', {baseline: 'engine-syn'}));
  }
  log('packet paths done');

  if (want('memory') || want('query') || want('expiry')) {
    // --- scale: a million connections, against the bare table holding the same million keys ---
    const M = 1_000_000;
    const big = keyStream(M, 12);
    let bare: BareTable | null = new BareTable(M);
    for (let i = 0; i < M; i++) bare.upsert(big.addrs[i]!, big.ports[i]!, i);
    // the bare table is nothing but its three typed arrays: their byte lengths are its exact size
    const barePerEntry = (bare.keysA.byteLength + bare.keysP.byteLength + bare.vals.byteLength) / M;
    bare = null;
    out.push({id: 'bare-bytes', figure: 'bytes per entry of the bare hash table at 1M (baseline)', value: barePerEntry, unit: 'B'});
    const before = await memoryInUse();
    let e: Engine | null = newEngine();
    for (let i = 0; i < M; i++) {
      if ((i & 4095) === 0) e.tick(Math.floor(i / 1000));
      e.inbound(setTcp(pkt, 4, big.addrs[i]!, big.ports[i]!, VIP, 80, TCP_FLAG.SYN, 40));
    }
    const after = await memoryInUse();
    const perEntry = (after - before) / e.conns.count;
    out.push({figure: 'bytes per connection entry at 1M (heap + external over empty engine)', value: perEntry, unit: 'B',
      baseline: 'bare-bytes', target: {of: 'value', op: '<=', limit: 89, why: "hold the figure before stable ids; the kernel's slab object is 320 B"}});
    log(`1M entries: ${perEntry.toFixed(1)} B/entry (bare table ${barePerEntry.toFixed(1)})`);

    // --- queries the UI needs, over 1M, against one plain pass over a million typed-array values (bench/query.ts) ---
    if (want('query')) out.push(...queryFigures(e, log));

    if (want('expiry')) {
      // --- expiry: an idle tick with 1M live against the same on an empty engine, then expiring all ---
      const perTickUs = (engine: Engine) => {
        const start = engine.now;
        let k = 0;
        const s = timeMs(REPEATS, () => { for (let j = 0; j < 1000; j++) engine.tick(start + ++k); });
        return {min: s.min, median: s.median, max: s.max}; // ms per 1000 ticks = µs per tick
      };
      out.push(spreadFigure('tick with nothing due, empty engine (baseline)', perTickUs(newEngine()), 'µs', {id: 'tick-empty'}));
      out.push(spreadFigure('tick with nothing due, 1M live', perTickUs(e), 'µs',
        {baseline: 'tick-empty', target: {of: 'ratio', op: '<=', limit: 3, why: 'independent of table size'}}));
      const count = e.conns.count;
      const exp = timeMs(1, () => e!.tick(70 * SECOND));
      out.push({figure: 'expire 1M SYN_RECV entries', value: (count / exp.median) * 1000, unit: 'entries/s', baseline: 'bare-insert'});
      if (e.conns.count !== 0) throw new Error(`expiry left ${e.conns.count} entries`);
    }
    e = null;
  }

  // --- memory at ten million entries (BENCH_10M=0 skips it: it needs ~1.5 GB) ---
  if (want('memory10m') && process.env.BENCH_10M !== '0') {
    const M10 = 10_000_000;
    const before10 = await memoryInUse();
    let e10: Engine | null = newEngine();
    for (let i = 0; i < M10; i++) {
      if ((i & 4095) === 0) e10.tick(Math.floor(i / 10000));
      // distinct clients (198.18.0.0/15 addresses x 1024 ports), generated, not stored
      e10.inbound(setTcp(pkt, 4, (0xc6120000 + (i >>> 10)) >>> 0, 1024 + (i & 1023), VIP, 80, TCP_FLAG.SYN, 40));
    }
    const per10 = (await memoryInUse() - before10) / e10.conns.count;
    out.push({figure: 'bytes per connection entry at 10M (heap + external over empty engine)', value: per10, unit: 'B',
      baseline: 'bare-bytes', target: {of: 'value', op: '<=', limit: 64, why: 'five times denser than the kernel'}});
    log(`10M entries: ${per10.toFixed(1)} B/entry`);
    e10 = null;
    void e10;
  }
  void sink;
  return out;
}
