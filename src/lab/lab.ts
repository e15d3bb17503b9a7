// `lvsdeck lab up|down|status`: network namespaces for a client, a director and N real servers,
// wired so that traffic to the virtual addresses goes through the data plane both ways.
//
//   lvs-client (eth0 198.18.1.2-5) ── lvs-c0 ┐
//                                            lvs-director: forwarding on, lvs-tun0 (lvsdeck's, added
//   lvs-rsN (eth0 198.18.2.1N) ── lvs-rsN ── lvs-br0     when it runs); replies from lvs-br0 are
//                                                         policy-routed into lvs-tun0
//
// Up is idempotent (a complete lab is left alone, a partial one is rebuilt) and down removes every
// namespace (their links, routes and rules go with them) after stopping the processes inside.
import {execFileSync, spawn} from 'node:child_process';
import {existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, closeSync} from 'node:fs';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {hasNetAdmin} from '../dataplane/tun.js';
import {PACKAGE_ROOT, RUNNING_FROM_SOURCE} from '../util/package-root.js';
import {
  BRIDGE, CLIENT4, CLIENT6, CLIENT_LINK, CLIENT_NS, DIRECTOR_CLIENT4, DIRECTOR_CLIENT6, DIRECTOR_NS,
  DIRECTOR_SERVER4, DIRECTOR_SERVER6, LAB_NET4, LAB_NET6, MAX_SERVERS, REPLY_TABLE, type RealServer, SPOOF_NET4, SPOOF_NET6,
  TUN_DEV, realServers,
} from './topology.js';

export class LabError extends Error {}

export const LAB_RUN_DIR = process.env.LVSDECK_LAB_DIR ?? '/run/lvsdeck-lab';
const STATE_FILE = join(LAB_RUN_DIR, 'lab.json');
// the sibling script, compiled or not: run from the source it needs the tsx loader
const SERVER_SCRIPT = fileURLToPath(new URL(RUNNING_FROM_SOURCE ? './server.ts' : './server.js', import.meta.url));
const REPO_ROOT = PACKAGE_ROOT;

/** Every namespace the lab may own (down removes these and only these). */
export function labNamespaces(): string[] {
  return [DIRECTOR_NS, CLIENT_NS, ...Array.from({length: MAX_SERVERS}, (_, i) => `lvs-rs${i + 1}`)];
}

export function requireRoot(what: string): void {
  if (!hasNetAdmin()) throw new LabError(`${what} needs root (it creates network namespaces and links): run it with sudo.`);
  try {
    execFileSync('ip', ['-V'], {stdio: 'ignore'});
  } catch {
    throw new LabError(`${what} needs the \`ip\` command (Debian package iproute2).`);
  }
}

function ip(args: string[]): string {
  try {
    return execFileSync('ip', args, {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000});
  } catch (e) {
    const err = e as {stderr?: string; message: string};
    throw new LabError(`ip ${args.join(' ')}: ${(err.stderr ?? err.message).trim()}`);
  }
}

function inNs(ns: string, cmd: string[]): string {
  return ip(['netns', 'exec', ns, ...cmd]);
}

export function existingNamespaces(): Set<string> {
  const out = ip(['netns', 'list']);
  return new Set(out.split('\n').map((l) => l.split(' ')[0]!).filter(Boolean));
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function readyFile(rs: RealServer): string {
  return join(LAB_RUN_DIR, `${rs.name}.ready`);
}

function serverPid(rs: RealServer): number | null {
  try {
    const pid = Number(readFileSync(readyFile(rs), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 && pidAlive(pid) ? pid : null;
  } catch {
    return null;
  }
}

export interface LabStatus {
  up: boolean;
  servers: {name: string; ns: string; addr4: string; addr6: string; present: boolean; pid: number | null}[];
  namespaces: string[];
  /** The data plane's TUN device is in the director namespace (lvsdeck --dataplane tun is running). */
  directorAttached: boolean;
}

function configuredServers(): number {
  try {
    const n = Number((JSON.parse(readFileSync(STATE_FILE, 'utf8')) as {servers?: unknown}).servers);
    return Number.isInteger(n) && n >= 1 && n <= MAX_SERVERS ? n : 0;
  } catch {
    return 0;
  }
}

export function labStatus(): LabStatus {
  const have = existingNamespaces();
  const ours = labNamespaces().filter((n) => have.has(n));
  const n = configuredServers();
  const servers = n ? realServers(n).map((rs) => ({
    name: rs.name, ns: rs.ns, addr4: rs.addr4, addr6: rs.addr6, present: have.has(rs.ns), pid: serverPid(rs),
  })) : [];
  let directorAttached = false;
  if (have.has(DIRECTOR_NS)) {
    try {
      ip(['-n', DIRECTOR_NS, 'link', 'show', TUN_DEV]);
      directorAttached = true;
    } catch { /* not running */ }
  }
  const up = n > 0 && have.has(DIRECTOR_NS) && have.has(CLIENT_NS) && servers.every((s) => s.present && s.pid !== null);
  return {up, servers, namespaces: ours, directorAttached};
}

export function formatLabStatus(s: LabStatus): string {
  if (s.namespaces.length === 0) return 'lab: down (no lvs-* namespace)\n';
  const lines = [`lab: ${s.up ? 'up' : 'incomplete (run `lvsdeck lab up` to rebuild it, or `lvsdeck lab down`)'}`,
    `namespaces: ${s.namespaces.join(' ')}`,
    `director: ${s.directorAttached ? `${TUN_DEV} attached (a data plane is running)` : `no ${TUN_DEV} (start: lvsdeck --dataplane tun --config examples/lab.yaml)`}`,
    `client: ip netns exec ${CLIENT_NS} ... (sources ${CLIENT4.join(', ')}, ${CLIENT6})`];
  for (const rs of s.servers) {
    lines.push(`${rs.name}: ${rs.addr4} ${rs.addr6} ${rs.pid ? `serving (pid ${rs.pid})` : rs.present ? 'server not running' : 'missing'}`);
  }
  return lines.join('\n') + '\n';
}

/** Tear the lab down: stop what runs inside, delete the namespaces. Safe on a partial lab. */
export function labDown(): string[] {
  requireRoot('lvsdeck lab down');
  const removed: string[] = [];
  const have = existingNamespaces();
  for (const ns of labNamespaces()) {
    if (!have.has(ns)) continue;
    stopProcessesIn(ns);
    ip(['netns', 'del', ns]);
    removed.push(ns);
  }
  rmSync(LAB_RUN_DIR, {recursive: true, force: true});
  return removed;
}

function nsPids(ns: string): number[] {
  try {
    return ip(['netns', 'pids', ns]).split('\n').map(Number).filter((p) => Number.isInteger(p) && p > 0);
  } catch {
    return [];
  }
}

/** SIGTERM the processes in a namespace, then SIGKILL those still there after 2 s. */
function stopProcessesIn(ns: string): void {
  let pids = nsPids(ns);
  for (const p of pids) try { process.kill(p, 'SIGTERM'); } catch { /* gone */ }
  const deadline = Date.now() + 2000;
  while (pids.length && Date.now() < deadline) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    pids = pids.filter(pidAlive);
  }
  for (const p of pids) try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
}

export interface LabUpResult {
  created: boolean;
  status: LabStatus;
}

/** Build the lab with `servers` real servers; a complete lab of that size is left as it is. */
export async function labUp(servers = 3): Promise<LabUpResult> {
  requireRoot('lvsdeck lab up');
  const rss = realServers(servers);
  const before = labStatus();
  if (before.up && before.servers.length === servers) return {created: false, status: before};
  if (before.namespaces.length) labDown();
  mkdirSync(LAB_RUN_DIR, {recursive: true});
  writeFileSync(STATE_FILE, JSON.stringify({servers}) + '\n');
  try {
    build(rss);
    await startServers(rss);
  } catch (e) {
    // never leave half a lab behind
    try { labDown(); } catch { /* report the first error */ }
    throw e;
  }
  return {created: true, status: labStatus()};
}

function sysctl(ns: string, settings: string[]): void {
  inNs(ns, ['sysctl', '-qw', ...settings]);
}

function build(rss: RealServer[]): void {
  for (const ns of [DIRECTOR_NS, CLIENT_NS, ...rss.map((r) => r.ns)]) {
    ip(['netns', 'add', ns]);
    ip(['-n', ns, 'link', 'set', 'lo', 'up']);
  }
  sysctl(DIRECTOR_NS, ['net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1', 'net.ipv4.conf.all.rp_filter=0',
    'net.ipv4.conf.default.rp_filter=0', 'net.ipv4.conf.all.send_redirects=0', 'net.ipv4.conf.default.send_redirects=0']);
  const d = ['-n', DIRECTOR_NS];
  // client side
  ip(['link', 'add', CLIENT_LINK, 'netns', DIRECTOR_NS, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', CLIENT_NS]);
  ip([...d, 'addr', 'add', `${DIRECTOR_CLIENT4}/24`, 'dev', CLIENT_LINK]);
  ip([...d, 'addr', 'add', `${DIRECTOR_CLIENT6}/64`, 'dev', CLIENT_LINK, 'nodad']);
  ip([...d, 'link', 'set', CLIENT_LINK, 'up']);
  const c = ['-n', CLIENT_NS];
  for (const a of CLIENT4) ip([...c, 'addr', 'add', `${a}/24`, 'dev', 'eth0']);
  ip([...c, 'addr', 'add', `${CLIENT6}/64`, 'dev', 'eth0', 'nodad']);
  ip([...c, 'link', 'set', 'eth0', 'up']);
  ip([...c, 'route', 'add', LAB_NET4, 'via', DIRECTOR_CLIENT4]);
  ip([...c, '-6', 'route', 'add', LAB_NET6, 'via', DIRECTOR_CLIENT6]);
  // Attack sources live "behind" the client: replies to them go there and die. The client forwards
  // the spoofed packets its attack generator writes into a TUN device (src/lab/attack.ts).
  ip([...d, 'route', 'add', SPOOF_NET4, 'via', CLIENT4[0]!, 'dev', CLIENT_LINK]);
  ip([...d, '-6', 'route', 'add', SPOOF_NET6, 'via', CLIENT6, 'dev', CLIENT_LINK]);
  ip([...c, 'route', 'add', 'blackhole', SPOOF_NET4]);
  ip([...c, '-6', 'route', 'add', 'blackhole', SPOOF_NET6]);
  sysctl(CLIENT_NS, ['net.ipv4.ip_forward=1', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0',
    'net.ipv6.conf.all.forwarding=1']);
  // server side: a bridge with one veth per real server
  ip([...d, 'link', 'add', BRIDGE, 'type', 'bridge']);
  ip([...d, 'addr', 'add', `${DIRECTOR_SERVER4}/24`, 'dev', BRIDGE]);
  ip([...d, 'addr', 'add', `${DIRECTOR_SERVER6}/64`, 'dev', BRIDGE, 'nodad']);
  ip([...d, 'link', 'set', BRIDGE, 'up']);
  for (const rs of rss) {
    ip(['link', 'add', rs.link, 'netns', DIRECTOR_NS, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', rs.ns]);
    ip([...d, 'link', 'set', rs.link, 'master', BRIDGE]);
    ip([...d, 'link', 'set', rs.link, 'up']);
    const r = ['-n', rs.ns];
    ip([...r, 'addr', 'add', `${rs.addr4}/24`, 'dev', 'eth0']);
    ip([...r, 'addr', 'add', `${rs.addr6}/64`, 'dev', 'eth0', 'nodad']);
    ip([...r, 'link', 'set', 'eth0', 'up']);
    ip([...r, 'route', 'add', LAB_NET4, 'via', DIRECTOR_SERVER4]);
    ip([...r, '-6', 'route', 'add', LAB_NET6, 'via', DIRECTOR_SERVER6]);
  }
  // Replies from the real servers go through the director (NAT needs both directions).
  ip([...d, '-4', 'rule', 'add', 'iif', BRIDGE, 'lookup', String(REPLY_TABLE), 'pref', '1000']);
  ip([...d, '-6', 'rule', 'add', 'iif', BRIDGE, 'lookup', String(REPLY_TABLE), 'pref', '1000']);
}

async function startServers(rss: RealServer[]): Promise<void> {
  for (const rs of rss) {
    rmSync(readyFile(rs), {force: true});
    const log = openSync(join(LAB_RUN_DIR, `${rs.name}.log`), 'a');
    const child = spawn('ip', ['netns', 'exec', rs.ns, process.execPath, ...(RUNNING_FROM_SOURCE ? ['--import', 'tsx'] : []), SERVER_SCRIPT, rs.name, readyFile(rs)],
      {cwd: REPO_ROOT, detached: true, stdio: ['ignore', log, log]});
    child.unref();
    closeSync(log);
  }
  const deadline = Date.now() + 20_000;
  for (;;) {
    const missing = rss.filter((rs) => serverPid(rs) === null);
    if (missing.length === 0) return;
    if (Date.now() > deadline) {
      throw new LabError(`real servers did not start: ${missing.map((r) => r.name).join(', ')} (see ${LAB_RUN_DIR}/*.log)`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Whether the lab's director namespace exists (the data plane then moves its device there). */
export function labDirectorPresent(): boolean {
  return existsSync(`/run/netns/${DIRECTOR_NS}`);
}

const LOCK = '/run/lvsdeck-lab.lock';

/**
 * One lab user at a time on this machine (tests and benchmarks of several checkouts may run at
 * once): an atomic mkdir holding the owner's pid; a dead owner's lock is taken over.
 */
export async function acquireLabLock(timeoutMs = 180_000): Promise<(() => void) | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(`${LOCK}/pid`, String(process.pid));
      return () => rmSync(LOCK, {recursive: true, force: true});
    } catch {
      let owner = 0;
      try { owner = Number(readFileSync(`${LOCK}/pid`, 'utf8')); } catch { /* being written */ }
      let alive = false;
      try { if (owner) { process.kill(owner, 0); alive = true; } } catch { /* dead */ }
      if (owner && !alive) { rmSync(LOCK, {recursive: true, force: true}); continue; }
      if (Date.now() > deadline) return null;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
