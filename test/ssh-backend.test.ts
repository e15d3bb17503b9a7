// `lvsdeck serve` over a backend that is not the simulation it builds itself: the real data plane's
// (DataplaneBackend over a director fed with lab packets in-process, on its wall clock), driven
// through the ssh server with ssh2's client. The UI draws what the packets made; a reader's write
// is refused; an operator's reaches Backend.apply, changes the engine the packets go through and is
// in the audit file; the time keys say why they are off; exec listings read the same engine. And a
// host served read-only (the kernel without --allow-writes) refuses every role's change.
import './helpers/ink-live.js';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {PassThrough, Writable} from 'node:stream';
import {afterAll, beforeAll, describe, expect, test} from 'vitest';
import {NO_TIME_CONTROLS} from '../src/dataplane/backend.js';
import {changeRecord, JsonLinesFile} from '../src/ssh/audit-file.js';
import {ensureHostKey, generateEd25519} from '../src/ssh/host-key.js';
import {DeckHost} from '../src/ssh/host.js';
import {SshServer} from '../src/ssh/server.js';
import type {Command} from '../src/store/backend.js';
import {a4, inProcessDataplane, v4Syn} from './helpers/packet-port.js';
import {type SshClient, sshExec, sshUi, until} from './helpers/ssh-client.js';

const dir = mkdtempSync(join(tmpdir(), 'lvsdeck-ssh-backend-'));
const key = generateEd25519;
const alice = key('alice'), bob = key('bob');
const pubOf = (k: {public: string}) => k.public.split(' ').slice(0, 2).join(' ');
const akPath = join(dir, 'authorized_keys');
writeFileSync(akPath, [`environment="LVSDECK_ROLE=operator" ${pubOf(alice)} alice`, `${pubOf(bob)} bob`].join('\n') + '\n');
const auditPath = join(dir, 'audit.jsonl');

const dp = inProcessDataplane();
/** Every command that reached the backend. */
const applied: Command[] = [];
const apply = dp.backend.apply.bind(dp.backend);
dp.backend.apply = (cmd) => { applied.push(cmd); return apply(cmd); };
const weight = () => dp.backend.destConfig(dp.backend.snapshot().services[0]!.dests[0]!.id)!.opts.weight;

let host: DeckHost;
let server: SshServer;
let port = 0;
const clients: SshClient[] = [];

beforeAll(async () => {
  const hk = ensureHostKey(join(dir, 'host_key'));
  host = new DeckHost({backend: dp.backend, sim: dp.sim, driver: dp.clock, fps: 10, notice: 'real data plane on test0 (wall-clock time)'});
  const auditFile = new JsonLinesFile(auditPath);
  host.audit.addSink((e) => auditFile.append(changeRecord(e)));
  host.start();
  server = new SshServer(host, {
    host: '127.0.0.1', port: 0, hostKey: hk.pem, authorizedKeysPath: akPath, maxSessions: 4, maxPerKey: 2, maxConns: 10,
    authTries: 4, loginGraceMs: 5000, exec: true, log: () => {}, event: () => {},
    limiter: {burst: 10, refillPerSec: 1, cooldownMs: 1000},
  });
  port = (await server.listen()).port;
});

afterAll(async () => {
  for (const c of clients) c.destroy();
  host?.stop();
  await server?.close();
  rmSync(dir, {recursive: true, force: true});
});

const ui = (k: {private: string}) => sshUi(port, clients, k);

describe('serve over the data plane backend', () => {
  test('the UI draws what real packets made; a reader is refused; an operator\'s change reaches the backend and the audit file', async () => {
    dp.send(v4Syn());
    expect(dp.backend.snapshot().conns).toBe(1);

    const b = await ui(bob);
    await b.waitFor(/bob: reader role .* real data plane on test0 \(wall-clock time\)/);
    b.type('2');
    await b.waitFor(/198\.18\.0\.10:80[\s\S]*198\.18\.2\.13:80/);
    b.type('3');
    await b.waitFor(/SYN_RECV/);
    // a reader's change: refused before the backend, audited as refused
    b.type(':-e -t 198.18.0.10:80 -r 198.18.2.13:80 -m -w 5\r');
    await b.waitFor(/refused: needs the operator role \(bob is a reader\)/);
    expect(applied).toEqual([]);
    expect(weight()).toBe(1);

    const a = await ui(alice);
    await a.waitFor(/alice: operator role/);
    a.type(':-e -t 198.18.0.10:80 -r 198.18.2.13:80 -m -w 5\r');
    await until(() => applied.length === 1);
    expect(applied[0]).toMatchObject({op: 'edit-dest', addr: a4('198.18.2.13'), port: 80, opts: {fwd: 'masq', weight: 5}});
    expect(weight()).toBe(5);
    // the reader's screen follows (shared backend), naming who changed what
    b.type('2');
    await b.waitFor(/alice \(operator\): ipvsadm -e -t 198\.18\.0\.10:80 -r 198\.18\.2\.13:80 -m -w 5/);

    // the time keys: the backend's reason, and the clock stays at speed 1
    a.type(' ');
    await a.waitFor(new RegExp(NO_TIME_CONTROLS));
    a.type('>');
    await a.waitFor(new RegExp(NO_TIME_CONTROLS));
    expect(dp.backend.clock()).toMatchObject({speed: 1, paused: false});

    const lines = readFileSync(auditPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.event, l.user, l.role, l.op, l.outcome])).toEqual([
      ['change', 'bob', 'reader', 'edit-dest', 'refused'],
      ['change', 'alice', 'operator', 'edit-dest', 'ok'],
      ['change', 'alice', 'operator', 'pause', 'failed'],
      ['change', 'alice', 'operator', 'speed', 'failed'],
    ]);
    expect(lines[1]).toMatchObject({change: 'weight 1 → 5', what: 'ipvsadm -e -t 198.18.0.10:80 -r 198.18.2.13:80 -m -w 5',
      key: expect.stringMatching(/^SHA256:/), from: expect.stringMatching(/^ssh 127\.0\.0\.1:\d+$/)});
    expect(lines[2]).toMatchObject({result: NO_TIME_CONTROLS});

    // exec listings read the data plane's engine
    const ls = await sshExec(b.c, 'ipvsadm -Ln');
    expect(ls.stdout, ls.stdout).toMatch(/TCP {2}198\.18\.0\.10:80 rr\n {2}-> 198\.18\.2\.13:80 +Masq +5 +1 +0 *\n/);
    a.c.end();
    b.c.end();
    await until(() => host.presence.size === 0);
  });
});

describe('a host served read-only (serve --kernel without --allow-writes)', () => {
  test('every role is refused before the backend, and the sessions say why', () => {
    const ro = inProcessDataplane();
    const calls: Command[] = [];
    const inner = ro.backend.apply.bind(ro.backend);
    ro.backend.apply = (cmd) => { calls.push(cmd); return inner(cmd); };
    const h = new DeckHost({backend: ro.backend, readOnly: true, notice: 'kernel IPVS, read-only: start with --allow-writes (as root) to change it'});
    const out = Object.assign(new Writable({write(_c, _e, cb) { cb(); }}), {isTTY: true, columns: 100, rows: 30}) as unknown as NodeJS.WriteStream;
    const stdin = Object.assign(new PassThrough(), {isTTY: true, setRawMode() {}, ref() {}, unref() {}}) as unknown as NodeJS.ReadStream;
    const admin = h.attach({identity: {user: 'root', role: 'admin', from: 'test'}, stdout: out, stdin, message: 'root: admin role'});
    expect(admin.session.state.readOnly).toBe(true);
    expect(admin.session.state.message).toMatchObject({kind: 'warn', text: 'root: admin role · kernel IPVS, read-only: start with --allow-writes (as root) to change it'});
    const r = admin.session.apply({op: 'set-tunable', name: 'drop_entry', value: '1'});
    expect(r).toMatchObject({ok: false, message: 'read-only session: "sysctl -w net.ipv4.vs.drop_entry=1" is disabled'});
    expect(calls).toEqual([]);
    // no sim given: exec has no listing source unless the caller provides one (the kernel's)
    expect(h.listings).toBeNull();
    h.stop();
  });
});
