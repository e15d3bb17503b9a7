// `lvsdeck serve --kernel` on the real kernel (inside tools/kernel-vm): the real binary serves the
// kernel's IPVS over ssh on loopback. With --allow-writes an admin's command-bar change reaches
// the kernel (ipvsadm -Sn lists it) and the audit file; a reader is refused by role; the time keys
// say the kernel has no virtual time. Without --allow-writes every session is read-only, the
// admin's included, and the kernel is untouched; --allow-writes without root is refused at start.
import assert from 'node:assert/strict';
import {type ChildProcess, spawn} from 'node:child_process';
import {chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, before, describe, it} from 'node:test';
import {generateEd25519} from '../../src/ssh/host-key.js';
import {stripAnsi} from '../../src/ui/charts.js';
import {type SshClient, sshConnect, sshExec, sshShell, until} from '../helpers/ssh-client.js';
import {VIP, buildLab, inVm, ipvsadm, resetIpvs} from './lab.js';

const BIN = join(process.cwd(), 'bin/lvsdeck.js');
// node, the UI modules and the first frames are slow under qemu TCG (a minute on a loaded host)
const STARTUP_MS = 180_000;
const FRAME_MS = 120_000;

describe('lvsdeck serve --kernel on a real 6.1 kernel', {skip: !inVm && 'needs the kernel VM (tools/kernel-vm)'}, () => {
  let dir = '';
  const admin = generateEd25519('root-oncall');
  const reader = generateEd25519('watcher');
  const pubOf = (k: {public: string}) => k.public.split(' ').slice(0, 2).join(' ');
  const clients: SshClient[] = [];
  const servers: ChildProcess[] = [];

  before(() => {
    buildLab();
    resetIpvs();
    dir = mkdtempSync(join(tmpdir(), 'serve-kernel-'));
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'authorized_keys'),
      `environment="LVSDECK_ROLE=admin" ${pubOf(admin)} root-oncall\n${pubOf(reader)} watcher\n`);
  });
  after(() => {
    for (const c of clients) c.destroy();
    for (const s of servers) s.kill('SIGKILL');
    resetIpvs();
    rmSync(dir, {recursive: true, force: true});
  });

  /** Start `lvsdeck serve --kernel ARGS` on 127.0.0.1 (a free port); resolves with the port from the status file. */
  async function serve(name: string, args: string[]): Promise<{port: number; audit: string; proc: ChildProcess; stderr: () => string}> {
    const status = join(dir, `${name}.status.json`);
    const audit = join(dir, `${name}.audit.jsonl`);
    const proc = spawn(process.execPath, [BIN, 'serve', '--kernel', ...args, '--ssh', '127.0.0.1:0', '--host-key', join(dir, 'host_key'),
      '--authorized-keys', join(dir, 'authorized_keys'), '--audit-file', audit, '--status-file', status, '--fps', '2'],
      {stdio: ['ignore', 'pipe', 'pipe']});
    servers.push(proc);
    let stderr = '';
    proc.stderr!.on('data', (d: Buffer) => { stderr += d; });
    proc.stdout!.resume();
    await until(() => existsSync(status) || proc.exitCode !== null, STARTUP_MS);
    assert.ok(existsSync(status), `serve exited ${proc.exitCode}: ${stderr}`);
    const s = JSON.parse(readFileSync(status, 'utf8')) as {listen: {port: number}; backend: string};
    assert.equal(s.backend, 'kernel');
    return {port: s.listen.port, audit, proc, stderr: () => stderr};
  }

  async function stop(proc: ChildProcess): Promise<void> {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
  }

  /** A UI session over ssh: type, and wait for text it draws after the typing (ANSI stripped). */
  async function ui(port: number, key: {private: string}, serverLog: () => string) {
    const c = await sshConnect(port, clients, {privateKey: key.private});
    const sh = await sshShell(c, 160, 40);
    let mark = 0;
    const since = () => stripAnsi(sh.out().slice(mark));
    return {
      c,
      type: (text: string) => { mark = sh.out().length; sh.ch.write(text); },
      waitFor: (re: RegExp, ms = FRAME_MS) => until(() => re.test(since()), ms)
        .catch(() => { throw new Error(`no ${re} in:\n${since().slice(-2000)}\nserver log:\n${serverLog().slice(-2000)}`); }),
    };
  }

  /** The admin's change, a reader's refusal, a time key and a listing, on a server with --allow-writes. */
  async function allowWrites(srv: {port: number; stderr: () => string}): Promise<void> {
    const a = await ui(srv.port, admin, srv.stderr);
    await a.waitFor(/root-oncall: admin role .* kernel IPVS: changes go to the running kernel/);
    a.type(`:-A -t ${VIP}:8080 -s rr\r`);
    await until(() => ipvsadm('-Sn').includes(`-A -t ${VIP}:8080 -s rr`), FRAME_MS);
    await a.waitFor(new RegExp(`ipvsadm -A -t ${VIP.replace(/\./g, '\\.')}:8080 -s rr`));

    // a reader: refused by role before anything reaches the kernel
    const r = await ui(srv.port, reader, srv.stderr);
    await r.waitFor(/watcher: reader role/);
    r.type(`:-A -t ${VIP}:8081 -s rr\r`);
    await r.waitFor(/refused: needs the admin role \(watcher is a reader\)/);
    assert.ok(!ipvsadm('-Sn').includes(':8081'));

    // the time keys: the kernel backend has no virtual time
    a.type(' ');
    await a.waitFor(/not available with the kernel backend \(no virtual time\)/);

    // exec listings are the kernel's own (the host's ipvsadm)
    const ls = await sshExec(r.c, 'ipvsadm -Ln');
    assert.equal(ls.code, 0);
    assert.match(ls.stdout, new RegExp(`TCP  ${VIP.replace(/\./g, '\\.')}:8080 rr`));
  }

  const changes = (audit: string) => readFileSync(audit, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((e) => e.event === 'change');

  it('--allow-writes: an admin adds a service from the command bar; the kernel has it and the audit file says who', {timeout: 600_000}, async () => {
    const srv = await serve('rw', ['--allow-writes']);
    try {
      await allowWrites(srv);
    } finally {
      await stop(srv.proc);
    }
    const c = changes(srv.audit);
    assert.deepEqual(c.map((e) => [e.user, e.role, e.op, e.outcome]), [
      ['root-oncall', 'admin', 'add-service', 'ok'],
      ['watcher', 'reader', 'add-service', 'refused'],
      ['root-oncall', 'admin', 'pause', 'failed'],
    ]);
    assert.equal(c[0]!.what, `ipvsadm -A -t ${VIP}:8080 -s rr`);
    assert.match(String(c[0]!.key), /^SHA256:/);
    const start = readFileSync(srv.audit, 'utf8').split('\n').map((l) => (l ? JSON.parse(l) as Record<string, unknown> : {}))
      .find((e) => e.event === 'server-start')!;
    assert.equal(start.backend, 'kernel');
  });

  it('without --allow-writes every session is read-only, the admin\'s too; the kernel is untouched', {timeout: 480_000}, async () => {
    const before = ipvsadm('-Sn');
    const srv = await serve('ro', []);
    try {
      const a = await ui(srv.port, admin, srv.stderr);
      await a.waitFor(/kernel IPVS, read-only: start with --allow-writes \(as root\) to change it/);
      a.type(`:-A -t ${VIP}:8082 -s rr\r`);
      await a.waitFor(/read-only session: "ipvsadm -A -t [0-9.]+:8082 -s rr" is disabled/);
      assert.equal(ipvsadm('-Sn'), before);
    } finally {
      await stop(srv.proc);
    }
  });

  it('--allow-writes without root is refused at start, in one line', {timeout: 180_000}, async () => {
    const proc = spawn(process.execPath, [BIN, 'serve', '--kernel', '--allow-writes', '--ssh', '127.0.0.1:0', '--host-key', join(dir, 'nobody_key'),
      '--authorized-keys', join(dir, 'authorized_keys')], {uid: 65534, gid: 65534, stdio: ['ignore', 'pipe', 'pipe']});
    let stderr = '';
    proc.stderr!.on('data', (d: Buffer) => { stderr += d; });
    const code = await new Promise((r) => proc.once('exit', r));
    assert.equal(code, 2);
    assert.equal(stderr, 'lvsdeck serve: --allow-writes needs root on a real kernel (run lvsdeck as root)\n');
  });
});
