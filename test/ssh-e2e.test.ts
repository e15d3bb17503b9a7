// End to end: `lvsdeck serve` (the real binary, started without CI in its environment, as
// docs/tui-stack.md, "Testing", says) on 127.0.0.1 with a free port, and the system OpenSSH client in tmux
// panes. Keys are made with ssh-keygen in a temp dir. Every spawned process and tmux session is
// killed in afterAll; every wait is bounded.
import {type ChildProcess, execFileSync, spawn, spawnSync} from 'node:child_process';
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, test} from 'vitest';
import {capture, keys, sleep, tmux, waitFor} from './helpers/tmux.js';

const ROOT = new URL('..', import.meta.url).pathname;
const has = (cmd: string, arg: string) => spawnSync(cmd, [arg]).error === undefined;
const hasTools = has('tmux', '-V') && has('ssh', '-V') && has('ssh-keygen', '--help');
const dir = mkdtempSync(join(tmpdir(), 'lvsdeck-ssh-e2e-'));
const tmuxSessions: string[] = [];
const children: ChildProcess[] = [];
const pids: number[] = [];

async function until<T>(what: string, fn: () => T | undefined | null | false, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

function keygen(name: string): string {
  const f = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', f]);
  return f;
}

interface Served {
  statusFile: string;
  auditFile: string;
  port: number;
  pid: number;
}

function envWithoutCi(): NodeJS.ProcessEnv {
  const env = {...process.env};
  delete env.CI;
  delete env.NODE_ENV; // vitest sets 'test'; the server picks production React itself
  return env;
}

const readJson = (f: string) => {
  try { return JSON.parse(readFileSync(f, 'utf8')); } catch { return null; }
};
const auditLines = (f: string): Record<string, any>[] =>
  existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];

/** `lvsdeck serve` as a child process; resolves once its status file names the port. */
async function serve(name: string, authorizedKeys: string, extra: string[] = []): Promise<Served> {
  const statusFile = join(dir, `${name}.status.json`);
  const auditFile = join(dir, `${name}.audit.jsonl`);
  const child = spawn('node', ['bin/lvsdeck.js', 'serve', '--ssh', '127.0.0.1:0', '--host-key', join(dir, `${name}.host_key`),
    '--authorized-keys', authorizedKeys, '--audit-file', auditFile, '--status-file', statusFile, ...extra],
  {cwd: ROOT, env: envWithoutCi(), stdio: ['ignore', 'pipe', 'pipe']});
  children.push(child);
  let err = '';
  child.stderr!.on('data', (d) => { err += d; });
  child.stdout!.resume();
  const st = await until(`${name} to listen (stderr: ${err})`, () => readJson(statusFile)?.listen?.port ? readJson(statusFile) : null, 30_000);
  return {statusFile, auditFile, port: st.listen.port, pid: st.pid};
}

const sshOpts = (port: number, key: string) => [
  '-F', '/dev/null', '-o', 'StrictHostKeyChecking=no', '-o', `UserKnownHostsFile=${join(dir, 'known_hosts')}`,
  '-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none', '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR',
  '-o', 'ConnectTimeout=10', '-i', key, '-p', String(port),
];

/** An interactive `ssh -tt` client in a tmux pane of cols x rows. */
function sshPane(name: string, port: number, key: string, cols: number, rows: number): string {
  const s = `lvsdeck-ssh-${process.pid}-${name}`;
  tmuxSessions.push(s);
  const cmd = ['ssh', '-tt', ...sshOpts(port, key), `${name}@127.0.0.1`].map((w) => `'${w}'`).join(' ');
  tmux('new-session', '-d', '-s', s, '-x', String(cols), '-y', String(rows), 'sh', '-c', `${cmd}; echo SSH-EXIT=$?; sleep 60`);
  return s;
}

function sshRun(port: number, key: string, ...cmd: string[]) {
  return spawnSync('ssh', [...sshOpts(port, key), 'someone@127.0.0.1', ...cmd], {encoding: 'utf8', timeout: 15_000});
}

let alice = '', bob = '', eve = '', root = '';
let main: Served;
let akMain = '';

beforeAll(async () => {
  if (!hasTools) throw new Error('tmux, ssh and ssh-keygen are needed for the ssh end-to-end tests');
  alice = keygen('alice');
  bob = keygen('bob');
  eve = keygen('eve');
  root = keygen('root');
  const pub = (f: string) => readFileSync(`${f}.pub`, 'utf8').trim();
  akMain = join(dir, 'authorized_keys');
  writeFileSync(akMain, [
    '# lvsdeck roles',
    `environment="LVSDECK_ROLE=operator" ${pub(alice)}`,
    `${pub(bob)}`,
    `environment="LVSDECK_ROLE=admin",environment="LVSDECK_USER=root-oncall" ${pub(root)}`,
  ].join('\n') + '\n');
  main = await serve('main', akMain);
}, 40_000);

afterAll(() => {
  for (const s of tmuxSessions) spawnSync('tmux', ['kill-session', '-t', s]);
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const p of pids) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
  rmSync(dir, {recursive: true, force: true});
});

describe.skipIf(!hasTools)('lvsdeck serve with the OpenSSH client', () => {
  test('a password or an unknown key is refused (and logged); a listed key gets the read-only listings', () => {
    const pw = spawnSync('ssh', ['-F', '/dev/null', '-o', 'StrictHostKeyChecking=no', '-o', `UserKnownHostsFile=${join(dir, 'known_hosts')}`,
      '-o', 'PubkeyAuthentication=no', '-o', 'PreferredAuthentications=password,keyboard-interactive', '-o', 'BatchMode=yes',
      '-p', String(main.port), 'root@127.0.0.1', 'who'], {encoding: 'utf8', timeout: 15_000});
    expect(pw.status).toBe(255);
    expect(pw.stderr).toMatch(/Permission denied \(publickey\)/);
    const unknown = sshRun(main.port, eve, 'who');
    expect(unknown.status).toBe(255);
    expect(unknown.stderr).toMatch(/Permission denied \(publickey\)/);
    const ls = sshRun(main.port, bob, 'ipvsadm', '-Ln');
    expect(ls.status).toBe(0);
    expect(ls.stdout).toMatch(/TCP {2}10\.0\.0\.1:80 wlc/);
    expect(ls.stdout).toMatch(/-> 10\.1\.0\.11:8080\s+Masq\s+3\s/);
    const change = sshRun(main.port, alice, 'ipvsadm', '-e', '-t', '10.0.0.1:80', '-r', '10.1.0.11:8080', '-w', '0');
    expect(change.status).toBe(1);
    expect(change.stderr).toMatch(/ssh exec is read-only/);
    const noTty = sshRun(main.port, alice);
    expect(noTty.status).toBe(1);
    expect(noTty.stderr).toMatch(/the UI needs a terminal: ssh -t/);
    const failed = auditLines(main.auditFile).filter((e) => e.event === 'auth-failed');
    expect(failed.length).toBeGreaterThanOrEqual(2);
    expect(failed.some((e) => e.methods.includes('publickey') && /is not authorized/.test(e.reason) && e.ip === '127.0.0.1')).toBe(true);
  }, 40_000);

  test('two operators: roles, one change seen by both at once, the audit file, resize, disconnects', async () => {
    const a = sshPane('alice', main.port, alice, 120, 40);
    const b = sshPane('bob', main.port, bob, 100, 30);
    await waitFor(a, /alice:operator \+1 \d\d:\d\d:\d\d ▶ ×1/, 20_000);
    await waitFor(b, /bob:reader \+1 \d\d:\d\d:\d\d ▶ ×1/, 20_000);
    const st = await until('2 sessions in the status file', () => (readJson(main.statusFile)?.sessions === 2 ? readJson(main.statusFile) : null));
    expect(st.peers.map((p: any) => [p.user, p.role, p.cols, p.rows]).sort()).toEqual([['alice', 'operator', 120, 40], ['bob', 'reader', 100, 30]]);

    // both on the Services view, both select the real server 10.1.0.11:8080 (own selections)
    keys(a, '2');
    keys(b, '2');
    for (const s of [a, b]) {
      await waitFor(s, /Services: 3 virtual, 7 real servers/);
      // one key at a time, each waiting for the selection to move (a loaded machine draws late)
      for (let i = 0; i < 8; i++) {
        const before = capture(s).split('\n').find((l) => l.startsWith('▸')) ?? '';
        if (/▸\s+-> 10\.1\.0\.11:8080/.test(before)) break;
        keys(s, 'j');
        await until('the selection to move', () => (capture(s).split('\n').find((l) => l.startsWith('▸')) ?? '').slice(0, 30) !== before.slice(0, 30));
      }
      await waitFor(s, /▸\s+-> 10\.1\.0\.11:8080\s+Masq\s+3\s/);
    }

    // the reader tries to quiesce it: refused with the role needed; nothing changes anywhere
    keys(b, 'z');
    await waitFor(b, /refused: needs the operator role \(bob is a reader\)/);
    await sleep(300);
    expect(capture(a)).toMatch(/-> 10\.1\.0\.11:8080\s+Masq\s+3\s/);
    expect(capture(b)).toMatch(/-> 10\.1\.0\.11:8080\s+Masq\s+3\s/);

    // the operator quiesces it: both screens show weight 0 at once, bob sees who did it
    keys(a, 'z');
    await waitFor(a, /-> 10\.1\.0\.11:8080\s+Masq\s+0 Q/);
    const seenAt = Date.now();
    await waitFor(b, /-> 10\.1\.0\.11:8080\s+Masq\s+0 Q/, 3000);
    expect(Date.now() - seenAt).toBeLessThan(2000);
    await waitFor(b, /alice \(operator\): ipvsadm -e -t 10\.0\.0\.1:80 -r 10\.1\.0\.11:8080 -m -w 0/);

    // the audit file: one JSON line per change, refusals included, with old and new values
    const changes = await until('two change lines', () => {
      const c = auditLines(main.auditFile).filter((e) => e.event === 'change');
      return c.length >= 2 ? c : null;
    });
    const refused = changes.find((e) => e.user === 'bob')!;
    expect(refused).toMatchObject({
      role: 'reader', op: 'edit-dest', ok: false, outcome: 'refused', result: 'needs operator',
      target: 'real server 10.1.0.11:8080 of -t 10.0.0.1:80', old: {weight: 3}, new: {weight: 0},
    });
    const done = changes.find((e) => e.user === 'alice')!;
    expect(done).toMatchObject({
      role: 'operator', op: 'edit-dest', ok: true, outcome: 'ok', what: 'ipvsadm -e -t 10.0.0.1:80 -r 10.1.0.11:8080 -m -w 0',
      old: {fwd: 'masq', weight: 3}, new: {fwd: 'masq', weight: 0}, change: 'weight 3 → 0',
      from: expect.stringMatching(/^ssh 127\.0\.0\.1:\d+$/), key: expect.stringMatching(/^SHA256:/),
    });
    expect(Date.parse(done.time)).toBeGreaterThan(Date.now() - 60_000);
    expect(done.virtualTime).toMatch(/^\d\d:\d\d:\d\d\.\d{3}$/);
    expect(done.virtual).toBeGreaterThan(0);
    // ... and the listing over exec agrees
    expect(sshRun(main.port, bob, 'ipvsadm', '-Ln').stdout).toMatch(/-> 10\.1\.0\.11:8080\s+Masq\s+0\s/);

    // who is connected, and the audit pane
    keys(b, '7');
    const who = await waitFor(b, /Who: 2 connected/);
    expect(who).toMatch(/alice\s+operator\s+ssh 127\.0\.0\.1:\d+\s+since/);
    expect(who).toMatch(/▸\s*\d+ bob\s+reader/);
    expect(who).toMatch(/alice\s+operator ok\s+weight 3 → 0 {2}· {2}ipvsadm -e -t 10\.0\.0\.1:80/);
    expect(who).toMatch(/bob\s+reader\s+REFUSED\s+weight 3 → 0 {2}· {2}ipvsadm -e/);

    // a resize re-lays out (the wide header) and the server knows the new size
    tmux('resize-window', '-t', b, '-x', '140', '-y', '45');
    await waitFor(b, /drop_entry:armed\s+drop_packet:armed\s+secure_tcp:armed/);
    await until('bob at 140x45', () => readJson(main.statusFile)?.peers?.some((p: any) => p.user === 'bob' && p.cols === 140 && p.rows === 45));

    // q ends alice's session (ssh exit 0); killing bob's ssh client frees his
    keys(a, 'q');
    await waitFor(a, /SSH-EXIT=0/);
    await until('1 session', () => readJson(main.statusFile)?.sessions === 1);
    await waitFor(b, /bob:reader \d\d:/); // no "+1" any more
    const pane = tmux('display-message', '-p', '-t', b, '#{pane_pid}').trim();
    const sshPid = Number(execFileSync('pgrep', ['-P', pane, '-x', 'ssh'], {encoding: 'utf8'}).trim().split('\n')[0]);
    process.kill(sshPid, 'SIGKILL');
    const after = await until('0 sessions', () => (readJson(main.statusFile)?.sessions === 0 ? readJson(main.statusFile) : null));
    expect(after.peers).toEqual([]);
    const closes = auditLines(main.auditFile).filter((e) => e.event === 'session-close');
    expect(closes.map((e) => [e.user, e.reason]).sort()).toEqual([['alice', 'quit'], ['bob', 'disconnected']]);
  }, 60_000);

  test('--console: the local terminal is an admin session of the same server; quitting it stops the server', async () => {
    const ak = join(dir, 'ak-console');
    writeFileSync(ak, `environment="LVSDECK_ROLE=operator" ${readFileSync(`${alice}.pub`, 'utf8')}`);
    const statusFile = join(dir, 'console.status.json');
    const s = `lvsdeck-ssh-${process.pid}-console`;
    tmuxSessions.push(s);
    const cmd = `cd ${ROOT} && env -u CI -u NODE_ENV USER=ops node bin/lvsdeck.js serve --console --ssh 127.0.0.1:0 ` +
      `--host-key ${join(dir, 'console.host_key')} --authorized-keys ${ak} --status-file ${statusFile}; echo SERVE-EXIT=$?; sleep 60`;
    tmux('new-session', '-d', '-s', s, '-x', '120', '-y', '36', 'sh', '-c', cmd);
    await waitFor(s, /ops:admin \d\d:\d\d:\d\d ▶ ×1/, 30_000);
    const st = await until('console status', () => readJson(statusFile)?.listen?.port ? readJson(statusFile) : null);
    pids.push(st.pid);
    expect(st.sessions).toBe(1);
    const a = sshPane('alice-console', st.listen.port, alice, 100, 30);
    await waitFor(a, /alice:operator \+1/, 20_000);
    await waitFor(s, /ops:admin \+1/);
    // the console is an admin: it may change any tunable, and the ssh operator sees it
    keys(s, ':');
    keys(s, '-l', 'sysctl -w net.ipv4.vs.amemthresh=2048');
    keys(s, 'Enter');
    await waitFor(s, /amemthresh = 2048/);
    await waitFor(a, /ops \(admin\): sysctl -w net\.ipv4\.vs\.amemthresh=2048\s+\[amemthresh 1024 → 2048\]/);
    keys(s, 'q');
    await waitFor(s, /SERVE-EXIT=0/, 15_000);
    await waitFor(a, /server stopping/);
    await waitFor(a, /SSH-EXIT=\d+/);
  }, 60_000);
});
