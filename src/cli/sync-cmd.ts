// `lvsdeck sync master|backup`: a headless engine running one sync role over UDP in real time
// (virtual ms = wall ms × --speed). The master carries traffic (the demo's, or --traffic generators)
// and sends sync messages; the backup applies what it receives to its own engine. Prints a status
// line every --status-every; with --control it also answers commands on stdin with JSON lines
// (status, conns, traffic stop|start, sysctl NAME VALUE, quit) and exits when stdin closes.
import {createInterface} from 'node:readline';
import {formatAddrPort} from '../engine/addr.js';
import {SECOND} from '../engine/constants.js';
import type {Engine, SyncDaemonConfig} from '../engine/engine.js';
import {buildDemo} from '../demo/default-config.js';
import {Simulation} from '../sim/simulation.js';
import {connViews} from '../sync/compare.js';
import {parsePeer, udpTransport} from '../sync/daemon.js';
import {SyncManager} from '../sync/manager.js';
import {type ObserveOptions, OBSERVE_HELP, startCaptureOut, startMetrics, takeObserveFlag} from '../metrics/cli.js';
import type {MetricsServer} from '../metrics/server.js';
import {engineSource} from '../metrics/source.js';
import type {SyncDaemonStats} from '../sync/stats.js';
import type {GeneratorSpec} from '../traffic/generators.js';
import {parseTime as parseDuration} from '../scenario/units.js';

export const usage = 'run a sync daemon: master|backup [--sync-peer HOST:PORT] [--syncid N] [--mcast-interface IF] ' +
  '[--demo] [--traffic JSON] [--sysctl NAME=VALUE] [--status-every 1s] [--list-conns] [--for DUR] [--control]';

const HELP = `usage: lvsdeck sync master|backup [options]

Runs a headless engine with one sync daemon role over UDP, in real time.

  --sync-peer HOST:PORT   unicast: the master sends to, the backup listens on HOST:PORT
                          (thread i uses PORT+i); without it, multicast on the group
  --syncid N              sync id 0..255 (backup: 0 accepts every master)     [0]
  --mcast-interface IF    multicast interface                                [eth0]
  --mcast-group ADDR      multicast group                              [224.0.0.81]
  --mcast-port N          first UDP port                                     [8848]
  --mcast-ttl N           multicast TTL                                         [1]
  --sync-maxlen N         message size limit (0 = kernel default)               [0]
  --demo                  the demo services; the master also runs the demo traffic
  --demo-services         the demo services only (a backup binds entries to them)
  --traffic JSON          add a traffic generator, e.g.
                          '{"kind":"clients","to":"10.0.0.1:80","rate":50}' (repeatable)
  --sysctl NAME=VALUE     set a tunable first, e.g. sync_version=0 backup_only=1
  --status-every DUR      status line period, 0 = none                         [1s]
  --list-conns            print the connection list with each status line
  --for DUR               stop after DUR (default: until SIGINT/SIGTERM)
  --speed X               virtual time per wall time                            [1]
  --seed N                traffic seed                                          [1]
  --control               answer stdin commands with JSON lines:
                          status | conns | traffic stop|start | sysctl NAME VALUE | quit
${OBSERVE_HELP}`;

interface Options {
  role: 'master' | 'backup';
  peer?: {host: string; port: number};
  syncId: number;
  ifname?: string;
  group?: string;
  port?: number;
  ttl?: number;
  maxLen: number;
  demo: boolean;
  demoServices: boolean;
  traffic: GeneratorSpec[];
  sysctls: [string, string][];
  every: number;
  listConns: boolean;
  total: number;
  speed: number;
  seed: number;
  control: boolean;
  observe: ObserveOptions;
}

function parseArgs(args: string[]): Options {
  const role = args[0];
  if (role !== 'master' && role !== 'backup') throw new Error('first argument must be master or backup');
  const o: Options = {
    role, syncId: 0, maxLen: 0, demo: false, demoServices: false, traffic: [], sysctls: [], every: SECOND,
    listConns: false, total: Infinity, speed: 1, seed: 1, control: false, observe: {},
  };
  for (let i = 1; i < args.length; i++) {
    const a = args[i]!;
    const val = () => {
      const v = args[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const int = (lo: number, hi: number) => {
      const v = val();
      const n = Number(v);
      if (!/^\d+$/.test(v) || n < lo || n > hi) throw new Error(`${a}: want an integer ${lo}..${hi}, got '${v}'`);
      return n;
    };
    switch (a) {
      case '--sync-peer': o.peer = parsePeer(val()); break;
      case '--syncid': o.syncId = int(0, 255); break;
      case '--mcast-interface': o.ifname = val(); break;
      case '--mcast-group': o.group = val(); break;
      case '--mcast-port': o.port = int(1, 65535); break;
      case '--mcast-ttl': o.ttl = int(1, 255); break;
      case '--sync-maxlen': o.maxLen = int(0, 65535); break;
      case '--demo': o.demo = true; break;
      case '--demo-services': o.demoServices = true; break;
      case '--traffic': {
        const text = val();
        let spec: GeneratorSpec;
        try { spec = JSON.parse(text) as GeneratorSpec; } catch { throw new Error(`--traffic: not JSON: ${text}`); }
        o.traffic.push(spec);
        break;
      }
      case '--sysctl': {
        const m = /^([a-z_]+)=(.*)$/.exec(val());
        if (!m) throw new Error('--sysctl wants NAME=VALUE');
        o.sysctls.push([m[1]!, m[2]!]);
        break;
      }
      case '--status-every': o.every = parseDuration(val()); break;
      case '--list-conns': o.listConns = true; break;
      case '--for': o.total = parseDuration(val()); break;
      case '--speed': {
        o.speed = Number(val());
        if (!(o.speed > 0 && o.speed <= 1000)) throw new Error('--speed must be in (0, 1000]');
        break;
      }
      case '--seed': o.seed = int(0, 2 ** 31); break;
      case '--control': o.control = true; break;
      default: if (!takeObserveFlag(a, val, o.observe)) throw new Error(`unknown option ${a}`);
    }
  }
  return o;
}

function buildSim(o: Options): Simulation {
  if (o.demo || o.demoServices) {
    const sim = buildDemo(o.seed);
    if (o.role === 'backup' || !o.demo) for (const g of sim.traffic.list()) sim.traffic.remove(g.id);
    if (o.role === 'master') for (const t of o.traffic) sim.addTraffic(t);
    return sim;
  }
  const sim = new Simulation({seed: o.seed});
  if (o.role === 'master') for (const t of o.traffic) sim.addTraffic(t);
  return sim;
}

function mmss(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/** The connection list as ipvsadm -lnc prints it. */
export function formatConnList(e: Engine): string {
  const rows = ['pro expire state       source                  virtual                 destination'];
  e.conns.forEach((v) => {
    const c = e.conn(v.id)!;
    const virt = c.fwmarkTemplate ? `FWM ${c.vaddr}` : formatAddrPort(c.vaddr, c.vport);
    rows.push(`${c.protoName.padEnd(3)} ${mmss(c.expiresIn)}  ${c.stateName.padEnd(11)} ` +
      `${formatAddrPort(c.caddr, c.cport).padEnd(23)} ${virt.padEnd(23)} ${formatAddrPort(c.daddr, c.dport)}`);
  }, 'hashed');
  return rows.join('\n');
}

function rejected(r: Record<string, number>): string {
  const parts = Object.entries(r).map(([k, n]) => `${k}:${n}`);
  return parts.length ? parts.join(',') : '0';
}

export function formatStatus(role: string, e: Engine, s: SyncDaemonStats | undefined, err?: string): string {
  const t = `t=${(e.now / 1000).toFixed(1)}s`;
  const tbl = `conns=${e.conns.connections} tpl=${e.conns.templates}`;
  if (!s) return `${t} ${role} not running${err ? ` (${err})` : ''} ${tbl}`;
  const last = s.lastMessageAt === null ? 'never' : `${((e.now - s.lastMessageAt) / 1000).toFixed(1)}s ago`;
  if (s.role === 'master') {
    return `${t} master syncid=${s.syncId} v${e.tunables.v.sync_version} msgs=${s.messages.sent} entries=${s.entries.sent}` +
      ` pending=${s.queue.pendingEntries} queue=${s.queue.length}/${s.queue.max} dropped=${rejected(s.messages.rejected)}` +
      ` last=${last} ${tbl}`;
  }
  const a = s.applied;
  return `${t} backup syncid=${s.syncId} msgs=${s.messages.received} rejected=${rejected(s.messages.rejected)}` +
    ` entries=${s.entries.received} (new ${a.created} upd ${a.updated} repl ${a.replaced} stale ${a.stale})` +
    ` skipped=${rejected(s.entries.rejected)} last=${last} from=${s.lastFrom ?? '-'} ${tbl}`;
}

export async function run(args: string[]): Promise<number> {
  if (args[0] === '--help' || args[0] === '-h' || args.length === 0) {
    process.stdout.write(HELP);
    return args.length === 0 ? 2 : 0;
  }
  let o: Options;
  let sim: Simulation;
  try {
    o = parseArgs(args);
    sim = buildSim(o);
  } catch (err) {
    process.stderr.write(`lvsdeck sync: ${(err as Error).message}\n`);
    return 2;
  }
  const e = sim.engine;
  for (const [name, value] of o.sysctls) {
    const r = e.setTunable(name, value);
    if (!r.ok) {
      process.stderr.write(`lvsdeck sync: ${r.error}\n`);
      return 2;
    }
  }
  const start = performance.now();
  const v0 = e.now;
  const vnow = () => v0 + Math.floor((performance.now() - start) * o.speed);
  let trafficOn = true;
  const advance = () => {
    const v = vnow();
    if (v > e.now) sim.runUntil(v);
  };
  const mgr = new SyncManager(e, udpTransport({peer: o.peer, mcastInterface: o.ifname, sockSize: () => e.tunables.v.sync_sock_size ?? 0}),
    {beforeApply: advance});
  const cfg: Partial<SyncDaemonConfig> & {role: 'master' | 'backup'} = {role: o.role, syncId: o.syncId, syncMaxLen: o.maxLen};
  if (o.ifname) cfg.mcastIfn = o.ifname;
  if (o.group) cfg.mcastGroup = o.group;
  if (o.port) cfg.mcastPort = o.port;
  if (o.ttl) cfg.mcastTtl = o.ttl;
  try {
    await mgr.start(cfg);
  } catch (err) {
    process.stderr.write(`lvsdeck sync: cannot start the ${o.role} daemon: ${(err as Error).message}\n`);
    mgr.close();
    return 1;
  }
  let metrics: MetricsServer | null = null;
  let finishCapture = () => {};
  try {
    metrics = await startMetrics(() => engineSource(e, () => mgr.stats()), o.observe);
    finishCapture = startCaptureOut(e, o.observe);
  } catch (err) {
    process.stderr.write(`lvsdeck sync: ${(err as Error).message}\n`);
    mgr.close();
    await metrics?.close();
    return 2;
  }
  const out = (line: string) => process.stdout.write(line + '\n');
  const json = (obj: unknown) => out(JSON.stringify(obj));
  out(`lvsdeck sync ${o.role}: ${mgr.transport.describe(o.role, e.syncDaemons[o.role]!)}, syncid ${o.syncId}, ` +
    `sync_version ${e.tunables.v.sync_version}, ${(mgr.stats()[o.role]!).threads} thread(s)`);
  if (o.control) json({type: 'ready', role: o.role, pid: process.pid});

  return new Promise<number>((resolve) => {
    let done = false;
    let nextStatus = o.every > 0 ? e.now + o.every : Infinity;
    const endAt = e.now + o.total;
    const finish = (code: number) => {
      if (done) return;
      done = true;
      clearInterval(timer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      rl?.close();
      if (o.control) process.stdin.destroy();
      mgr.close();
      finishCapture();
      void metrics?.close();
      resolve(code);
    };
    const step = () => {
      try {
        advance();
        mgr.poll(e.now);
        if (e.now >= nextStatus) {
          nextStatus += o.every * Math.max(1, Math.ceil((e.now - nextStatus + 1) / o.every));
          out(formatStatus(o.role, e, mgr.stats()[o.role], mgr.errors[o.role]));
          if (o.listConns) out(formatConnList(e));
        }
        if (e.now >= endAt) finish(0);
      } catch (err) {
        process.stderr.write(`lvsdeck sync: ${(err as Error).stack ?? err}\n`);
        finish(1);
      }
    };
    const timer = setInterval(step, 10);
    const onSignal = () => finish(0);
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const rl = o.control ? createInterface({input: process.stdin}) : null;
    rl?.on('line', (line) => {
      const [cmd, ...rest] = line.trim().split(/\s+/);
      advance();
      mgr.poll(e.now);
      switch (cmd) {
        case 'status':
          json({type: 'status', role: o.role, now: e.now, stats: mgr.stats()[o.role] ?? null, error: mgr.errors[o.role] ?? null,
            conns: e.conns.connections, templates: e.conns.templates,
            inFlight: sim.traffic.list().reduce((n, g) => n + g.inFlight, 0), traffic: trafficOn});
          break;
        case 'conns':
          json({type: 'conns', role: o.role, now: e.now, conns: connViews(e)});
          break;
        case 'traffic':
          trafficOn = rest[0] !== 'stop';
          for (const g of sim.traffic.list()) {
            if (trafficOn) sim.traffic.get(g.id).start(e.now);
            else sim.traffic.get(g.id).stop();
          }
          json({type: 'ok', traffic: trafficOn});
          break;
        case 'sysctl': {
          const r = e.setTunable(rest[0] ?? '', rest.slice(1).join(' '));
          json(r.ok ? {type: 'ok'} : {type: 'error', error: r.error});
          break;
        }
        case 'quit':
          json({type: 'bye'});
          finish(0);
          break;
        case '':
        case undefined:
          break;
        default:
          json({type: 'error', error: `unknown command '${cmd}'`});
      }
    });
    rl?.on('close', () => finish(0));
  });
}
