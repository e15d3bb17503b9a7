// Two real lvsdeck processes on loopback (127.0.0.1 only, unicast): a master carrying traffic and
// a backup. The backup's connection list must converge to the master's (states and servers), and
// again for the connections made after the backup is restarted mid-run. Every wait is bounded;
// every process is killed in afterAll and also stops by itself (--for, stdin EOF).
import {type ChildProcess, spawn} from 'node:child_process';
import dgram from 'node:dgram';
import {resolve} from 'node:path';
import {createInterface} from 'node:readline';
import {afterAll, describe, expect, it} from 'vitest';
import {compareSync, type SyncComparison, type SyncConnView} from '../src/sync/compare.js';

const BIN = resolve(__dirname, '../bin/lvsdeck.js');
const procs: Daemon[] = [];

class Daemon {
  readonly child: ChildProcess;
  private readonly waiters: {pred: (m: Record<string, unknown>) => boolean; resolve: (m: Record<string, unknown>) => void}[] = [];
  readonly stderr: string[] = [];
  exited = false;

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [BIN, 'sync', ...args, '--control', '--status-every', '0', '--for', '60s'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    procs.push(this);
    createInterface({input: this.child.stdout!}).on('line', (line) => {
      if (!line.startsWith('{')) return;
      const msg = JSON.parse(line) as Record<string, unknown>;
      const k = this.waiters.findIndex((w) => w.pred(msg));
      if (k >= 0) this.waiters.splice(k, 1)[0]!.resolve(msg);
    });
    this.child.stderr!.on('data', (d: Buffer) => this.stderr.push(d.toString()));
    this.child.on('exit', () => { this.exited = true; });
  }

  wait(pred: (m: Record<string, unknown>) => boolean, ms: number, what: string): Promise<Record<string, unknown>> {
    return new Promise((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`timeout waiting for ${what}; stderr: ${this.stderr.join('')}`)), ms);
      this.waiters.push({pred, resolve: (m) => { clearTimeout(timer); res(m); }});
    });
  }

  async ask(cmd: string, type: string): Promise<Record<string, unknown>> {
    const reply = this.wait((m) => m.type === type, 5000, `${cmd} reply`);
    this.child.stdin!.write(cmd + '\n');
    return reply;
  }

  async conns(): Promise<SyncConnView[]> {
    return (await this.ask('conns', 'conns')).conns as SyncConnView[];
  }

  kill(sig: NodeJS.Signals = 'SIGKILL'): void {
    if (!this.exited) this.child.kill(sig);
  }

  exit(): Promise<void> {
    return this.exited ? Promise.resolve() : new Promise((r) => this.child.once('exit', () => r()));
  }
}

afterAll(async () => {
  for (const p of procs) p.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exit()));
});

async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const TRAFFIC = [
  '--traffic', JSON.stringify({kind: 'clients', to: '10.0.0.1:80', rate: 60, hold: 0, response: 6000}),
  '--traffic', JSON.stringify({kind: 'clients', to: '10.0.0.2:443', rate: 25, hold: 0, close: 'client'}),
];

/** Stop the master's arrivals, let in-flight sessions finish, then poll until the backup agrees. */
async function converge(master: Daemon, backup: Daemon, filter: (v: SyncConnView) => boolean = () => true) {
  await master.ask('traffic stop', 'ok');
  const t0 = Date.now();
  for (let k = 0; k < 50; k++) {
    const st = await master.ask('status', 'status');
    if (st.inFlight === 0) break;
    await sleep(100);
  }
  const drained = Date.now();
  let cmp: SyncComparison | null = null;
  let mList: SyncConnView[] = [];
  for (let k = 0; k < 40; k++) { // up to ~10 s: the kernel's flush is 2 s on a 1 s check period
    mList = await master.conns();
    const bList = await backup.conns();
    cmp = compareSync(mList.filter(filter), bList);
    if (cmp.inSync) break;
    await sleep(250);
  }
  return {cmp: cmp!, mList, drainMs: drained - t0, convergeMs: Date.now() - drained};
}

describe('master and backup processes on 127.0.0.1', () => {
  it('the backup converges, and again after it restarts mid-run', async () => {
    const port = await freeUdpPort();
    const peer = ['--sync-peer', `127.0.0.1:${port}`];
    let backup = new Daemon(['backup', ...peer, '--demo-services']);
    await backup.wait((m) => m.type === 'ready', 15_000, 'backup ready');
    const master = new Daemon(['master', ...peer, '--demo-services', ...TRAFFIC]);
    await master.wait((m) => m.type === 'ready', 15_000, 'master ready');

    await sleep(2500);
    const first = await converge(master, backup);
    console.log(`sync daemons: drain ${first.drainMs} ms, converged ${first.convergeMs} ms after drain; ${JSON.stringify({
      matched: first.cmp.matched, onlyMaster: first.cmp.onlyMaster.length, onlyBackup: first.cmp.onlyBackup.length,
      lag: first.cmp.lag})}`);
    expect(first.cmp.stateMismatch).toEqual([]);
    expect(first.cmp.serverMismatch).toEqual([]);
    expect(first.cmp.expectedMissing).toEqual([]);
    expect(first.cmp.matched).toBeGreaterThan(150);
    // templates and both services made it, with states beyond the handshake
    const states = new Set(first.mList.filter((v) => first.cmp.onlyMaster.every((o) => o.key !== v.key)).map((v) => v.stateName));
    expect(states.has('ASSURED') || states.has('NONE')).toBe(true);
    expect([...states].some((s) => s === 'TIME_WAIT' || s === 'CLOSE_WAIT')).toBe(true);
    const bStatus = await backup.ask('status', 'status');
    expect((bStatus.stats as {messages: {received: number}}).messages.received).toBeGreaterThan(0);

    // Restart the backup while the master keeps sending.
    await master.ask('traffic start', 'ok');
    backup.kill('SIGTERM');
    await backup.exit();
    await sleep(800);
    backup = new Daemon(['backup', ...peer, '--demo-services']);
    await backup.wait((m) => m.type === 'ready', 15_000, 'restarted backup ready');
    const before = new Set((await master.conns()).map((v) => v.key));
    await sleep(2500);
    const second = await converge(master, backup, (v) => !before.has(v.key));
    console.log(`after restart: drain ${second.drainMs} ms, converged ${second.convergeMs} ms after drain; ${JSON.stringify({
      matched: second.cmp.matched, onlyMaster: second.cmp.onlyMaster.length, onlyBackup: second.cmp.onlyBackup.length})}`);
    expect(second.cmp.stateMismatch).toEqual([]);
    expect(second.cmp.serverMismatch).toEqual([]);
    expect(second.cmp.expectedMissing).toEqual([]);
    expect(second.cmp.matched).toBeGreaterThan(100);
    // entries that finished before the restart are not re-sent (the kernel has no resync)
    const full = compareSync(second.mList, await backup.conns());
    expect(full.stateMismatch).toEqual([]);
    const mStatus = await master.ask('status', 'status');
    const ms = mStatus.stats as {messages: {sent: number}; entries: {sent: number}};
    expect(ms.messages.sent).toBeGreaterThan(10);

    await master.ask('quit', 'bye');
    backup.child.stdin!.end(); // EOF ends a --control daemon
    await Promise.all([master.exit(), backup.exit()]);
  }, 45_000);
});
