// The ssh front in-process, driven by ssh2's own client on 127.0.0.1: authentication (keys only,
// roles, from=, failures logged and rate-limited, login grace), exec listings (read-only), session
// limits, resize, disconnects freeing everything, and the host's backpressure rule.
import {chmodSync, mkdtempSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {connect as tcpConnect} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {PassThrough, Writable} from 'node:stream';
import {afterAll, beforeAll, describe, expect, test} from 'vitest';
import {buildDemo} from '../src/demo/default-config.js';
import ssh2 from 'ssh2';
import {ensureHostKey, generateEd25519} from '../src/ssh/host-key.js';
import {DeckHost} from '../src/ssh/host.js';
import {SshServer} from '../src/ssh/server.js';
import {asTtyIn, SshTtyOut} from '../src/ssh/tty.js';
import {prepareServerEnv, parseListen, parseServeArgs} from '../src/cli/serve-cmd.js';
import {type SshClient, sshConnect, sshExec, sshShell, until} from './helpers/ssh-client.js';

const dir = mkdtempSync(join(tmpdir(), 'lvsdeck-ssh-'));
const key = generateEd25519;
const alice = key('alice'), bob = key('bob'), eve = key('eve'), far = key('far'), forced = key('forced'), nopty = key('nopty');
const pubOf = (k: {public: string}) => k.public.split(' ').slice(0, 2).join(' ');
const akPath = join(dir, 'authorized_keys');
writeFileSync(akPath, [
  `environment="LVSDECK_ROLE=operator" ${pubOf(alice)} alice`,
  `${pubOf(bob)} bob`,
  `from="192.0.2.0/24" ${pubOf(far)} far`,
  `command="ipvsadm -Ln" ${pubOf(forced)} forced`,
  `no-pty,environment="LVSDECK_ROLE=admin" ${pubOf(nopty)} nopty`,
  `bogus-option ${pubOf(eve)} not-eve`,
].join('\n') + '\n');

const logs: string[] = [];
const events: Record<string, unknown>[] = [];
let host: DeckHost;
let server: SshServer;
let port = 0;
const clients: SshClient[] = [];

const connect = (o: {privateKey?: string; password?: string; tryKeyboard?: boolean} = {}) => sshConnect(port, clients, o);
const exec = sshExec;
const shell = sshShell;

beforeAll(async () => {
  const hk = ensureHostKey(join(dir, 'host_key'));
  host = new DeckHost({sim: buildDemo(1), fps: 10, onEvent: (e) => events.push(e)});
  host.start();
  server = new SshServer(host, {
    host: '127.0.0.1', port: 0, hostKey: hk.pem, authorizedKeysPath: akPath, maxSessions: 3, maxPerKey: 2, maxConns: 20,
    authTries: 4, loginGraceMs: 1500, exec: true, log: (l) => logs.push(l), event: (e) => events.push(e),
    limiter: {burst: 4, refillPerSec: 1 / 600, cooldownMs: 60_000},
  });
  port = (await server.listen()).port;
});

afterAll(async () => {
  for (const c of clients) c.destroy();
  host?.stop();
  await server?.close();
  rmSync(dir, {recursive: true, force: true});
});

describe('host key', () => {
  test('generated keys are always readable: ssh2 1.17 alone makes about 1 ed25519 pair in 256 that its parser rejects', () => {
    // 2000 pairs: the generator's flaw shows in all but 0.04 % of runs (255/256 to the 2000th)
    for (let i = 0; i < 2000; i++) {
      const k = generateEd25519('k');
      expect(ssh2.utils.parseKey(k.private)).not.toBeInstanceOf(Error);
      expect(ssh2.utils.parseKey(k.public)).not.toBeInstanceOf(Error);
    }
  });

  test('generated once with mode 0600 and kept; a key readable by others is refused', () => {
    const p = join(dir, 'hk2');
    const a = ensureHostKey(p);
    const b = ensureHostKey(p);
    expect(a.created).toBe(true);
    expect(b.created).toBe(false);
    expect(b.fingerprint).toBe(a.fingerprint);
    expect(a.fingerprint).toMatch(/^SHA256:/);
    expect(statSync(p).mode & 0o777).toBe(0o600);
    chmodSync(p, 0o644);
    expect(() => ensureHostKey(p)).toThrow(/accessible by others \(mode 644\); chmod 600/);
  });
});

describe('authentication', () => {
  test('the authorized keys load with their roles; a bad line is reported', () => {
    const k = server.keys();
    expect(k.keys.map((x) => `${x.name}=${x.role}`)).toEqual(['alice=operator', 'bob=reader', 'far=reader', 'forced=reader', 'nopty=admin']);
    expect(logs.some((l) => /authorized_keys:6: unsupported option 'bogus-option'; line skipped/.test(l))).toBe(true);
  });

  test('a listed key gets in; the login is an audit event with user, role and key', async () => {
    const c = await connect({privateKey: alice.private});
    const r = await exec(c, 'who');
    expect(r.code).toBe(0);
    c.end();
    expect(events).toContainEqual(expect.objectContaining({event: 'login', user: 'alice', role: 'operator', key: expect.stringMatching(/^SHA256:/)}));
  });

  test('passwords, keyboard-interactive, unknown keys, lines skipped and from= mismatches are refused and logged', async () => {
    const before = server.counters.failedLogins;
    await expect(connect({password: 'secret', tryKeyboard: true})).rejects.toThrow(/authentication methods failed/);
    await expect(connect({privateKey: eve.private})).rejects.toThrow(/authentication methods failed/);
    await expect(connect({privateKey: far.private})).rejects.toThrow(/authentication methods failed/);
    await until(() => server.counters.failedLogins === before + 3);
    const failed = events.filter((e) => e.event === 'auth-failed');
    expect(failed.at(-3)).toMatchObject({ip: '127.0.0.1', methods: ['none', 'password', 'keyboard-interactive'],
      reason: 'password authentication is not offered; keyboard-interactive authentication is not offered'});
    expect(failed.at(-2)).toMatchObject({reason: expect.stringMatching(/^key SHA256:\S+ is not authorized$/)});
    expect(failed.at(-1)).toMatchObject({reason: expect.stringMatching(/\(far\) not allowed from 127\.0\.0\.1/)});
    expect(logs.some((l) => /failed login from 127\.0\.0\.1:\d+ as "whoever"/.test(l))).toBe(true);
  });
});

describe('exec: read-only listings', () => {
  test('ipvsadm and sysctl listings work for a reader; every changing form is refused', async () => {
    const c = await connect({privateKey: bob.private});
    const ls = await exec(c, 'ipvsadm -Ln');
    expect(ls.code).toBe(0);
    expect(ls.stdout).toMatch(/TCP {2}10\.0\.0\.1:80 wlc\n {2}-> 10\.1\.0\.11:8080 +Masq +3 /);
    const sys = await exec(c, 'sysctl net.ipv4.vs.drop_entry');
    expect(sys).toEqual({stdout: 'net.ipv4.vs.drop_entry = 1\n', stderr: '', code: 0});
    for (const cmd of ['ipvsadm -A -t 10.9.9.9:80', 'ipvsadm -C', 'sysctl -w net.ipv4.vs.drop_entry=3', 'sysctl net.ipv4.vs.drop_entry=3', 'rm -rf /', 'sh']) {
      const r = await exec(c, cmd);
      expect(r.code, cmd).toBe(1);
      expect(r.stderr, cmd).toMatch(/^lvsdeck: /);
    }
    expect(host.backend.snapshot().services.length).toBe(3);
    expect(host.backend.tunables().find((t) => t.name === 'drop_entry')!.value).toBe('1');
    const help = await exec(c, 'help');
    expect(help.stdout).toMatch(/Read-only commands:/);
    c.end();
  });

  test('a command="..." key runs only its command; a no-pty key gets no UI', async () => {
    const c = await connect({privateKey: forced.private});
    const r = await exec(c, 'sysctl -a');
    expect(r.stdout).toMatch(/^IP Virtual Server version/);
    c.end();
    const n = await connect({privateKey: nopty.private});
    await expect(shell(n)).rejects.toThrow(/Unable to request a pseudo-terminal/);
    const sh = await shell(n, 0);
    expect(await sh.exit).toBe(1);
    expect(sh.out()).toMatch(/the UI needs a terminal.*no-pty/);
    expect((await exec(n, 'who')).code).toBe(0);
    n.end();
  });
});

describe('UI sessions', () => {
  test('a shell opens a session of its own; window-change resizes it; limits per key and in total; disconnect frees it', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const timers0 = timers();
    const a = await connect({privateKey: alice.private});
    const s1 = await shell(a, 100, 30);
    await until(() => host.presence.size === 1);
    const h1 = host.sessions[0]!;
    expect(h1.identity).toMatchObject({user: 'alice', role: 'operator', from: expect.stringMatching(/^ssh 127\.0\.0\.1:\d+$/)});
    expect(s1.out()).toContain('\x1b[?1049h'); // alternate screen
    s1.ch.setWindow(40, 140, 0, 0);
    await until(() => h1.session.state.size.cols === 140 && h1.session.state.size.rows === 40);
    expect(host.presence.list()[0]).toMatchObject({cols: 140, rows: 40});
    // per key: 2
    const s2 = await shell(a);
    await until(() => host.presence.size === 2);
    const s3 = await shell(a);
    expect(await s3.exit).toBe(1);
    expect(s3.out()).toMatch(/too many sessions for this key \(2 open, limit 2\)/);
    // in total: 3
    const b = await connect({privateKey: bob.private});
    const s4 = await shell(b);
    await until(() => host.presence.size === 3);
    const s5 = await shell(b);
    expect(await s5.exit).toBe(1);
    expect(s5.out()).toMatch(/too many sessions \(3 open, limit 3\)/);
    expect(events).toContainEqual(expect.objectContaining({event: 'session-refused', user: 'bob'}));
    // the reader's session refuses changes; the operator's goes through; both share the engine
    const hb = host.sessions.find((h) => h.identity.user === 'bob')!;
    const ha = h1;
    const op = {op: 'set-tunable', name: 'drop_packet', value: '3'} as const;
    expect(hb.session.apply(op).ok).toBe(false);
    expect(ha.session.apply(op).ok).toBe(true);
    hb.session.refresh();
    expect(hb.session.state.snap!.defense.drop_packet.mode).toBe(3);
    expect(host.audit.list().slice(-2).map((e) => [e.user, e.outcome, e.from?.startsWith('ssh 127.0.0.1:')])).toEqual([['bob', 'refused', true], ['alice', 'ok', true]]);
    // q ends a session: exit status 0, the alternate screen is left
    s2.ch.write('q');
    expect(await s2.exit).toBe(0);
    expect(s2.out()).toContain('\x1b[?1049l');
    await until(() => host.presence.size === 2);
    // a dropped connection frees its sessions too
    a.destroy();
    await until(() => host.presence.size === 1);
    expect(await s1.exit).toBeNull();
    b.end();
    await until(() => host.presence.size === 0 && host.sessions.length === 0);
    expect(events.filter((e) => e.event === 'session-close').map((e) => e.reason)).toEqual(expect.arrayContaining(['quit', 'disconnected']));
    // nothing left behind: no sessions, no connections, no timers beyond the ones before
    await until(() => server.connections === 0 && timers() <= timers0);
    void s4;
  });

  test('a peer that never authenticates is dropped after the login grace time', async () => {
    const sock = tcpConnect(port, '127.0.0.1');
    sock.on('error', () => {});
    sock.on('data', () => {}); // read the server's ident line (a paused socket would never see the close)
    const t0 = Date.now();
    await new Promise((r) => sock.once('close', r));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(Date.now() - t0).toBeLessThan(5000);
    // it counts as a failed login for its address, like any connection that never got in
    await until(() => events.some((e) => e.event === 'preauth-dropped' && e.ip === '127.0.0.1' && e.reason === 'login grace time over'));
  });

  test('after too many failed logins an address is blocked: its connections are closed before the handshake', async () => {
    // burst 4: earlier tests used 3 failed logins and one idle connection dropped by the grace timer
    await until(() => server.limiter.blocked().includes('127.0.0.1'));
    expect(events).toContainEqual(expect.objectContaining({event: 'preauth-dropped', blocked: 60}));
    const t0 = Date.now();
    await expect(connect({privateKey: alice.private})).rejects.toThrow();
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(server.counters.blockedConnections).toBeGreaterThanOrEqual(1);
    expect(logs.some((l) => /127\.0\.0\.1: blocked for \d+ s more after failed logins/.test(l))).toBe(true);
  });
});

describe('backpressure: a client that does not read', () => {
  test('its session is skipped by the publisher (others go on), and refreshed once it drains', () => {
    const h2 = new DeckHost({sim: buildDemo(2), fps: 10, softBacklog: 1000});
    const fake = () => Object.assign(new Writable({write(_c, _e, cb) { cb(); }}), {isTTY: true, columns: 100, rows: 30}) as unknown as NodeJS.WriteStream;
    const stdin = () => Object.assign(new PassThrough(), {isTTY: true, setRawMode() {}, ref() {}, unref() {}}) as unknown as NodeJS.ReadStream;
    let queued = 0;
    const slow = h2.attach({identity: {user: 'slow', role: 'reader', from: 'test'}, stdout: fake(), stdin: stdin(), backlog: () => queued});
    const fast = h2.attach({identity: {user: 'fast', role: 'reader', from: 'test'}, stdout: fake(), stdin: stdin()});
    let slowPub = 0, fastPub = 0;
    slow.session.store.subscribe(() => slowPub++);
    fast.session.store.subscribe(() => fastPub++);
    queued = 5000;
    for (let i = 0; i < 5; i++) {
      h2.o.sim!.advance(1000);
      h2.publish();
    }
    expect(slowPub).toBe(0);
    expect(fastPub).toBe(5);
    expect(slow.skipped).toBe(5);
    expect(h2.presence.list().find((p) => p.user === 'slow')!.backlogged).toBe(true);
    queued = 800; // below the soft limit but above half of it: still waits
    h2.publish();
    expect(slowPub).toBe(0);
    queued = 0;
    h2.publish();
    expect(slowPub).toBeGreaterThan(0);
    expect(slow.backlogged).toBe(false);
    expect(slow.session.state.snap!.now).toBe(h2.o.sim!.now);
    h2.stop();
    expect(h2.presence.size).toBe(0);
    expect(h2.sessions).toEqual([]);
  });
});

describe('serve command helpers', () => {
  test('the server environment: CI markers removed, colours forced unless mono, production React', () => {
    const env: NodeJS.ProcessEnv = {CI: 'true', CONTINUOUS_INTEGRATION: '1', PATH: '/bin'};
    prepareServerEnv(env, false);
    expect(env).toEqual({PATH: '/bin', FORCE_COLOR: '3', NODE_ENV: 'production'});
    const mono: NodeJS.ProcessEnv = {CI: '1'};
    prepareServerEnv(mono, true);
    expect(mono).toEqual({NODE_ENV: 'production'});
  });

  test('flags: defaults, --ssh forms, required files, bad values', () => {
    const a = parseServeArgs(['--host-key', 'k', '--authorized-keys', 'ak']);
    expect(a).toMatchObject({listen: {host: '127.0.0.1', port: 2222}, maxSessions: 16, maxPerKey: 4, maxConns: 64, authTries: 6,
      authBurst: 10, authCooldownSec: 60, exec: true, console: false, fps: 10});
    expect(parseListen('0.0.0.0:22')).toEqual({host: '0.0.0.0', port: 22});
    expect(parseListen('[::1]:2222')).toEqual({host: '::1', port: 2222});
    expect(parseListen(':0')).toEqual({host: '127.0.0.1', port: 0});
    expect(() => parseListen('nope')).toThrow(/ADDR:PORT/);
    expect(() => parseServeArgs(['--authorized-keys', 'ak'])).toThrow(/--host-key FILE is required/);
    expect(() => parseServeArgs(['--host-key', 'k'])).toThrow(/--authorized-keys FILE is required/);
    expect(() => parseServeArgs(['--host-key', 'k', '--authorized-keys', 'a', '--max-sessions', '0'])).toThrow(/1\.\.1000/);
    expect(parseServeArgs(['--help'])).toBe('help');
    expect(parseServeArgs(['--host-key', 'k', '--authorized-keys', 'a', '--max-startups', '8', '--per-source-startups', '2', '--preauth-timeout', '5']))
      .toMatchObject({maxStartups: 8, perSourceStartups: 2, preauthSec: 5});
    expect(() => parseServeArgs(['--host-key', 'k', '--authorized-keys', 'a', '--max-conns', '8', '--max-startups', '8'])).toThrow(/must be below --max-conns 8/);
  });
});

describe('tty adapters', () => {
  test('\\n becomes \\r\\n (no server pty), resize emits once per change, a closed gate drops the bytes', async () => {
    const got: string[] = [];
    let open = true;
    const out = new SshTtyOut({write: (d: string) => got.push(d)}, {cols: 80, rows: 24}, () => open);
    let resized = 0;
    out.on('resize', () => resized++);
    out.write('a\nb\r\nc');
    out.resize(100, 30);
    out.resize(100, 30);
    expect([out.columns, out.rows, resized]).toEqual([100, 30, 1]);
    open = false;
    out.write('dropped');
    await new Promise((r) => setImmediate(r));
    expect(got).toEqual(['a\r\nb\r\nc']);
    expect(out.bytes).toBe(7);
    const ch = asTtyIn(new PassThrough());
    expect(ch.isTTY).toBe(true);
    expect(ch.setRawMode(true)).toBe(ch);
  });
});
