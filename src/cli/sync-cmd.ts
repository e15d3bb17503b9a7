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
import {type ObserveOptions, startCaptureOut, startMetrics} from '../metrics/cli.js';
import {readObserveOptions} from './observe-args.js';
import type {MetricsServer} from '../metrics/server.js';
import {engineSource} from '../metrics/source.js';
import type {SyncDaemonStats} from '../sync/stats.js';
import type {GeneratorSpec} from '../traffic/generators.js';
import {parseTime as parseDuration} from '../scenario/units.js';
import {intValue, listValue, numberValue, parseCommandArgs, stringValue, unitValue, UsageError} from './args.js';
import {SYNC_SPEC} from './specs.js';
import {allowedPeersValue} from './sync-args.js';

interface Options {
  role: 'master' | 'backup';
  peer?: {host: string; port: number};
  /** Backup: accept datagrams only from these senders (--sync-allow). */
  allowedPeers?: string[];
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

export function parseSyncArgs(args: string[]): Options {
  const {values, positionals} = parseCommandArgs(SYNC_SPEC, args);
  const role = positionals[0];
  if (role !== 'master' && role !== 'backup') throw new UsageError(`the role must be master or backup, got '${role}'`);
  const str = (name: string) => stringValue(values, name);
  const int = (name: string, dflt: number | undefined, lo: number, hi: number) =>
    str(name) === undefined ? dflt : intValue(name, str(name)!, lo, hi);
  const time = (name: string, dflt: number) => (str(name) === undefined ? dflt : unitValue(name, str(name)!, parseDuration));
  const o: Options = {
    role,
    syncId: int('syncid', 0, 0, 255)!,
    maxLen: int('sync-maxlen', 0, 0, 65535)!,
    demo: values.demo === true,
    demoServices: values['demo-services'] === true,
    traffic: listValue(values, 'traffic').map((text) => {
      try { return JSON.parse(text) as GeneratorSpec; } catch { throw new UsageError(`--traffic: not JSON: ${text}`); }
    }),
    sysctls: listValue(values, 'sysctl').map((text) => {
      const m = /^([a-z_]+)=(.*)$/.exec(text);
      if (!m) throw new UsageError(`--sysctl wants NAME=VALUE, got '${text}'`);
      return [m[1]!, m[2]!] as [string, string];
    }),
    every: time('status-every', SECOND),
    listConns: values['list-conns'] === true,
    total: time('for', Infinity),
    speed: str('speed') === undefined ? 1 : numberValue('speed', str('speed')!, 0, 1000, true),
    seed: int('seed', 1, 0, 2 ** 31)!,
    control: values.control === true,
    observe: readObserveOptions(values),
  };
  const allowed = allowedPeersValue(values);
  if (allowed) o.allowedPeers = allowed;
  const peer = str('sync-peer');
  if (peer !== undefined) {
    try { o.peer = parsePeer(peer); } catch (err) { throw new UsageError(`--sync-peer: ${(err as Error).message}`); }
  }
  if (str('mcast-interface') !== undefined) o.ifname = str('mcast-interface');
  if (str('mcast-group') !== undefined) o.group = str('mcast-group');
  o.port = int('mcast-port', undefined, 1, 65535);
  o.ttl = int('mcast-ttl', undefined, 1, 255);
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
  let o: Options;
  let sim: Simulation;
  try {
    o = parseSyncArgs(args);
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
    {beforeApply: advance, ...(o.allowedPeers ? {allowedPeers: o.allowedPeers} : {})});
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
