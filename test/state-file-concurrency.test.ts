// The state file under concurrent and hostile use, through the real binary: parallel writers
// (ipvsadm -a, mixed with sysctl -w) all land; a held lock makes a writer wait, then give up with a
// message naming the holder; a dead holder's lock and temporaries are cleaned up; the file keeps
// its mode and a symlinked path stays a symlink; FIFOs and devices are refused at once.
import {execFileSync, spawn} from 'node:child_process';
import {chmodSync, existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, statSync, symlinkSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {hostname} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {lvsdeck} from './helpers/lvsdeck-cli.js';

const fresh = () => mkdtempSync(join(tmpdir(), 'lvsdeck-lock-'));
const state = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as {
  tunables: Record<string, string>; services: {dests: {address: string}[]}[];
};

/** A pid that is certainly not running: a child that has exited. */
function deadPid(): number {
  const child = spawn(process.execPath, ['-e', '0']);
  const pid = child.pid!;
  execFileSync(process.execPath, ['-e', 'setTimeout(() => {}, 200)']);
  return pid;
}

describe('state file: concurrent writers', () => {
  it('20 parallel `ipvsadm -a` processes all add their real server (none lost, all exit 0)', async () => {
    const dir = fresh(), s = join(dir, 'state.json');
    expect((await lvsdeck(['ipvsadm', '--state', s, '-A', '-t', '10.0.0.1:80', '-s', 'rr'])).code).toBe(0);
    const runs = await Promise.all(Array.from({length: 20}, (_, i) =>
      lvsdeck(['ipvsadm', '--state', s, '-a', '-t', '10.0.0.1:80', '-r', `10.1.0.${i + 1}:80`, '-m'])));
    expect(runs.map((r) => r.code)).toEqual(Array(20).fill(0));
    const addrs = state(s).services[0]!.dests.map((d) => d.address).sort();
    expect(addrs).toEqual(Array.from({length: 20}, (_, i) => `10.1.0.${i + 1}`).sort());
    expect(readdirSync(dir).sort()).toEqual(['state.json']); // no lock, no temporaries left
  }, 180_000);

  it('mixed parallel `sysctl -w` and `ipvsadm -a` keep every change', async () => {
    const dir = fresh(), s = join(dir, 'state.json');
    expect((await lvsdeck(['ipvsadm', '--state', s, '-A', '-u', '10.0.0.2:53', '-s', 'rr'])).code).toBe(0);
    const names = ['am_droprate', 'cache_bypass', 'conn_reuse_mode', 'expire_nodest_conn', 'expire_quiescent_template',
      'nat_icmp_send', 'sloppy_tcp', 'sloppy_sctp', 'snat_reroute', 'secure_tcp'];
    const values = ['17', '1', '2', '1', '1', '1', '1', '1', '0', '1'];
    const runs = await Promise.all([
      ...names.map((n, i) => lvsdeck(['sysctl', '--state', s, '-w', `net.ipv4.vs.${n}=${values[i]}`])),
      ...Array.from({length: 10}, (_, i) => lvsdeck(['ipvsadm', '--state', s, '-a', '-u', '10.0.0.2:53', '-r', `10.2.0.${i + 1}:53`, '-m'])),
    ]);
    expect(runs.map((r) => r.code)).toEqual(Array(20).fill(0));
    const st = state(s);
    expect(st.services[0]!.dests).toHaveLength(10);
    for (const [i, n] of names.entries()) expect(st.tunables[n], n).toBe(values[i]);
  }, 180_000);
});

describe('state file: lock', () => {
  it('a live holder makes a writer wait, then give up with the holder named; the file is unchanged', async () => {
    const dir = fresh(), s = join(dir, 'state.json');
    expect((await lvsdeck(['ipvsadm', '--state', s, '-A', '-t', '10.0.0.1:80'])).code).toBe(0);
    const before = readFileSync(s, 'utf8');
    writeFileSync(`${s}.lock`, `${process.pid} ${hostname()}\n`); // this test process: alive
    const t0 = Date.now();
    const r = await lvsdeck(['ipvsadm', '--state', s, '-D', '-t', '10.0.0.1:80'], {env: {LVSDECK_STATE_LOCK_TIMEOUT_MS: '400'}});
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`is locked by process ${process.pid} on ${hostname()}`);
    expect(r.stderr).toContain('gave up after 400 ms');
    expect(readFileSync(s, 'utf8')).toBe(before);
    expect(existsSync(`${s}.lock`)).toBe(true); // not ours to remove
  }, 60_000);

  it('a dead holder\'s lock is broken, and temporaries of a writer killed mid-write are removed', async () => {
    const dir = fresh(), s = join(dir, 'state.json');
    const pid = deadPid();
    writeFileSync(`${s}.lock`, `${pid} ${hostname()}\n`);
    writeFileSync(`${s}.tmp-${pid}-1733300000000`, ''); // what a kill -9 during the write leaves
    const r = await lvsdeck(['ipvsadm', '--state', s, '-A', '-t', '10.0.0.1:80']);
    expect(r).toMatchObject({code: 0, stderr: ''});
    expect(readdirSync(dir).sort()).toEqual(['state.json']);
  }, 60_000);
});

describe('state file: what a write keeps', () => {
  it('keeps the file mode (0600 stays 0600)', async () => {
    const dir = fresh(), s = join(dir, 'state.json');
    expect((await lvsdeck(['ipvsadm', '--state', s, '-A', '-t', '10.0.0.1:80'])).code).toBe(0);
    chmodSync(s, 0o600);
    expect((await lvsdeck(['ipvsadm', '--state', s, '-a', '-t', '10.0.0.1:80', '-r', '10.1.0.1'])).code).toBe(0);
    expect(statSync(s).mode & 0o777).toBe(0o600);
    expect(state(s).services[0]!.dests).toHaveLength(1);
  }, 60_000);

  it('writes through a symlink: the link stays, its target gets the change', async () => {
    const dir = fresh(), real = join(dir, 'real.json'), link = join(dir, 'link.json');
    symlinkSync('real.json', link);
    expect((await lvsdeck(['ipvsadm', '--state', link, '-A', '-t', '10.0.0.1:80'])).code).toBe(0);
    expect((await lvsdeck(['sysctl', '--state', link, '-w', 'net.ipv4.vs.am_droprate=20'])).code).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe('real.json');
    expect(state(real).services).toHaveLength(1);
    expect(state(real).tunables.am_droprate).toBe('20');
  }, 60_000);
});

describe('state file: only regular files within the bound', () => {
  it('refuses a FIFO at once instead of blocking on it', async () => {
    const dir = fresh(), fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const t0 = Date.now();
    const r = await lvsdeck(['ipvsadm', '--state', fifo, '-L', '-n']);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('is a FIFO; only regular files are read');
  }, 60_000);

  it('refuses /dev/zero as state file and as `sysctl -p` file without reading it', async () => {
    const dir = fresh();
    const a = await lvsdeck(['ipvsadm', '--state', '/dev/zero', '-L', '-n']);
    expect(a.code).toBe(1);
    expect(a.stderr).toContain('/dev/zero is a device; only regular files are read');
    const b = await lvsdeck(['sysctl', '--state', join(dir, 's.json'), '-p', '/dev/zero']);
    expect(b.code).not.toBe(0);
    expect(b.stderr).toContain('/dev/zero is a device');
  }, 60_000);

  it('refuses a state file over the size bound, naming the bound', async () => {
    const dir = fresh(), s = join(dir, 'big.json');
    writeFileSync(s, Buffer.alloc(16 * 2 ** 20 + 1, 0x20));
    const r = await lvsdeck(['ipvsadm', '--state', s, '-L', '-n']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is 16777217 bytes, over the limit of 16777216/);
  }, 60_000);
});
