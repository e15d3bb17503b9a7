// `lvsdeck serve`: one engine in this process, operated by several people over ssh (and, with
// --console, from this terminal too). See docs/ssh.md.
import {attachSyncDaemons, type SyncHostOptions, takeSyncFlag} from '../sim/sync-attach.js';
import {type ObserveOptions, OBSERVE_HELP, startCaptureOut, startMetrics, takeObserveFlag} from '../metrics/cli.js';
import type {MetricsServer} from '../metrics/server.js';
import {simulationSource} from '../metrics/source.js';
import {appendFileSync, renameSync, writeFileSync} from 'node:fs';
import {dirname, join, resolve} from 'node:path';
import {buildDemo, DEMO_MEMORY} from '../demo/default-config.js';
import type {Simulation} from '../sim/simulation.js';
import {parseSize} from '../scenario/units.js';
import {escapeControls} from '../util/untrusted-text.js';

export const usage = 'serve the live UI over ssh: --ssh ADDR:PORT --host-key FILE --authorized-keys FILE [--console] ...';

const HELP = `usage: lvsdeck serve --host-key FILE --authorized-keys FILE [options]

Runs one engine (the demo, or --config) and serves its live UI over ssh: each operator connects
with \`ssh -t -p PORT any@HOST\` and gets a UI session of their own on the shared engine. Public-key
authentication only; each key's role (reader, operator, admin) comes from its authorized_keys line:

  environment="LVSDECK_ROLE=operator" ssh-ed25519 AAAA... alice

(missing or unknown role = reader; the name shown is LVSDECK_USER or the key's comment).
Every change is audited (--audit-file, JSON lines). \`ssh HOST ipvsadm -Ln\` and a few other
read-only listings work without a terminal (\`ssh HOST help\`).

options:
  --ssh ADDR:PORT         listen address (default 127.0.0.1:2222; port 0 picks a free one)
  --host-key FILE         the server's private key; generated (ed25519, mode 0600) if missing
  --authorized-keys FILE  keys allowed in, one per line, with their role (re-read when it changes)
  --audit-file FILE       JSON lines: changes, refusals, logins, failed logins
                          (default: lvsdeck-audit.jsonl next to the host key)
  --status-file FILE      keep a JSON status here (listen port, sessions, counters, CPU)
  --log-file FILE         append the server's log lines here (default: stderr; none with --console)
  --console               also run the UI on this terminal, as admin; quitting it stops the server
  --config FILE           start from a scenario file or an ipvsadm-save file instead of the demo
  --memory SIZE           simulated host memory (e.g. 512MiB)
  --seed N                random seed (default 1)
  --speed X               virtual seconds per wall second at start (default 1)
  --fps N                 UI refresh rate per session, 1..30 (default 10)
  --mono                  no colours
  --max-sessions N        UI sessions at once, console included (default 16)
  --max-per-key N         UI sessions at once per key (default 4)
  --max-conns N           TCP connections at once, authenticated or not (default 64)
  --max-startups N        unauthenticated connections at once (default: half of --max-conns, at
                          most 16); when full, the oldest one still idle makes room
  --per-source-startups N unauthenticated connections at once from one address (default 4)
  --preauth-timeout SECONDS  time from TCP accept to the first authentication request (default 10)
  --auth-tries N          rejected attempts per connection before it is closed (default 6)
  --auth-burst N          failed logins per address before it is blocked (default 10)
  --auth-refill SECONDS   one failed login forgiven every SECONDS (default 30)
  --auth-cooldown SECONDS how long a blocked address is refused (default 60)
  --login-grace SECONDS   time to authenticate (default 20)
  --no-exec               refuse exec requests (no listings without the UI)
  --sync ROLE             start a connection-sync daemon: master or backup (admins can also start
                          one from the UI: the Sync view, 8, or :--start-daemon)
  --sync-peer HOST:PORT   sync over unicast UDP instead of multicast 224.0.0.81:8848
  --mcast-interface IF    interface for multicast sync (default eth0)
  --syncid N              sync id (0..255) for --sync
${OBSERVE_HELP}  -h, --help              this help
`;

interface ServeArgs {
  listen: {host: string; port: number};
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
  if (!m) throw new Error(`--ssh wants ADDR:PORT, got '${v}'`);
  const host = m[1] ?? (m[2] || '127.0.0.1');
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`--ssh: port ${port} is out of range`);
  return {host, port};
}

export function parseServeArgs(args: string[]): ServeArgs | 'help' {
  const a: ServeArgs = {
    listen: {host: '127.0.0.1', port: 2222}, sync: {}, observe: {}, hostKey: null, authorizedKeys: null, auditFile: null, statusFile: null,
    logFile: null, console: false, config: null, memory: DEMO_MEMORY, memoryGiven: false, seed: 1, seedGiven: false, speed: 1,
    fps: 10, mono: false, maxSessions: 16, maxPerKey: 4, maxConns: 64, maxStartups: null, perSourceStartups: 4, preauthSec: 10, authTries: 6, authBurst: 10, authRefillSec: 30,
    authCooldownSec: 60, loginGraceSec: 20, exec: true,
  };
  for (let i = 0; i < args.length; i++) {
    const flag = args[i]!;
    const val = () => {
      const v = args[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    const int = (lo: number, hi: number) => {
      const v = val();
      if (!/^\d+$/.test(v) || Number(v) < lo || Number(v) > hi) throw new Error(`${flag} wants a whole number ${lo}..${hi}, got '${v}'`);
      return Number(v);
    };
    switch (flag) {
      case '--ssh': a.listen = parseListen(val()); break;
      case '--host-key': a.hostKey = val(); break;
      case '--authorized-keys': a.authorizedKeys = val(); break;
      case '--audit-file': a.auditFile = val(); break;
      case '--status-file': a.statusFile = val(); break;
      case '--log-file': a.logFile = val(); break;
      case '--console': a.console = true; break;
      case '--config': a.config = val(); break;
      case '--memory': {
        const total = parseSize(val());
        a.memory = {totalBytes: total, usedBytes: Math.round(total * (DEMO_MEMORY.usedBytes / DEMO_MEMORY.totalBytes))};
        a.memoryGiven = true;
        break;
      }
      case '--seed': a.seed = int(0, 2 ** 31); a.seedGiven = true; break;
      case '--speed': a.speed = Number(val()); if (!(a.speed > 0) || a.speed > 10000) throw new Error('--speed wants 0 < X <= 10000'); break;
      case '--fps': a.fps = int(1, 30); break;
      case '--mono': a.mono = true; break;
      case '--max-sessions': a.maxSessions = int(1, 1000); break;
      case '--max-per-key': a.maxPerKey = int(1, 1000); break;
      case '--max-conns': a.maxConns = int(1, 10000); break;
      case '--max-startups': a.maxStartups = int(1, 10000); break;
      case '--per-source-startups': a.perSourceStartups = int(1, 10000); break;
      case '--preauth-timeout': a.preauthSec = int(1, 3600); break;
      case '--auth-tries': a.authTries = int(1, 100); break;
      case '--auth-burst': a.authBurst = int(1, 10000); break;
      case '--auth-refill': a.authRefillSec = int(1, 86400); break;
      case '--auth-cooldown': a.authCooldownSec = int(1, 86400); break;
      case '--login-grace': a.loginGraceSec = int(1, 3600); break;
      case '--no-exec': a.exec = false; break;
      case '-h': case '--help': return 'help';
      default:
        if (!takeSyncFlag(flag, val, a.sync) && !takeObserveFlag(flag, val, a.observe)) throw new Error(`unknown option ${flag} (try lvsdeck serve --help)`);
    }
  }
  if (a.maxStartups !== null && a.maxConns > 1 && a.maxStartups >= a.maxConns) {
    throw new Error(`--max-startups ${a.maxStartups} must be below --max-conns ${a.maxConns} (else idle connections can fill every slot)`);
  }
  if (!a.hostKey) throw new Error('--host-key FILE is required (it is created on first start)');
  if (!a.authorizedKeys) throw new Error('--authorized-keys FILE is required');
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

export async function run(args: string[]): Promise<number> {
  let a: ServeArgs;
  try {
    const p = parseServeArgs(args);
    if (p === 'help') { process.stdout.write(HELP); return 0; }
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
  let sim: Simulation;
  let message: string | undefined;
  if (a.config !== null) {
    const {loadConfig} = await import('../app/config.js');
    try {
      const c = loadConfig(a.config, {seed: a.seed, memory: a.memory, seedGiven: a.seedGiven, memoryGiven: a.memoryGiven});
      sim = c.sim;
      message = c.notes.join('; ');
    } catch (err) {
      process.stderr.write(`lvsdeck serve: ${(err as Error).message}\n`);
      return 2;
    }
  } else sim = buildDemo(a.seed, a.memory);
  try {
    await attachSyncDaemons(sim, a.sync);
  } catch (err) {
    process.stderr.write(`lvsdeck serve: sync: ${(err as Error).message}\n`);
    return 2;
  }

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
  const host = new DeckHost({sim, speed: a.speed, fps: a.fps, mono: a.mono, onEvent: event});
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
    return 2;
  }
  let metrics: MetricsServer | null = null;
  let finishCapture = () => {};
  try {
    metrics = await startMetrics(() => simulationSource(sim), a.observe, (line) => log(line.trimEnd()));
    finishCapture = startCaptureOut(sim.engine, a.observe);
  } catch (err) {
    process.stderr.write(`lvsdeck serve: ${(err as Error).message}\n`);
    await metrics?.close();
    await server.close();
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
      virtualNow: sim.now, updated: new Date().toISOString(),
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
  event({event: 'server-start', listen: `${addr.host}:${addr.port}`, hostKey: hostKey.fingerprint, pid: process.pid});
  log(`listening on ${addr.host}:${addr.port} (host key ${hostKey.fingerprint}${hostKey.created ? ', new' : ''}); audit ${auditPath}`);
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
