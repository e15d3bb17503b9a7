// `lvsdeck serve`: one backend in this process (the simulation, the real data plane, or the host
// kernel's IPVS), operated by several people over ssh (and, with --console, from this terminal
// too). See docs/ssh.md.
import {attachSyncDaemons, type SyncHostOptions} from '../sim/sync-attach.js';
import {type ObserveOptions, startCaptureOut, startMetrics} from '../metrics/cli.js';
import {readObserveOptions} from './observe-args.js';
import type {MetricsServer} from '../metrics/server.js';
import {simulationSource} from '../metrics/source.js';
import {appendFileSync, renameSync, writeFileSync} from 'node:fs';
import {dirname, join, resolve} from 'node:path';
import {buildDemo, DEMO_MEMORY, demoMemory} from '../demo/default-config.js';
import type {Simulation} from '../sim/simulation.js';
import {parseSize} from '../scenario/units.js';
import {escapeControls} from '../util/untrusted-text.js';
import {formatHelp, intValue, numberValue, parseCommandArgs, stringValue, unitValue, UsageError} from './args.js';
import {SERVE_SPEC} from './specs.js';
import {syncHostOptions} from './sync-args.js';
import {type BackendChoice, readBackendChoice} from './backend-args.js';
import type {Backend} from '../store/backend.js';
import type {HostOptions} from '../ssh/host.js';

interface ServeArgs {
  listen: {host: string; port: number};
  backend: BackendChoice;
  sync: SyncHostOptions;
  observe: ObserveOptions;
  hostKey: string | null;
  authorizedKeys: string | null;
  auditFile: string | null;
  statusFile: string | null;
  logFile: string | null;
  console: boolean;
  config: string | null;
  memory: {totalBytes: number; usedBytes: number};
  memoryGiven: boolean;
  seed: number;
  seedGiven: boolean;
  speed: number;
  fps: number;
  mono: boolean;
  maxSessions: number;
  maxPerKey: number;
  maxConns: number;
  maxStartups: number | null;
  perSourceStartups: number;
  preauthSec: number;
  authTries: number;
  authBurst: number;
  authRefillSec: number;
  authCooldownSec: number;
  loginGraceSec: number;
  exec: boolean;
}

export function parseListen(v: string): {host: string; port: number} {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(v) ?? /^()()(\d+)$/.exec(v);
  if (!m) throw new UsageError(`--ssh wants ADDR:PORT, got '${v}'`);
  const host = m[1] ?? (m[2] || '127.0.0.1');
  const port = Number(m[3]);
  if (port > 65535) throw new UsageError(`--ssh: port ${port} is out of range`);
  return {host, port};
}

export function parseServeArgs(args: string[]): ServeArgs | 'help' {
  const parsed = parseCommandArgs(SERVE_SPEC, args);
  if (parsed.help) return 'help';
  const {values} = parsed;
  const str = (name: string) => stringValue(values, name);
  const int = (name: string, dflt: number, lo: number, hi: number) => (str(name) === undefined ? dflt : intValue(name, str(name)!, lo, hi));
  const backend = readBackendChoice(values);
  const mem = str('memory') === 'host' ? undefined : str('memory');
  const a: ServeArgs = {
    listen: str('ssh') === undefined ? {host: '127.0.0.1', port: 2222} : parseListen(str('ssh')!),
    backend,
    sync: syncHostOptions(values),
    observe: readObserveOptions(values),
    hostKey: str('host-key') ?? null,
    authorizedKeys: str('authorized-keys') ?? null,
    auditFile: str('audit-file') ?? null,
    statusFile: str('status-file') ?? null,
    logFile: str('log-file') ?? null,
    console: values.console === true,
    config: str('config') ?? null,
    memory: mem === undefined ? DEMO_MEMORY : demoMemory(unitValue('memory', mem, parseSize)),
    memoryGiven: mem !== undefined,
    seed: int('seed', 1, 0, 2 ** 31),
    seedGiven: str('seed') !== undefined,
    speed: str('speed') === undefined ? 1 : numberValue('speed', str('speed')!, 0, 10000, true),
    fps: int('fps', 10, 1, 30),
    mono: values.mono === true,
    maxSessions: int('max-sessions', 16, 1, 1000),
    maxPerKey: int('max-per-key', 4, 1, 1000),
    maxConns: int('max-conns', 64, 1, 10000),
    maxStartups: str('max-startups') === undefined ? null : intValue('max-startups', str('max-startups')!, 1, 10000),
    perSourceStartups: int('per-source-startups', 4, 1, 10000),
    preauthSec: int('preauth-timeout', 10, 1, 3600),
    authTries: int('auth-tries', 6, 1, 100),
    authBurst: int('auth-burst', 10, 1, 10000),
    authRefillSec: int('auth-refill', 30, 1, 86400),
    authCooldownSec: int('auth-cooldown', 60, 1, 86400),
    loginGraceSec: int('login-grace', 20, 1, 3600),
    exec: values['no-exec'] !== true,
  };
  if (a.maxStartups !== null && a.maxConns > 1 && a.maxStartups >= a.maxConns) {
    throw new UsageError(`--max-startups ${a.maxStartups} must be below --max-conns ${a.maxConns} (else idle connections can fill every slot)`);
  }
  if (!a.hostKey) throw new UsageError('--host-key FILE is required (it is created on first start)');
  if (!a.authorizedKeys) throw new UsageError('--authorized-keys FILE is required');
  return a;
}

/**
 * Ink draws nothing live when it thinks it runs in CI (is-in-ci reads CI / CONTINUOUS_INTEGRATION
 * once, at import), and chalk picks its colour level from the server's own stdout. Neither says
 * anything about the ssh clients' terminals: clear the CI markers and force colours before Ink
 * is imported.
 */
export function prepareServerEnv(env: NodeJS.ProcessEnv, mono: boolean): void {
  delete env.CI;
  delete env.CONTINUOUS_INTEGRATION;
  if (!mono && env.FORCE_COLOR === undefined) env.FORCE_COLOR = '3';
  env.NODE_ENV ??= 'production';
}

/** What the host serves, with what it needs to stop it; or why it cannot start (the message, if not printed yet). */
type Served = {host: HostOptions; sim: Simulation | null; message?: string; close(): void} | {error: string; code: number};

async function openServed(a: ServeArgs): Promise<Served> {
  const b = a.backend;
  if (b.kind === 'kernel') {
    const {openKernelBackend} = await import('../kernel/open.js');
    const {kernelListings} = await import('../ssh/exec.js');
    const k = openKernelBackend({allowWrites: b.allowWrites});
    if ('error' in k) return {error: k.error, code: 2};
    const kb = k.backend;
    // writes need both: the server's --allow-writes (else every session is read-only) and the session's role
    return {
      host: {backend: kb, readOnly: !kb.allowWrites, notice: k.message, listings: kernelListings(kb.host, () => kb.snapshot().conns)},
      sim: null, close: () => kb.close(),
    };
  }
  let sim: Simulation;
  let message: string | undefined;
  if (a.config !== null) {
    const {loadConfig} = await import('../app/config.js');
    try {
      const c = loadConfig(a.config, {seed: a.seed, memory: a.memory, seedGiven: a.seedGiven, memoryGiven: a.memoryGiven});
      sim = c.sim;
      message = c.notes.join('; ') || undefined;
    } catch (err) {
      return {error: (err as Error).message, code: 2};
    }
  } else sim = buildDemo(a.seed, a.memory);
  try {
    await attachSyncDaemons(sim, a.sync);
  } catch (err) {
    return {error: `sync: ${(err as Error).message}`, code: 2};
  }
  if (b.kind === 'simulation') return {host: {sim, speed: a.speed}, sim, message, close: () => sim.sync?.close()};
  const {startDataplaneForCli} = await import('../dataplane/cli.js');
  const dp = startDataplaneForCli(sim, {dev: b.dev, hostMemory: b.hostMemory});
  if (!dp) return {error: '', code: 1};   // startDataplaneForCli said why
  const backend: Backend = dp.makeBackend(sim, dp.clock);
  return {
    host: {sim, backend, driver: dp.clock, notice: dp.message}, sim, message,
    close: () => { dp.stop(); sim.sync?.close(); },
  };
}

export async function run(args: string[]): Promise<number> {
  let a: ServeArgs;
  try {
    const p = parseServeArgs(args);
    if (p === 'help') { process.stdout.write(formatHelp(SERVE_SPEC)); return 0; }
    a = p;
  } catch (err) {
    process.stderr.write(`lvsdeck serve: ${(err as Error).message}\n`);
    return 2;
  }
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') a.mono = true;
  if (a.console && (!process.stdout.isTTY || !process.stdin.isTTY)) {
    process.stderr.write('lvsdeck serve: --console needs a terminal\n');
    return 2;
  }
  const served = await openServed(a);
  if ('error' in served) {
    if (served.error) process.stderr.write(`lvsdeck serve: ${served.error}\n`);
    return served.code;
  }
  const {sim, message} = served;

  const hostKeyPath = resolve(a.hostKey!);
  const auditPath = resolve(a.auditFile ?? join(dirname(hostKeyPath), 'lvsdeck-audit.jsonl'));
  const {ensureHostKey} = await import('../ssh/host-key.js');
  const {JsonLinesFile, changeRecord} = await import('../ssh/audit-file.js');
  let hostKey;
  let auditFile;
  try {
    hostKey = ensureHostKey(hostKeyPath);
    auditFile = new JsonLinesFile(auditPath);
  } catch (err) {
    process.stderr.write(`lvsdeck serve: ${(err as Error).message}\n`);
    served.close();
    return 2;
  }
  const logFile = a.logFile ? resolve(a.logFile) : null;
  const log = (line: string) => {
    // one line per call whatever the caller passed: client text never starts a forged line
    const text = `${new Date().toISOString()} lvsdeck serve: ${escapeControls(line)}\n`;
    if (logFile) {
      try { appendFileSync(logFile, text); } catch { /* ignore */ }
    } else if (!a.console) process.stderr.write(text);
  };
  const event = (e: Record<string, unknown>) => auditFile.append({...e, time: new Date().toISOString()});

  prepareServerEnv(process.env, a.mono);
  const {DeckHost} = await import('../ssh/host.js');
  const {SshServer} = await import('../ssh/server.js');
  const host = new DeckHost({...served.host, fps: a.fps, mono: a.mono, onEvent: event});
  host.audit.addSink((e) => auditFile.append(changeRecord(e)));
  const server = new SshServer(host, {
    host: a.listen.host, port: a.listen.port, hostKey: hostKey.pem, authorizedKeysPath: resolve(a.authorizedKeys!),
    maxSessions: a.maxSessions, maxPerKey: a.maxPerKey, maxConns: a.maxConns, authTries: a.authTries,
    maxStartups: a.maxStartups ?? undefined, perSourceStartups: a.perSourceStartups, preauthMs: a.preauthSec * 1000,
    loginGraceMs: a.loginGraceSec * 1000, exec: a.exec, log, event,
    limiter: {burst: a.authBurst, refillPerSec: 1 / a.authRefillSec, cooldownMs: a.authCooldownSec * 1000},
  });
  let addr: {host: string; port: number};
  try {
    addr = await server.listen();
  } catch (err) {
    process.stderr.write(`lvsdeck serve: cannot listen on ${a.listen.host}:${a.listen.port}: ${(err as Error).message}\n`);
    served.close();
    return 2;
  }
  let metrics: MetricsServer | null = null;
  let finishCapture = () => {};
  try {
    // none with --kernel (src/cli/backend-args.ts refuses --metrics and --capture-out there)
    if (sim) {
      metrics = await startMetrics(() => simulationSource(sim), a.observe, (line) => log(line.trimEnd()));
      finishCapture = startCaptureOut(sim.engine, a.observe);
    }
  } catch (err) {
    process.stderr.write(`lvsdeck serve: ${(err as Error).message}\n`);
    await metrics?.close();
    await server.close();
    served.close();
    return 2;
  }
  server.keys(); // load (and report) the authorized keys now
  host.start();

  // ---- status: a JSON file kept current (sessions, counters, CPU of this process)
  let cpu0 = process.cpuUsage();
  let wall0 = performance.now();
  let cpuPercent = 0;
  const writeStatus = () => {
    if (!a.statusFile) return;
    const peers = host.presence.list();
    const s = {
      pid: process.pid, listen: addr, hostKey: hostKey.fingerprint, auditFile: auditPath, sessions: peers.length, peers,
      connections: server.connections, counters: server.counters, blocked: server.limiter.blocked(),
      skippedFrames: host.perf.skipped, cpuPercent,
      queued: host.sessions.map((h) => ({id: h.id, user: h.identity.user, bytes: h.backlog(), skipped: h.skipped})), rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
      backend: host.backend.kind, readOnly: host.o.readOnly === true, virtualNow: sim?.now ?? null, updated: new Date().toISOString(),
    };
    const tmp = `${a.statusFile}.tmp`;
    try {
      writeFileSync(tmp, JSON.stringify(s) + '\n');
      renameSync(tmp, a.statusFile);
    } catch (err) {
      log(`status file: ${(err as Error).message}`);
    }
  };
  let pending = false;
  host.presence.onChange(() => {
    if (pending) return;
    pending = true;
    setImmediate(() => { pending = false; writeStatus(); });
  });
  const statusTimer = setInterval(() => {
    const c = process.cpuUsage(cpu0);
    const w = performance.now() - wall0;
    cpuPercent = Math.round(((c.user + c.system) / 1000 / w) * 1000) / 10;
    cpu0 = process.cpuUsage();
    wall0 = performance.now();
    writeStatus();
  }, 2000);
  writeStatus();
  event({event: 'server-start', listen: `${addr.host}:${addr.port}`, hostKey: hostKey.fingerprint, pid: process.pid,
    backend: host.backend.kind, ...(host.o.readOnly ? {readOnly: true} : {})});
  log(`listening on ${addr.host}:${addr.port} (host key ${hostKey.fingerprint}${hostKey.created ? ', new' : ''}); audit ${auditPath}`);
  if (served.host.notice) log(`serving ${served.host.notice}`);
  if (!a.console) process.stdout.write(`lvsdeck serve: listening on ${addr.host}:${addr.port}\n`);

  let stopping = false;
  const shutdown = async (why: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    clearInterval(statusTimer);
    host.stop(`server stopping (${why})`);
    // synchronous up to here: under --console a signal exits the process right after this call
    event({event: 'server-stop', reason: why});
    writeStatus();
    log(`stopped (${why})`);
    finishCapture();
    served.close();
    await metrics?.close();
    await server.close();
  };

  if (a.console) {
    const {setupTerminal} = await import('../ui/terminal.js');
    const guard = setupTerminal({altScreen: true, onSignal: (sig) => { void shutdown(sig); }});
    const h = host.attach({
      identity: {user: process.env.USER || 'console', role: 'admin', from: 'console'},
      stdout: process.stdout, stdin: process.stdin,
      message: message ?? `serving ssh on ${addr.host}:${addr.port} · 7 shows who is connected and the audit`,
    });
    await h.done;
    await shutdown('console quit');
    guard.restore();
    setTimeout(() => process.exit(0), 1500).unref();
    return 0;
  }
  return new Promise<number>((done) => {
    const onSig = (sig: NodeJS.Signals) => {
      // a moment for the goodbye bytes to leave; then nothing should hold the loop (the unref'd
      // timer ends the process anyway if something does)
      void shutdown(sig).then(() => {
        setTimeout(() => done(0), 100);
        setTimeout(() => process.exit(0), 1500).unref();
      });
    };
    // `on`, not `once`: Ink's signal-exit re-raises a signal when it sees no other listener, and a
    // `once` listener is already gone by the time signal-exit's own listener runs
    process.on('SIGINT', onSig);
    process.on('SIGTERM', onSig);
    process.on('SIGHUP', onSig);
  });
}
