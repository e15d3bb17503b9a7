// Shared by the data-plane tests, the fixture capture and the benchmark: bring the lab up, run a
// director in this process on examples/lab.yaml, and run commands in the lab's namespaces without
// blocking the event loop (the director lives on it).
import {execFile} from 'node:child_process';
import {existsSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {promisify} from 'node:util';
import {startDataplane, type RunningDataplane} from '../src/dataplane/run.js';
import {hasNetAdmin, ADDON_PATH} from '../src/dataplane/tun.js';
import {labUp} from '../src/lab/lab.js';
export {acquireLabLock} from '../src/lab/lab.js';
import {loadConfig} from '../src/app/config.js';
import type {Simulation} from '../src/sim/simulation.js';

export const LAB_CONFIG = fileURLToPath(new URL('../examples/lab.yaml', import.meta.url));
const run = promisify(execFile);

/** Why the real data plane cannot be exercised here, or null when it can. */
export function labSkipReason(): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  if (!hasNetAdmin()) return 'not root (no CAP_NET_ADMIN)';
  if (!existsSync('/dev/net/tun')) return 'no /dev/net/tun';
  if (!existsSync(ADDON_PATH)) return 'TUN addon not built (npm run build:tun)';
  return null;
}

export interface LabDirector {
  sim: Simulation;
  dp: RunningDataplane;
  stop(): void;
}

export async function startLabDirector(opts: {servers?: number; edit?: (sim: Simulation) => void} = {}): Promise<LabDirector> {
  await labUp(opts.servers ?? 3);
  const {sim} = loadConfig(LAB_CONFIG, {seed: 1, memory: {totalBytes: 256 * 2 ** 20, usedBytes: 236 * 2 ** 20}, seedGiven: false, memoryGiven: false});
  opts.edit?.(sim);
  const dp = startDataplane(sim);
  return {sim, dp, stop: () => dp.stop()};
}

/** Run a command in a namespace; resolves with stdout (rejects on failure or after timeoutMs). */
export async function inNs(ns: string, cmd: string[], timeoutMs = 10_000): Promise<string> {
  const {stdout} = await run('ip', ['netns', 'exec', ns, ...cmd], {timeout: timeoutMs, maxBuffer: 64 * 2 ** 20});
  return stdout;
}

/** One HTTP request from the client namespace (optionally from a given source address). */
export async function curl(url: string, from?: string): Promise<string> {
  const args = ['curl', '-s', '-m', '3', ...(from ? ['--interface', from] : []), url];
  return (await inNs('lvs-client', args)).trim();
}

/** The director's connected routes to the client network, as the kernel made them (metric included: IPv6 matches on it). */
const CLIENT_ROUTES = [
  ['-4', 'route', 'replace', '198.18.1.0/24', 'dev', 'lvs-c0', 'proto', 'kernel', 'scope', 'link', 'src', '198.18.1.1'],
  ['-6', 'route', 'replace', 'fd00:18:0:1::/64', 'dev', 'lvs-c0', 'proto', 'kernel', 'metric', '256'],
];

/**
 * Run `fn` with the director's path to the client limited to `mtu` bytes (a route metric, so the
 * kernel's forwarding answers bigger packets with fragmentation needed / packet too big), then
 * restore the routes, also when `fn` fails.
 */
export async function withClientRouteMtu<T>(mtu: number, fn: () => Promise<T>): Promise<T> {
  const set = (extra: string[]) => Promise.all(CLIENT_ROUTES.map((r) => run('ip', ['-n', 'lvs-director', ...r, ...extra])));
  await set(['mtu', String(mtu)]);
  try {
    return await fn();
  } finally {
    await set([]);
    // the kernels remember what they learnt: forget the path MTU exceptions on every side
    for (const ns of ['lvs-director', 'lvs-client', 'lvs-rs1', 'lvs-rs2', 'lvs-rs3']) {
      for (const af of ['-4', '-6']) await run('ip', ['-n', ns, af, 'route', 'flush', 'cache']).catch(() => {});
    }
  }
}
