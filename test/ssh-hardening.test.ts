// What a hostile client or a careless operator could do to `lvsdeck serve`, each fixed and kept so:
// huge pty sizes and window-change floods (clamped, coalesced), too many channels and execs, a key
// flood (rate-limited input), idle unauthenticated sockets filling --max-conns (a separate pre-auth
// limit, total and per address, and a short pre-auth timeout), forged log lines and escape
// sequences in client-supplied strings, and refused key presses flushing the audit view.
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {connect as tcpConnect, type Socket} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {PassThrough} from 'node:stream';
import ssh2 from 'ssh2';
import type {ClientChannel} from 'ssh2';
import {afterAll, beforeAll, describe, expect, test} from 'vitest';
import {buildDemo} from '../src/demo/default-config.js';
import {AuditLog} from '../src/store/actions.js';
import {escapeControls, quoteUntrusted, safeJson} from '../src/util/untrusted-text.js';
import {changeRecord, JsonLinesFile} from '../src/ssh/audit-file.js';
import {ensureHostKey, generateEd25519} from '../src/ssh/host-key.js';
import {DeckHost} from '../src/ssh/host.js';
import {CHANNELS_PER_CONN, clampPty, EXEC_BURST, PTY_BOUNDS, ResizeThrottle} from '../src/ssh/limits.js';
import {PreAuthGate} from '../src/ssh/preauth.js';
import {SshServer} from '../src/ssh/server.js';
import {InputThrottle} from '../src/ssh/tty.js';
import {MAX_INPUT_CHARS} from '../src/store/session.js';
import {sessionWorld} from '../bench/fuzz/ssh-input.js';
import {charKey, handleKey} from '../src/ui/keys.js';
import {sshExec} from './helpers/ssh-client.js';

const {Client} = ssh2;
type SshClient = InstanceType<typeof Client>;

const dir = mkdtempSync(join(tmpdir(), 'lvsdeck-ssh-hard-'));
const key = generateEd25519;
const admin = key('root'), reader = key('rita');
const pubOf = (k: {public: string}) => k.public.split(' ').slice(0, 2).join(' ');
const akPath = join(dir, 'authorized_keys');
writeFileSync(akPath, [
  `environment="LVSDECK_ROLE=admin" ${pubOf(admin)} root`,
  `${pubOf(reader)} rita`,
].join('\n') + '\n');

const logs: string[] = [];
const events: Record<string, unknown>[] = [];
const auditFile = new JsonLinesFile(join(dir, 'audit.jsonl'));
let host: DeckHost;
let server: SshServer;
let port = 0;
const clients: SshClient[] = [];
const sockets: Socket[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(20);
  }
}

function connect(o: {privateKey?: string; username?: string; localAddress?: string} = {}): Promise<SshClient> {
  return new Promise((resolve, reject) => {
    const c = new Client();
    clients.push(c);
    c.on('ready', () => resolve(c)).on('error', reject).on('close', () => reject(new Error('closed')));
    c.connect({host: '127.0.0.1', port, username: 'whoever', readyTimeout: 8000, hostVerifier: () => true, ...o});
  });
}

/** A TCP connection that never sends a byte (it reads, so it sees the server close it). */
function idle(localAddress = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve) => {
    const s = tcpConnect({port, host: '127.0.0.1', localAddress}, () => resolve(s));
    s.on('error', () => {});
    s.on('data', () => {});
    sockets.push(s);
  });
}
const closed = (s: Socket) => new Promise<void>((r) => (s.destroyed ? r() : s.once('close', () => r())));

function shell(c: SshClient, cols: number, rows: number): Promise<{ch: ClientChannel; out: () => string}> {
  return new Promise((resolve, reject) => {
    c.shell({term: 'xterm-256color', cols, rows}, (err, ch) => {
      if (err) return reject(err);
      let out = '';
      ch.on('data', (d: Buffer) => { out += d; });
      ch.stderr.on('data', (d: Buffer) => { out += d; });
      resolve({ch, out: () => out});
    });
  });
}

const exec = sshExec;

beforeAll(async () => {
  const hk = ensureHostKey(join(dir, 'host_key'));
  host = new DeckHost({sim: buildDemo(1), fps: 10, onEvent: (e) => events.push(e)});
  host.audit.addSink((e) => auditFile.append(changeRecord(e)));
  host.start();
  // 8 connections; 4 of them at most unauthenticated, 3 from one address; 400 ms to ask to authenticate
  server = new SshServer(host, {
    host: '127.0.0.1', port: 0, hostKey: hk.pem, authorizedKeysPath: akPath, maxSessions: 4, maxPerKey: 4, maxConns: 8,
    maxStartups: 4, perSourceStartups: 3, preauthMs: 600, authTries: 4, loginGraceMs: 5000, exec: true,
    log: (l) => logs.push(l), event: (e) => { events.push(e); auditFile.append(e); },
    limiter: {burst: 1000, refillPerSec: 1, cooldownMs: 60_000},
  });
  port = (await server.listen()).port;
});

afterAll(async () => {
  for (const c of clients) c.destroy();
  for (const s of sockets) s.destroy();
  host?.stop();
  await server?.close();
  rmSync(dir, {recursive: true, force: true});
});

describe('terminal sizes: a reader cannot make the server draw a 10000x5000 terminal', () => {
  test('pty sizes are clamped to the documented bounds; 0 and junk give 80x24', () => {
    expect(clampPty(10000, 5000)).toEqual({cols: PTY_BOUNDS.maxCols, rows: PTY_BOUNDS.maxRows});
    expect(clampPty(0, 0)).toEqual({cols: 80, rows: 24});
    expect(clampPty(-5, Number.NaN)).toEqual({cols: 80, rows: 24});
    expect(clampPty('120', 2 ** 32)).toEqual({cols: 80, rows: PTY_BOUNDS.maxRows});
    expect(clampPty(132.7, 43)).toEqual({cols: 132, rows: 43});
  });

  test('over ssh: the pty request and every window change are clamped; a flood of window changes is coalesced', async () => {
    const c = await connect({privateKey: reader.private});
    const s = await shell(c, 10000, 5000);
    await until(() => host.sessions.length === 1);
    const h = host.sessions[0]!;
    expect(h.session.state.size).toEqual({cols: PTY_BOUNDS.maxCols, rows: PTY_BOUNDS.maxRows});
    expect(host.presence.list()[0]).toMatchObject({cols: PTY_BOUNDS.maxCols, rows: PTY_BOUNDS.maxRows});
    const rss0 = process.memoryUsage().rss;
    for (let i = 0; i < 2000; i++) s.ch.setWindow(1 + (i % 7000), 1 + (i % 9000), 0, 0);
    s.ch.setWindow(45, 140, 0, 0);
    await until(() => h.session.state.size.cols === 140 && h.session.state.size.rows === 45);
    // the last size wins; far fewer re-layouts than requests; memory did not follow the requests
    await sleep(300);
    expect(h.session.state.size).toEqual({cols: 140, rows: 45});
    expect(process.memoryUsage().rss - rss0).toBeLessThan(300 * 2 ** 20);
    s.ch.write('q');
    await until(() => host.sessions.length === 0);
    c.end();
  });

  test('ResizeThrottle: the first change at once, then at most one per interval, the latest of a burst', async () => {
    const applied: string[] = [];
    const r = new ResizeThrottle((c, w) => applied.push(`${c}x${w}`), 400);
    r.request(100, 30);
    for (let i = 0; i < 500; i++) r.request(200 + i, 40);
    expect(applied).toEqual(['100x30']);
    await until(() => applied.length === 2);
    expect(applied).toEqual(['100x30', `${PTY_BOUNDS.maxCols}x40`]);
    // within the next interval: held back, and dropped by stop()
    r.request(90, 20);
    r.stop();
    await sleep(500);
    expect(applied.length).toBe(2);
    expect(r.received).toBe(502);
  });

  test('a connection may hold at most CHANNELS_PER_CONN session channels at once', async () => {
    const c = await connect({privateKey: reader.private});
    // all the opens reach the server before any of the channels is used and closed
    const rs = await Promise.all(Array.from({length: CHANNELS_PER_CONN + 2}, () => exec(c, 'who').catch((e: Error) => e)));
    expect(rs.filter((r) => r instanceof Error).length).toBe(2);
    expect(rs.filter((r) => !(r instanceof Error) && r.code === 0).length).toBe(CHANNELS_PER_CONN);
    // closed channels free their slots
    expect((await exec(c, 'who')).code).toBe(0);
    expect(logs.some((l) => /session channel refused, 10 open \(limit 10\)/.test(l))).toBe(true);
    c.end();
  });

  test('exec requests are rate-limited per connection; an over-long command line is refused', async () => {
    const c = await connect({privateKey: reader.private});
    const results = [];
    for (let i = 0; i < EXEC_BURST + 10; i++) results.push(await exec(c, 'who'));
    const refused = results.filter((r) => /too many commands/.test(r.stderr));
    expect(refused.length).toBeGreaterThan(0);
    expect(results.slice(0, EXEC_BURST).every((r) => r.code === 0)).toBe(true);
    await sleep(1100); // tokens come back
    expect((await exec(c, 'who')).code).toBe(0);
    const long = await exec(c, `ipvsadm -Ln ${'-n '.repeat(3000)}`);
    expect(long.stderr).toMatch(/command line too long/);
    expect(events).toContainEqual(expect.objectContaining({event: 'exec-refused', user: 'rita'}));
    c.end();
  });
});

describe('key floods: input reaches the UI at a bounded rate', () => {
  test('InputThrottle: a burst passes at once, a flood is spread over ticks, the source is paused past the queue bound', async () => {
    const src = new PassThrough();
    let paused = 0;
    const origPause = src.pause.bind(src);
    src.pause = () => { paused++; return origPause(); };
    let t = 0;
    const th = new InputThrottle(src, {burst: 100, perSec: 1000, perTick: 40, tickMs: 5, maxQueued: 500}, () => t);
    const pieces: string[] = [];
    th.setEncoding('utf8');
    th.on('data', (d: string) => pieces.push(d));
    src.write('jk');
    await until(() => pieces.length === 1);
    expect(pieces).toEqual(['jk']);
    src.write('x'.repeat(2000) + '😀');
    await until(() => pieces.length === 4);
    await sleep(30);
    expect(paused).toBe(1);
    expect(th.peakQueued).toBeGreaterThanOrEqual(500);
    // tokens: 98 left and no time passes: 40, 40, 18, then nothing until the clock moves
    expect(pieces.slice(1).map((p) => p.length)).toEqual([40, 40, 18]);
    for (let i = 0; i < 200 && th.queued > 0; i++) { t += 100; await sleep(8); }
    expect(pieces.join('')).toBe('jk' + 'x'.repeat(2000) + '😀');
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThanOrEqual(40);
    th.stop();
  });
});

describe('per-session buffers', () => {
  test('a line input holds at most MAX_INPUT_CHARS, however much is pasted', () => {
    const w = sessionWorld(() => 0.5);
    w.session.beginInput('command');
    for (let i = 0; i < 50; i++) w.session.editInput((b) => b + 'x'.repeat(500));
    expect(w.session.state.input!.buffer.length).toBe(MAX_INPUT_CHARS);
    w.session.stop();
  });

  test('an emoji typed outside a text field is one key (it used to recurse until the stack overflowed)', () => {
    const w = sessionWorld(() => 0.1);
    expect(() => handleKey(w.session, '😀', charKey('😀'))).not.toThrow();
    expect(() => handleKey(w.session, 'j😀k', charKey('j'))).not.toThrow();
    w.session.stop();
  });
});

describe('pre-auth: idle connections cannot lock operators out', () => {
  test('the gate: per-address and total limits; the oldest idle one makes room; authenticating ones are never dropped', () => {
    const g = new PreAuthGate<{source: string; opened: number; reachedAuth: boolean}>({total: 3, perSource: 2});
    const a1 = {source: 'a', opened: 1, reachedAuth: false}, a2 = {source: 'a', opened: 2, reachedAuth: true};
    g.add(a1); g.add(a2);
    const a3 = {source: 'a', opened: 3, reachedAuth: false};
    expect(g.admit(a3)).toEqual({ok: true, evict: a1});
    a1.reachedAuth = true;
    expect(g.admit(a3)).toMatchObject({ok: false, reason: '2 unauthenticated connections from this address (limit 2)'});
    const b1 = {source: 'b', opened: 4, reachedAuth: true};
    g.add(b1);
    expect(g.admit({source: 'c', opened: 5, reachedAuth: false})).toMatchObject({ok: false, reason: '3 unauthenticated connections (limit 3)'});
    g.remove(a2); g.remove(a2);
    expect([g.size, g.count('a')]).toEqual([2, 1]);
  });

  test('7 idle sockets from one address and more from others, --max-conns 8: the admin still gets in', async () => {
    const before = server.counters.preauthDropped;
    const mine = await Promise.all(Array.from({length: 7}, () => idle('127.0.0.1')));
    const others = await Promise.all(['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'].flatMap((a) => [idle(a), idle(a)]));
    await sleep(50);
    expect(server.preauth.size).toBeLessThanOrEqual(4);
    expect(server.preauth.count('127.0.0.1')).toBeLessThanOrEqual(3);
    const c = await connect({privateKey: admin.private});
    const r = await exec(c, 'who');
    expect(r.code).toBe(0);
    expect(events).toContainEqual(expect.objectContaining({event: 'login', user: 'root', role: 'admin'}));
    // the idle ones were refused or dropped, and the rest go at the pre-auth timeout
    await Promise.all([...mine, ...others].map(closed));
    expect(server.counters.preauthDropped - before).toBeGreaterThanOrEqual(10);
    await until(() => events.some((e) => e.event === 'preauth-dropped' && e.reason === 'no authentication request in time'));
    expect(logs.some((l) => /refused, 3 unauthenticated connections from this address \(limit 3\)|replaced by a newer connection/.test(l))).toBe(true);
    c.end();
  });

  test('an authenticated session is not counted against the pre-auth limits', async () => {
    const c = await connect({privateKey: admin.private});
    await until(() => server.preauth.size === 0);
    const idles = await Promise.all([idle(), idle(), idle()]);
    await sleep(50);
    expect(server.preauth.count('127.0.0.1')).toBe(3);
    expect((await exec(c, 'who')).code).toBe(0);
    await Promise.all(idles.map(closed));
    c.end();
  });
});

describe('log injection: client-supplied strings are quoted and escaped', () => {
  test('escapeControls / quoteUntrusted / safeJson', () => {
    expect(escapeControls('a\nb\x1b[2J\x9b31m\u202eevil\x7f')).toBe('a\\nb\\x1b[2J\\x9b31m\\u202eevil\\x7f');
    expect(quoteUntrusted('ops" (admin)\nx')).toBe('"ops\\" (admin)\\nx"');
    expect(quoteUntrusted('x'.repeat(100), 10)).toBe(`"${'x'.repeat(10)}"...`);
    const j = safeJson({u: 'a\x1b\x9b\u2028b'});
    expect(j).toBe('{"u":"a\\u001b\\u009b\\u2028b"}');
    expect(JSON.parse(j)).toEqual({u: 'a\x1b\x9b\u2028b'});
  });

  test('a forged "login: ops (admin)" user name and raw escape sequences stay inside one quoted, escaped log line', async () => {
    const forged = 'x\nlogin: ops (admin) from ssh 10.0.0.1:22\x1b[2J\x1b]0;pwned\x07\x9b1m';
    await expect(connect({username: forged, privateKey: key('nobody').private})).rejects.toThrow();
    await until(() => logs.some((l) => l.includes('failed login') && l.includes('pwned')));
    const line = logs.find((l) => l.includes('failed login') && l.includes('pwned'))!;
    expect(line).not.toMatch(/[\x00-\x1f\x7f-\x9f]/);
    expect(line).toContain('as "x\\nlogin: ops (admin) from ssh 10.0.0.1:22\\x1b[2J\\x1b]0;pwned\\x07\\x9b1m"');
    for (const l of logs) expect(l).not.toMatch(/[\x00-\x1f\x7f-\x9f]/);
    // the audit file: one JSON object per line, no raw control or C1 character, the name intact
    const text = readFileSync(auditFile.path, 'utf8');
    expect(text).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
    const failed = text.trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.event === 'auth-failed');
    expect(failed.at(-1).username).toBe(forged.slice(0, 256));
  });

  test('a reader typing escape sequences into a change: the audit entry others see is escaped', async () => {
    const c = await connect({privateKey: reader.private});
    await shell(c, 100, 30);
    await until(() => host.sessions.length === 1);
    const h = host.sessions[0]!;
    const r = h.session.apply({op: 'set-tunable', name: 'drop_entry\x1b[2J\u202e', value: '1\n2'});
    expect(r.ok).toBe(false);
    const e = host.audit.list().at(-1)!;
    expect(e.outcome).toBe('refused');
    expect(e.what).toBe('sysctl -w net.ipv4.vs.drop_entry\\x1b[2J\\u202e=1\\n2');
    for (const x of host.audit.list()) expect(`${x.what}${x.target}${x.change}${x.result}`).not.toMatch(/[\x00-\x1f\x7f-\x9f\u202e]/);
    c.end();
    await until(() => host.sessions.length === 0);
  });
});

describe('audit flood: refused key presses cannot push real changes out of view', () => {
  const entry = (i: number, outcome: 'ok' | 'refused', session: number, wall: number) => ({
    wall, virtual: 0, user: session === 1 ? 'alice' : 'rita', role: 'reader' as const, op: 'set-tunable' as const,
    what: `change ${i}`, target: 't', old: null, new: null, change: '', ok: outcome === 'ok', outcome, result: outcome, session,
  });

  test('1,200 refusals in 9 s after 5 real changes: the changes stay listed, refusals are rate-limited and summed up', () => {
    const a = new AuditLog(1000, {refusalCapacity: 100});
    const written: string[] = [];
    a.addSink((e) => written.push(e.what));
    for (let i = 0; i < 5; i++) a.record(entry(i, 'ok', 1, 1000 + i));
    for (let i = 0; i < 1200; i++) a.record(entry(i, 'refused', 2, 2000 + i * 7.5));
    const listed = a.list();
    expect(listed.filter((e) => e.outcome === 'ok').map((e) => e.what)).toEqual(['change 0', 'change 1', 'change 2', 'change 3', 'change 4']);
    const refusals = listed.filter((e) => e.outcome === 'refused');
    // burst 10, then 0.5/s over 9 s: about 14 listed, the rest counted
    expect(refusals.length).toBeLessThanOrEqual(20);
    expect(a.unlistedRefusals).toBeGreaterThan(1180);
    // quiet for 10 s: one summary entry with the count, in the view and the file
    a.flushRefusals(2000 + 1200 * 7.5 + 10_000);
    const last = a.list().at(-1)!;
    expect(last.what).toMatch(/^\d+ more refused attempts not listed \(rate limit\), the last: change 1199$/);
    const counted = a.list().filter((e) => e.outcome === 'refused').reduce((n, e) => n + (Number(/^(\d+) more/.exec(e.what)?.[1] ?? 0) || 1), 0);
    expect(counted).toBe(1200);
    expect(written.length).toBe(a.list().length);
    // a later real change is listed; the refusals kept stay bounded
    a.record(entry(99, 'ok', 1, 30_000));
    expect(a.list().at(-1)!.what).toBe('change 99');
  });

  test('over ssh sessions: a reader hammering a refused key does not hide the operator\'s change', async () => {
    const r = await connect({privateKey: reader.private});
    const ad = await connect({privateKey: admin.private});
    await shell(r, 100, 30);
    await shell(ad, 100, 30);
    await until(() => host.sessions.length === 2, 15_000);
    const hr = host.sessions.find((h) => h.identity.user === 'rita')!;
    const ha = host.sessions.find((h) => h.identity.user === 'root')!;
    expect(ha.session.apply({op: 'set-tunable', name: 'drop_packet', value: '2'}).ok).toBe(true);
    for (let i = 0; i < 1200; i++) hr.session.apply({op: 'set-tunable', name: 'drop_packet', value: '3'});
    const list = host.audit.list();
    expect(list.some((e) => e.user === 'root' && e.outcome === 'ok' && e.what.includes('drop_packet=2'))).toBe(true);
    expect(list.filter((e) => e.user === 'rita').length).toBeLessThanOrEqual(30);
    r.end();
    ad.end();
    await until(() => host.sessions.length === 0);
  });
});
